/* Token-level pieces of lm-eval's scoring that need no model: the
 * context/continuation input built for one request, left truncation, and
 * the disjoint rolling windows of a long document. Kept apart from the
 * scorer so that they can be tested on plain token arrays.
 */
#ifndef CHEVAL_SCORE_WINDOWS_H
#define CHEVAL_SCORE_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

/* One scored sequence: the model reads tokens[0 .. n_tokens-2] and the
 * last n_targets tokens are the ones whose log-probabilities are summed.
 * Row i of the input predicts tokens[i + 1], so the scored rows are
 * n_tokens - 1 - n_targets .. n_tokens - 2. */
typedef struct chv_scored_seq {
    int32_t *tokens; /* malloc'd, owned */
    int n_tokens;    /* input length + 1 */
    int n_targets;   /* 1 .. n_tokens - 1 */
    int truncated;   /* 1 when context tokens were dropped from the left */
} chv_scored_seq;

/* Builds the scored sequence for context+continuation tokens with lm-eval's
 * truncation: keep the last max_length + 1 tokens of context+continuation,
 * so the input is at most max_length tokens. Requires n_context >= 1,
 * n_continuation >= 1 and n_continuation <= max_length. Returns 0, or -1
 * when out of memory or the continuation alone is too long. */
int chv_scored_seq_build(const int32_t *context, size_t n_context, const int32_t *continuation,
                         size_t n_continuation, long max_length, chv_scored_seq *out);

void chv_scored_seq_free(chv_scored_seq *seq);

/* Builds the windows that score a continuation longer than max_length.
 * lm-eval stops with an assertion there. cheval instead predicts every
 * continuation token once, in chunks of max_length tokens, each chunk
 * reading the max_length tokens (context included) just before its last
 * target. Stores a malloc'd array in *windows and its length in
 * *n_windows. Requires n_context >= 1 and n_continuation >= 1. Returns 0,
 * or -1 when out of memory. */
int chv_long_continuation_windows(const int32_t *context, size_t n_context,
                                  const int32_t *continuation, size_t n_continuation,
                                  long max_length, chv_scored_seq **windows, size_t *n_windows);

/* Splits a document's tokens into lm-eval's disjoint rolling windows
 * (context_len = 1): every token is predicted exactly once, the first
 * window is conditioned on prefix_token, each window predicts up to
 * max_length tokens, and the final partial window still reads a full
 * max_length tokens of left context. Stores a malloc'd array of windows in
 * *windows and their count in *n_windows (0 for an empty document).
 * Returns 0, or -1 when out of memory. */
int chv_rolling_windows(const int32_t *tokens, size_t n_tokens, int32_t prefix_token,
                        long max_length, chv_scored_seq **windows, size_t *n_windows);

#endif
