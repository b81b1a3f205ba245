/* Growable arrays, the string hash map, Unicode predicates and JSON helpers
 * used by the tokenizer. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/internal.h"

/* ---- Growable arrays ------------------------------------------------ */

static int grow(void **data, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t new_cap = *cap ? *cap : 16;
    while (new_cap < need)
        new_cap *= 2;
    void *p = realloc(*data, new_cap * elem);
    if (p == NULL)
        return -1;
    *data = p;
    *cap = new_cap;
    return 0;
}

int tok_buf_append(tok_buf *buf, const char *s, size_t n) {
    /* One spare byte keeps the string NUL-terminated. */
    if (grow((void **)&buf->data, &buf->cap, buf->len + n + 1, 1) < 0)
        return -1;
    if (n > 0)
        memcpy(buf->data + buf->len, s, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return 0;
}

int tok_buf_append_cp(tok_buf *buf, int32_t cp) {
    char tmp[4];
    size_t n = tok_utf8_encode(cp, tmp);
    return tok_buf_append(buf, tmp, n);
}

char *tok_buf_finish(tok_buf *buf) {
    if (buf->data == NULL && tok_buf_append(buf, "", 0) < 0)
        return NULL;
    char *s = buf->data;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return s;
}

int tok_ids_push(tok_ids *ids, int32_t id) {
    if (grow((void **)&ids->data, &ids->cap, ids->len + 1, sizeof(int32_t)) < 0)
        return -1;
    ids->data[ids->len++] = id;
    return 0;
}

int tok_ids_extend(tok_ids *ids, const int32_t *src, size_t n) {
    if (n == 0)
        return 0;
    if (grow((void **)&ids->data, &ids->cap, ids->len + n, sizeof(int32_t)) < 0)
        return -1;
    memcpy(ids->data + ids->len, src, n * sizeof(int32_t));
    ids->len += n;
    return 0;
}

int tok_pieces_push(tok_pieces *pieces, const char *text, size_t len, int at_start) {
    if (len == 0)
        return 0;
    if (grow((void **)&pieces->items, &pieces->cap, pieces->len + 1, sizeof(tok_piece)) < 0)
        return -1;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    pieces->items[pieces->len++] = (tok_piece){copy, len, at_start};
    return 0;
}

void tok_pieces_free(tok_pieces *pieces) {
    for (size_t i = 0; i < pieces->len; i++)
        free(pieces->items[i].text);
    free(pieces->items);
    pieces->items = NULL;
    pieces->len = pieces->cap = 0;
}

/* ---- String hash map ------------------------------------------------ */

/* FNV-1a, 32 bits. */
uint32_t tok_hash_bytes(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static tok_strmap_entry *strmap_slot(const tok_strmap *map, const char *key, size_t key_len,
                                     uint32_t hash) {
    size_t mask = map->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        tok_strmap_entry *e = &map->entries[i];
        if (e->key == NULL)
            return e;
        if (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return e;
    }
}

static int strmap_resize(tok_strmap *map, size_t new_cap) {
    tok_strmap_entry *old = map->entries;
    size_t old_cap = map->cap;
    map->entries = calloc(new_cap, sizeof *map->entries);
    if (map->entries == NULL) {
        map->entries = old;
        return -1;
    }
    map->cap = new_cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key != NULL)
            *strmap_slot(map, old[i].key, old[i].key_len, old[i].hash) = old[i];
    }
    free(old);
    return 0;
}

