#include "report/report.h"

#include <stdlib.h>

#include "util/fileio.h"
#include "util/log.h"

typedef int (*report_writer)(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                             size_t n_breakdowns);

static int write_csv_adapter(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                             size_t n_breakdowns) {
    (void)breakdowns;
    (void)n_breakdowns;
    return chv_report_write_csv(out, run);
}

static int write_one(const char *run_dir, const char *name, report_writer writer,
                     const chv_run *run, const chv_breakdown *breakdowns, size_t n_breakdowns,
                     chv_error *err) {
    char *path = chv_path_join(run_dir, name);
    if (path == NULL)
        return chv_error_set(err, "out of memory");

    chv_atomic_file file;
    if (chv_atomic_open(&file, path, err) < 0) {
        free(path);
        return -1;
    }
    if (writer(file.fp, run, breakdowns, n_breakdowns) < 0) {
        chv_atomic_abort(&file);
        chv_error_set(err, "%s: write failed", path);
        free(path);
        return -1;
    }
    free(path);
    return chv_atomic_commit(&file, err);
}

int chv_report_write_all(const char *run_dir, const chv_report_options *options, chv_error *err) {
    chv_report_options defaults = {0};
    if (options == NULL)
        options = &defaults;
    int formats = options->formats ? options->formats : CHV_REPORT_DEFAULT;

    chv_run_load_options load = {
        .load_samples = 1,
        .group_by = options->group_by,
        .n_group_by = options->n_group_by,
        .max_wrong = options->max_wrong ? options->max_wrong : 50,
    };
    chv_run *run = chv_run_load(run_dir, &load, err);
    if (run == NULL)
        return -1;

    /* A misspelt field would otherwise give a report without its
     * breakdown and no hint why. */
    for (size_t i = 0; i < run->n_unmatched_group_by; i++)
        chv_log_warn("--group-by %s: no document of any task in %s has this field%s; no "
                     "breakdown by it", run->unmatched_group_by[i], run_dir,
                     chv_run_has_samples(run) ? "" : " (the run has no per-sample logs)");

    chv_breakdown *breakdowns = NULL;
    long n_breakdowns = chv_breakdowns_compute(run, &breakdowns);
    if (n_breakdowns < 0) {
        chv_run_free(run);
        return chv_error_set(err, "out of memory computing breakdowns for %s", run_dir);
    }

    static const struct {
        int flag;
        const char *name;
        report_writer writer;
    } outputs[] = {
        {CHV_REPORT_MD, "report.md", chv_report_write_markdown},
        {CHV_REPORT_CSV, "results.csv", write_csv_adapter},
        {CHV_REPORT_HTML, "report.html", chv_report_write_html},
        {CHV_REPORT_JSON, "report.json", chv_report_write_json},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0] && rc == 0; i++) {
        if (formats & outputs[i].flag)
            rc = write_one(run_dir, outputs[i].name, outputs[i].writer, run, breakdowns,
                           (size_t)n_breakdowns, err);
    }

    chv_breakdowns_free(breakdowns, (size_t)n_breakdowns);
    chv_run_free(run);
    return rc;
}
