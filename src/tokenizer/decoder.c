/* Decoders for display: ByteLevel, Metaspace, Replace, ByteFallback, Fuse,
 * Strip and Sequence, following HF's decode_chain (each decoder maps the
 * list of token strings to a new list, and the result is joined). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

typedef enum {
    DEC_JOIN, /* an unsupported decoder: the tokens are joined as they are */
    DEC_SEQUENCE,
    DEC_BYTE_LEVEL,
    DEC_METASPACE,
    DEC_REPLACE,
    DEC_BYTE_FALLBACK,
    DEC_FUSE,
    DEC_STRIP,
} dec_type;

struct tok_decoder {
    dec_type type;
    tok_decoder **children;
    size_t n_children;
    int32_t replacement;  /* Metaspace */
    int prepend;          /* Metaspace: strip the leading space of the first token */
    tok_regex *pattern;   /* Replace */
    char *content;        /* Replace */
    int32_t strip_char;   /* Strip */
    long strip_start, strip_stop;
};

typedef struct str_list {
    char **items;
    size_t len;
} str_list;

static void list_free(str_list *l) {
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

void tok_decoder_free(tok_decoder *dec) {
    if (dec == NULL)
        return;
    for (size_t i = 0; i < dec->n_children; i++)
        tok_decoder_free(dec->children[i]);
    free(dec->children);
    tok_regex_free(dec->pattern);
    free(dec->content);
    free(dec);
}

tok_decoder *tok_decoder_parse(const cJSON *json, const char *file, const char **unsupported,
                               chv_error *err) {
    tok_decoder *dec = calloc(1, sizeof *dec);
    if (dec == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    int bad = 0;
    const char *type = cJSON_IsObject(json) ? tok_json_string(json, "type", &bad) : NULL;
    if (type == NULL)
        type = "(no type)";

    if (strcmp(type, "Sequence") == 0) {
        dec->type = DEC_SEQUENCE;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "decoders");
        int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
        dec->children = calloc(n > 0 ? (size_t)n : 1, sizeof *dec->children);
        if (dec->children == NULL)
            goto oom;
        const cJSON *child;
        cJSON_ArrayForEach(child, list) {
            tok_decoder *c = tok_decoder_parse(child, file, unsupported, err);
            if (c == NULL)
                goto fail;
            dec->children[dec->n_children++] = c;
        }
    } else if (strcmp(type, "ByteLevel") == 0) {
        dec->type = DEC_BYTE_LEVEL;
    } else if (strcmp(type, "Metaspace") == 0) {
        dec->type = DEC_METASPACE;
        const char *rep = tok_json_string(json, "replacement", &bad);
        dec->replacement = 0x2581;
        if (rep != NULL && rep[0] != '\0')
            tok_utf8_decode(rep, strlen(rep), &dec->replacement);
        const char *scheme = tok_json_string(json, "prepend_scheme", &bad);
        int add_prefix_space = 1;
        tok_json_bool(json, "add_prefix_space", 1, &add_prefix_space, file, "decoder", NULL);
        dec->prepend = add_prefix_space && !(scheme != NULL && strcmp(scheme, "never") == 0);
    } else if (strcmp(type, "Replace") == 0) {
        dec->type = DEC_REPLACE;
        const char *content = tok_json_string(json, "content", &bad);
        dec->content = strdup(content ? content : "");
        dec->pattern = tok_pattern_parse(cJSON_GetObjectItemCaseSensitive(json, "pattern"), file,
                                         "Replace decoder", err);
        if (dec->content == NULL || dec->pattern == NULL)
            goto fail;
    } else if (strcmp(type, "ByteFallback") == 0) {
        dec->type = DEC_BYTE_FALLBACK;
    } else if (strcmp(type, "Fuse") == 0) {
        dec->type = DEC_FUSE;
    } else if (strcmp(type, "Strip") == 0) {
        dec->type = DEC_STRIP;
        const char *content = tok_json_string(json, "content", &bad);
        dec->strip_char = ' ';
        if (content != NULL && content[0] != '\0')
            tok_utf8_decode(content, strlen(content), &dec->strip_char);
        const cJSON *start = cJSON_GetObjectItemCaseSensitive(json, "start");
        const cJSON *stop = cJSON_GetObjectItemCaseSensitive(json, "stop");
        dec->strip_start = cJSON_IsNumber(start) ? (long)start->valuedouble : 0;
        dec->strip_stop = cJSON_IsNumber(stop) ? (long)stop->valuedouble : 0;
    } else {
        dec->type = DEC_JOIN;
        if (*unsupported == NULL)
            *unsupported = type;
    }
    return dec;

oom:
    chv_error_set(err, "out of memory");
fail:
    tok_decoder_free(dec);
    return NULL;
}

/* Replaces the list with a single string (or an empty list). */
static void list_set_one(str_list *l, char *s) {
    list_free(l);
    l->items = malloc(sizeof *l->items);
    if (l->items == NULL || s == NULL) {
        free(l->items);
        free(s);
        l->items = NULL;
        return;
    }
    l->items[0] = s;
    l->len = 1;
}

static char *join(const str_list *l) {
    tok_buf buf = {0};
    for (size_t i = 0; i < l->len; i++)
        tok_buf_append(&buf, l->items[i], strlen(l->items[i]));
    return tok_buf_finish(&buf);
}

/* Maps byte-level characters back to bytes and decodes them as UTF-8,
 * replacing invalid sequences with U+FFFD. */
static void decode_byte_level(str_list *l) {
    const tok_byte_alphabet *alphabet = tok_byte_alphabet_get();
    tok_buf bytes = {0};
    for (size_t i = 0; i < l->len; i++) {
        const char *s = l->items[i];
        size_t len = strlen(s), k = 0;
        while (k < len) {
            int32_t cp;
            size_t n = tok_utf8_decode(s + k, len - k, &cp);
            if (cp >= 0 && cp < 0x144 && alphabet->byte_of[cp] >= 0) {
                char b = (char)alphabet->byte_of[cp];
                tok_buf_append(&bytes, &b, 1);
            } else {
                tok_buf_append(&bytes, s + k, n);
            }
            k += n;
        }
    }
    tok_buf fixed = {0};
    size_t i = 0;
    while (i < bytes.len) {
        int32_t cp;
        size_t n = tok_utf8_decode(bytes.data + i, bytes.len - i, &cp);
        int valid = !(n == 1 && (unsigned char)bytes.data[i] >= 0x80);
        if (valid)
            tok_buf_append(&fixed, bytes.data + i, n);
        else
            tok_buf_append(&fixed, "\xEF\xBF\xBD", 3);
        i += n;
    }
    free(bytes.data);
    list_set_one(l, tok_buf_finish(&fixed));
}

/* Turns runs of <0xAB> tokens into the text they encode. */
static void decode_byte_fallback(str_list *l) {
    str_list out = {calloc(l->len ? l->len : 1, sizeof(char *)), 0};
    if (out.items == NULL)
        return;
    tok_buf bytes = {0};
    size_t n_bytes = 0;
    for (size_t i = 0; i <= l->len; i++) {
        unsigned int b;
        const char *s = i < l->len ? l->items[i] : NULL;
        if (s != NULL && strlen(s) == 6 && sscanf(s, "<0x%2X>", &b) == 1) {
            char c = (char)b;
            tok_buf_append(&bytes, &c, 1);
            n_bytes++;
            continue;
        }
        if (n_bytes > 0) {
            /* HF emits U+FFFD per byte when the run is not valid UTF-8. */
            tok_buf text = {0};
            int32_t cp;
            int valid = 1;
            for (size_t k = 0; k < bytes.len;) {
                size_t n = tok_utf8_decode(bytes.data + k, bytes.len - k, &cp);
                valid &= !(n == 1 && (unsigned char)bytes.data[k] >= 0x80);
                k += n;
            }
            if (valid)
                tok_buf_append(&text, bytes.data, bytes.len);
            else
                for (size_t k = 0; k < n_bytes; k++)
                    tok_buf_append(&text, "\xEF\xBF\xBD", 3);
            out.items[out.len++] = tok_buf_finish(&text);
            bytes.len = 0;
            n_bytes = 0;
        }
        if (s != NULL)
            out.items[out.len++] = strdup(s);
    }
    free(bytes.data);
    list_free(l);
    *l = out;
}

static void decode_each(const tok_decoder *dec, str_list *l) {
    for (size_t i = 0; i < l->len; i++) {
        const char *s = l->items[i];
        size_t len = strlen(s);
        tok_buf out = {0};
        if (dec->type == DEC_METASPACE) {
            char rep[4];
            size_t rep_len = tok_utf8_encode(dec->replacement, rep);
            for (size_t k = 0; k < len;) {
                if (k + rep_len <= len && memcmp(s + k, rep, rep_len) == 0) {
                    if (!(i == 0 && k == 0 && dec->prepend))
                        tok_buf_append(&out, " ", 1);
                    k += rep_len;
                } else {
                    tok_buf_append(&out, s + k, 1);
                    k++;
                }
            }
        } else if (dec->type == DEC_REPLACE) {
            tok_span *spans = NULL;
            long n = tok_regex_find_all(dec->pattern, s, len, &spans, NULL);
            size_t pos = 0;
            for (long k = 0; k < n; k++) {
                tok_buf_append(&out, s + pos, spans[k].start - pos);
                tok_buf_append(&out, dec->content, strlen(dec->content));
                pos = spans[k].end;
            }
            tok_buf_append(&out, s + pos, len - pos);
            free(spans);
        } else { /* DEC_STRIP */
            char c[4];
            size_t c_len = tok_utf8_encode(dec->strip_char, c);
            size_t start = 0, end = len;
            for (long k = 0; k < dec->strip_start && start + c_len <= end &&
                             memcmp(s + start, c, c_len) == 0;
                 k++)
                start += c_len;
            for (long k = 0; k < dec->strip_stop && end >= start + c_len &&
                             memcmp(s + end - c_len, c, c_len) == 0;
                 k++)
                end -= c_len;
            tok_buf_append(&out, s + start, end - start);
        }
        char *next = tok_buf_finish(&out);
        if (next != NULL) {
            free(l->items[i]);
            l->items[i] = next;
        }
    }
}

static void decode_chain(const tok_decoder *dec, str_list *l) {
    switch (dec->type) {
    case DEC_SEQUENCE:
        for (size_t i = 0; i < dec->n_children; i++)
            decode_chain(dec->children[i], l);
        break;
    case DEC_BYTE_LEVEL:
        decode_byte_level(l);
        break;
    case DEC_BYTE_FALLBACK:
        decode_byte_fallback(l);
        break;
    case DEC_FUSE:
    case DEC_JOIN:
        list_set_one(l, join(l));
        break;
    default:
        decode_each(dec, l);
        break;
    }
}

char *tok_decoder_apply(const tok_decoder *dec, const char *const *tokens, size_t n_tokens) {
    str_list l = {calloc(n_tokens ? n_tokens : 1, sizeof(char *)), 0};
    if (l.items == NULL)
        return NULL;
    for (size_t i = 0; i < n_tokens; i++) {
        if ((l.items[l.len] = strdup(tokens[i])) == NULL) {
            list_free(&l);
            return NULL;
        }
        l.len++;
    }
    if (dec != NULL)
        decode_chain(dec, &l);
    char *text = join(&l);
    list_free(&l);
    return text;
}
