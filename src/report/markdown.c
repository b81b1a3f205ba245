/* report.md: lm-eval's table, a model-card table, perplexities and the
 * breakdowns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/format.h"
#include "report/report.h"

static int is_perplexity_metric(const char *name) {
    return strstr(name, "perplexity") != NULL || strcmp(name, "bits_per_byte") == 0;
}

static int task_has_accuracy(const chv_task *task) {
    return chv_task_metric(task, "acc") != NULL || chv_task_metric(task, "acc_norm") != NULL;
}

static const chv_task *group_of(const chv_run *run, const chv_task *task) {
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *group = &run->tasks[t];
        for (size_t s = 0; group->is_group && s < group->n_subtasks; s++)
            if (strcmp(group->subtasks[s], task->name) == 0)
                return group;
    }
    return NULL;
}

/* results.json stores versions as strings ("1.0"); lm-eval's table shows
 * them as numbers, so "1.0" prints as "1" and "2.1" stays "2.1". This is
 * the same string that results.md shows. */
static void display_version(const char *version, char *out, size_t size) {
    size_t len = strlen(version);
    if (len > 2 && strcmp(version + len - 2, ".0") == 0)
        snprintf(out, size, "%.*s", (int)(len - 2), version);
    else
        snprintf(out, size, "%s", version);
}

static int add_lm_eval_rows(chv_md_table *table, const chv_task *task) {
    char version[64], n_shot[16];
    display_version(task->version, version, sizeof version);
    /* lm-eval leaves n-shot blank for groups, which have none. */
    if (task->n_shot >= 0)
        snprintf(n_shot, sizeof n_shot, "%d", task->n_shot);
    else
        n_shot[0] = '\0';

    for (size_t m = 0; m < task->n_metrics; m++) {
        const chv_metric *metric = &task->metrics[m];
        char value[32], se[32];
        chv_fmt4(value, sizeof value, metric->value);
        chv_fmt4(se, sizeof se, metric->stderr_value);
        const char *arrow = "";
        if (metric->higher_is_better == 1)
            arrow = "↑";
        else if (metric->higher_is_better == 0)
            arrow = "↓";
        const char *cells[] = {m == 0 ? task->alias : "", m == 0 ? version : "", "none",
                               n_shot, metric->name, arrow, value, "±", se};
        if (chv_md_table_add(table, cells) < 0)
            return -1;
    }
    return 0;
}

int chv_report_write_lm_eval_table(FILE *out, const chv_run *run) {
    static const char *const headers[] = {"Tasks", "Version", "Filter", "n-shot", "Metric",
                                          "", "Value", "", "Stderr"};
    chv_md_table *table = chv_md_table_new(headers, "lrlrllrlr", 9);
    if (table == NULL)
        return -1;

    /* A group's row goes right above its first subtask, as in lm-eval. */
    const chv_task *last_group = NULL;
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (task->is_group)
            continue;
        const chv_task *group = group_of(run, task);
        if (group != NULL && group != last_group && add_lm_eval_rows(table, group) < 0)
            return -1;
        last_group = group;
        if (add_lm_eval_rows(table, task) < 0)
            return -1;
    }
    chv_md_table_write(table, out);

    int has_groups = 0;
    for (size_t t = 0; t < run->n_tasks; t++)
        has_groups |= run->tasks[t].is_group;
    if (!has_groups)
        return 0;

    static const char *const group_headers[] = {"Groups", "Version", "Filter", "n-shot", "Metric",
                                                "", "Value", "", "Stderr"};
    table = chv_md_table_new(group_headers, "lrlrllrlr", 9);
    if (table == NULL)
        return -1;
    for (size_t t = 0; t < run->n_tasks; t++)
        if (run->tasks[t].is_group && add_lm_eval_rows(table, &run->tasks[t]) < 0)
            return -1;
    fputc('\n', out);
    chv_md_table_write(table, out);
    return 0;
}

/* Warnings a reader must see before the numbers: results from the bundled
 * sample documents, and tasks that failed and have no results. */
static void write_warnings(FILE *out, const chv_run *run) {
    if (chv_run_is_sample_data(run))
        fprintf(out, "> **Warning: sample data.** %s\n\n", CHV_SAMPLE_DATA_WARNING);

    const cJSON *failed = chv_run_failed_tasks(run);
    if (failed == NULL)
        return;
    char summary[96];
    chv_run_failed_summary(failed, summary, sizeof summary);
    fprintf(out, "> **Warning: %s:**\n>\n", summary);
    const cJSON *item;
    cJSON_ArrayForEach(item, failed) {
        fprintf(out, "> - ");
        chv_md_cell(out, item->string);
        fprintf(out, ": ");
        chv_md_cell(out, chv_run_failure_message(item));
        fprintf(out, "\n");
    }
    fputc('\n', out);
}

