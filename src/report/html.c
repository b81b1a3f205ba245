/* report.html: one self-contained page (inline CSS and SVG, no scripts)
 * with the summary, charts of score against chance, breakdowns and the
 * documents the model got wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/format.h"
#include "report/html_page.h"
#include "report/report.h"
#include "report/svg.h"

/* z for a two-sided 95% interval. */
#define Z95 1.959963984540054

static int is_summary_task(const chv_run *run, const chv_task *task) {
    return chv_task_metric(task, "acc") != NULL && (task->is_group || !chv_run_is_group_member(run, task));
}

/* A task (or group) scored on fewer documents than a breakdown row needs
 * to count as reliable is drawn paler, like a noisy breakdown row. */
static int is_noisy_task(const chv_task *task) {
    return task->sample_len >= 0 && task->sample_len < CHV_NOISY_BELOW;
}

/* Results from the bundled sample documents, and failed tasks, are stated
 * above the numbers. */
static void write_warnings(FILE *out, const chv_run *run) {
    if (chv_run_is_sample_data(run))
        fprintf(out, "<p class=\"warning\"><strong>Warning: sample data.</strong> %s</p>\n", CHV_SAMPLE_DATA_WARNING);

    const cJSON *failed = chv_run_failed_tasks(run);
    if (failed == NULL)
        return;
    char summary[96];
    chv_run_failed_summary(failed, summary, sizeof summary);
    fprintf(out, "<div class=\"warning\"><strong>Warning: %s:</strong><ul>\n", summary);
    const cJSON *item;
    cJSON_ArrayForEach(item, failed) {
        fprintf(out, "<li><code>");
        chv_html_text(out, item->string);
        fprintf(out, "</code>: ");
        chv_html_text(out, chv_run_failure_message(item));
        fprintf(out, "</li>\n");
    }
    fprintf(out, "</ul></div>\n");
}

static void write_meta(FILE *out, const chv_run *run) {
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(run->results_json, "config");
    fprintf(out, "<ul class=\"meta\">\n");
    for (size_t i = 0; i < chv_n_report_settings; i++) {
        char *text = chv_json_key(cJSON_GetObjectItemCaseSensitive(config, chv_report_settings[i].key));
        if (text == NULL)
            continue;
        fprintf(out, "<li>%s: <code>", chv_report_settings[i].label);
        chv_html_text(out, text);
        fprintf(out, "</code></li>\n");
        free(text);
    }
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(run->results_json, "date");
    if (cJSON_IsString(date)) {
        fprintf(out, "<li>date: ");
        chv_html_text(out, date->valuestring);
        fprintf(out, "</li>\n");
    }
    const cJSON *elapsed = cJSON_GetObjectItemCaseSensitive(run->results_json, "total_evaluation_time_seconds");
    char *seconds = chv_json_key(elapsed);
    if (seconds != NULL) {
        fprintf(out, "<li>evaluation time: ");
        chv_html_text(out, seconds);
        fprintf(out, " s</li>\n");
        free(seconds);
    }
    fprintf(out, "</ul>\n");
    write_warnings(out, run);
}

static void write_num_cell(FILE *out, double value) {
    char buf[32];
    fprintf(out, "<td class=\"num\">%s</td>", chv_fmt4(buf, sizeof buf, value));
}

/* An empty cell for a metric the task does not report (acc_norm of BLiMP). */
static void write_optional_cell(FILE *out, const chv_metric *metric, int stderr_column) {
    if (metric == NULL)
        fprintf(out, "<td></td>");
    else
        write_num_cell(out, stderr_column ? metric->stderr_value : metric->value);
}