int tok_strmap_put(tok_strmap *map, const char *key, size_t key_len, int32_t value) {
    /* Keep the load factor at or below 1/2. */
    if ((map->count + 1) * 2 > map->cap && strmap_resize(map, map->cap ? map->cap * 2 : 64) < 0)
        return -1;
    uint32_t hash = tok_hash_bytes(key, key_len);
    tok_strmap_entry *e = strmap_slot(map, key, key_len, hash);
    if (e->key != NULL) {
        e->value = value;
        return 0;
    }
    char *copy = malloc(key_len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    *e = (tok_strmap_entry){copy, (uint32_t)key_len, hash, value};
    map->count++;
    return 0;
}

int tok_strmap_get(const tok_strmap *map, const char *key, size_t key_len, int32_t *value) {
    if (map->cap == 0)
        return 0;
    const tok_strmap_entry *e = strmap_slot(map, key, key_len, tok_hash_bytes(key, key_len));
    if (e->key == NULL)
        return 0;
    *value = e->value;
    return 1;
}

void tok_strmap_free(tok_strmap *map) {
    for (size_t i = 0; i < map->cap; i++)
        free(map->entries[i].key);
    free(map->entries);
    map->entries = NULL;
    map->cap = map->count = 0;
}

/* ---- UTF-8 and Unicode ---------------------------------------------- */

size_t tok_utf8_decode(const char *s, size_t len, int32_t *cp) {
    utf8proc_int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &c);
    if (n <= 0) {
        *cp = (unsigned char)s[0];
        return 1;
    }
    *cp = c;
    return (size_t)n;
}

size_t tok_utf8_encode(int32_t cp, char out[4]) {
    return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out);
}

int tok_is_whitespace(int32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Tables built once for all tokenizers. pthread_once makes the first use
 * safe when tokenizers run in several threads. */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static tok_byte_alphabet byte_alphabet;
static int32_t first_unicode14_addition;

static void build_tables(void) {
    int32_t next = 0x100;
    for (int b = 0; b < 0x144; b++)
        byte_alphabet.byte_of[b] = -1;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        int32_t cp = printable ? b : next++;
        char tmp[4];
        byte_alphabet.char_of[b] = cp;
        byte_alphabet.utf8_len[b] = (unsigned char)tok_utf8_encode(cp, tmp);
        memcpy(byte_alphabet.utf8[b], tmp, byte_alphabet.utf8_len[b]);
        byte_alphabet.byte_of[cp] = (int16_t)b;
    }

    first_unicode14_addition = INT32_MAX;
    for (size_t i = 0; i < tok_unicode14_additions_len; i++) {
        const tok_category_ranges *c = &tok_unicode14_additions[i];
        if (c->len > 0 && c->ranges[0].first < first_unicode14_addition)
            first_unicode14_addition = c->ranges[0].first;
    }
}

const tok_byte_alphabet *tok_byte_alphabet_get(void) {
    pthread_once(&tables_once, build_tables);
    return &byte_alphabet;
}

int tok_in_ranges(const tok_range *ranges, size_t len, int32_t cp) {
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ranges[mid].first)
            hi = mid;
        else if (cp > ranges[mid].last)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

int tok_is_unicode14_addition(int32_t cp, const char *prefix) {
    /* Most text never reaches the first added code point. */
    pthread_once(&tables_once, build_tables);
    if (cp < first_unicode14_addition)
        return 0;

    size_t n = strlen(prefix);
    for (size_t i = 0; i < tok_unicode14_additions_len; i++) {
        const tok_category_ranges *c = &tok_unicode14_additions[i];
        if (strncmp(c->category, prefix, n) == 0 && tok_in_ranges(c->ranges, c->len, cp))
            return 1;
    }
    return 0;
}

/* Rust's tables are newer than utf8proc's, so code points that utf8proc
 * may not know yet are looked up in generated tables. */
int tok_is_numeric(int32_t cp) {
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL ||
           cat == UTF8PROC_CATEGORY_NO ||
           tok_in_ranges(tok_rust_numeric_additions, tok_rust_numeric_additions_len, cp);
}


/* ---- JSON --------------------------------------------------------------- */

int tok_json_bool(const cJSON *obj, const char *field, int fallback, int *out, const char *file,
                  const char *what, chv_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (item == NULL || cJSON_IsNull(item)) {
        *out = fallback;
        return 0;
    }
    if (!cJSON_IsBool(item))
        return chv_error_set(err, "%s: %s field \"%s\" must be true or false", file, what, field);
    *out = cJSON_IsTrue(item);
    return 0;
}

const char *tok_json_string(const cJSON *obj, const char *field, int *bad) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (item == NULL || cJSON_IsNull(item))
        return NULL;
    if (!cJSON_IsString(item)) {
        *bad = 1;
        return NULL;
    }
    return item->valuestring;
}
