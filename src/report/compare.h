/* Comparing two runs (a base checkpoint and a candidate) task by task.
 *
 * With per-sample logs in both runs the documents are paired by doc_id:
 * accuracies get McNemar's exact test and a paired bootstrap interval,
 * perplexity tasks a paired bootstrap of the corpus metric over pages.
 * Without logs the comparison falls back to an unpaired z-test on the
 * reported values and standard errors. p-values are Holm-corrected across
 * the tasks of the main table by default.
 */
#ifndef CHEVAL_REPORT_COMPARE_H
#define CHEVAL_REPORT_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "util/error.h"

#define CHV_COMPARE_RESAMPLES 10000
#define CHV_COMPARE_SEED 20261204u

typedef struct chv_compare_options {
    double alpha;        /* significance level; default 0.05 */
    const char *metric;  /* accuracy metric ("acc", "acc_norm", ...) or perplexity metric
                          * ("bits_per_byte", "word_perplexity", "byte_perplexity"); NULL
                          * means acc for accuracy tasks and bits_per_byte for perplexity */
    int no_holm;         /* 1 to report raw p-values */
    int allow_mismatch;  /* 1 to compare the common tasks and documents */
    size_t resamples;    /* bootstrap resamples; 0 means CHV_COMPARE_RESAMPLES */
    uint64_t seed;       /* splitmix64 seed; 0 means CHV_COMPARE_SEED */
} chv_compare_options;

typedef enum {
    CHV_VERDICT_NO_CHANGE = 0,
    CHV_VERDICT_BETTER,
    CHV_VERDICT_WORSE,
    CHV_VERDICT_NOT_TESTED /* no stderr to test with (unpaired perplexity) */
} chv_verdict;

typedef struct chv_compare_row {
    char *task;
    char *metric;
    char *group;        /* parent group for subtask rows, else NULL */
    int is_group;
    int paired;         /* 1 when paired by doc_id */
    const char *test;   /* "McNemar exact", "paired bootstrap", "z-test (unpaired)" */
    size_t n;           /* pairs (paired) or base documents (unpaired) */
    int higher_is_better;
    double base, candidate, delta; /* delta = candidate - base */
    double se;          /* standard error of delta */
    double ci_low, ci_high;        /* 95% interval of delta */
    double p, p_adjusted;          /* p_adjusted: Holm within the row's family, or p */
    long base_only, candidate_only; /* discordant pairs: only base / only candidate right */
    chv_verdict verdict;
} chv_compare_row;

/* One difference between the two runs: a mismatch that --allow-mismatch
 * tolerated, or a scoring setting that differs. */
typedef struct chv_compare_difference {
    char *task;          /* task name; NULL for a run-wide setting */
    char *field;         /* "versions", "sampling.limit", "max_length", ... */
    cJSON *base, *candidate; /* full values (hashes uncut); NULL when absent or not a value */
    char *text;          /* one line for people, with hashes cut to 12 hex digits */
} chv_compare_difference;

typedef struct chv_comparison {
    char *base_dir, *candidate_dir;
    char *base_model, *candidate_model;
    chv_compare_row *rows;   /* tasks not in a group, then groups */
    size_t n_rows;
    chv_compare_row *subrows; /* subtasks of groups */
    size_t n_subrows;
    char **notes;            /* dropped tasks and documents, fallbacks */
    size_t n_notes;
    chv_compare_difference *mismatches; /* what --allow-mismatch let through */
    size_t n_mismatches;
    chv_compare_difference *settings;   /* scoring settings (max_length, bos,
                                         * wikitext_double_bos) that differ */
    size_t n_settings;
    double alpha;
    int holm;
    size_t resamples;
    uint64_t seed;
    char *metric_request;    /* the --metric value, or NULL */
} chv_comparison;

/* Loads both run folders and compares them. Returns 0 with *out set, which
 * the caller frees with chv_comparison_free. Returns -1 with err filled
 * when a run cannot be loaded, or when the runs differ in tasks, task
 * versions, data file hashes, sampling or documents and allow_mismatch is
 * 0. The message then lists the differences (the first ones, and how many
 * more there are when they do not fit). Scoring settings that differ do
 * not fail the comparison; they are listed in comparison->settings. */
int chv_compare_runs(const char *base_dir, const char *candidate_dir,
                     const chv_compare_options *options, chv_comparison **out, chv_error *err);

void chv_comparison_free(chv_comparison *comparison);

/* Returns 1 when any row of the main table is significantly worse. */
int chv_comparison_has_regression(const chv_comparison *comparison);

const char *chv_verdict_name(chv_verdict verdict);

/* Writers; each returns 0, or -1 when a write fails. */
int chv_comparison_write_markdown(FILE *out, const chv_comparison *comparison);
int chv_comparison_write_json(FILE *out, const chv_comparison *comparison);
int chv_comparison_write_html(FILE *out, const chv_comparison *comparison);

#endif
