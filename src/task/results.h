/* results.json and results.md of a run, in the shape lm-evaluation-harness
 * writes (plus the documented cheval additions: chance, task_files,
 * sampling, diagnostics, failed). */
#ifndef CHEVAL_TASK_RESULTS_H
#define CHEVAL_TASK_RESULTS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "task/runner.h"

/* What the run was, for the "config" section. Strings are borrowed. */
typedef struct chv_run_config {
    const char *model;      /* the --model path */
    const char *model_name; /* its folder name */
    long long model_num_parameters;
    const char *model_dtype;
    long max_length;
    const char *bos; /* "auto: adds BOS", "yes", "no" */
    long limit;      /* 0: none */
    int have_seed;
    uint64_t seed;
    long sample; /* 0: none */
    int threads;
    const char *matmul; /* "packed" or "openblas" (chv_model_matmul) */
    int wikitext_double_bos;
    int sample_data; /* the data folder is the bundled samples (chv_data_dir_is_samples) */
    const char *cheval_version;
    const char *git_hash;
    const char *date; /* ISO 8601 UTC */
    double seconds;   /* total evaluation time */
} chv_run_config;

/* Builds results.json. Returns NULL when out of memory. */
cJSON *chv_results_json(const chv_run_result *run, const chv_run_config *config);

/* Builds lm-eval's Markdown table (and a second "Groups" table when a group
 * ran). Returns a new string, or NULL when out of memory. */
char *chv_results_markdown(const chv_run_result *run);

/* Writes dir/results.json and dir/results.md atomically. Returns 0, or -1
 * with err filled. */
int chv_results_write(const chv_run_result *run, const chv_run_config *config, const char *dir,
                      chv_error *err);

#endif
