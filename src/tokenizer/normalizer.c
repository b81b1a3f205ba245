/* Normalizers: Sequence, Prepend, Replace, Strip, StripAccents, Lowercase
 * and the four Unicode normal forms, with HF `tokenizers` semantics. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/internal.h"

typedef enum {
    NORM_SEQUENCE,
    NORM_PREPEND,
    NORM_REPLACE,
    NORM_STRIP,
    NORM_STRIP_ACCENTS,
    NORM_LOWERCASE,
    NORM_NFC,
    NORM_NFD,
    NORM_NFKC,
    NORM_NFKD,
} norm_type;

struct tok_normalizer {
    norm_type type;
    tok_normalizer **children; /* Sequence */
    size_t n_children;
    char *content;             /* Prepend: the prefix; Replace: the replacement */
    tok_regex *pattern;        /* Replace */
    int strip_left, strip_right;
};

void tok_normalizer_free(tok_normalizer *norm) {
    if (norm == NULL)
        return;
    for (size_t i = 0; i < norm->n_children; i++)
        tok_normalizer_free(norm->children[i]);
    free(norm->children);
    free(norm->content);
    tok_regex_free(norm->pattern);
    free(norm);
}

static const struct {
    const char *name;
    norm_type type;
} norm_names[] = {
    {"Sequence", NORM_SEQUENCE},   {"Prepend", NORM_PREPEND},
    {"Replace", NORM_REPLACE},     {"Strip", NORM_STRIP},
    {"StripAccents", NORM_STRIP_ACCENTS},
    {"Lowercase", NORM_LOWERCASE}, {"NFC", NORM_NFC},
    {"NFD", NORM_NFD},             {"NFKC", NORM_NFKC},
    {"NFKD", NORM_NFKD},
};

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

tok_normalizer *tok_normalizer_parse(const cJSON *json, const char *file, chv_error *err) {
    int bad = 0;
    const char *type = cJSON_IsObject(json) ? tok_json_string(json, "type", &bad) : NULL;
    if (type == NULL) {
        chv_error_set(err, "%s: normalizer has no \"type\"", file);
        return NULL;
    }

    tok_normalizer *norm = calloc(1, sizeof *norm);
    if (norm == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    size_t k;
    for (k = 0; k < sizeof norm_names / sizeof norm_names[0]; k++) {
        if (strcmp(type, norm_names[k].name) == 0)
            break;
    }
    if (k == sizeof norm_names / sizeof norm_names[0]) {
        chv_error_set(err, "%s: unsupported normalizer type \"%s\"", file, type);
        free(norm);
        return NULL;
    }
    norm->type = norm_names[k].type;

    switch (norm->type) {
    case NORM_SEQUENCE: {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "normalizers");
        if (!cJSON_IsArray(list)) {
            chv_error_set(err, "%s: Sequence normalizer has no \"normalizers\" list", file);
            goto fail;
        }
        int n = cJSON_GetArraySize(list);
        norm->children = calloc(n > 0 ? (size_t)n : 1, sizeof *norm->children);
        if (norm->children == NULL)
            goto oom;
        const cJSON *child;
        cJSON_ArrayForEach(child, list) {
            tok_normalizer *c = tok_normalizer_parse(child, file, err);
            if (c == NULL)
                goto fail;
            norm->children[norm->n_children++] = c;
        }
        break;
    }
    case NORM_PREPEND: {
        const char *prepend = tok_json_string(json, "prepend", &bad);
        if (prepend == NULL) {
            chv_error_set(err, "%s: Prepend normalizer has no \"prepend\" string", file);
            goto fail;
        }
        if ((norm->content = dup_string(prepend)) == NULL)
            goto oom;
        break;
    }
    case NORM_REPLACE: {
        const char *content = tok_json_string(json, "content", &bad);
        if (content == NULL) {
            chv_error_set(err, "%s: Replace normalizer has no \"content\" string", file);
            goto fail;
        }
        if ((norm->content = dup_string(content)) == NULL)
            goto oom;
        norm->pattern = tok_pattern_parse(cJSON_GetObjectItemCaseSensitive(json, "pattern"), file,
                                          "Replace normalizer", err);
        if (norm->pattern == NULL)
            goto fail;
        break;
    }
    case NORM_STRIP:
        if (tok_json_bool(json, "strip_left", 1, &norm->strip_left, file, "Strip normalizer",
                          err) < 0 ||
            tok_json_bool(json, "strip_right", 1, &norm->strip_right, file, "Strip normalizer",
                          err) < 0)
            goto fail;
        break;
    default:
        break;
    }
    return norm;

oom:
    chv_error_set(err, "out of memory");
fail:
    tok_normalizer_free(norm);
    return NULL;
}

