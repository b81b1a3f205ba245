/* The forward driver: checks the sequences, packs their new tokens into
 * one batch of rows, runs the architecture's embedding and blocks over all
 * rows at once, then computes logits and log-softmax only at the rows that
 * are scored.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "model/kernels.h"
#include "model/vecmath.h"

/* Scored rows per vocabulary projection. Bounds the logits scratch to
 * LOGIT_ROWS x vocab_size floats however many rows are scored. */
#define LOGIT_ROWS 64

static int check_seq(const chv_model *model, const chv_seq *seq, int index, chv_error *err) {
    const chv_hparams *hp = &model->hp;

    if (seq->tokens == NULL || seq->n_tokens < 1)
        return chv_error_set(err, "sequence %d: no tokens to run", index);
    if (seq->prefix_len < 0 || (seq->prefix_len > 0 && seq->prefix == NULL))
        return chv_error_set(err, "sequence %d: prefix_len %d without a prefix cache", index, seq->prefix_len);
    if (seq->prefix_len > 0 && chv_kv_length(seq->prefix) < seq->prefix_len)
        return chv_error_set(err, "sequence %d: prefix_len %d, but the prefix cache holds %d positions", index,
                             seq->prefix_len, chv_kv_length(seq->prefix));

    long length = (long)seq->prefix_len + seq->n_tokens;
    if (hp->max_position_embeddings > 0 && length > hp->max_position_embeddings)
        return chv_error_set(err, "sequence %d: %ld positions exceed the model's max_position_embeddings of %ld",
                             index, length, hp->max_position_embeddings);
    if (hp->sliding_window > 0 && length > hp->sliding_window)
        return chv_error_set(err,
                             "sequence %d: %ld positions exceed the model's sliding_window of %ld; windowed "
                             "attention is not supported, so use a maximum length of at most %ld",
                             index, length, hp->sliding_window, hp->sliding_window);
    int kv_dim = hp->n_kv_heads * hp->head_dim;
    const chv_kv *caches[2] = {seq->prefix, seq->kv};
    for (int c = 0; c < 2; c++) {
        if (caches[c] != NULL && (caches[c]->n_layers != hp->n_layers || caches[c]->kv_dim != kv_dim))
            return chv_error_set(err, "sequence %d: its %s cache was made for another model shape", index,
                                 c == 0 ? "prefix" : "kv");
    }
    if (seq->kv != NULL && seq->kv->capacity < length)
        return chv_error_set(err, "sequence %d: %ld positions do not fit its KV cache of capacity %d", index, length,
                             seq->kv->capacity);

    for (int i = 0; i < seq->n_tokens; i++) {
        if (seq->tokens[i] < 0 || seq->tokens[i] >= hp->vocab_size)
            return chv_error_set(err, "sequence %d: token id %d at index %d is outside the vocabulary (0..%d)",
                                 index, seq->tokens[i], i, hp->vocab_size - 1);
    }

    if (seq->n_targets < 0)
        return chv_error_set(err, "sequence %d: negative n_targets", index);
    if (seq->n_targets == 0)
        return 0;
    if (seq->score_from < 0 || seq->score_from + seq->n_targets > seq->n_tokens)
        return chv_error_set(err, "sequence %d: rows %d..%d to score are outside its %d new tokens", index,
                             seq->score_from, seq->score_from + seq->n_targets - 1, seq->n_tokens);
    if (seq->targets == NULL || seq->logprobs == NULL)
        return chv_error_set(err, "sequence %d: targets and logprobs are required when n_targets > 0", index);
    for (int j = 0; j < seq->n_targets; j++) {
        if (seq->targets[j] < 0 || seq->targets[j] >= hp->vocab_size)
            return chv_error_set(err, "sequence %d: target id %d at index %d is outside the vocabulary (0..%d)",
                                 index, seq->targets[j], j, hp->vocab_size - 1);
    }
    return 0;
}

/* Rejects a batch in which one sequence writes cache positions that
 * another sequence of the same call reads or writes, because the layers of
 * all sequences run together and the result would depend on their order.
 * A writer fills positions [first, prefix_len + n_tokens) of its kv, where
 * first is 0 when it copies its prefix into kv. A reader reads positions
 * [0, prefix_len) of its prefix. */
