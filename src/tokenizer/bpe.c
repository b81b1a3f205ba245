/* The BPE model of HF `tokenizers`: vocabulary, ranked merges, byte
 * fallback, unknown-token fusing and a cache of pre-token results.
 *
 * Merging follows tokenizers' Word::merge_all. All adjacent pairs that have
 * a merge go into a min-heap ordered by (rank, position). The best pair is
 * merged, stale heap entries are skipped, and the pairs formed with the new
 * symbol's neighbours are pushed. That is O(n log n) in the pre-token
 * length, so a long run of one character stays fast.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* Pre-token results kept before the cache is cleared. */
#define BPE_CACHE_MAX 32768
/* Longer pre-tokens are not cached, as in HF (256 bytes there too). */
#define BPE_CACHE_MAX_KEY 256

typedef struct merge_entry {
    uint64_t pair; /* left id << 32 | right id */
    uint32_t rank;
    int32_t new_id;
    int used;
} merge_entry;

typedef struct cache_entry {
    char *key;
    uint32_t key_len, hash;
    int32_t *ids;
    uint32_t n_ids;
} cache_entry;

struct tok_bpe {
    tok_strmap vocab;
    char **id_to_token; /* [max_id + 1], borrowed from vocab keys */
    int32_t max_id;

    merge_entry *merges;
    size_t merges_cap; /* power of two */

    int32_t unk_id;    /* -1 when unk_token is null */
    char *unk_token;   /* for the error when unk_token is not in the vocab */
    int fuse_unk, byte_fallback, ignore_merges;
    char *prefix;      /* continuing_subword_prefix, or NULL */
    char *suffix;      /* end_of_word_suffix, or NULL */
    int32_t byte_ids[256]; /* id of "<0xAB>" or -1 */

    cache_entry *cache;
    size_t cache_cap, cache_count;
};

/* ---- Merge table -------------------------------------------------------- */

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static const merge_entry *merge_find(const tok_bpe *bpe, int32_t left, int32_t right) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t mask = bpe->merges_cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        const merge_entry *e = &bpe->merges[i];
        if (!e->used)
            return NULL;
        if (e->pair == key)
            return e;
    }
}

/* Later duplicates overwrite earlier ones, as HF collects merges into a
 * HashMap. */
static void merge_put(tok_bpe *bpe, int32_t left, int32_t right, uint32_t rank, int32_t new_id) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t mask = bpe->merges_cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        merge_entry *e = &bpe->merges[i];
        if (!e->used || e->pair == key) {
            *e = (merge_entry){key, rank, new_id, 1};
            return;
        }
    }
}

/* ---- Cache --------------------------------------------------------------- */

static void cache_clear(tok_bpe *bpe) {
    for (size_t i = 0; i < bpe->cache_cap; i++) {
        free(bpe->cache[i].key);
        free(bpe->cache[i].ids);
    }
    memset(bpe->cache, 0, bpe->cache_cap * sizeof *bpe->cache);
    bpe->cache_count = 0;
}

static cache_entry *cache_slot(const tok_bpe *bpe, const char *key, size_t len, uint32_t hash) {
    size_t mask = bpe->cache_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        cache_entry *e = &bpe->cache[i];
        if (e->key == NULL)
            return e;
        if (e->hash == hash && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
}

/* Stores ids for key; failure to allocate only skips caching. */
static void cache_put(tok_bpe *bpe, const char *key, size_t len, uint32_t hash,
                      const int32_t *ids, size_t n_ids) {
    if (bpe->cache_count >= BPE_CACHE_MAX)
        cache_clear(bpe);
    cache_entry *e = cache_slot(bpe, key, len, hash);
    if (e->key != NULL)
        return;
    char *k = malloc(len + 1);
    int32_t *v = malloc((n_ids ? n_ids : 1) * sizeof *v);
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return;
    }
    memcpy(k, key, len);
    k[len] = '\0';
    if (n_ids > 0)
        memcpy(v, ids, n_ids * sizeof *v);
    *e = (cache_entry){k, (uint32_t)len, hash, v, (uint32_t)n_ids};
    bpe->cache_count++;
}

/* ---- Encoding ------------------------------------------------------------ */