/* Replaces every match of pattern with content. Deleting a match at the
 * start drops the start; replacing it keeps the start aligned. */
static int apply_replace(const tok_normalizer *norm, const char *text, size_t len, tok_buf *out,
                         int *start_dropped, chv_error *err) {
    tok_span *spans = NULL;
    long n = tok_regex_find_all(norm->pattern, text, len, &spans, err);
    if (n < 0)
        return -1;
    if (n > 0 && spans[0].start == 0 && spans[0].end > 0 && norm->content[0] == '\0')
        *start_dropped = 1;
    size_t pos = 0, content_len = strlen(norm->content);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        rc |= tok_buf_append(out, text + pos, spans[i].start - pos);
        rc |= tok_buf_append(out, norm->content, content_len);
        pos = spans[i].end;
    }
    rc |= tok_buf_append(out, text + pos, len - pos);
    free(spans);
    return rc < 0 ? chv_error_set(err, "out of memory") : 0;
}

static int apply_strip(const tok_normalizer *norm, const char *text, size_t len, tok_buf *out,
                       int *start_dropped) {
    size_t start = 0, end = len;
    int32_t cp;
    if (norm->strip_left) {
        while (start < end) {
            size_t n = tok_utf8_decode(text + start, end - start, &cp);
            if (!tok_is_whitespace(cp))
                break;
            start += n;
        }
    }
    if (start > 0)
        *start_dropped = 1;
    if (norm->strip_right) {
        while (end > start) {
            size_t b = end - 1;
            while (b > start && ((unsigned char)text[b] & 0xC0) == 0x80)
                b--;
            tok_utf8_decode(text + b, end - b, &cp);
            if (!tok_is_whitespace(cp))
                break;
            end = b;
        }
    }
    return tok_buf_append(out, text + start, end - start);
}

/* Returns the lowercase mapping of cp from Rust's tables when utf8proc may
 * lack it, or -1. */
static int32_t rust_lowercase_addition(int32_t cp) {
    size_t lo = 0, hi = tok_rust_lowercase_additions_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tok_rust_lowercase_additions[mid].from < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < tok_rust_lowercase_additions_len && tok_rust_lowercase_additions[lo].from == cp)
        return tok_rust_lowercase_additions[lo].to;
    return -1;
}

/* Lowercases each code point on its own, as Rust's char::to_lowercase. */
static int apply_lowercase(const char *text, size_t len, tok_buf *out) {
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        i += tok_utf8_decode(text + i, len - i, &cp);
        int32_t added = cp >= 0x80 ? rust_lowercase_addition(cp) : -1;
        if (added >= 0) {
            if (tok_buf_append_cp(out, added) < 0)
                return -1;
            continue;
        }
        /* U+0130 is the one unconditional multi-character lowercase mapping
         * (SpecialCasing.txt); utf8proc gives only the simple mapping. */
        if (cp == 0x130) {
            if (tok_buf_append(out, "i\xCC\x87", 3) < 0)
                return -1;
            continue;
        }
        if (tok_buf_append_cp(out, utf8proc_tolower(cp)) < 0)
            return -1;
    }
    return 0;
}

/* Removes combining marks, as HF's StripAccents does; it is meant to
 * follow NFD or NFKD. The marks are those of HF's Unicode 9.0 table
 * (general category Mn, Mc or Me then), not utf8proc's. */
static int apply_strip_accents(const char *text, size_t len, tok_buf *out, int *start_dropped) {
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t n = tok_utf8_decode(text + i, len - i, &cp);
        int is_mark = cp >= 0x300 &&
                      tok_in_ranges(tok_hf_combining_marks, tok_hf_combining_marks_len, cp);
        if (is_mark && out->len == 0)
            *start_dropped = 1;
        if (!is_mark && tok_buf_append(out, text + i, n) < 0)
            return -1;
        i += n;
    }
    return 0;
}

/* Runs utf8proc's normalization on text[0..len). */
static int utf8proc_form(int options, const char *text, size_t len, tok_buf *out, chv_error *err) {
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len,
                                      &mapped, (utf8proc_option_t)options);
    if (n < 0)
        return chv_error_set(err, "Unicode normalization failed: %s", utf8proc_errmsg(n));
    int rc = tok_buf_append(out, (const char *)mapped, (size_t)n);
    free(mapped);
    return rc < 0 ? chv_error_set(err, "out of memory") : 0;
}

