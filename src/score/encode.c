#include "score/encode.h"

#include <stdlib.h>
#include <string.h>

/* Python's str.isspace() on the ASCII range plus the Unicode spaces that
 * end real prompts; lm-eval strips with str.rstrip(), which uses it. */
static size_t trailing_space_bytes(const char *s, size_t len) {
    size_t end = len;
    for (;;) {
        if (end >= 1) {
            unsigned char c = (unsigned char)s[end - 1];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
                (c >= 0x1c && c <= 0x1f)) {
                end--;
                continue;
            }
            if (c == 0x85 && end >= 2 && (unsigned char)s[end - 2] == 0xC2) { /* U+0085 */
                end -= 2;
                continue;
            }
            if (c == 0xA0 && end >= 2 && (unsigned char)s[end - 2] == 0xC2) { /* U+00A0 */
                end -= 2;
                continue;
            }
        }
        if (end >= 3) {
            const unsigned char *t = (const unsigned char *)s + end - 3;
            /* U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+1680 */
            int space = (t[0] == 0xE2 && t[1] == 0x80 &&
                         ((t[2] >= 0x80 && t[2] <= 0x8A) || t[2] == 0xA8 || t[2] == 0xA9 ||
                          t[2] == 0xAF)) ||
                        (t[0] == 0xE2 && t[1] == 0x81 && t[2] == 0x9F) ||
                        (t[0] == 0xE3 && t[1] == 0x80 && t[2] == 0x80) ||
                        (t[0] == 0xE1 && t[1] == 0x9A && t[2] == 0x80);
            if (space) {
                end -= 3;
                continue;
            }
        }
        break;
    }
    return len - end;
}

static int encode_raw(const chv_encoder *enc, const char *text, size_t len, int special,
                      int32_t **ids, size_t *n, chv_error *err) {
    return chv_tokenizer_encode(enc->tok, text, len, special, ids, n, NULL, err);
}

int chv_encode_text(const chv_encoder *enc, const char *text, int32_t **ids, size_t *n,
                    chv_error *err) {
    size_t len = strlen(text);
    if (enc->rule == CHV_BOS_NO)
        return encode_raw(enc, text, len, 0, ids, n, err);

    if (encode_raw(enc, text, len, 1, ids, n, err) != 0)
        return -1;
    if (enc->rule == CHV_BOS_AUTO || enc->bos_id < 0)
        return 0;
    if (*n > 0 && (*ids)[0] == enc->bos_id)
        return 0;

    /* --add-bos yes: put BOS first when the post-processor did not. */
    int32_t *grown = realloc(*ids, (*n + 1) * sizeof **ids);
    if (grown == NULL) {
        free(*ids);
        *ids = NULL;
        return chv_error_set(err, "out of memory encoding a request");
    }
    memmove(grown + 1, grown, *n * sizeof *grown);
    grown[0] = enc->bos_id;
    *ids = grown;
    (*n)++;
    return 0;
}

static int encode_empty_context(const chv_encoder *enc, const char *continuation,
                                int32_t **context_ids, size_t *n_context,
                                int32_t **continuation_ids, size_t *n_continuation,
                                chv_error *err) {
    if (enc->prefix_id < 0)
        return chv_error_set(err, "the request has an empty context, but the tokenizer has "
                                  "neither a BOS nor an EOS token to condition on");

    int32_t *cont;
    size_t n_cont;
    if (encode_raw(enc, continuation, strlen(continuation), 0, &cont, &n_cont, err) != 0)
        return -1;
    if (n_cont > 0 && cont[0] == enc->prefix_id) {
        memmove(cont, cont + 1, (n_cont - 1) * sizeof *cont);
        n_cont--;
    }

    int32_t *ctx = malloc(sizeof *ctx);
    if (ctx == NULL) {
        free(cont);
        return chv_error_set(err, "out of memory encoding a request");
    }
    ctx[0] = enc->prefix_id;
    *context_ids = ctx;
    *n_context = 1;
    *continuation_ids = cont;
    *n_continuation = n_cont;
    return 0;
}

int chv_encode_request(const chv_encoder *enc, const char *context, const char *continuation,
                       int32_t **context_ids, size_t *n_context, int32_t **continuation_ids,
                       size_t *n_continuation, int *fallback, chv_error *err) {
    *fallback = 0;
    *context_ids = NULL;
    *continuation_ids = NULL;

    if (context[0] == '\0')
        return encode_empty_context(enc, continuation, context_ids, n_context, continuation_ids,
                                    n_continuation, err);

    /* Move the context's trailing whitespace to the continuation. */
    size_t ctx_len = strlen(context), cont_len = strlen(continuation);
    size_t spaces = trailing_space_bytes(context, ctx_len);
    size_t kept = ctx_len - spaces;

    char *whole = malloc(ctx_len + cont_len + 1);
    char *ctx_text = malloc(kept + 1);
    if (whole == NULL || ctx_text == NULL) {
        free(whole);
        free(ctx_text);
        return chv_error_set(err, "out of memory encoding a request");
    }
    memcpy(whole, context, ctx_len);
    memcpy(whole + ctx_len, continuation, cont_len + 1);
    memcpy(ctx_text, context, kept);
    ctx_text[kept] = '\0';

    int32_t *whole_ids = NULL, *ctx_ids = NULL;
    size_t n_whole = 0, n_ctx = 0;
    int rc = chv_encode_text(enc, whole, &whole_ids, &n_whole, err);
    if (rc == 0)
        rc = chv_encode_text(enc, ctx_text, &ctx_ids, &n_ctx, err);
    free(whole);

    if (rc != 0) {
        free(ctx_text);
        free(whole_ids);
        free(ctx_ids);
        return -1;
    }

    size_t n_cont = n_whole > n_ctx ? n_whole - n_ctx : 0;
    int32_t *cont_ids = NULL;
    if (n_cont > 0) {
        cont_ids = malloc(n_cont * sizeof *cont_ids);
        if (cont_ids != NULL)
            memcpy(cont_ids, whole_ids + n_ctx, n_cont * sizeof *cont_ids);
    } else {
        /* A token merged across the boundary; encode the continuation
         * (with the moved whitespace) on its own, as lm-eval's fix does. */
        *fallback = 1;
        const char *moved = context + kept;
        size_t moved_len = spaces + cont_len;
        char *cont_text = malloc(moved_len + 1);
        if (cont_text != NULL) {
            memcpy(cont_text, moved, spaces);
            memcpy(cont_text + spaces, continuation, cont_len + 1);
            rc = encode_raw(enc, cont_text, moved_len, 0, &cont_ids, &n_cont, err);
            free(cont_text);
        }
    }
    free(whole_ids);
    free(ctx_text);

    if (rc != 0 || cont_ids == NULL) {
        free(ctx_ids);
        free(cont_ids);
        if (rc == 0)
            chv_error_set(err, "out of memory encoding a request");
        return -1;
    }

    *context_ids = ctx_ids;
    *n_context = n_ctx;
    *continuation_ids = cont_ids;
    *n_continuation = n_cont;
    return 0;
}