typedef struct symbol {
    int32_t id;
    int32_t prev, next; /* neighbour indices, -1 at the ends */
    size_t len;         /* bytes covered; 0 once merged into its left neighbour */
} symbol;

typedef struct heap_item {
    uint32_t rank;
    uint32_t pos;
    int32_t new_id;
} heap_item;

static int heap_less(heap_item a, heap_item b) {
    return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos;
}

static void heap_push(heap_item *heap, size_t *n, heap_item item) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(item, heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

static heap_item heap_pop(heap_item *heap, size_t *n) {
    heap_item top = heap[0];
    heap_item last = heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n)
            break;
        if (child + 1 < *n && heap_less(heap[child + 1], heap[child]))
            child++;
        if (!heap_less(heap[child], last))
            break;
        heap[i] = heap[child];
        i = child;
    }
    if (*n > 0)
        heap[i] = last;
    return top;
}

/* Builds the initial symbols of one pre-token, one per character, as HF's
 * BPE::merge_word does (prefix and suffix, byte fallback, unknown token). */
static int initial_symbols(tok_bpe *bpe, const char *text, size_t len, symbol *syms,
                           size_t *n_syms, chv_error *err) {
    size_t n = 0;
    int32_t unk_pending = -1;
    size_t unk_len = 0;
    size_t prefix_len = bpe->prefix ? strlen(bpe->prefix) : 0;
    size_t suffix_len = bpe->suffix ? strlen(bpe->suffix) : 0;
    char small[64];

    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t char_len = tok_utf8_decode(text + i, len - i, &cp);
        int is_first = i == 0, is_last = i + char_len == len;

        /* The lookup key: the character with the prefix and suffix added. */
        const char *key = text + i;
        size_t key_len = char_len;
        if ((!is_first && prefix_len) || (is_last && suffix_len)) {
            size_t need = prefix_len + char_len + suffix_len;
            if (need > sizeof small)
                return chv_error_set(err, "BPE continuing_subword_prefix or end_of_word_suffix "
                                          "is too long (over 50 bytes)");
            key_len = 0;
            if (!is_first && prefix_len) {
                memcpy(small, bpe->prefix, prefix_len);
                key_len = prefix_len;
            }
            memcpy(small + key_len, text + i, char_len);
            key_len += char_len;
            if (is_last && suffix_len) {
                memcpy(small + key_len, bpe->suffix, suffix_len);
                key_len += suffix_len;
            }
            key = small;
        }
        i += char_len;

        int32_t id;
        if (tok_strmap_get(&bpe->vocab, key, key_len, &id)) {
            if (unk_pending >= 0) {
                syms[n++] = (symbol){unk_pending, 0, 0, unk_len};
                unk_pending = -1;
            }
            syms[n++] = (symbol){id, 0, 0, char_len};
            continue;
        }

        if (bpe->byte_fallback) {
            int all = 1;
            for (size_t b = 0; b < key_len; b++)
                all &= bpe->byte_ids[(unsigned char)key[b]] >= 0;
            if (all) {
                /* HF adds the byte tokens without flushing a pending
                 * unknown token first; that order is kept. */
                for (size_t b = 0; b < key_len; b++)
                    syms[n++] = (symbol){bpe->byte_ids[(unsigned char)key[b]], 0, 0, 1};
                continue;
            }
        }

        if (bpe->unk_token == NULL)
            continue; /* HF drops characters it cannot encode when there is no unk_token */
        if (bpe->unk_id < 0)
            return chv_error_set(err, "BPE unk_token \"%s\" is not in the vocab", bpe->unk_token);
        if (unk_pending >= 0 && bpe->fuse_unk) {
            unk_len += char_len;
        } else {
            if (unk_pending >= 0)
                syms[n++] = (symbol){unk_pending, 0, 0, unk_len};
            unk_pending = bpe->unk_id;
            unk_len = char_len;
        }
    }
    if (unk_pending >= 0)
        syms[n++] = (symbol){unk_pending, 0, 0, unk_len};

    for (size_t k = 0; k < n; k++) {
        syms[k].prev = (int32_t)k - 1;
        syms[k].next = k + 1 < n ? (int32_t)k + 1 : -1;
    }
    *n_syms = n;
    return 0;
}

