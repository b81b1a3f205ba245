/* Output of `cheval compare`: a Markdown table to paste into a CI comment,
 * the same data as JSON, and an HTML page with a chart of the deltas. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report/compare.h"
#include "report/format.h"
#include "report/html_page.h"
#include "report/svg.h"

static const char *fmt_p(char *buf, size_t size, double p) {
    if (isnan(p))
        snprintf(buf, size, "N/A");
    else if (p < 0.0001)
        snprintf(buf, size, "<0.0001");
    else
        snprintf(buf, size, "%.4f", p);
    return buf;
}

static const char *fmt_ci(char *buf, size_t size, double low, double high) {
    if (isnan(low) || isnan(high))
        snprintf(buf, size, "N/A");
    else
        snprintf(buf, size, "[%+.4f, %+.4f]", low, high);
    return buf;
}

static const char *verdict_markdown(chv_verdict verdict) {
    switch (verdict) {
    case CHV_VERDICT_BETTER: return "✅ better";
    case CHV_VERDICT_WORSE: return "❌ worse";
    case CHV_VERDICT_NOT_TESTED: return "not tested";
    default: return "no significant change";
    }
}

static int write_rows(FILE *out, const chv_compare_row *rows, size_t n, const char *group) {
    /* ± is the paired standard error of Δ, as lm-eval's tables put it. */
    static const char *const headers[] = {"task", "base", "candidate", "Δ", "±", "95% CI",
                                          "p", "verdict"};
    chv_md_table *table = chv_md_table_new(headers, "lrrrrlrl", 8);
    if (table == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const chv_compare_row *row = &rows[i];
        if (group != NULL && (row->group == NULL || strcmp(row->group, group) != 0))
            continue;
        char task[512], base[32], cand[32], delta[32], se[32], ci[64], p[32];
        snprintf(task, sizeof task, "%s (%s %s)", row->task, row->metric,
                 row->higher_is_better ? "↑" : "↓");
        const char *cells[] = {task,
                               chv_fmt4(base, sizeof base, row->base),
                               chv_fmt4(cand, sizeof cand, row->candidate),
                               chv_fmt_signed4(delta, sizeof delta, row->delta),
                               chv_fmt4(se, sizeof se, row->se),
                               fmt_ci(ci, sizeof ci, row->ci_low, row->ci_high),
                               fmt_p(p, sizeof p, row->p_adjusted),
                               verdict_markdown(row->verdict)};
        if (chv_md_table_add(table, cells) < 0)
            return -1;
    }
    chv_md_table_write(table, out);
    return 0;
}

static void write_method(FILE *out, const chv_comparison *c) {
    int paired = 0, unpaired = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        paired += c->rows[i].paired;
        unpaired += !c->rows[i].paired;
    }
    fprintf(out, "Δ = candidate − base, ± its standard error. ");
    if (paired > 0)
        fprintf(out, "Paired by doc_id: McNemar's exact test for accuracies, and a paired "
                     "bootstrap (%zu resamples, splitmix64 seed %llu) for the 95%% intervals and "
                     "for perplexity. ", c->resamples, (unsigned long long)c->seed);
    if (unpaired > 0)
        fprintf(out, "%sUnpaired z-test on the reported values and stderrs (no per-sample logs "
                     "in both runs). ", paired > 0 ? "Elsewhere: " : "");
    if (c->holm && c->n_rows == 1)
        fprintf(out, "p needs no adjustment for multiple comparisons: the table has one row");
    else if (c->holm)
        fprintf(out, "p is Holm-adjusted across the %zu rows of the table", c->n_rows);
    else
        fprintf(out, "p is not adjusted for multiple comparisons (--no-holm)");
    fprintf(out, "; a verdict needs p < %g.\n", c->alpha);
}

/* Writes the settings warning above the table, so that it comes before
 * the deltas it qualifies. */
static void write_settings_warning(FILE *out, const chv_comparison *c) {
    if (c->n_settings == 0)
        return;
    fprintf(out, "> **Warning: the runs were scored with different settings.** Some numbers "
                 "below are not directly comparable:\n>\n");
    for (size_t i = 0; i < c->n_settings; i++) {
        fprintf(out, "> - ");
        chv_md_cell(out, c->settings[i].text);
        fputc('\n', out);
    }
    fputc('\n', out);
}