static int check_cache_sharing(const chv_seq *seqs, int n_seqs, chv_error *err) {
    for (int w = 0; w < n_seqs; w++) {
        const chv_kv *written = seqs[w].kv;
        if (written == NULL)
            continue;
        int first = written == seqs[w].prefix ? seqs[w].prefix_len : 0;
        for (int s = 0; s < n_seqs; s++) {
            if (s == w)
                continue;
            if (seqs[s].kv == written)
                return chv_error_set(err, "sequences %d and %d write the same KV cache in one call", w, s);
            if (seqs[s].prefix == written && seqs[s].prefix_len > first)
                return chv_error_set(err,
                                     "sequence %d reads positions of a KV cache that sequence %d writes in the "
                                     "same call; run them in separate calls",
                                     s, w);
        }
    }
    return 0;
}

/* Token rows per slice. A forward call is cut into slices of whole
 * sequences of about this many rows, and each slice runs through every
 * layer on its own (see build_slices and run_slices). Large enough that
 * each projection is still an efficient matrix product (hundreds of rows),
 * small enough that two threads share a call of 2048 rows evenly. */
#define SLICE_ROWS 256

/* Lays out the rows of seqs[first_seq .. first_seq + n_seqs) as one slice:
 * the new tokens of its first sequence, then of the next, and so on. ints
 * has room for n_seqs + 2 * n_rows ints. */
static void build_slice(chv_model *model, chv_seq *seqs, int first_seq, int n_seqs, int n_rows, int *ints,
                        chv_batch *batch) {
    memset(batch, 0, sizeof *batch);
    batch->model = model;
    batch->seqs = seqs + first_seq;
    batch->n_seqs = n_seqs;
    batch->n_rows = n_rows;
    batch->seq_first_row = ints;
    batch->row_seq = ints + n_seqs;
    batch->positions = batch->row_seq + n_rows;

    int row = 0;
    for (int s = 0; s < n_seqs; s++) {
        batch->seq_first_row[s] = row;
        for (int t = 0; t < batch->seqs[s].n_tokens; t++, row++) {
            batch->row_seq[row] = s;
            batch->positions[row] = batch->seqs[s].prefix_len + t;
        }
    }
}

/* Cuts seqs into slices and lays each one out. Returns the number of
 * slices, or -1 when out of memory. */
static int build_slices(chv_model *model, chv_seq *seqs, int n_seqs, chv_error *err) {
    int n_rows = 0;
    for (int s = 0; s < n_seqs; s++)
        n_rows += seqs[s].n_tokens;

    size_t n_ints = (size_t)n_seqs + 2 * (size_t)n_rows;
    if (model->row_ints_size < n_ints) {
        free(model->row_ints);
        model->row_ints = malloc(n_ints * sizeof(int));
        model->row_ints_size = model->row_ints != NULL ? n_ints : 0;
        if (model->row_ints == NULL)
            return chv_error_set(err, "out of memory");
    }
    if (model->n_slices_max < n_seqs) {
        free(model->slices);
        model->slices = malloc((size_t)n_seqs * sizeof *model->slices);
        model->n_slices_max = model->slices != NULL ? n_seqs : 0;
        if (model->slices == NULL)
            return chv_error_set(err, "out of memory");
    }

    /* With packed weights a row's result does not depend on its slice, so
     * the slices can follow the thread count. Their number is rounded up to
     * a multiple of it, and each cut falls at the sequence boundary nearest
     * to an even share of the rows. Otherwise slices are filled up to
     * SLICE_ROWS in order, the same way for any thread count. */
    int balanced = model->packed && model->n_threads > 1;
    int n_balanced = (n_rows + SLICE_ROWS - 1) / SLICE_ROWS;
    n_balanced = (n_balanced + model->n_threads - 1) / model->n_threads * model->n_threads;

    int n_slices = 0, first = 0, rows = 0, rows_before = 0;
    int *ints = model->row_ints;
    for (int s = 0; s < n_seqs; s++) {
        rows += seqs[s].n_tokens;
        int last = s + 1 == n_seqs;
        if (!last && balanced) {
            long boundary = (long)n_rows * (n_slices + 1) / n_balanced;
            long done = rows_before + rows, next = seqs[s + 1].n_tokens;
            if (done + next <= boundary || boundary - done > done + next - boundary)
                continue;
        } else if (!last && rows + seqs[s + 1].n_tokens <= SLICE_ROWS) {
            continue;
        }
        rows_before += rows;
        build_slice(model, seqs, first, s + 1 - first, rows, ints, &model->slices[n_slices++]);
        ints += (s + 1 - first) + 2 * rows;
        first = s + 1;
        rows = 0;
    }
    return n_slices;
}

