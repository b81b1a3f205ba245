/* Packed, prefix-shared scoring of many token sequences. Internal to the
 * scorer. */
#ifndef CHEVAL_SCORE_BATCH_H
#define CHEVAL_SCORE_BATCH_H

#include <stddef.h>

#include "model/model.h"
#include "score/scorer.h"
#include "score/windows.h"

typedef struct chv_batch_output {
    double logprob; /* sum of the target log-probabilities, accumulated in double */
    int is_greedy;  /* 1 when every target is its row's argmax */
} chv_batch_output;

/* Scores seqs[0..n) into outputs[0..n).
 *
 * Sequences are sorted by their input tokens so that requests sharing a
 * context sit next to each other. A run of sequences that share their
 * first P input tokens (all before any scored row) is a group: the P
 * tokens run once into a KV cache, and each member then runs only its own
 * remaining tokens against that cache. Groups are packed into forward
 * calls of about CHV_BATCH_ROWS token rows. Returns 0, or -1 with err
 * filled. */
int chv_batch_score(chv_model *model, const chv_scored_seq *seqs, size_t n,
                    chv_batch_output *outputs, chv_progress_fn progress, void *user,
                    chv_error *err);

/* Token rows per forward call: large enough that each projection is an
 * efficient sgemm, small enough that activations stay in tens of MB. */
#define CHV_BATCH_ROWS 2048

/* Minimum number of shared tokens worth a separate prefix pass. */
#define CHV_BATCH_MIN_SHARE 4

#endif
