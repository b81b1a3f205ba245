/* Reports rebuilt from a run folder: report.md (lm-eval's table, a
 * model-card table, perplexities, breakdowns), results.csv (one row per
 * task and metric), report.html (self-contained, charts as inline SVG) and
 * report.json (the breakdowns as data).
 *
 * Everything is computed from results.json and samples_<task>.jsonl, never
 * from the model.
 */
#ifndef CHEVAL_REPORT_REPORT_H
#define CHEVAL_REPORT_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "report/breakdown.h"
#include "report/run.h"
#include "util/error.h"

enum {
    CHV_REPORT_MD = 1 << 0,   /* report.md */
    CHV_REPORT_CSV = 1 << 1,  /* results.csv */
    CHV_REPORT_HTML = 1 << 2, /* report.html */
    CHV_REPORT_JSON = 1 << 3, /* report.json */
    CHV_REPORT_DEFAULT = CHV_REPORT_MD | CHV_REPORT_CSV | CHV_REPORT_HTML
};

typedef struct chv_report_options {
    const char *const *group_by; /* extra dotted document paths to break down by */
    size_t n_group_by;
    int formats;                 /* CHV_REPORT_* bits; 0 means CHV_REPORT_DEFAULT */
    size_t max_wrong;            /* wrong documents listed per task in HTML; 0 means 50 */
} chv_report_options;

/* Writes report.md, results.csv and report.html (or the formats that
 * options selects) into run_dir, each atomically. options may be NULL for
 * the defaults. Returns 0, or -1 with err filled (missing folder, invalid
 * results.json, sample logs that do not match it, write failure). */
int chv_report_write_all(const char *run_dir, const chv_report_options *options, chv_error *err);

/* The writers behind chv_report_write_all, for callers that already hold a
 * loaded run and its breakdowns. Each writes to out and returns 0, or -1
 * when a write fails. */
int chv_report_write_markdown(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                              size_t n_breakdowns);
int chv_report_write_csv(FILE *out, const chv_run *run);
int chv_report_write_html(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                          size_t n_breakdowns);
int chv_report_write_json(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                          size_t n_breakdowns);

/* Writes lm-eval's results table (Tasks | Version | Filter | n-shot |
 * Metric | | Value | | Stderr) for the tasks, then the Groups table when
 * there are groups. */
int chv_report_write_lm_eval_table(FILE *out, const chv_run *run);

#endif