/* A sequence that writes to a cache other than its prefix gets a copy of
 * the prefix positions first, so that its cache is complete afterwards. */
static void copy_prefixes(chv_seq *seqs, int n_seqs) {
    for (int s = 0; s < n_seqs; s++) {
        chv_kv *kv = seqs[s].kv;
        const chv_kv *prefix = seqs[s].prefix;
        if (kv == NULL || kv == prefix || seqs[s].prefix_len == 0)
            continue;
        size_t bytes = (size_t)seqs[s].prefix_len * (size_t)kv->kv_dim * sizeof(float);
        for (int l = 0; l < kv->n_layers; l++) {
            memcpy(chv_kv_keys(kv, l, 0), chv_kv_keys(prefix, l, 0), bytes);
            memcpy(chv_kv_values(kv, l, 0), chv_kv_values(prefix, l, 0), bytes);
        }
    }
}

/* Where one scored row's results go. */
typedef struct scored_row {
    int32_t target;
    float *logprob;
    uint8_t *is_argmax;
    int32_t *argmax;
} scored_row;

typedef struct softmax_job {
    const float *logits; /* [n][vocab] */
    const scored_row *rows;
    int vocab;
} softmax_job;

/* Log-softmax of one row at its target: logit - max - log(sum(exp(logit -
 * max))), with each exp in float32 and their sum accumulated in double. The
 * argmax takes the first (lowest) id among equal maxima. */
static void softmax_task(void *p, int task, int thread) {
    (void)thread;
    const softmax_job *job = p;
    const float *logits = job->logits + (size_t)task * (size_t)job->vocab;
    const scored_row *row = &job->rows[task];

    float max = chv_max(logits, job->vocab);
    int argmax = 0;
    while (logits[argmax] != max)
        argmax++;
    double sum = chv_sum_exp(logits, job->vocab, max);

    *row->logprob = (float)((double)(logits[row->target] - max) - log(sum));
    if (row->is_argmax != NULL)
        *row->is_argmax = argmax == row->target;
    if (row->argmax != NULL)
        *row->argmax = argmax;
}

/* Normalizes n gathered rows, projects them onto the vocabulary (one
 * sgemm) and writes each row's log-softmax at its target. */
static void score_chunk(const chv_batch *batch, float *gathered, float *logits, const scored_row *rows, int n) {
    chv_model *model = batch->model;
    model->arch->final_norm(batch, gathered, n);
    chv_linear(batch, gathered, n, model->hp.hidden_size, model->output, NULL, model->hp.vocab_size, logits);
    softmax_job job = {logits, rows, model->hp.vocab_size};
    if (batch->threaded) {
        chv_pool_run(model->pool, n, softmax_task, &job);
        return;
    }
    for (int task = 0; task < n; task++)
        softmax_task(&job, task, 0);
}

/* Gathers the scored rows' hidden states, LOGIT_ROWS at a time. */
static int score_rows(const chv_batch *batch, chv_error *err) {
    chv_model *model = batch->model;
    size_t hidden = (size_t)model->hp.hidden_size;
    float *gathered = chv_scratch(batch->ws, CHV_SCRATCH_GATHER, LOGIT_ROWS * hidden, err);
    float *logits = chv_scratch(batch->ws, CHV_SCRATCH_LOGITS, LOGIT_ROWS * (size_t)model->hp.vocab_size, err);
    if (gathered == NULL || logits == NULL)
        return -1;

    scored_row rows[LOGIT_ROWS];
    int n = 0;
    for (int s = 0; s < batch->n_seqs; s++) {
        const chv_seq *seq = &batch->seqs[s];
        for (int j = 0; j < seq->n_targets; j++) {
            int source_row = batch->seq_first_row[s] + seq->score_from + j;
            memcpy(gathered + n * hidden, batch->x + (size_t)source_row * hidden, hidden * sizeof(float));
            rows[n].target = seq->targets[j];
            rows[n].logprob = &seq->logprobs[j];
            rows[n].is_argmax = seq->is_argmax != NULL ? &seq->is_argmax[j] : NULL;
            rows[n].argmax = seq->argmax != NULL ? &seq->argmax[j] : NULL;
            if (++n == LOGIT_ROWS) {
                score_chunk(batch, gathered, logits, rows, n);
                n = 0;
            }
        }
    }
    if (n > 0)
        score_chunk(batch, gathered, logits, rows, n);
    return 0;
}