static void write_header(FILE *out, const chv_run *run) {
    const cJSON *root = run->results_json;
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");

    fprintf(out, "# Evaluation report: ");
    chv_md_cell(out, run->model_name);
    fprintf(out, "\n\n");

    for (size_t i = 0; i < chv_n_report_settings; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(config, chv_report_settings[i].key);
        char *text = chv_json_key(item);
        if (text != NULL) {
            fprintf(out, "- %s: `%s`\n", chv_report_settings[i].label, text);
            free(text);
        }
    }
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(root, "date");
    if (cJSON_IsString(date))
        fprintf(out, "- date: %s\n", date->valuestring);
    char *seconds = chv_json_key(cJSON_GetObjectItemCaseSensitive(root, "total_evaluation_time_seconds"));
    if (seconds != NULL) {
        fprintf(out, "- evaluation time: %s s\n", seconds);
        free(seconds);
    }
    fputc('\n', out);
    write_warnings(out, run);
}

/* Task | acc | ± | acc_norm | ± for every task that is not a group member. */
static int write_model_card_table(FILE *out, const chv_run *run) {
    static const char *const headers[] = {"Task", "acc", "±", "acc_norm", "±"};
    chv_md_table *table = chv_md_table_new(headers, "lrrrr", 5);
    if (table == NULL)
        return -1;

    size_t rows = 0;
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (!task_has_accuracy(task) || (!task->is_group && group_of(run, task) != NULL))
            continue;
        const chv_metric *acc = chv_task_metric(task, "acc");
        const chv_metric *norm = chv_task_metric(task, "acc_norm");
        char a[32], as[32], n[32], ns[32];
        chv_fmt4(a, sizeof a, acc ? acc->value : NAN);
        chv_fmt4(as, sizeof as, acc ? acc->stderr_value : NAN);
        chv_fmt4(n, sizeof n, norm ? norm->value : NAN);
        chv_fmt4(ns, sizeof ns, norm ? norm->stderr_value : NAN);
        const char *cells[] = {task->name, a, as, norm ? n : "", norm ? ns : ""};
        if (chv_md_table_add(table, cells) < 0)
            return -1;
        rows++;
    }
    if (rows == 0) {
        chv_md_table_write(table, out); /* frees it */
        return 0;
    }
    fprintf(out, "## Model card\n\n");
    chv_md_table_write(table, out);
    fputc('\n', out);
    return 0;
}

static int write_perplexity_table(FILE *out, const chv_run *run) {
    static const char *const headers[] = {"Task", "word_perplexity", "byte_perplexity",
                                          "bits_per_byte"};
    size_t rows = 0;
    for (size_t t = 0; t < run->n_tasks; t++)
        for (size_t m = 0; m < run->tasks[t].n_metrics; m++)
            rows += is_perplexity_metric(run->tasks[t].metrics[m].name) && m == 0;
    if (rows == 0)
        return 0;

    chv_md_table *table = chv_md_table_new(headers, "lrrr", 4);
    if (table == NULL)
        return -1;
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (task->n_metrics == 0 || !is_perplexity_metric(task->metrics[0].name))
            continue;
        char v[3][32];
        const char *names[] = {"word_perplexity", "byte_perplexity", "bits_per_byte"};
        for (int i = 0; i < 3; i++) {
            const chv_metric *metric = chv_task_metric(task, names[i]);
            chv_fmt4(v[i], sizeof v[i], metric ? metric->value : NAN);
        }
        const char *cells[] = {task->name, v[0], v[1], v[2]};
        if (chv_md_table_add(table, cells) < 0)
            return -1;
    }
    fprintf(out, "## Perplexity\n\nLower is better.\n\n");
    chv_md_table_write(table, out);
    fputc('\n', out);
    return 0;
}