static void merge_all(const tok_bpe *bpe, symbol *syms, size_t n, heap_item *heap) {
    size_t heap_len = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        const merge_entry *m = merge_find(bpe, syms[k].id, syms[k + 1].id);
        if (m != NULL)
            heap_push(heap, &heap_len, (heap_item){m->rank, (uint32_t)k, m->new_id});
    }

    while (heap_len > 0) {
        heap_item top = heap_pop(heap, &heap_len);
        symbol *cur = &syms[top.pos];
        if (cur->len == 0 || cur->next < 0)
            continue;

        /* Skip entries made stale by an earlier merge. */
        symbol *right = &syms[cur->next];
        const merge_entry *m = merge_find(bpe, cur->id, right->id);
        if (m == NULL || m->new_id != top.new_id)
            continue;

        cur->id = top.new_id;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0)
            syms[cur->next].prev = (int32_t)top.pos;

        if (cur->prev >= 0) {
            const merge_entry *pm = merge_find(bpe, syms[cur->prev].id, cur->id);
            if (pm != NULL)
                heap_push(heap, &heap_len, (heap_item){pm->rank, (uint32_t)cur->prev, pm->new_id});
        }
        if (cur->next >= 0) {
            const merge_entry *nm = merge_find(bpe, cur->id, syms[cur->next].id);
            if (nm != NULL)
                heap_push(heap, &heap_len, (heap_item){nm->rank, top.pos, nm->new_id});
        }
    }
}

int tok_bpe_encode(tok_bpe *bpe, const char *text, size_t len, tok_ids *out, chv_error *err) {
    if (len == 0)
        return 0;

    int32_t whole;
    if (bpe->ignore_merges && tok_strmap_get(&bpe->vocab, text, len, &whole))
        return tok_ids_push(out, whole) < 0 ? chv_error_set(err, "out of memory") : 0;

    uint32_t hash = tok_hash_bytes(text, len);
    if (len <= BPE_CACHE_MAX_KEY) {
        const cache_entry *hit = cache_slot(bpe, text, len, hash);
        if (hit->key != NULL)
            return tok_ids_extend(out, hit->ids, hit->n_ids) < 0 ? chv_error_set(err, "out of memory")
                                                                 : 0;
    }

    /* A character yields at most 4 + prefix + suffix byte tokens. */
    size_t extra = (bpe->prefix ? strlen(bpe->prefix) : 0) + (bpe->suffix ? strlen(bpe->suffix) : 0);
    size_t max_syms = len * (1 + extra) + 1;
    symbol *syms = malloc(max_syms * sizeof *syms);
    /* Each merge pushes at most two pairs, so 3n entries suffice. */
    heap_item *heap = malloc(3 * max_syms * sizeof *heap);
    if (syms == NULL || heap == NULL) {
        free(syms);
        free(heap);
        return chv_error_set(err, "out of memory");
    }

    size_t n = 0;
    int rc = initial_symbols(bpe, text, len, syms, &n, err);
    if (rc == 0) {
        merge_all(bpe, syms, n, heap);
        size_t start = out->len;
        for (int32_t k = n > 0 ? 0 : -1; k >= 0; k = syms[k].next) {
            if (tok_ids_push(out, syms[k].id) < 0) {
                rc = chv_error_set(err, "out of memory");
                break;
            }
        }
        if (rc == 0 && len <= BPE_CACHE_MAX_KEY)
            cache_put(bpe, text, len, hash, out->len > start ? out->data + start : NULL,
                      out->len - start);
    }
    free(syms);
    free(heap);
    return rc;
}

/* ---- Loading -------------------------------------------------------------- */

void tok_bpe_free(tok_bpe *bpe) {
    if (bpe == NULL)
        return;
    if (bpe->cache != NULL)
        cache_clear(bpe);
    free(bpe->cache);
    tok_strmap_free(&bpe->vocab);
    free(bpe->id_to_token);
    free(bpe->merges);
    free(bpe->unk_token);
    free(bpe->prefix);
    free(bpe->suffix);
    free(bpe);
}

