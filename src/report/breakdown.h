/* Breakdowns: a task's accuracy per value of a document field (topic,
 * difficulty, exam source, ...), with the gap to chance.
 */
#ifndef CHEVAL_REPORT_BREAKDOWN_H
#define CHEVAL_REPORT_BREAKDOWN_H

#include <stddef.h>

#include "report/run.h"

/* Rows with fewer documents than this are flagged as noisy. */
#define CHV_NOISY_BELOW 30

/* Fills *specs with the breakdowns that task_name gets by default
 * (ArithMark, BLiMP, HellaSwag, ARC), followed by one per group_by path.
 * The caller frees them with chv_breakdown_specs_free. Returns -1 when
 * memory runs out. */
int chv_breakdown_specs_for(const char *task_name, const char *const *group_by,
                            size_t n_group_by, chv_breakdown_spec **specs, size_t *n_specs);

void chv_breakdown_specs_free(chv_breakdown_spec *specs, size_t n_specs);

/* Returns the group key of doc for spec, or NULL when doc lacks the field.
 * The caller frees the key. */
char *chv_breakdown_key(const cJSON *doc, const chv_breakdown_spec *spec);

typedef struct chv_breakdown_row {
    char *key;
    size_t n;
    double acc, acc_stderr;
    double acc_norm, acc_norm_stderr; /* NaN when the task has no acc_norm */
    double chance;                    /* mean of 1/choices over the row's documents */
    int noisy;                        /* n < CHV_NOISY_BELOW */
} chv_breakdown_row;

typedef struct chv_breakdown {
    char *task;        /* task or group name */
    char *title;       /* what the rows are grouped by */
    chv_breakdown_row *rows; /* sorted by acc, best first */
    size_t n_rows;
    size_t n_missing;  /* documents without the field */
    const char *missing_note; /* borrowed from the spec, may be NULL */
    int has_acc_norm;
} chv_breakdown;

/* Computes every breakdown of every task of run that has samples,
 * including group-level ones: for a group (BLiMP), one row per subtask and
 * the subtasks' breakdowns pooled by title. Returns the number of
 * breakdowns in *out (the caller frees them with chv_breakdowns_free), or
 * -1 when memory runs out. */
long chv_breakdowns_compute(const chv_run *run, chv_breakdown **out);

void chv_breakdowns_free(chv_breakdown *breakdowns, size_t n);

#endif
