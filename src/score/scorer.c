/* The scorer: turns requests into scored token sequences (encode.c,
 * windows.c) and runs them through the model in packed batches (batch.c).
 */
#include "score/scorer.h"

#include <stdlib.h>
#include <string.h>

#include "score/batch.h"
#include "score/encode.h"
#include "score/windows.h"
#include "util/log.h"

struct chv_scorer {
    chv_model *model;
    chv_tokenizer *tok;
    chv_scorer_options options;
    chv_encoder encoder;
    long max_length;
};

/* lm-eval's order: the user's value, then the model config, then the
 * tokenizer's model_max_length, then 2048. */
static long resolve_max_length(const chv_scorer_options *options, const chv_model_info *info,
                               const chv_tokenizer *tok) {
    if (options->max_length > 0)
        return options->max_length;
    if (info->max_position_embeddings > 0)
        return info->max_position_embeddings;
    long from_tokenizer = chv_tokenizer_model_max_length(tok);
    if (from_tokenizer > 0)
        return from_tokenizer;
    return 2048;
}

chv_scorer *chv_scorer_new(chv_model *model, chv_tokenizer *tok, const chv_scorer_options *options,
                           chv_error *err) {
    const chv_model_info *info = chv_model_get_info(model);
    chv_scorer_options defaults = {0};
    if (options == NULL)
        options = &defaults;

    size_t tok_vocab = chv_tokenizer_vocab_size(tok);
    if (tok_vocab > (size_t)info->vocab_size) {
        chv_error_set(err,
                      "the tokenizer has %zu ids but the model's vocab_size is %d; "
                      "check that tokenizer.json belongs to this model",
                      tok_vocab, info->vocab_size);
        return NULL;
    }

    chv_scorer *scorer = calloc(1, sizeof *scorer);
    if (scorer == NULL) {
        chv_error_set(err, "out of memory creating the scorer");
        return NULL;
    }
    scorer->model = model;
    scorer->tok = tok;
    scorer->options = *options;
    scorer->max_length = resolve_max_length(options, info, tok);

    /* The prefix token is BOS, else EOS, from the tokenizer first and the
     * model config second, as lm-eval's prefix_token_id does. */
    int32_t bos = chv_tokenizer_bos_id(tok);
    int32_t eos = chv_tokenizer_eos_id(tok);
    if (bos < 0)
        bos = info->bos_token_id;
    if (eos < 0)
        eos = info->eos_token_id;
    scorer->encoder.tok = tok;
    scorer->encoder.rule = options->add_bos;
    scorer->encoder.bos_id = bos;
    scorer->encoder.prefix_id = bos >= 0 ? bos : eos;

    if (options->add_bos == CHV_BOS_YES && bos < 0) {
        chv_error_set(err, "--add-bos yes: the tokenizer has no BOS token (set bos_token in "
                           "tokenizer_config.json, or use --add-bos auto)");
        free(scorer);
        return NULL;
    }
    if (info->max_position_embeddings > 0 && scorer->max_length > info->max_position_embeddings)
        chv_log_warn("max length %ld is larger than the model's max_position_embeddings %ld; "
                     "positions past it were never trained",
                     scorer->max_length, info->max_position_embeddings);

    if (info->sliding_window > 0 && scorer->max_length > info->sliding_window)
        chv_log_warn("the model attends within a sliding window of %ld tokens, which cheval does "
                     "not implement; inputs longer than that fail (pass --max-length %ld to "
                     "truncate them instead)",
                     (long)info->sliding_window, (long)info->sliding_window);

    chv_model_set_threads(model, options->threads);
    return scorer;
}

void chv_scorer_free(chv_scorer *scorer) { free(scorer); }

long chv_scorer_max_length(const chv_scorer *scorer) { return scorer->max_length; }

int chv_scorer_adds_bos(const chv_scorer *scorer) {
    if (scorer->encoder.bos_id < 0)
        return 0;
    int32_t *ids = NULL;
    size_t n = 0;
    if (chv_encode_text(&scorer->encoder, "a", &ids, &n, NULL) != 0)
        return 0;
    int adds = n > 0 && ids[0] == scorer->encoder.bos_id;
    free(ids);
    return adds;
}

void chv_ll_result_free(chv_ll_result *result) {
    free(result->context_tokens);
    free(result->continuation_tokens);
    memset(result, 0, sizeof *result);
}

static void free_results(chv_ll_result *results, size_t n) {
    for (size_t i = 0; i < n; i++)
        chv_ll_result_free(&results[i]);
}

static int32_t *copy_ids(const int32_t *ids, size_t n) {
    int32_t *out = malloc((n ? n : 1) * sizeof *out);
    if (out != NULL && n > 0)
        memcpy(out, ids, n * sizeof *out);
    return out;
}

/* A growing list of scored sequences, each tagged with the request or
 * document it belongs to. */
