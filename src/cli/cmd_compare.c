/* cheval compare BASE_RUN CANDIDATE_RUN: paired comparison of two runs,
 * with an exit status that can gate a training pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "report/compare.h"
#include "util/fileio.h"

static void print_usage(FILE *out) {
    fprintf(out,
            "usage: cheval compare BASE_RUN CANDIDATE_RUN [options]\n"
            "\n"
            "Compares two run folders task by task. With samples_<task>.jsonl in both,\n"
            "documents are paired by doc_id (McNemar's exact test, paired bootstrap);\n"
            "otherwise an unpaired z-test on the reported values is used. Prints a\n"
            "Markdown table on stdout.\n"
            "\n"
            "  --fail-on-regression  exit 1 when a task is significantly worse\n"
            "  --alpha A             significance level (default 0.05)\n"
            "  --metric NAME         metric to compare: acc (default), acc_norm, acc_bytes;\n"
            "                        perplexity tasks use bits_per_byte unless NAME is\n"
            "                        word_perplexity, byte_perplexity or bits_per_byte\n"
            "  --no-holm             report raw p-values (default: Holm correction across tasks)\n"
            "  --allow-mismatch      compare only the tasks and documents both runs share,\n"
            "                        and list what differs, instead of failing\n"
            "  --output FILE.md      also write the Markdown table to FILE.md\n"
            "  --json FILE.json      write the comparison as JSON\n"
            "  --html FILE.html      write a self-contained HTML page with a delta chart\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit status: 0 when compared (and no regression with --fail-on-regression),\n"
            "1 on a regression with --fail-on-regression or when the runs cannot be\n"
            "loaded or compared, 2 on a usage error.\n");
}

typedef int (*comparison_writer)(FILE *out, const chv_comparison *comparison);

static int write_output(const char *path, comparison_writer writer, const chv_comparison *c) {
    chv_error err;
    chv_atomic_file file;
    if (chv_atomic_open(&file, path, &err) < 0) {
        fprintf(stderr, "cheval compare: %s\n", err.message);
        return -1;
    }
    if (writer(file.fp, c) < 0) {
        chv_atomic_abort(&file);
        fprintf(stderr, "cheval compare: %s: write failed\n", path);
        return -1;
    }
    if (chv_atomic_commit(&file, &err) < 0) {
        fprintf(stderr, "cheval compare: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* Prints every significantly worse task with its delta and p, so the log
 * of a failed CI job shows what regressed without the table. */
static void print_regressions(const chv_comparison *c, const chv_compare_options *options) {
    size_t worse = 0;
    for (size_t i = 0; i < c->n_rows; i++)
        worse += c->rows[i].verdict == CHV_VERDICT_WORSE;
    fprintf(stderr, "cheval compare: regression: the candidate is significantly worse on %zu "
                    "task%s (alpha %g%s):\n", worse, worse == 1 ? "" : "s", options->alpha,
            c->holm && c->n_rows > 1 ? ", Holm-corrected p" : "");
    for (size_t i = 0; i < c->n_rows; i++) {
        const chv_compare_row *row = &c->rows[i];
        if (row->verdict != CHV_VERDICT_WORSE)
            continue;
        fprintf(stderr, "  - %s: %s %.4f -> %.4f (delta %+.4f, p ", row->task, row->metric,
                row->base, row->candidate, row->delta);
        if (row->p_adjusted < 0.0001)
            fprintf(stderr, "<0.0001)\n");
        else
            fprintf(stderr, "%.4f)\n", row->p_adjusted);
    }
}

static void print_settings_warning(const chv_comparison *c) {
    if (c->n_settings == 0)
        return;
    fprintf(stderr, "cheval compare: warning: the runs were scored with different settings; some "
                    "numbers are not directly comparable:\n");
    for (size_t i = 0; i < c->n_settings; i++)
        fprintf(stderr, "  - %s\n", c->settings[i].text);
}

int cmd_compare(int argc, char **argv) {
    const char *runs[2] = {NULL, NULL};
    int n_runs = 0, fail_on_regression = 0;
    const char *output = NULL, *json = NULL, *html = NULL;
    chv_compare_options options = {.alpha = 0.05};

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(stdout);
            return CHV_EXIT_OK;
        } else if (strcmp(arg, "--fail-on-regression") == 0) {
            fail_on_regression = 1;
        } else if (strcmp(arg, "--no-holm") == 0) {
            options.no_holm = 1;
        } else if (strcmp(arg, "--allow-mismatch") == 0) {
            options.allow_mismatch = 1;
        } else if (strcmp(arg, "--alpha") == 0 && has_value) {
            char *end;
            options.alpha = strtod(argv[++i], &end);
            if (*end != '\0' || !(options.alpha > 0.0 && options.alpha < 1.0)) {
                fprintf(stderr, "cheval compare: invalid --alpha '%s'; expected a number "
                                "between 0 and 1, such as 0.05\n", argv[i]);
                return CHV_EXIT_USAGE;
            }
        } else if (strcmp(arg, "--metric") == 0 && has_value) {
            options.metric = argv[++i];
        } else if (strcmp(arg, "--output") == 0 && has_value) {
            output = argv[++i];
        } else if (strcmp(arg, "--json") == 0 && has_value) {
            json = argv[++i];
        } else if (strcmp(arg, "--html") == 0 && has_value) {
            html = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "cheval compare: unknown option or missing value: %s\n\n", arg);
            print_usage(stderr);
            return CHV_EXIT_USAGE;
        } else if (n_runs < 2) {
            runs[n_runs++] = arg;
        } else {
            fprintf(stderr, "cheval compare: unexpected argument '%s' (expected BASE_RUN "
                            "CANDIDATE_RUN)\n", arg);
            return CHV_EXIT_USAGE;
        }
    }
    if (n_runs != 2) {
        fprintf(stderr, "cheval compare: expected two run folders, BASE_RUN and CANDIDATE_RUN\n\n");
        print_usage(stderr);
        return CHV_EXIT_USAGE;
    }

    chv_error err;
    chv_comparison *comparison = NULL;
    if (chv_compare_runs(runs[0], runs[1], &options, &comparison, &err) < 0) {
        fprintf(stderr, "cheval compare: %s\n", err.message);
        return CHV_EXIT_FAILURE;
    }

    print_settings_warning(comparison);
    int status = CHV_EXIT_OK;
    if (chv_comparison_write_markdown(stdout, comparison) < 0 || fflush(stdout) != 0)
        status = CHV_EXIT_FAILURE;
    if (output && write_output(output, chv_comparison_write_markdown, comparison) < 0)
        status = CHV_EXIT_FAILURE;
    if (json && write_output(json, chv_comparison_write_json, comparison) < 0)
        status = CHV_EXIT_FAILURE;
    if (html && write_output(html, chv_comparison_write_html, comparison) < 0)
        status = CHV_EXIT_FAILURE;

    if (fail_on_regression && chv_comparison_has_regression(comparison)) {
        print_regressions(comparison, &options);
        status = CHV_EXIT_FAILURE;
    }
    chv_comparison_free(comparison);
    return status;
}