/* Runs one slice through the whole model and scores its rows. */
static int run_slice(chv_batch *batch, chv_error *err) {
    chv_model *model = batch->model;
    batch->x = chv_scratch(batch->ws, CHV_SCRATCH_X, (size_t)batch->n_rows * (size_t)model->hp.hidden_size, err);
    if (batch->x == NULL)
        return -1;
    if (model->arch->embed(model, batch, err) != 0)
        return -1;
    for (int l = 0; l < model->hp.n_layers; l++) {
        if (model->arch->forward_layer(model, batch, l, err) != 0)
            return -1;
    }
    for (int s = 0; s < batch->n_seqs; s++) {
        if (batch->seqs[s].kv != NULL)
            batch->seqs[s].kv->length = batch->seqs[s].prefix_len + batch->seqs[s].n_tokens;
    }
    return score_rows(batch, err);
}

typedef struct slices_job {
    chv_model *model;
    chv_error *errors;    /* [n_threads] */
    int *failed_slice;    /* [n_threads]: the first slice that failed on each thread, or -1 */
} slices_job;

static void slice_task(void *p, int task, int thread) {
    slices_job *job = p;
    chv_batch *batch = &job->model->slices[task];
    batch->ws = &job->model->workspaces[thread];
    batch->threaded = 0;
    if (job->failed_slice[thread] >= 0)
        return;
    if (run_slice(batch, &job->errors[thread]) != 0)
        job->failed_slice[thread] = task;
}

/* Runs the slices. With one thread, or a single slice, they run one after
 * the other and each kernel may spread its own work over the pool.
 * Otherwise each thread takes whole slices and runs each one alone: one
 * pool dispatch per forward call instead of several per layer. Either way
 * every kernel cuts its work the same way whatever the thread count, so
 * the results do not depend on it. */
static int run_slices(chv_model *model, int n_slices, chv_error *err) {
    int n_threads = model->n_threads;
    if (n_threads == 1 || n_slices == 1) {
        for (int i = 0; i < n_slices; i++) {
            model->slices[i].ws = &model->workspaces[0];
            model->slices[i].threaded = n_threads > 1;
            if (run_slice(&model->slices[i], err) != 0)
                return -1;
        }
        return 0;
    }

    chv_error *errors = malloc((size_t)n_threads * sizeof *errors);
    int *failed = malloc((size_t)n_threads * sizeof *failed);
    if (errors == NULL || failed == NULL) {
        free(errors);
        free(failed);
        return chv_error_set(err, "out of memory");
    }
    for (int t = 0; t < n_threads; t++)
        failed[t] = -1;
    slices_job job = {model, errors, failed};

    chv_pool_run(model->pool, n_slices, slice_task, &job);

    /* Report the failure of the lowest slice, as a serial run would. */
    int worst = -1;
    for (int t = 0; t < n_threads; t++) {
        if (failed[t] >= 0 && (worst < 0 || failed[t] < failed[worst]))
            worst = t;
    }
    int rc = 0;
    if (worst >= 0) {
        if (err != NULL)
            *err = errors[worst];
        rc = -1;
    }
    free(errors);
    free(failed);
    return rc;
}

int chv_model_forward(chv_model *model, chv_seq *seqs, int n_seqs, chv_error *err) {
    if (n_seqs <= 0)
        return 0;
    if (model->pool == NULL)
        return chv_error_set(err, "out of memory: the model has no thread pool");
    for (int s = 0; s < n_seqs; s++) {
        if (check_seq(model, &seqs[s], s, err) != 0)
            return -1;
    }
    if (check_cache_sharing(seqs, n_seqs, err) != 0)
        return -1;
    if (chv_model_pack(model, err) != 0)
        return -1;

    int n_slices = build_slices(model, seqs, n_seqs, err);
    if (n_slices < 0)
        return -1;
    copy_prefixes(seqs, n_seqs);
    return run_slices(model, n_slices, err);
}