static char *dup_or_null(const char *s) {
    if (s == NULL || s[0] == '\0')
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

static int parse_vocab(tok_bpe *bpe, const cJSON *vocab, const char *file, chv_error *err) {
    if (!cJSON_IsObject(vocab))
        return chv_error_set(err, "%s: model \"vocab\" must be an object of token: id", file);
    bpe->max_id = -1;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, vocab) {
        if (!cJSON_IsNumber(entry))
            return chv_error_set(err, "%s: model vocab id of token \"%s\" is not a number", file,
                                 entry->string);
        double v = entry->valuedouble;
        if (v < 0 || v > TOK_MAX_ID || v != (double)(int32_t)v)
            return chv_error_set(err,
                                 "%s: model vocab id %g of token \"%s\" is out of range (ids must "
                                 "be integers from 0 to %d)",
                                 file, v, entry->string, TOK_MAX_ID);
        int32_t id = (int32_t)v;
        if (tok_strmap_put(&bpe->vocab, entry->string, strlen(entry->string), id) < 0)
            return chv_error_set(err, "out of memory");
        if (id > bpe->max_id)
            bpe->max_id = id;
    }

    bpe->id_to_token = calloc((size_t)bpe->max_id + 2, sizeof *bpe->id_to_token);
    if (bpe->id_to_token == NULL)
        return chv_error_set(err, "out of memory");
    for (size_t i = 0; i < bpe->vocab.cap; i++) {
        const tok_strmap_entry *e = &bpe->vocab.entries[i];
        if (e->key != NULL)
            bpe->id_to_token[e->value] = e->key;
    }
    return 0;
}

/* Reads merge number `index` as "left right" or ["left", "right"]. */
static int merge_parts(const cJSON *item, size_t index, const char *file, const char **left,
                       size_t *left_len, const char **right, chv_error *err) {
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring;
        const char *space = strchr(s, ' ');
        if (space == NULL)
            return chv_error_set(err, "%s: merge %zu \"%s\" is not two tokens separated by a space",
                                 file, index, s);
        *left = s;
        *left_len = (size_t)(space - s);
        *right = space + 1;
        return 0;
    }
    if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2 &&
        cJSON_IsString(cJSON_GetArrayItem(item, 0)) && cJSON_IsString(cJSON_GetArrayItem(item, 1))) {
        *left = cJSON_GetArrayItem(item, 0)->valuestring;
        *left_len = strlen(*left);
        *right = cJSON_GetArrayItem(item, 1)->valuestring;
        return 0;
    }
    return chv_error_set(err, "%s: merge %zu must be a \"left right\" string or a pair of strings",
                         file, index);
}

static int parse_merges(tok_bpe *bpe, const cJSON *merges, const char *file, chv_error *err) {
    if (merges == NULL || cJSON_IsNull(merges))
        merges = NULL;
    else if (!cJSON_IsArray(merges))
        return chv_error_set(err, "%s: model \"merges\" must be a list", file);
    size_t n = merges ? (size_t)cJSON_GetArraySize(merges) : 0;

    bpe->merges_cap = 16;
    while (bpe->merges_cap < 2 * n + 16)
        bpe->merges_cap *= 2;
    bpe->merges = calloc(bpe->merges_cap, sizeof *bpe->merges);
    if (bpe->merges == NULL)
        return chv_error_set(err, "out of memory");

    size_t prefix_len = bpe->prefix ? strlen(bpe->prefix) : 0;
    tok_buf merged = {0};
    size_t index = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, merges) {
        const char *left = NULL, *right = NULL;
        size_t left_len = 0;
        if (merge_parts(item, index, file, &left, &left_len, &right, err) < 0)
            goto fail;

        int32_t left_id, right_id, new_id;
        size_t right_len = strlen(right);
        if (!tok_strmap_get(&bpe->vocab, left, left_len, &left_id)) {
            chv_error_set(err, "%s: merge %zu \"%.*s %s\" names \"%.*s\", which is not in the vocab",
                          file, index, (int)left_len, left, right, (int)left_len, left);
            goto fail;
        }
        if (!tok_strmap_get(&bpe->vocab, right, right_len, &right_id)) {
            chv_error_set(err, "%s: merge %zu \"%.*s %s\" names \"%s\", which is not in the vocab",
                          file, index, (int)left_len, left, right, right);
            goto fail;
        }

        /* The merged token drops the right part's continuing_subword_prefix. */
        size_t skip = prefix_len <= right_len && prefix_len > 0 &&
                              memcmp(right, bpe->prefix, prefix_len) == 0
                          ? prefix_len
                          : 0;
        merged.len = 0;
        if (tok_buf_append(&merged, left, left_len) < 0 ||
            tok_buf_append(&merged, right + skip, right_len - skip) < 0) {
            chv_error_set(err, "out of memory");
            goto fail;
        }
        if (!tok_strmap_get(&bpe->vocab, merged.data, merged.len, &new_id)) {
            chv_error_set(err,
                          "%s: merge %zu \"%.*s %s\" makes \"%s\", which is not in the vocab",
                          file, index, (int)left_len, left, right, merged.data);
            goto fail;
        }
        merge_put(bpe, left_id, right_id, (uint32_t)index, new_id);
        index++;
    }
    free(merged.data);
    return 0;