typedef struct seq_list {
    chv_scored_seq *seqs;
    size_t *owner;
    size_t n;
    size_t cap;
} seq_list;

static int seq_list_push(seq_list *list, chv_scored_seq *items, size_t n_items, size_t owner) {
    if (list->n + n_items > list->cap) {
        size_t cap = (list->n + n_items) * 2 + 16;
        chv_scored_seq *seqs = realloc(list->seqs, cap * sizeof *seqs);
        if (seqs == NULL)
            return -1;
        list->seqs = seqs;
        size_t *owners = realloc(list->owner, cap * sizeof *owners);
        if (owners == NULL)
            return -1;
        list->owner = owners;
        list->cap = cap;
    }
    for (size_t k = 0; k < n_items; k++) {
        list->seqs[list->n] = items[k];
        list->owner[list->n] = owner;
        list->n++;
    }
    return 0;
}

static void seq_list_free(seq_list *list) {
    for (size_t i = 0; i < list->n; i++)
        chv_scored_seq_free(&list->seqs[i]);
    free(list->seqs);
    free(list->owner);
    memset(list, 0, sizeof *list);
}

/* Encodes request i into results[i] (token lists) and appends its scored
 * sequences to list: one, or several for a continuation longer than the
 * maximum length. */
static int prepare_request(chv_scorer *scorer, const chv_ll_request *request, size_t i,
                           chv_ll_result *result, seq_list *list, chv_error *err) {
    if (request->continuation == NULL || request->continuation[0] == '\0')
        return chv_error_set(err, "request %zu: the continuation is empty", i + 1);

    int32_t *ctx = NULL, *cont = NULL;
    size_t n_ctx = 0, n_cont = 0;
    int fallback = 0;
    if (chv_encode_request(&scorer->encoder, request->context ? request->context : "",
                           request->continuation, &ctx, &n_ctx, &cont, &n_cont, &fallback,
                           err) != 0)
        return chv_error_prefix(err, "request %zu", i + 1);

    /* A context that was only whitespace encodes to nothing under a
     * tokenizer without BOS; condition on the prefix token instead. */
    if (n_ctx == 0) {
        free(ctx);
        ctx = copy_ids(&scorer->encoder.prefix_id, 1);
        n_ctx = 1;
        if (ctx == NULL || scorer->encoder.prefix_id < 0) {
            free(ctx);
            free(cont);
            return chv_error_set(err, "request %zu: the context encodes to no tokens and the "
                                      "tokenizer has no BOS or EOS token", i + 1);
        }
    }
    if (n_cont == 0) {
        free(ctx);
        free(cont);
        return chv_error_set(err, "request %zu: the continuation encodes to no tokens", i + 1);
    }

    chv_scored_seq single;
    chv_scored_seq *windows = &single;
    size_t n_windows = 1;
    int rc;
    if ((long)n_cont <= scorer->max_length) {
        rc = chv_scored_seq_build(ctx, n_ctx, cont, n_cont, scorer->max_length, &single);
    } else {
        rc = chv_long_continuation_windows(ctx, n_ctx, cont, n_cont, scorer->max_length,
                                           &windows, &n_windows);
        result->long_continuation = 1;
    }
    if (rc == 0)
        rc = seq_list_push(list, windows, n_windows, i);
    if (rc != 0) {
        for (size_t k = 0; k < n_windows; k++)
            chv_scored_seq_free(&windows[k]);
    }
    int truncated = 0;
    for (size_t k = 0; k < n_windows && rc == 0; k++)
        truncated |= windows[k].truncated;
    if (windows != &single)
        free(windows);
    if (rc != 0) {
        free(ctx);
        free(cont);
        return chv_error_set(err, "out of memory building request %zu", i + 1);
    }

    result->context_tokens = ctx;
    result->n_context_tokens = n_ctx;
    result->continuation_tokens = cont;
    result->n_continuation_tokens = n_cont;
    result->split_fallback = fallback;
    result->truncated = truncated;
    return 0;
}