static void write_summary(FILE *out, const chv_run *run) {
    fprintf(out, "<h2>Summary</h2>\n<table>\n<tr><th>Task</th><th>acc</th><th>±</th>"
                 "<th>acc_norm</th><th>±</th><th>chance</th><th>n</th></tr>\n");
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (!is_summary_task(run, task))
            continue;
        const chv_metric *acc = chv_task_metric(task, "acc");
        const chv_metric *norm = chv_task_metric(task, "acc_norm");
        fprintf(out, "<tr%s><td>", is_noisy_task(task) ? " class=\"noisy\"" : "");
        chv_html_text(out, task->name);
        fprintf(out, "</td>");
        write_num_cell(out, acc->value);
        write_num_cell(out, acc->stderr_value);
        write_optional_cell(out, norm, 0);
        write_optional_cell(out, norm, 1);
        write_num_cell(out, task->chance);
        fprintf(out, "<td class=\"num\">%ld</td></tr>\n", task->sample_len);
    }
    fprintf(out, "</table>\n");

    /* Perplexity tasks have no accuracy; they get their own table. */
    int header = 0;
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        const chv_metric *bpb = chv_task_metric(task, "bits_per_byte");
        if (bpb == NULL)
            continue;
        if (!header) {
            fprintf(out, "<table>\n<tr><th>Task</th><th>word_perplexity</th>"
                         "<th>byte_perplexity</th><th>bits_per_byte</th><th>n</th></tr>\n");
            header = 1;
        }
        const chv_metric *word = chv_task_metric(task, "word_perplexity");
        const chv_metric *byte = chv_task_metric(task, "byte_perplexity");
        fprintf(out, "<tr><td>");
        chv_html_text(out, task->name);
        fprintf(out, "</td>");
        write_num_cell(out, word ? word->value : NAN);
        write_num_cell(out, byte ? byte->value : NAN);
        write_num_cell(out, bpb->value);
        fprintf(out, "<td class=\"num\">%ld</td></tr>\n", task->sample_len);
    }
    if (header)
        fprintf(out, "</table>\n<p class=\"note\">Perplexity: lower is better.</p>\n");
}

static void write_legend(FILE *out) {
    fprintf(out, "<p class=\"legend\"><span class=\"swatch\" style=\"background:#4c78a8\">"
                 "</span>acc with 95%% interval (±1.96 stderr)<span class=\"swatch\" "
                 "style=\"background:#c0392b\"></span>chance<span class=\"swatch\" "
                 "style=\"background:#a8c1dc\"></span>fewer than %d documents</p>\n",
            CHV_NOISY_BELOW);
}

static void write_score_chart(FILE *out, const chv_run *run) {
    chv_svg_bar *bars = calloc(run->n_tasks ? run->n_tasks : 1, sizeof *bars);
    if (bars == NULL)
        return;
    size_t n = 0;
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (!is_summary_task(run, task))
            continue;
        const chv_metric *acc = chv_task_metric(task, "acc");
        bars[n++] = (chv_svg_bar){task->name, acc->value, Z95 * acc->stderr_value, NAN, NAN,
                                  task->chance, is_noisy_task(task)};
    }
    if (n > 0) {
        fprintf(out, "<h2>Score against chance</h2>\n");
        write_legend(out);
        chv_svg_score_chart(out, bars, n, "acc per task against chance");
    }
    free(bars);
}

static void write_breakdown(FILE *out, const chv_breakdown *b) {
    fprintf(out, "<h3>");
    chv_html_text(out, b->task);
    fprintf(out, " by ");
    chv_html_text(out, b->title);
    fprintf(out, "</h3>\n");
    if (b->n_rows == 0) {
        fprintf(out, "<p class=\"note\">");
        chv_html_text(out, b->missing_note ? b->missing_note : "No documents carry this field");
        fprintf(out, ".</p>\n");
        return;
    }

    chv_svg_bar *bars = calloc(b->n_rows, sizeof *bars);
    if (bars != NULL) {
        for (size_t r = 0; r < b->n_rows; r++) {
            const chv_breakdown_row *row = &b->rows[r];
            bars[r] = (chv_svg_bar){row->key, row->acc, Z95 * row->acc_stderr, NAN, NAN,
                                    row->chance, row->noisy};
        }
        char label[512];
        snprintf(label, sizeof label, "%s acc by %s", b->task, b->title);
        chv_svg_score_chart(out, bars, b->n_rows, label);
        free(bars);
    }

    fprintf(out, "<div class=\"scroll\"><table>\n<tr><th>");
    chv_html_text(out, b->title);
    fprintf(out, "</th><th>acc</th><th>±</th>%s<th>n</th><th>chance</th><th>acc − chance</th>"
                 "<th></th></tr>\n",
            b->has_acc_norm ? "<th>acc_norm</th><th>±</th>" : "");
    for (size_t r = 0; r < b->n_rows; r++) {
        const chv_breakdown_row *row = &b->rows[r];
        char gap[32];
        fprintf(out, "<tr%s><td>", row->noisy ? " class=\"noisy\"" : "");
        chv_html_text(out, row->key);
        fprintf(out, "</td>");
        write_num_cell(out, row->acc);
        write_num_cell(out, row->acc_stderr);
        if (b->has_acc_norm) {
            write_num_cell(out, row->acc_norm);
            write_num_cell(out, row->acc_norm_stderr);
        }
        fprintf(out, "<td class=\"num\">%zu</td>", row->n);
        write_num_cell(out, row->chance);
        fprintf(out, "<td class=\"num\">%s</td><td>%s</td></tr>\n",
                chv_fmt_signed4(gap, sizeof gap, row->acc - row->chance),
                row->noisy ? "noisy" : "");
    }
    fprintf(out, "</table></div>\n");
    if (b->n_missing > 0)
        fprintf(out, "<p class=\"note\">%zu documents lack this field and are not counted.</p>\n",
                b->n_missing);
}