fail:
    free(merged.data);
    return -1;
}

tok_bpe *tok_bpe_parse(const cJSON *model, const char *file, chv_error *err) {
    tok_bpe *bpe = calloc(1, sizeof *bpe);
    if (bpe == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    bpe->unk_id = -1;

    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout != NULL && !cJSON_IsNull(dropout) &&
        !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0.0)) {
        chv_error_set(err, "%s: BPE dropout is not supported (it makes encoding random); set "
                           "\"dropout\" to null",
                      file);
        goto fail;
    }

    int bad = 0;
    const char *unk = tok_json_string(model, "unk_token", &bad);
    const char *prefix = tok_json_string(model, "continuing_subword_prefix", &bad);
    const char *suffix = tok_json_string(model, "end_of_word_suffix", &bad);
    if (bad) {
        chv_error_set(err, "%s: model unk_token, continuing_subword_prefix and end_of_word_suffix "
                           "must be strings or null",
                      file);
        goto fail;
    }
    if (unk != NULL && (bpe->unk_token = strdup(unk)) == NULL)
        goto oom;
    bpe->prefix = dup_or_null(prefix);
    bpe->suffix = dup_or_null(suffix);
    if ((prefix && prefix[0] && !bpe->prefix) || (suffix && suffix[0] && !bpe->suffix))
        goto oom;

    if (tok_json_bool(model, "fuse_unk", 0, &bpe->fuse_unk, file, "model", err) < 0 ||
        tok_json_bool(model, "byte_fallback", 0, &bpe->byte_fallback, file, "model", err) < 0 ||
        tok_json_bool(model, "ignore_merges", 0, &bpe->ignore_merges, file, "model", err) < 0)
        goto fail;

    if (parse_vocab(bpe, cJSON_GetObjectItemCaseSensitive(model, "vocab"), file, err) < 0 ||
        parse_merges(bpe, cJSON_GetObjectItemCaseSensitive(model, "merges"), file, err) < 0)
        goto fail;

    if (bpe->unk_token != NULL)
        tok_strmap_get(&bpe->vocab, bpe->unk_token, strlen(bpe->unk_token), &bpe->unk_id);
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        if (!tok_strmap_get(&bpe->vocab, name, strlen(name), &bpe->byte_ids[b]))
            bpe->byte_ids[b] = -1;
    }

    bpe->cache_cap = 2 * BPE_CACHE_MAX;
    bpe->cache = calloc(bpe->cache_cap, sizeof *bpe->cache);
    if (bpe->cache == NULL)
        goto oom;
    return bpe;

oom:
    chv_error_set(err, "out of memory");
fail:
    tok_bpe_free(bpe);
    return NULL;
}

int32_t tok_bpe_token_to_id(const tok_bpe *bpe, const char *token, size_t len) {
    int32_t id;
    return tok_strmap_get(&bpe->vocab, token, len, &id) ? id : -1;
}

size_t tok_bpe_vocab_len(const tok_bpe *bpe) {
    return bpe->vocab.count;
}

int32_t tok_bpe_max_id(const tok_bpe *bpe) {
    return bpe->max_id;
}

const char *tok_bpe_id_to_token(const tok_bpe *bpe, int32_t id) {
    if (id < 0 || id > bpe->max_id)
        return NULL;
    return bpe->id_to_token[id];
}
