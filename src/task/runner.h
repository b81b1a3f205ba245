/* The runner: for each task, documents -> requests -> one scorer call ->
 * per-document metrics -> aggregated results (and, on request, the sample
 * log).
 *
 * The runner reaches the model only through chv_backend, so tests can run
 * it with a stand-in scorer. cheval run wires the backend to
 * chv_scorer_loglikelihood and chv_scorer_rolling.
 */
#ifndef CHEVAL_TASK_RUNNER_H
#define CHEVAL_TASK_RUNNER_H

#include <stddef.h>

#include "score/scorer.h"
#include "task/selection.h"
#include "task/task.h"

typedef struct chv_backend {
    void *ctx;
    /* Same contracts as chv_scorer_loglikelihood and chv_scorer_rolling. */
    int (*loglikelihood)(void *ctx, const chv_ll_request *requests, size_t n,
                         chv_ll_result *results, chv_progress_fn progress, void *user,
                         chv_error *err);
    int (*rolling)(void *ctx, const char *const *texts, size_t n, chv_rolling_result *results,
                   chv_progress_fn progress, void *user, chv_error *err);
    /* Releases what loglikelihood put in one result (chv_ll_result_free). */
    void (*release)(chv_ll_result *result);
} chv_backend;

typedef struct chv_task_file {
    const char *task; /* task name */
    const char *path; /* file to read instead of the default */
} chv_task_file;

typedef struct chv_run_options {
    const char *data_dir;
    const chv_task_file *task_files;
    size_t n_task_files;
    chv_selection_rule selection;
    int have_seed;         /* --seed given (reported in results) */
    const char *samples_dir; /* write samples_<task>.jsonl here; NULL: no sample log */
} chv_run_options;

#define CHV_MAX_METRICS 4

typedef struct chv_metric_value {
    const char *name; /* "acc", "acc_norm", "acc_bytes", "word_perplexity", ... */
    double value;
    double stderr_value; /* NAN: "N/A" */
    int higher_is_better;
} chv_metric_value;

typedef struct chv_task_result {
    const chv_task_def *task;
    char *path; /* the data file read */
    char sha256[65];
    char doc_ids_sha256[65]; /* SHA-256 of the evaluated doc ids, "%zu\n" each */
    size_t n_original;       /* documents in the file */
    size_t n_effective;      /* documents evaluated */
    chv_metric_value metrics[CHV_MAX_METRICS];
    size_t n_metrics;
    double chance;   /* mean of 1 / choices over the evaluated documents; NAN for rolling */
    size_t n_ties;   /* documents whose best loglikelihood was tied */
    size_t n_truncated; /* requests the scorer cut from the left to max_length */
    size_t n_long;      /* requests whose continuation alone exceeded max_length */
} chv_task_result;

typedef struct chv_group_result {
    const chv_task_spec *spec; /* the group spec ("blimp") */
    chv_metric_value acc;      /* unweighted mean, pooled stderr */
    size_t n_subtasks;
    size_t first_task; /* index of its first subtask in chv_run_result.tasks */
} chv_group_result;

/* A task that stopped with an error; it has no chv_task_result. */
typedef struct chv_task_failure {
    const chv_task_def *task;
    char *message; /* the error, naming the file, line or request at fault */
} chv_task_failure;

typedef struct chv_run_result {
    chv_task_result *tasks; /* the tasks that finished, in run order */
    size_t n_tasks;
    chv_group_result *groups; /* only groups whose every subtask finished */
    size_t n_groups;
    chv_task_failure *failures; /* the tasks that failed, in run order */
    size_t n_failures;
} chv_run_result;

/* Runs tasks[0..n) in order. A task that fails (an invalid record, a
 * scorer error) is logged and added to run->failures, and the next task
 * still runs, so one bad file does not lose the others' results. Returns 0
 * when every task finished. Returns -1 when some task failed, with err
 * holding the first failure's message, or when memory ran out (then
 * run->n_failures may be 0). Free *run in either case. */
int chv_run_tasks(const chv_task_def *const *tasks, size_t n, const chv_run_options *options,
                  const chv_backend *backend, chv_run_result *run, chv_error *err);

void chv_run_result_free(chv_run_result *run);

/* Returns the metric called name of result, or NULL. */
const chv_metric_value *chv_task_result_metric(const chv_task_result *result, const char *name);

#endif
