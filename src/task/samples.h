/* The sample log: samples_<task>.jsonl, one JSON record per evaluated
 * document in doc_id order, written atomically (the file appears only when
 * the task finished). */
#ifndef CHEVAL_TASK_SAMPLES_H
#define CHEVAL_TASK_SAMPLES_H

#include "score/scorer.h"
#include "task/metrics.h"
#include "task/task.h"

typedef struct chv_samples_writer chv_samples_writer;

/* Opens dir/samples_<task>.jsonl for writing. Returns NULL with err
 * filled. */
chv_samples_writer *chv_samples_open(const char *dir, const char *task, chv_error *err);

/* Writes one multiple-choice record: doc, target, choices, requests (with
 * logprob and is_greedy), predictions, ties and the metric values.
 * results holds doc->n_choices entries. */
int chv_samples_write_choice(chv_samples_writer *w, const chv_doc *doc,
                             const chv_ll_result *results, const chv_mc_outcome *outcome,
                             chv_error *err);

/* Writes one rolling record: doc, logprob, words, bytes, tokens, windows. */
int chv_samples_write_rolling(chv_samples_writer *w, const chv_doc *doc,
                              const chv_rolling_result *result, chv_error *err);

/* Renames the finished file into place and frees w. */
int chv_samples_commit(chv_samples_writer *w, chv_error *err);

/* Removes the unfinished file and frees w. */
void chv_samples_abort(chv_samples_writer *w);

#endif