int chv_scorer_loglikelihood(chv_scorer *scorer, const chv_ll_request *requests, size_t n,
                             chv_ll_result *results, chv_progress_fn progress, void *user,
                             chv_error *err) {
    memset(results, 0, n * sizeof *results);
    seq_list list = {0};

    int rc = 0;
    size_t n_fallback = 0, n_truncated = 0, n_long = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = prepare_request(scorer, &requests[i], i, &results[i], &list, err);
        if (rc == 0) {
            n_fallback += (size_t)results[i].split_fallback;
            n_truncated += (size_t)results[i].truncated;
            n_long += (size_t)results[i].long_continuation;
        }
    }

    chv_batch_output *outputs = NULL;
    if (rc == 0) {
        outputs = calloc(list.n ? list.n : 1, sizeof *outputs);
        if (outputs == NULL)
            rc = chv_error_set(err, "out of memory for %zu requests", n);
    }
    if (rc == 0)
        rc = chv_batch_score(scorer->model, list.seqs, list.n, outputs, progress, user, err);

    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            results[i].is_greedy = 1;
        /* Windows of one request are in token order, so the sum is too. */
        for (size_t k = 0; k < list.n; k++) {
            chv_ll_result *r = &results[list.owner[k]];
            r->logprob += outputs[k].logprob;
            r->is_greedy &= outputs[k].is_greedy;
        }
    }
    free(outputs);
    seq_list_free(&list);

    if (rc != 0) {
        free_results(results, n);
        return -1;
    }
    if (n_fallback > 0)
        chv_log_info("%zu of %zu requests had a token merged across the context/continuation "
                     "boundary; their continuations were encoded separately",
                     n_fallback, n);
    if (n_truncated > 0)
        chv_log_warn("%zu of %zu requests were longer than %ld tokens and lost context tokens "
                     "from the left",
                     n_truncated, n, scorer->max_length);
    if (n_long > 0)
        chv_log_warn("%zu of %zu requests have a continuation longer than %ld tokens; it was "
                     "scored in windows of that length (lm-eval stops with an error here)",
                     n_long, n, scorer->max_length);
    return 0;
}

/* Tokens of one rolling document. lm-eval encodes the text with the
 * tokenizer's special tokens and then prefixes BOS again, so a tokenizer
 * that adds BOS itself gets it twice. cheval drops the post-processor's
 * BOS unless rolling_double_bos asks for lm-eval's behaviour. */
static int encode_document(chv_scorer *scorer, const char *text, int32_t **ids, size_t *n,
                           chv_error *err) {
    if (chv_encode_text(&scorer->encoder, text, ids, n, err) != 0)
        return -1;
    if (!scorer->options.rolling_double_bos && *n > 0 && (*ids)[0] == scorer->encoder.prefix_id &&
        scorer->encoder.bos_id >= 0) {
        memmove(*ids, *ids + 1, (*n - 1) * sizeof **ids);
        (*n)--;
    }
    return 0;
}

int chv_scorer_rolling(chv_scorer *scorer, const char *const *texts, size_t n,
                       chv_rolling_result *results, chv_progress_fn progress, void *user,
                       chv_error *err) {
    memset(results, 0, n * sizeof *results);
    if (scorer->encoder.prefix_id < 0)
        return chv_error_set(err, "rolling log-likelihood needs a BOS or EOS token to condition "
                                  "the first window on, and the tokenizer has neither");

    /* Every window of every document goes into one list, so that windows
     * of different documents share batches. */
    chv_scored_seq *windows = NULL;
    size_t *owner = NULL;
    size_t n_windows = 0, cap = 0;
    int rc = 0;

    for (size_t d = 0; d < n && rc == 0; d++) {
        int32_t *ids = NULL;
        size_t n_ids = 0;
        if (encode_document(scorer, texts[d], &ids, &n_ids, err) != 0) {
            chv_error_prefix(err, "document %zu", d + 1);
            rc = -1;
            break;
        }
        results[d].n_tokens = n_ids;

        chv_scored_seq *doc_windows = NULL;
        size_t n_doc = 0;
        if (chv_rolling_windows(ids, n_ids, scorer->encoder.prefix_id, scorer->max_length,
                                &doc_windows, &n_doc) != 0) {
            free(ids);
            rc = chv_error_set(err, "out of memory splitting document %zu into windows", d + 1);
            break;
        }
        free(ids);
        results[d].n_windows = n_doc;

        if (n_windows + n_doc > cap) {
            size_t new_cap = (n_windows + n_doc) * 2 + 16;
            chv_scored_seq *w = realloc(windows, new_cap * sizeof *w);
            size_t *o = w ? realloc(owner, new_cap * sizeof *o) : NULL;
            if (w != NULL)
                windows = w;
            if (o == NULL) {
                for (size_t k = 0; k < n_doc; k++)
                    chv_scored_seq_free(&doc_windows[k]);
                free(doc_windows);
                rc = chv_error_set(err, "out of memory for rolling windows");
                break;
            }
            owner = o;
            cap = new_cap;
        }
        for (size_t k = 0; k < n_doc; k++) {
            windows[n_windows] = doc_windows[k];
            owner[n_windows] = d;
            n_windows++;
        }
        free(doc_windows);
    }

    chv_batch_output *outputs = NULL;
    if (rc == 0) {
        outputs = calloc(n_windows ? n_windows : 1, sizeof *outputs);
        if (outputs == NULL)
            rc = chv_error_set(err, "out of memory for rolling windows");
    }
    if (rc == 0)
        rc = chv_batch_score(scorer->model, windows, n_windows, outputs, progress, user, err);

    for (size_t w = 0; w < n_windows; w++) {
        if (rc == 0)
            results[owner[w]].logprob += outputs[w].logprob;
        chv_scored_seq_free(&windows[w]);
    }
    free(windows);
    free(owner);
    free(outputs);
    return rc;
}
