/* The log-likelihood scorer: lm-evaluation-harness's two request types on
 * top of a tokenizer and a model.
 *
 *   loglikelihood(context, continuation) -> (sum of log P(continuation
 *       tokens | context), is_greedy)
 *   loglikelihood_rolling(text) -> sum of log P(every token of text)
 *
 * The semantics follow lm-eval's Hugging Face backend. Trailing whitespace
 * of the context moves to the continuation. Context+continuation is
 * encoded once and split at the length of the encoded context. An empty
 * context conditions on BOS, else EOS. Inputs longer than max_length are
 * truncated from the left, and rolling windows are disjoint.
 *
 * Ownership: the scorer borrows the model and the tokenizer, which must
 * outlive it. Results own their token arrays; free them with
 * chv_ll_result_free. Requests are borrowed for the duration of a call.
 */
#ifndef CHEVAL_SCORE_SCORER_H
#define CHEVAL_SCORE_SCORER_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

typedef enum {
    CHV_BOS_AUTO = 0, /* the tokenizer's post-processor decides */
    CHV_BOS_YES,      /* always put BOS before the context */
    CHV_BOS_NO        /* never add BOS (an empty context still gets BOS, else EOS) */
} chv_bos_rule;

typedef struct chv_scorer_options {
    chv_bos_rule add_bos;
    long max_length; /* 0: max_position_embeddings, else model_max_length, else 2048 */
    int threads;     /* 0: all cores */
    /* Rolling log-likelihood: 0 (default) conditions the first window on
     * one BOS; 1 keeps the tokenizer's own BOS as well, as lm-eval does
     * (its BOS then appears twice and is scored once). */
    int rolling_double_bos;
} chv_scorer_options;

typedef struct chv_ll_request {
    const char *context;      /* UTF-8, may be empty */
    const char *continuation; /* UTF-8, must not be empty */
} chv_ll_request;

typedef struct chv_ll_result {
    double logprob;   /* summed log-probability of the continuation tokens (nats) */
    int is_greedy;    /* 1 when every continuation token is the argmax */
    int32_t *context_tokens;
    size_t n_context_tokens;
    int32_t *continuation_tokens;
    size_t n_continuation_tokens;
    int split_fallback; /* 1 when a merge across the boundary forced separate encoding */
    int truncated;      /* 1 when the input was cut from the left to max_length */
    int long_continuation; /* 1 when the continuation alone exceeded max_length and was
                              scored in several windows */
} chv_ll_result;

typedef struct chv_rolling_result {
    double logprob; /* summed log-probability of every token of the text */
    size_t n_tokens;
    size_t n_windows;
} chv_rolling_result;

/* Called after each batch with the number of requests finished so far. */
typedef void (*chv_progress_fn)(void *user, size_t done, size_t total);

typedef struct chv_scorer chv_scorer;

/* Creates a scorer. Returns NULL and fills err on failure (for example a
 * tokenizer whose vocabulary is larger than the model's). */
chv_scorer *chv_scorer_new(chv_model *model, chv_tokenizer *tok, const chv_scorer_options *options,
                           chv_error *err);
void chv_scorer_free(chv_scorer *scorer);

/* The resolved maximum length, in tokens. */
long chv_scorer_max_length(const chv_scorer *scorer);

/* Whether a non-empty context starts with BOS under the resolved rule. */
int chv_scorer_adds_bos(const chv_scorer *scorer);

/* Scores n requests into results[0..n) (input order). Requests are sorted
 * and packed internally, always the same way for the same requests.
 * NOTE: a request scored in another batch can differ in the last bits,
 * because OpenBLAS rounds a row by its position in the matrix. Returns 0,
 * or -1 with err filled, in which case no result needs freeing. */
int chv_scorer_loglikelihood(chv_scorer *scorer, const chv_ll_request *requests, size_t n,
                             chv_ll_result *results, chv_progress_fn progress, void *user,
                             chv_error *err);

/* Scores the rolling log-likelihood of n texts into results[0..n). */
int chv_scorer_rolling(chv_scorer *scorer, const char *const *texts, size_t n,
                       chv_rolling_result *results, chv_progress_fn progress, void *user,
                       chv_error *err);

void chv_ll_result_free(chv_ll_result *result);

#endif