static void write_wrong_doc(FILE *out, const chv_wrong_doc *doc) {
    fprintf(out, "<div class=\"doc\"><div class=\"docid\">doc_id %ld</div>\n", doc->doc_id);
    if (doc->prompt[0] != '\0') {
        fprintf(out, "<pre>");
        chv_html_text(out, doc->prompt);
        fprintf(out, "</pre>\n");
    }
    fprintf(out, "<ol start=\"0\">\n");
    for (int i = 0; i < doc->n_choices; i++) {
        int gold = i == doc->target, chosen = i == doc->pred;
        if (gold)
            fprintf(out, "<li class=\"gold\">");
        else if (chosen)
            fprintf(out, "<li class=\"chosen\">");
        else
            fprintf(out, "<li>");
        chv_html_text(out, doc->choices[i]);
        if (gold)
            fprintf(out, "<span class=\"tag gold\">gold</span>");
        if (chosen)
            fprintf(out, "<span class=\"tag chosen\">chosen</span>");
        fprintf(out, "</li>\n");
    }
    fprintf(out, "</ol></div>\n");
}

static void write_wrong_docs(FILE *out, const chv_run *run) {
    int any = 0;
    for (size_t t = 0; t < run->n_tasks; t++)
        any |= run->tasks[t].n_wrong > 0;
    if (!any)
        return;

    fprintf(out, "<h2>Documents the model got wrong</h2>\n<p class=\"note\">By acc: the choice "
                 "with the highest log-likelihood was not the gold one. Each list shows the first "
                 "documents in doc_id order, up to the cap.</p>\n");
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (task->n_wrong == 0)
            continue;
        fprintf(out, "<details><summary>");
        chv_html_text(out, task->name);
        fprintf(out, ": %zu of %zu documents wrong", task->n_wrong_total, task->n_samples);
        if (task->n_wrong < task->n_wrong_total)
            fprintf(out, " (showing the first %zu)", task->n_wrong);
        fprintf(out, "</summary>\n");
        for (size_t i = 0; i < task->n_wrong; i++)
            write_wrong_doc(out, &task->wrong[i]);
        fprintf(out, "</details>\n");
    }
}

int chv_report_write_html(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                          size_t n_breakdowns) {
    char title[512];
    snprintf(title, sizeof title, "Evaluation report: %s", run->model_name);
    chv_html_page_begin(out, title);
    write_meta(out, run);
    write_summary(out, run);
    write_score_chart(out, run);

    fprintf(out, "<h2>Breakdowns</h2>\n");
    int has_samples = 0;
    for (size_t t = 0; t < run->n_tasks; t++)
        has_samples |= run->tasks[t].has_samples;
    if (!has_samples)
        fprintf(out, "<p class=\"note\">This run folder has no per-sample logs "
                     "(samples_&lt;task&gt;.jsonl), so the only breakdowns are the per-subtask "
                     "tables of groups. Rerun "
                     "<code>cheval run</code> with <code>--log-samples</code>.</p>\n");
    else
        write_legend(out);
    for (size_t i = 0; i < run->n_unmatched_group_by; i++) {
        fprintf(out, "<p class=\"note\">No breakdown by <code>--group-by ");
        chv_html_text(out, run->unmatched_group_by[i]);
        fprintf(out, "</code>: %s.</p>\n", has_samples ? "no document of any task has this field"
                                                        : "this run has no per-sample logs");
    }
    for (size_t i = 0; i < n_breakdowns; i++)
        write_breakdown(out, &breakdowns[i]);

    write_wrong_docs(out, run);
    chv_html_page_end(out);
    return ferror(out) ? -1 : 0;
}
