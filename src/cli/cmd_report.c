/* cheval report RUN_DIR: rebuild report.md, results.csv, report.html (and
 * report.json) from a run folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "report/report.h"
#include "util/log.h"

static void print_usage(FILE *out) {
    fprintf(out,
            "usage: cheval report RUN_DIR [--group-by FIELD]... [--format LIST] [--max-wrong N]\n"
            "\n"
            "Rebuilds the reports of a run folder from its results.json and\n"
            "samples_<task>.jsonl files (the model is not needed).\n"
            "\n"
            "  --group-by FIELD  add a breakdown by a dotted document field, such as\n"
            "                    metadata.difficulty, for every task whose documents have it;\n"
            "                    repeat for several fields\n"
            "  --format LIST     comma-separated outputs to write: md (report.md), csv\n"
            "                    (results.csv), html (report.html), json (report.json);\n"
            "                    default md,csv,html\n"
            "  --max-wrong N     wrong documents listed per task in report.html (default 50)\n"
            "  -h, --help        show this help\n");
}

/* Parses "md,csv,html,json" into CHV_REPORT_* bits. Returns -1 on an
 * unknown name. */
static int parse_formats(const char *list) {
    static const struct {
        const char *name;
        int flag;
    } names[] = {{"md", CHV_REPORT_MD}, {"csv", CHV_REPORT_CSV}, {"html", CHV_REPORT_HTML},
                 {"json", CHV_REPORT_JSON}};
    int formats = 0;
    const char *start = list;
    while (*start != '\0') {
        size_t len = strcspn(start, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strlen(names[i].name) == len && strncmp(start, names[i].name, len) == 0) {
                formats |= names[i].flag;
                found = 1;
            }
        }
        if (!found)
            return -1;
        start += len;
        if (*start == ',')
            start++;
    }
    return formats;
}

int cmd_report(int argc, char **argv) {
    const char *run_dir = NULL;
    const char **group_by = calloc((size_t)argc + 1, sizeof *group_by);
    if (group_by == NULL)
        return CHV_EXIT_FAILURE;
    chv_report_options options = {.group_by = group_by};

    int status = CHV_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(stdout);
            status = CHV_EXIT_OK;
            goto done;
        } else if (strcmp(arg, "--group-by") == 0 && has_value) {
            group_by[options.n_group_by++] = argv[++i];
        } else if (strcmp(arg, "--format") == 0 && has_value) {
            options.formats = parse_formats(argv[++i]);
            if (options.formats <= 0) {
                fprintf(stderr, "cheval report: invalid --format '%s'; use a comma-separated "
                                "list of md, csv, html, json\n", argv[i]);
                goto done;
            }
        } else if (strcmp(arg, "--max-wrong") == 0 && has_value) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 1) {
                fprintf(stderr, "cheval report: invalid --max-wrong '%s'; expected a positive "
                                "integer\n", argv[i]);
                goto done;
            }
            options.max_wrong = (size_t)n;
        } else if (arg[0] == '-') {
            fprintf(stderr, "cheval report: unknown option or missing value: %s\n\n", arg);
            print_usage(stderr);
            goto done;
        } else if (run_dir == NULL) {
            run_dir = arg;
        } else {
            fprintf(stderr, "cheval report: unexpected argument '%s' (one RUN_DIR only)\n", arg);
            goto done;
        }
    }
    if (run_dir == NULL) {
        print_usage(stderr);
        goto done;
    }

    chv_error err;
    if (chv_report_write_all(run_dir, &options, &err) < 0) {
        fprintf(stderr, "cheval report: %s\n", err.message);
        status = CHV_EXIT_FAILURE;
        goto done;
    }
    int formats = options.formats ? options.formats : CHV_REPORT_DEFAULT;
    chv_log_info("wrote%s%s%s%s in %s", formats & CHV_REPORT_MD ? " report.md" : "",
                 formats & CHV_REPORT_CSV ? " results.csv" : "",
                 formats & CHV_REPORT_HTML ? " report.html" : "",
                 formats & CHV_REPORT_JSON ? " report.json" : "", run_dir);
    status = CHV_EXIT_OK;

done:
    free(group_by);
    return status;
}