/* Normalizes to NFC, NFD, NFKC or NFKD as HF does with its Unicode 9.0
 * tables: a code point assigned later is left as it is and, like any
 * unassigned character, has combining class 0, so nothing reorders or
 * composes across it. The text is therefore normalized in stretches
 * between such code points.
 *
 * U+11A7 is split out too: it is the Hangul T base, not a trailing
 * consonant, but utf8proc 2.8 composes an LV syllable with it and drops
 * it, where HF and the Unicode algorithm leave it after the syllable. */
static int apply_unicode_form(norm_type type, const char *text, size_t len, tok_buf *out,
                              chv_error *err) {
    int options = UTF8PROC_STABLE;
    if (type == NORM_NFC || type == NORM_NFKC)
        options |= UTF8PROC_COMPOSE;
    else
        options |= UTF8PROC_DECOMPOSE;
    if (type == NORM_NFKC || type == NORM_NFKD)
        options |= UTF8PROC_COMPAT;

    size_t start = 0, i = 0;
    while (i < len) {
        int32_t cp;
        size_t n = tok_utf8_decode(text + i, len - i, &cp);
        int boundary = cp == 0x11A7 ||
                       (cp >= tok_after_unicode9[0].first &&
                        tok_in_ranges(tok_after_unicode9, tok_after_unicode9_len, cp));
        if (boundary) {
            if (utf8proc_form(options, text + start, i - start, out, err) < 0)
                return -1;
            if (tok_buf_append(out, text + i, n) < 0)
                return chv_error_set(err, "out of memory");
            start = i + n;
        }
        i += n;
    }
    return utf8proc_form(options, text + start, len - start, out, err);
}

/* Applies one normalizer. Only Strip, Replace and StripAccents can delete
 * the first characters (the Unicode forms never delete a character). */
static int apply_one(const tok_normalizer *norm, const char *text, size_t len, tok_buf *out,
                     int *start_dropped, chv_error *err) {
    switch (norm->type) {
    case NORM_SEQUENCE: {
        char *cur = malloc(len + 1);
        if (cur == NULL)
            return chv_error_set(err, "out of memory");
        memcpy(cur, text, len);
        size_t cur_len = len;
        for (size_t i = 0; i < norm->n_children; i++) {
            char *next;
            size_t next_len;
            if (tok_normalizer_apply_tracked(norm->children[i], cur, cur_len, &next, &next_len,
                                             start_dropped, err) < 0) {
                free(cur);
                return -1;
            }
            free(cur);
            cur = next;
            cur_len = next_len;
        }
        int rc = tok_buf_append(out, cur, cur_len);
        free(cur);
        return rc < 0 ? chv_error_set(err, "out of memory") : 0;
    }
    case NORM_PREPEND:
        /* HF prepends only to a non-empty string. */
        if (len > 0 && tok_buf_append(out, norm->content, strlen(norm->content)) < 0)
            return chv_error_set(err, "out of memory");
        return tok_buf_append(out, text, len) < 0 ? chv_error_set(err, "out of memory") : 0;
    case NORM_REPLACE:
        return apply_replace(norm, text, len, out, start_dropped, err);
    case NORM_STRIP:
        return apply_strip(norm, text, len, out, start_dropped) < 0
                   ? chv_error_set(err, "out of memory")
                   : 0;
    case NORM_STRIP_ACCENTS:
        return apply_strip_accents(text, len, out, start_dropped) < 0
                   ? chv_error_set(err, "out of memory")
                   : 0;
    case NORM_LOWERCASE:
        return apply_lowercase(text, len, out) < 0 ? chv_error_set(err, "out of memory") : 0;
    default:
        return apply_unicode_form(norm->type, text, len, out, err);
    }
}

int tok_normalizer_apply(const tok_normalizer *norm, const char *text, size_t len, char **out,
                         size_t *out_len, chv_error *err) {
    int start_dropped = 0;
    return tok_normalizer_apply_tracked(norm, text, len, out, out_len, &start_dropped, err);
}

int tok_normalizer_apply_tracked(const tok_normalizer *norm, const char *text, size_t len,
                                 char **out, size_t *out_len, int *start_dropped,
                                 chv_error *err) {
    tok_buf buf = {0};
    if (apply_one(norm, text, len, &buf, start_dropped, err) < 0) {
        free(buf.data);
        return -1;
    }
    *out_len = buf.len;
    *out = tok_buf_finish(&buf);
    if (*out == NULL)
        return chv_error_set(err, "out of memory");
    return 0;
}