static int write_breakdown(FILE *out, const chv_breakdown *b) {
    fprintf(out, "### ");
    chv_md_cell(out, b->task);
    fprintf(out, " by ");
    chv_md_cell(out, b->title);
    fprintf(out, "\n\n");

    if (b->n_rows == 0) {
        fprintf(out, "%s.\n\n", b->missing_note ? b->missing_note : "No documents carry this field");
        return 0;
    }

    /* Tasks without acc_norm (BLiMP) drop its two columns. */
    const char *headers_norm[] = {b->title, "acc", "±", "acc_norm", "±", "n", "chance",
                                  "acc − chance", "note"};
    const char *headers_plain[] = {b->title, "acc", "±", "n", "chance", "acc − chance", "note"};
    size_t columns = b->has_acc_norm ? 9 : 7;
    chv_md_table *table = b->has_acc_norm ? chv_md_table_new(headers_norm, "lrrrrrrrl", columns)
                                          : chv_md_table_new(headers_plain, "lrrrrrl", columns);
    if (table == NULL)
        return -1;

    char noisy_note[32];
    snprintf(noisy_note, sizeof noisy_note, "noisy (n < %d)", CHV_NOISY_BELOW);
    for (size_t r = 0; r < b->n_rows; r++) {
        const chv_breakdown_row *row = &b->rows[r];
        char a[32], as[32], n[32], ns[32], count[32], chance[32], gap[32];
        chv_fmt4(a, sizeof a, row->acc);
        chv_fmt4(as, sizeof as, row->acc_stderr);
        chv_fmt4(n, sizeof n, row->acc_norm);
        chv_fmt4(ns, sizeof ns, row->acc_norm_stderr);
        snprintf(count, sizeof count, "%zu", row->n);
        chv_fmt4(chance, sizeof chance, row->chance);
        chv_fmt_signed4(gap, sizeof gap, row->acc - row->chance);
        const char *note = row->noisy ? noisy_note : "";
        const char *cells_norm[] = {row->key, a, as, n, ns, count, chance, gap, note};
        const char *cells_plain[] = {row->key, a, as, count, chance, gap, note};
        if (chv_md_table_add(table, b->has_acc_norm ? cells_norm : cells_plain) < 0)
            return -1;
    }
    chv_md_table_write(table, out);
    if (b->n_missing > 0)
        fprintf(out, "\n%zu documents lack this field and are not counted.\n", b->n_missing);
    fputc('\n', out);
    return 0;
}

static void write_missing_samples_note(FILE *out, const chv_run *run) {
    size_t without = 0, scored = 0;
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (task->is_group)
            continue;
        scored++;
        without += !task->has_samples;
    }
    if (without == 0)
        return;
    if (without == scored) {
        fprintf(out, "This run folder has no per-sample logs (samples_<task>.jsonl), so the only "
                     "breakdowns are the per-subtask tables of groups, which results.json holds. "
                     "Rerun `cheval run` with `--log-samples` to get the others.\n\n");
        return;
    }
    fprintf(out, "No per-sample log for:");
    for (size_t t = 0; t < run->n_tasks; t++)
        if (!run->tasks[t].is_group && !run->tasks[t].has_samples)
            fprintf(out, " %s", run->tasks[t].name);
    fprintf(out, ". These tasks have no breakdowns.\n\n");
}

/* Says which --group-by fields gave no breakdown, so a typo in a field
 * name does not go unnoticed. */
static void write_unmatched_group_by(FILE *out, const chv_run *run) {
    if (run->n_unmatched_group_by == 0)
        return;
    int any_samples = chv_run_has_samples(run);
    for (size_t i = 0; i < run->n_unmatched_group_by; i++) {
        fprintf(out, "No breakdown by `--group-by ");
        chv_md_cell(out, run->unmatched_group_by[i]);
        if (any_samples)
            fprintf(out, "`: no document of any task has this field.\n\n");
        else
            fprintf(out, "`: this run has no per-sample logs.\n\n");
    }
}

int chv_report_write_markdown(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                              size_t n_breakdowns) {
    write_header(out, run);

    fprintf(out, "## Results\n\n");
    if (chv_report_write_lm_eval_table(out, run) < 0)
        return -1;
    fputc('\n', out);

    if (write_model_card_table(out, run) < 0 || write_perplexity_table(out, run) < 0)
        return -1;

    fprintf(out, "## Breakdowns\n\n");
    fprintf(out, "Rows are sorted by acc. ± is one standard error. Chance is the mean of "
                 "1/(number of choices) over the row's documents. Rows with fewer than %d "
                 "documents are marked noisy.\n\n", CHV_NOISY_BELOW);
    write_missing_samples_note(out, run);
    write_unmatched_group_by(out, run);
    for (size_t i = 0; i < n_breakdowns; i++)
        if (write_breakdown(out, &breakdowns[i]) < 0)
            return -1;

    return ferror(out) ? -1 : 0;
}