int chv_comparison_write_markdown(FILE *out, const chv_comparison *c) {
    fprintf(out, "### cheval compare: ");
    chv_md_cell(out, c->base_model);
    fprintf(out, " → ");
    chv_md_cell(out, c->candidate_model);
    fprintf(out, "\n\n");
    write_settings_warning(out, c);

    if (write_rows(out, c->rows, c->n_rows, NULL) < 0)
        return -1;
    fputc('\n', out);
    write_method(out, c);

    /* Subtasks go in a collapsed block so a CI comment stays short. */
    for (size_t i = 0; i < c->n_subrows; i++) {
        int first = 1;
        for (size_t j = 0; j < i; j++)
            first &= strcmp(c->subrows[j].group, c->subrows[i].group) != 0;
        if (!first)
            continue;
        size_t count = 0;
        for (size_t j = 0; j < c->n_subrows; j++)
            count += strcmp(c->subrows[j].group, c->subrows[i].group) == 0;
        fprintf(out, "\n<details><summary>%s: %zu subtask%s (p %s)</summary>\n\n",
                c->subrows[i].group, count, count == 1 ? "" : "s",
                !c->holm ? "not adjusted" : count == 1 ? "needs no adjustment"
                                                       : "Holm-adjusted within the group");
        if (write_rows(out, c->subrows, c->n_subrows, c->subrows[i].group) < 0)
            return -1;
        fprintf(out, "\n</details>\n");
    }

    if (c->n_notes > 0) {
        fprintf(out, "\nNotes:\n");
        for (size_t i = 0; i < c->n_notes; i++) {
            fprintf(out, "- ");
            chv_md_cell(out, c->notes[i]);
            fputc('\n', out);
        }
    }
    return ferror(out) ? -1 : 0;
}

static cJSON *number_or_null(double value) {
    return isnan(value) ? cJSON_CreateNull() : cJSON_CreateNumber(value);
}

static cJSON *row_json(const chv_compare_row *row) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "task", row->task);
    if (row->group)
        cJSON_AddStringToObject(item, "group", row->group);
    cJSON_AddStringToObject(item, "metric", row->metric);
    cJSON_AddBoolToObject(item, "higher_is_better", row->higher_is_better);
    cJSON_AddBoolToObject(item, "paired", row->paired);
    cJSON_AddStringToObject(item, "test", row->test ? row->test : "none");
    cJSON_AddNumberToObject(item, "n", (double)row->n);
    cJSON_AddItemToObject(item, "base", number_or_null(row->base));
    cJSON_AddItemToObject(item, "candidate", number_or_null(row->candidate));
    cJSON_AddItemToObject(item, "delta", number_or_null(row->delta));
    cJSON_AddItemToObject(item, "delta_stderr", number_or_null(row->se));
    cJSON_AddItemToObject(item, "ci95_low", number_or_null(row->ci_low));
    cJSON_AddItemToObject(item, "ci95_high", number_or_null(row->ci_high));
    cJSON_AddItemToObject(item, "p", number_or_null(row->p));
    cJSON_AddItemToObject(item, "p_adjusted", number_or_null(row->p_adjusted));
    if (row->base_only >= 0) {
        cJSON_AddNumberToObject(item, "discordant_base_only", (double)row->base_only);
        cJSON_AddNumberToObject(item, "discordant_candidate_only", (double)row->candidate_only);
    }
    cJSON_AddStringToObject(item, "verdict", chv_verdict_name(row->verdict));
    return item;
}

static cJSON *value_or_null(const cJSON *value) {
    return value ? cJSON_Duplicate(value, 1) : cJSON_CreateNull();
}

/* Differences as data, with the full values (hashes uncut). */
static void add_differences(cJSON *root, const char *name, const chv_compare_difference *items,
                            size_t n) {
    cJSON *array = cJSON_AddArrayToObject(root, name);
    for (size_t i = 0; i < n; i++) {
        const chv_compare_difference *d = &items[i];
        cJSON *item = cJSON_CreateObject();
        if (d->task)
            cJSON_AddStringToObject(item, "task", d->task);
        cJSON_AddStringToObject(item, d->task ? "field" : "setting", d->field);
        cJSON_AddItemToObject(item, "base", value_or_null(d->base));
        cJSON_AddItemToObject(item, "candidate", value_or_null(d->candidate));
        cJSON_AddStringToObject(item, "message", d->text);
        cJSON_AddItemToArray(array, item);
    }
}

int chv_comparison_write_json(FILE *out, const chv_comparison *c) {
    cJSON *root = cJSON_CreateObject();
    cJSON *base = cJSON_AddObjectToObject(root, "base");
    cJSON_AddStringToObject(base, "run", c->base_dir);
    cJSON_AddStringToObject(base, "model_name", c->base_model);
    cJSON *cand = cJSON_AddObjectToObject(root, "candidate");
    cJSON_AddStringToObject(cand, "run", c->candidate_dir);
    cJSON_AddStringToObject(cand, "model_name", c->candidate_model);
    cJSON_AddNumberToObject(root, "alpha", c->alpha);
    cJSON_AddBoolToObject(root, "holm", c->holm);
    cJSON_AddNumberToObject(root, "bootstrap_resamples", (double)c->resamples);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    cJSON_AddStringToObject(root, "bootstrap_seed", seed);
    cJSON_AddStringToObject(root, "bootstrap_prng", "splitmix64");
    cJSON_AddBoolToObject(root, "regression", chv_comparison_has_regression(c));

    cJSON *rows = cJSON_AddArrayToObject(root, "tasks");
    for (size_t i = 0; i < c->n_rows; i++)
        cJSON_AddItemToArray(rows, row_json(&c->rows[i]));
    cJSON *subrows = cJSON_AddArrayToObject(root, "subtasks");
    for (size_t i = 0; i < c->n_subrows; i++)
        cJSON_AddItemToArray(subrows, row_json(&c->subrows[i]));
    cJSON *notes = cJSON_AddArrayToObject(root, "notes");
    for (size_t i = 0; i < c->n_notes; i++)
        cJSON_AddItemToArray(notes, cJSON_CreateString(c->notes[i]));
    add_differences(root, "settings_differ", c->settings, c->n_settings);
    add_differences(root, "mismatches", c->mismatches, c->n_mismatches);

    return chv_json_write(out, root);
}

