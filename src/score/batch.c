#include "score/batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The rows a sequence reads: its tokens without the last one. */
static int input_length(const chv_scored_seq *s) { return s->n_tokens - 1; }

/* The first row whose logits are scored. Rows before it can be shared. */
static int first_scored_row(const chv_scored_seq *s) { return input_length(s) - s->n_targets; }

/* Orders sequences by input tokens, then by index, for qsort_r. */
static int compare_inputs(const void *a, const void *b, void *base) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const chv_scored_seq *seqs = base;
    const chv_scored_seq *x = &seqs[i], *y = &seqs[j];
    int n = input_length(x) < input_length(y) ? input_length(x) : input_length(y);
    for (int k = 0; k < n; k++) {
        if (x->tokens[k] != y->tokens[k])
            return x->tokens[k] < y->tokens[k] ? -1 : 1;
    }
    if (input_length(x) != input_length(y))
        return input_length(x) < input_length(y) ? -1 : 1;
    return i < j ? -1 : (i > j);
}

static int common_prefix(const chv_scored_seq *x, const chv_scored_seq *y) {
    int n = input_length(x) < input_length(y) ? input_length(x) : input_length(y);
    int k = 0;
    while (k < n && x->tokens[k] == y->tokens[k])
        k++;
    return k;
}

typedef struct group {
    size_t first;  /* index into the sorted order */
    size_t count;  /* members */
    int shared;    /* tokens run once for the whole group; 0 for none */
} group;

/* Splits the sorted order into groups. A second member joins when it
 * shares at least CHV_BATCH_MIN_SHARE tokens before either one's first
 * scored row; later members join only when they share the group's whole
 * prefix, so one stray match never shrinks a long shared context. */
static size_t make_groups(const chv_scored_seq *seqs, const size_t *order, size_t n,
                          group *groups) {
    size_t n_groups = 0;
    size_t i = 0;
    while (i < n) {
        group g = {i, 1, 0};
        const chv_scored_seq *prev = &seqs[order[i]];
        int limit = first_scored_row(prev);

        for (size_t j = i + 1; j < n; j++) {
            const chv_scored_seq *next = &seqs[order[j]];
            int share = common_prefix(prev, next);
            if (share > limit)
                share = limit;
            if (share > first_scored_row(next))
                share = first_scored_row(next);

            if (g.count == 1) {
                if (share < CHV_BATCH_MIN_SHARE)
                    break;
                g.shared = share;
            } else if (share < g.shared) {
                break;
            }
            g.count++;
            prev = next;
        }

        groups[n_groups++] = g;
        i += g.count;
    }
    return n_groups;
}

/* Rows a group costs in the forward pass. */
static size_t group_rows(const chv_scored_seq *seqs, const size_t *order, const group *g) {
    size_t rows = (size_t)g->shared;
    for (size_t k = 0; k < g->count; k++)
        rows += (size_t)(input_length(&seqs[order[g->first + k]]) - g->shared);
    return rows;
}

typedef struct chunk_state {
    chv_seq *prefix_seqs;
    chv_seq *member_seqs;
    chv_kv **caches;
    float *logprobs;
    uint8_t *is_argmax;
} chunk_state;

