#include "score/windows.h"

#include <stdlib.h>
#include <string.h>

int chv_scored_seq_build(const int32_t *context, size_t n_context, const int32_t *continuation,
                         size_t n_continuation, long max_length, chv_scored_seq *out) {
    memset(out, 0, sizeof *out);
    if (n_context < 1 || n_continuation < 1 || (long)n_continuation > max_length)
        return -1;

    /* Keep the last max_length + 1 tokens of context + continuation. */
    size_t total = n_context + n_continuation;
    size_t keep = total;
    if ((long)keep > max_length + 1)
        keep = (size_t)max_length + 1;
    size_t drop = total - keep;

    out->tokens = malloc(keep * sizeof *out->tokens);
    if (out->tokens == NULL)
        return -1;

    size_t o = 0;
    for (size_t i = drop; i < n_context; i++)
        out->tokens[o++] = context[i];
    size_t cont_start = drop > n_context ? drop - n_context : 0;
    for (size_t i = cont_start; i < n_continuation; i++)
        out->tokens[o++] = continuation[i];

    out->n_tokens = (int)keep;
    out->n_targets = (int)n_continuation;
    out->truncated = drop > 0;
    return 0;
}

void chv_scored_seq_free(chv_scored_seq *seq) {
    free(seq->tokens);
    memset(seq, 0, sizeof *seq);
}

/* Copies tokens[start .. end) into a new window predicting its last
 * n_targets tokens. */
static int make_window(chv_scored_seq *w, const int32_t *first, const int32_t *tokens, size_t start,
                       size_t end, size_t n_targets) {
    size_t n = end - start + (first != NULL ? 1 : 0);
    w->tokens = malloc(n * sizeof *w->tokens);
    if (w->tokens == NULL)
        return -1;

    size_t o = 0;
    if (first != NULL)
        w->tokens[o++] = *first;
    memcpy(w->tokens + o, tokens + start, (end - start) * sizeof *tokens);
    w->n_tokens = (int)n;
    w->n_targets = (int)n_targets;
    w->truncated = 0;
    return 0;
}

int chv_rolling_windows(const int32_t *tokens, size_t n_tokens, int32_t prefix_token,
                        long max_length, chv_scored_seq **windows, size_t *n_windows) {
    *windows = NULL;
    *n_windows = 0;
    if (n_tokens == 0)
        return 0;

    size_t L = (size_t)max_length;
    size_t count = 1 + (n_tokens > L ? (n_tokens - L + L - 1) / L : 0);
    chv_scored_seq *out = calloc(count, sizeof *out);
    if (out == NULL)
        return -1;

    /* First window: prefix_token, then tokens[0 .. first-1); it predicts
     * tokens[0 .. first). */
    size_t first = n_tokens < L ? n_tokens : L;
    size_t w = 0;
    if (make_window(&out[w++], &prefix_token, tokens, 0, first, first) != 0)
        goto fail;

    /* Each later window predicts the next (up to) L tokens and reads the L
     * tokens that end just before its last prediction: tokens
     * [end - L - 1, end) with the final one only as a target. */
    size_t predicted = first;
    while (predicted < n_tokens) {
        size_t n_pred = n_tokens - predicted < L ? n_tokens - predicted : L;
        size_t end = predicted + n_pred;
        if (make_window(&out[w++], NULL, tokens, end - L - 1, end, n_pred) != 0)
            goto fail;
        predicted = end;
    }

    *windows = out;
    *n_windows = w;
    return 0;

fail:
    for (size_t i = 0; i < w; i++)
        chv_scored_seq_free(&out[i]);
    free(out);
    return -1;
}

int chv_long_continuation_windows(const int32_t *context, size_t n_context,
                                  const int32_t *continuation, size_t n_continuation,
                                  long max_length, chv_scored_seq **windows, size_t *n_windows) {
    *windows = NULL;
    *n_windows = 0;
    if (n_context < 1 || n_continuation < 1 || max_length < 1)
        return -1;

    size_t n_full = n_context + n_continuation;
    int32_t *full = malloc(n_full * sizeof *full);
    size_t L = (size_t)max_length;
    size_t count = (n_continuation + L - 1) / L;
    chv_scored_seq *out = calloc(count, sizeof *out);
    if (full == NULL || out == NULL) {
        free(full);
        free(out);
        return -1;
    }
    memcpy(full, context, n_context * sizeof *full);
    memcpy(full + n_context, continuation, n_continuation * sizeof *full);

    /* Chunk k predicts positions [s, e) of the full sequence; its window is
     * full[e - L - 1 .. e), clipped at 0, so position s - 1 is inside. */
    size_t w = 0;
    for (size_t s = n_context; s < n_full; s += L) {
        size_t e = s + L < n_full ? s + L : n_full;
        size_t start = e > L + 1 ? e - L - 1 : 0;
        if (make_window(&out[w], NULL, full, start, e, e - s) != 0) {
            for (size_t k = 0; k < w; k++)
                chv_scored_seq_free(&out[k]);
            free(out);
            free(full);
            return -1;
        }
        out[w].truncated = start > 0;
        w++;
    }
    free(full);

    *windows = out;
    *n_windows = w;
    return 0;
}
