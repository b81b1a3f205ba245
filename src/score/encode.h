/* lm-eval's request encoding on top of the tokenizer: the BOS rule, the
 * whitespace move and the context/continuation split. Internal to the
 * scorer. */
#ifndef CHEVAL_SCORE_ENCODE_H
#define CHEVAL_SCORE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "score/scorer.h"

typedef struct chv_encoder {
    chv_tokenizer *tok;
    chv_bos_rule rule;
    int32_t bos_id;    /* -1 when the tokenizer has none */
    int32_t prefix_id; /* BOS, else EOS: the token an empty context conditions on */
} chv_encoder;

/* Encodes text under the BOS rule: auto keeps the post-processor's special
 * tokens, yes also puts BOS first when missing, no adds no special tokens.
 * *ids is malloc'd. Returns 0, or -1 with err filled. */
int chv_encode_text(const chv_encoder *enc, const char *text, int32_t **ids, size_t *n,
                    chv_error *err);

/* Encodes one loglikelihood request the way lm-eval does:
 * - an empty context becomes [prefix_id], and the continuation is encoded
 *   without special tokens (a leading prefix_id is dropped);
 * - otherwise trailing whitespace of the context moves to the front of the
 *   continuation, context+continuation is encoded once, and the
 *   continuation is what follows the first len(encode(context)) tokens.
 * When that leaves no continuation token (a merge across the boundary),
 * the continuation is encoded on its own and *fallback is set to 1.
 * Returns 0, or -1 with err filled. */
int chv_encode_request(const chv_encoder *enc, const char *context, const char *continuation,
                       int32_t **context_ids, size_t *n_context, int32_t **continuation_ids,
                       size_t *n_continuation, int *fallback, chv_error *err);

#endif