/* Runs groups[g0 .. g1) as one prefix call and one member call. */
static int run_chunk(chv_model *model, const chv_scored_seq *seqs, const size_t *order,
                     const group *groups, size_t g0, size_t g1, chv_batch_output *outputs,
                     chunk_state *st, chv_error *err) {
    size_t n_prefix = 0, n_members = 0, n_targets = 0;
    for (size_t g = g0; g < g1; g++) {
        for (size_t k = 0; k < groups[g].count; k++)
            n_targets += (size_t)seqs[order[groups[g].first + k]].n_targets;
    }

    st->logprobs = malloc(n_targets * sizeof *st->logprobs);
    st->is_argmax = malloc(n_targets * sizeof *st->is_argmax);
    if (st->logprobs == NULL || st->is_argmax == NULL)
        return chv_error_set(err, "out of memory for %zu scored tokens", n_targets);

    /* The shared prefix of each group fills its own KV cache. */
    int rc = 0;
    for (size_t g = g0; g < g1 && rc == 0; g++) {
        const group *gr = &groups[g];
        st->caches[g - g0] = NULL;
        if (gr->shared == 0)
            continue;
        chv_kv *kv = chv_kv_new(model, gr->shared, err);
        if (kv == NULL) {
            rc = -1;
            break;
        }
        st->caches[g - g0] = kv;
        const chv_scored_seq *lead = &seqs[order[gr->first]];
        st->prefix_seqs[n_prefix++] = (chv_seq){
            .tokens = lead->tokens, .n_tokens = gr->shared, .kv = kv,
        };
    }
    if (rc == 0 && n_prefix > 0)
        rc = chv_model_forward(model, st->prefix_seqs, (int)n_prefix, err);

    /* Each member runs its remaining tokens against its group's cache. */
    size_t t = 0;
    for (size_t g = g0; g < g1 && rc == 0; g++) {
        const group *gr = &groups[g];
        for (size_t k = 0; k < gr->count; k++) {
            const chv_scored_seq *s = &seqs[order[gr->first + k]];
            int p = gr->shared;
            st->member_seqs[n_members++] = (chv_seq){
                .tokens = s->tokens + p,
                .n_tokens = input_length(s) - p,
                .prefix = st->caches[g - g0],
                .prefix_len = p,
                .score_from = first_scored_row(s) - p,
                .targets = s->tokens + first_scored_row(s) + 1,
                .n_targets = s->n_targets,
                .logprobs = st->logprobs + t,
                .is_argmax = st->is_argmax + t,
            };
            t += (size_t)s->n_targets;
        }
    }
    if (rc == 0)
        rc = chv_model_forward(model, st->member_seqs, (int)n_members, err);

    /* Sum in double and in token order, so that the sum adds no rounding
     * that depends on the batch. */
    for (size_t m = 0; m < n_members && rc == 0; m++) {
        const chv_seq *q = &st->member_seqs[m];
        double sum = 0.0;
        int greedy = 1;
        for (int j = 0; j < q->n_targets; j++) {
            sum += (double)q->logprobs[j];
            greedy &= q->is_argmax[j] != 0;
        }
        outputs[m].logprob = sum;
        outputs[m].is_greedy = greedy;
    }

    for (size_t g = g0; g < g1; g++) {
        chv_kv_free(st->caches[g - g0]);
        st->caches[g - g0] = NULL;
    }
    free(st->logprobs);
    free(st->is_argmax);
    st->logprobs = NULL;
    st->is_argmax = NULL;
    return rc;
}

int chv_batch_score(chv_model *model, const chv_scored_seq *seqs, size_t n,
                    chv_batch_output *outputs, chv_progress_fn progress, void *user,
                    chv_error *err) {
    if (n == 0)
        return 0;

    size_t *order = malloc(n * sizeof *order);
    group *groups = malloc(n * sizeof *groups);
    chv_batch_output *chunk_out = malloc(n * sizeof *chunk_out);
    chunk_state st = {
        .prefix_seqs = malloc(n * sizeof(chv_seq)),
        .member_seqs = malloc(n * sizeof(chv_seq)),
        .caches = calloc(n, sizeof(chv_kv *)),
    };
    int rc = 0;
    if (order == NULL || groups == NULL || chunk_out == NULL || st.prefix_seqs == NULL ||
        st.member_seqs == NULL || st.caches == NULL) {
        rc = chv_error_set(err, "out of memory scheduling %zu sequences", n);
        goto done;
    }

    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, compare_inputs, (void *)seqs);
    size_t n_groups = make_groups(seqs, order, n, groups);

    size_t done = 0;
    size_t g = 0;
    while (g < n_groups && rc == 0) {
        size_t g_end = g, rows = 0;
        while (g_end < n_groups) {
            size_t next = group_rows(seqs, order, &groups[g_end]);
            if (g_end > g && rows + next > CHV_BATCH_ROWS)
                break;
            rows += next;
            g_end++;
        }

        rc = run_chunk(model, seqs, order, groups, g, g_end, chunk_out, &st, err);
        if (rc != 0)
            break;

        /* Members were laid out in sorted order; map them back. */
        size_t m = 0;
        for (size_t k = g; k < g_end; k++) {
            for (size_t j = 0; j < groups[k].count; j++)
                outputs[order[groups[k].first + j]] = chunk_out[m++];
        }
        done += m;
        if (progress != NULL)
            progress(user, done, n);
        g = g_end;
    }

done:
    free(order);
    free(groups);
    free(chunk_out);
    free(st.prefix_seqs);
    free(st.member_seqs);
    free(st.caches);
    return rc;
}