static void write_html_rows(FILE *out, const chv_compare_row *rows, size_t n) {
    fprintf(out, "<div class=\"scroll\"><table>\n<tr><th>task (metric)</th><th>base</th><th>candidate</th>"
                 "<th>Δ</th><th>±</th><th>95%% CI</th><th>p</th><th>test</th><th>verdict</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const chv_compare_row *row = &rows[i];
        char base[32], cand[32], delta[32], se[32], ci[64], p[32];
        fprintf(out, "<tr><td>");
        chv_html_text(out, row->task);
        fprintf(out, " <span class=\"metric\">");
        chv_html_text(out, row->metric);
        fprintf(out, " %s</span></td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                     "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                     "<td class=\"num\">%s</td><td>%s</td><td class=\"%s\">%s</td></tr>\n",
                row->higher_is_better ? "↑" : "↓", chv_fmt4(base, sizeof base, row->base),
                chv_fmt4(cand, sizeof cand, row->candidate),
                chv_fmt_signed4(delta, sizeof delta, row->delta), chv_fmt4(se, sizeof se, row->se),
                fmt_ci(ci, sizeof ci, row->ci_low, row->ci_high),
                fmt_p(p, sizeof p, row->p_adjusted), row->test ? row->test : "",
                row->verdict == CHV_VERDICT_BETTER  ? "better"
                : row->verdict == CHV_VERDICT_WORSE ? "worse"
                                                    : "",
                chv_verdict_name(row->verdict));
    }
    fprintf(out, "</table></div>\n");
}

static void write_delta_chart(FILE *out, const chv_compare_row *rows, size_t n) {
    chv_svg_bar *bars = calloc(n ? n : 1, sizeof *bars);
    int *good = calloc(n ? n : 1, sizeof *good);
    if (bars != NULL && good != NULL) {
        for (size_t i = 0; i < n; i++) {
            bars[i] = (chv_svg_bar){rows[i].task, rows[i].delta, NAN, rows[i].ci_low,
                                    rows[i].ci_high, NAN, rows[i].verdict == CHV_VERDICT_NO_CHANGE};
            good[i] = rows[i].higher_is_better;
        }
        chv_svg_delta_chart(out, bars, good, n, "paired delta per task with 95% interval");
    }
    free(bars);
    free(good);
}

int chv_comparison_write_html(FILE *out, const chv_comparison *c) {
    char title[1024];
    snprintf(title, sizeof title, "Comparison: %s → %s", c->base_model, c->candidate_model);
    chv_html_page_begin(out, title);

    if (c->n_settings > 0) {
        fprintf(out, "<p class=\"note\"><strong>Warning: the runs were scored with different "
                     "settings.</strong> Some numbers below are not directly comparable:</p>\n<ul>\n");
        for (size_t i = 0; i < c->n_settings; i++) {
            fprintf(out, "<li>");
            chv_html_text(out, c->settings[i].text);
            fprintf(out, "</li>\n");
        }
        fprintf(out, "</ul>\n");
    }
    fprintf(out, "<p class=\"note\">");
    write_method(out, c);
    fprintf(out, "</p>\n<h2>Deltas</h2>\n<p class=\"legend\"><span class=\"swatch\" "
                 "style=\"background:#2e8b57\"></span>improvement<span class=\"swatch\" "
                 "style=\"background:#c0392b\"></span>regression (pale: not significant); "
                 "whiskers: 95%% interval. Each metric keeps its own unit.</p>\n");
    write_delta_chart(out, c->rows, c->n_rows);
    write_html_rows(out, c->rows, c->n_rows);

    if (c->n_subrows > 0) {
        fprintf(out, "<h2>Subtasks</h2>\n");
        write_delta_chart(out, c->subrows, c->n_subrows);
        write_html_rows(out, c->subrows, c->n_subrows);
    }
    if (c->n_notes > 0) {
        fprintf(out, "<h2>Notes</h2>\n<ul>\n");
        for (size_t i = 0; i < c->n_notes; i++) {
            fprintf(out, "<li>");
            chv_html_text(out, c->notes[i]);
            fprintf(out, "</li>\n");
        }
        fprintf(out, "</ul>\n");
    }
    chv_html_page_end(out);
    return ferror(out) ? -1 : 0;
}
