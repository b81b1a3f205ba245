/* A run folder as `cheval run` writes it: results.json and, with
 * --log-samples, one samples_<task>.jsonl per task.
 *
 * The loader reads only those files, never the model, so reports and
 * comparisons can be rebuilt long after the run. It checks that each
 * sample log agrees with results.json (task name, document count, doc_id
 * order) and names the file and line of anything that does not.
 */
#ifndef CHEVAL_REPORT_RUN_H
#define CHEVAL_REPORT_RUN_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/error.h"

/* One metric of a task, e.g. acc with its stderr. */
typedef struct chv_metric {
    char *name;           /* "acc", "acc_norm", "word_perplexity", ... */
    double value;
    double stderr_value;  /* NaN when results.json stores "N/A" */
    int higher_is_better; /* 1, 0, or -1 when results.json does not say */
} chv_metric;

/* A document the model got wrong, kept for the HTML report. */
typedef struct chv_wrong_doc {
    long doc_id;
    char *prompt;   /* context of the gold request */
    char **choices; /* n_choices choice texts */
    int n_choices;
    int target;     /* gold index */
    int pred;       /* index the model chose by acc */
} chv_wrong_doc;

/* One line of samples_<task>.jsonl, reduced to what reports need. */
typedef struct chv_sample {
    long doc_id;
    double acc;      /* NaN for perplexity tasks */
    double acc_norm; /* NaN when absent */
    double acc_bytes; /* NaN when absent */
    int n_choices;   /* 0 for perplexity tasks */
    double logprob;  /* perplexity tasks: total natural-log likelihood of the page */
    double words;    /* perplexity tasks: words and bytes of the original page */
    double bytes;
    char **keys;     /* one group key per breakdown (chv_task.breakdowns); NULL when missing */
} chv_sample;

/* How a breakdown derives a document's group key. */
typedef enum {
    CHV_KEY_FIELD,          /* the value at a dotted path in doc */
    CHV_KEY_ID_PREFIX,      /* the part of doc.<path> before the first '_' (ARC exam source) */
    CHV_KEY_HELLASWAG_SOURCE, /* "ActivityNet" or "WikiHow" from doc.source_id */
    CHV_KEY_BLIMP_FIELD     /* doc.field with '/' read as '_' ("syntax/semantics") */
} chv_key_kind;

typedef struct chv_breakdown_spec {
    char *title;    /* "metadata.topic", "exam source (id prefix)", ... */
    char *path;     /* dotted path into doc */
    chv_key_kind kind;
    char *missing_note; /* why the field may be missing, or NULL */
} chv_breakdown_spec;

typedef struct chv_task {
    char *name;
    char *alias;
    char *version;      /* "N/A" when results.json has none */
    int n_shot;         /* -1 when unknown */
    int is_group;       /* 1 for entries of "groups" */
    chv_metric *metrics;
    size_t n_metrics;
    long sample_len;    /* documents evaluated, -1 when unknown */
    double chance;      /* NaN when unknown */
    char **subtasks;    /* groups only */
    size_t n_subtasks;

    /* Per-sample data; has_samples is 0 when no log was written. */
    int has_samples;
    int is_rolling;     /* perplexity task (logprob/words/bytes) */
    chv_sample *samples;
    size_t n_samples;
    chv_breakdown_spec *breakdowns;
    size_t n_breakdowns;
    chv_wrong_doc *wrong;  /* the first max_wrong wrong documents */
    size_t n_wrong;
    size_t n_wrong_total;  /* all wrong documents, including those not kept */
} chv_task;

typedef struct chv_run {
    char *dir;
    cJSON *results_json;  /* the parsed results.json, owned */
    chv_task *tasks;      /* entries of "results", then of "groups" */
    size_t n_tasks;
    char *model_name;     /* config.model_name, else the folder name */
    char **unmatched_group_by; /* group_by paths that no document of any scored
                                * (non-rolling) task carries; all of them when
                                * no task has a sample log */
    size_t n_unmatched_group_by;
} chv_run;

typedef struct chv_run_load_options {
    int load_samples;      /* read samples_<task>.jsonl when present */
    const char *const *group_by; /* extra dotted paths to break down by */
    size_t n_group_by;
    size_t max_wrong;      /* wrong documents to keep per task */
} chv_run_load_options;

/* Loads run_dir. Returns a run the caller frees with chv_run_free, or NULL
 * with err filled: missing folder, missing or invalid results.json (with
 * line and column), a sample log that does not match results.json. */
chv_run *chv_run_load(const char *run_dir, const chv_run_load_options *options, chv_error *err);

void chv_run_free(chv_run *run);

/* Returns the task named name, or NULL. */
chv_task *chv_run_find_task(const chv_run *run, const char *name);

/* Returns 1 when at least one task of run has a sample log. */
int chv_run_has_samples(const chv_run *run);

/* Returns 1 when results.json records that the run read the bundled
 * sample documents instead of the benchmark files (config.sample_data). */
int chv_run_is_sample_data(const chv_run *run);

/* The sentence that the reports show when chv_run_is_sample_data is 1. */
#define CHV_SAMPLE_DATA_WARNING                                                                                    \
    "This run read cheval's bundled sample documents, not the benchmark files, so its numbers are not benchmark " \
    "scores."

/* A config field that the reports show in their header, and its label. */
typedef struct chv_report_setting {
    const char *key;
    const char *label;
} chv_report_setting;

/* The header's settings, in order, and their count. */
extern const chv_report_setting chv_report_settings[];
extern const size_t chv_n_report_settings;

/* Returns results.json's "failed" object (task name -> error message), or
 * NULL when every task finished. The run owns it. */
const cJSON *chv_run_failed_tasks(const chv_run *run);

/* Writes "N task(s) failed and has (have) no results" for the entries of
 * failed into buf. */
void chv_run_failed_summary(const cJSON *failed, char *buf, size_t size);

/* Returns the message of one entry of chv_run_failed_tasks without the
 * leading "<task>: " that the runner puts before it, so that a report can
 * print the task name once. */
const char *chv_run_failure_message(const cJSON *entry);

/* Returns the metric named name, or NULL. */
const chv_metric *chv_task_metric(const chv_task *task, const char *name);

/* Returns 1 when task is a subtask of one of the run's groups. */
int chv_run_is_group_member(const chv_run *run, const chv_task *task);

/* Returns the value at a dotted path ("metadata.topic") in object, or
 * NULL. */
const cJSON *chv_json_path(const cJSON *object, const char *path);

/* Formats a scalar JSON value as a group key (strings as they are, numbers
 * in %g form, booleans as true/false). Returns a new string or NULL for
 * objects, arrays and null. */
char *chv_json_key(const cJSON *value);

#endif
