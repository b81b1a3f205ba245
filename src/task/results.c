#include "task/results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/strbuf.h"
#include "util/fileio.h"

static const char *output_type_name(const chv_task_def *task) {
    return task->spec->output_type == CHV_OUTPUT_ROLLING ? "loglikelihood_rolling"
                                                         : "multiple_choice";
}

/* A subtask's alias is indented under its group when the group is
 * reported, as lm-eval prints it. A subtask run without its whole group
 * has no group row to sit under, so it is not indented. */
static void alias(const chv_run_result *run, size_t index, char *out, size_t n) {
    int grouped = 0;
    for (size_t g = 0; g < run->n_groups; g++)
        grouped |= index >= run->groups[g].first_task && index < run->groups[g].first_task + run->groups[g].n_subtasks;
    snprintf(out, n, "%s%s", grouped ? " - " : "", run->tasks[index].task->name);
}

static void add_metric_keys(cJSON *obj, const chv_metric_value *m) {
    char key[96];
    snprintf(key, sizeof key, "%s,none", m->name);
    cJSON_AddNumberToObject(obj, key, m->value);
    snprintf(key, sizeof key, "%s_stderr,none", m->name);
    if (isnan(m->stderr_value))
        cJSON_AddStringToObject(obj, key, "N/A");
    else
        cJSON_AddNumberToObject(obj, key, m->stderr_value);
}

static cJSON *nullable_long(long value) {
    return value > 0 ? cJSON_CreateNumber((double)value) : cJSON_CreateNull();
}

static cJSON *seed_json(const chv_run_config *config) {
    return config->have_seed ? cJSON_CreateNumber((double)config->seed) : cJSON_CreateNull();
}

static void add_task_sections(cJSON *root, const chv_run_result *run, size_t index, const chv_run_config *config) {
    const chv_task_result *r = &run->tasks[index];
    const chv_task_def *task = r->task;
    char name[256];

    cJSON *results = cJSON_GetObjectItem(root, "results");
    cJSON *entry = cJSON_AddObjectToObject(results, task->name);
    alias(run, index, name, sizeof name);
    cJSON_AddStringToObject(entry, "alias", name);
    for (size_t m = 0; m < r->n_metrics; m++)
        add_metric_keys(entry, &r->metrics[m]);
    cJSON_AddNumberToObject(entry, "sample_len", (double)r->n_effective);

    cJSON *configs = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "configs"), task->name);
    cJSON_AddStringToObject(configs, "task", task->name);
    if (task->group)
        cJSON_AddStringToObject(configs, "group", task->group);
    cJSON_AddStringToObject(configs, "file", task->file);
    cJSON_AddStringToObject(configs, "output_type", output_type_name(task));
    if (task->spec->output_type == CHV_OUTPUT_MULTIPLE_CHOICE)
        cJSON_AddStringToObject(configs, "target_delimiter", task->spec->target_delimiter);
    cJSON_AddNumberToObject(configs, "num_fewshot", 0);
    cJSON_AddStringToObject(configs, "spec", task->spec->source);
    cJSON *metric_names = cJSON_AddArrayToObject(configs, "metrics");
    for (size_t m = 0; m < r->n_metrics; m++)
        cJSON_AddItemToArray(metric_names, cJSON_CreateString(r->metrics[m].name));

    cJSON_AddStringToObject(cJSON_GetObjectItem(root, "versions"), task->name, task->version);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(root, "n-shot"), task->name, 0);

    cJSON *hib = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "higher_is_better"), task->name);
    for (size_t m = 0; m < r->n_metrics; m++)
        cJSON_AddBoolToObject(hib, r->metrics[m].name, r->metrics[m].higher_is_better);

    cJSON *ns = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "n-samples"), task->name);
    cJSON_AddNumberToObject(ns, "original", (double)r->n_original);
    cJSON_AddNumberToObject(ns, "effective", (double)r->n_effective);

    if (!isnan(r->chance))
        cJSON_AddNumberToObject(cJSON_GetObjectItem(root, "chance"), task->name, r->chance);

    cJSON *file = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "task_files"), task->name);
    cJSON_AddStringToObject(file, "path", r->path);
    cJSON_AddStringToObject(file, "sha256", r->sha256);
    cJSON_AddNumberToObject(file, "documents", (double)r->n_original);

    cJSON *sampling = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "sampling"), task->name);
    cJSON_AddItemToObject(sampling, "limit", nullable_long(config->limit));
    cJSON_AddItemToObject(sampling, "seed", seed_json(config));
    cJSON_AddItemToObject(sampling, "sample", nullable_long(config->sample));
    cJSON_AddStringToObject(sampling, "doc_ids_sha256", r->doc_ids_sha256);

    /* Model-dependent counts stay out of "sampling", which describes only
     * which documents ran, so two models' runs compare as the same sample. */
    if (task->spec->output_type == CHV_OUTPUT_MULTIPLE_CHOICE) {
        cJSON *diag = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "diagnostics"), task->name);
        cJSON_AddNumberToObject(diag, "tied_documents", (double)r->n_ties);
        cJSON_AddNumberToObject(diag, "truncated_requests", (double)r->n_truncated);
        cJSON_AddNumberToObject(diag, "long_continuations", (double)r->n_long);
    }
}

static void add_group_sections(cJSON *root, const chv_run_result *run, const chv_group_result *g) {
    const char *name = g->spec->name;
    cJSON *entry = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "groups"), name);
    cJSON_AddStringToObject(entry, "alias", name);
    add_metric_keys(entry, &g->acc);

    cJSON *subtasks = cJSON_AddArrayToObject(cJSON_GetObjectItem(root, "group_subtasks"), name);
    for (size_t j = 0; j < g->n_subtasks; j++)
        cJSON_AddItemToArray(subtasks,
                             cJSON_CreateString(run->tasks[g->first_task + j].task->name));

    cJSON_AddStringToObject(cJSON_GetObjectItem(root, "versions"), name, g->spec->version);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(root, "n-shot"), name, 0);
    cJSON *hib = cJSON_AddObjectToObject(cJSON_GetObjectItem(root, "higher_is_better"), name);
    cJSON_AddBoolToObject(hib, "acc", 1);
}

static void add_config(cJSON *root, const chv_run_config *c) {
    cJSON *config = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(config, "model", c->model ? c->model : "");
    cJSON_AddStringToObject(config, "model_name", c->model_name ? c->model_name : "");
    cJSON_AddNumberToObject(config, "model_num_parameters", (double)c->model_num_parameters);
    cJSON_AddStringToObject(config, "model_dtype", c->model_dtype ? c->model_dtype : "");
    cJSON_AddNumberToObject(config, "max_length", (double)c->max_length);
    cJSON_AddStringToObject(config, "bos", c->bos ? c->bos : "");
    cJSON_AddBoolToObject(config, "wikitext_double_bos", c->wikitext_double_bos);
    cJSON_AddBoolToObject(config, "sample_data", c->sample_data);
    cJSON_AddItemToObject(config, "limit", nullable_long(c->limit));
    cJSON_AddItemToObject(config, "seed", seed_json(c));
    cJSON_AddItemToObject(config, "sample", nullable_long(c->sample));
    cJSON_AddNumberToObject(config, "threads", c->threads);
    cJSON_AddStringToObject(config, "matmul", c->matmul ? c->matmul : "");
    cJSON_AddStringToObject(config, "cheval_version", c->cheval_version ? c->cheval_version : "");
    cJSON_AddStringToObject(config, "git_hash", c->git_hash ? c->git_hash : "");
    cJSON_AddStringToObject(config, "batch_size", "auto");
}

cJSON *chv_results_json(const chv_run_result *run, const chv_run_config *config) {
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    const char *sections[] = {"results",  "groups",    "group_subtasks", "configs",
                              "versions", "n-shot",    "higher_is_better", "n-samples",
                              "chance",   "task_files", "sampling", "diagnostics"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        cJSON_AddObjectToObject(root, sections[i]);

    for (size_t i = 0; i < run->n_tasks; i++)
        add_task_sections(root, run, i, config);
    for (size_t i = 0; i < run->n_groups; i++)
        add_group_sections(root, run, &run->groups[i]);

    /* Present only when a task failed, so a complete run has lm-eval's keys. */
    if (run->n_failures > 0) {
        cJSON *failed = cJSON_AddObjectToObject(root, "failed");
        for (size_t i = 0; i < run->n_failures; i++)
            cJSON_AddStringToObject(failed, run->failures[i].task->name, run->failures[i].message);
    }

    add_config(root, config);
    cJSON_AddStringToObject(root, "git_hash", config->git_hash ? config->git_hash : "");
    cJSON_AddStringToObject(root, "date", config->date ? config->date : "");
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%.2f", config->seconds);
    cJSON_AddStringToObject(root, "total_evaluation_time_seconds", seconds);
    return root;
}

/* ---- Markdown table ---------------------------------------------------- */

#define N_COLUMNS 9

typedef struct table {
    char *(*rows)[N_COLUMNS]; /* rows[0] is the header */
    size_t n_rows;
} table;

static void table_add(table *t, const char *cells[N_COLUMNS]) {
    char *(*rows)[N_COLUMNS] = realloc(t->rows, (t->n_rows + 1) * sizeof *rows);
    if (rows == NULL)
        return;
    t->rows = rows;
    for (int c = 0; c < N_COLUMNS; c++)
        t->rows[t->n_rows][c] = strdup(cells[c]);
    t->n_rows++;
}

static void table_free(table *t) {
    for (size_t r = 0; r < t->n_rows; r++)
        for (int c = 0; c < N_COLUMNS; c++)
            free(t->rows[r][c]);
    free(t->rows);
}

/* Display width in code points (the arrows and ± are one column each). */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(chv_strbuf *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        chv_strbuf_putc(b, ' ');
}

/* Renders the table with every column padded to its widest cell; the
 * numeric columns (Version, n-shot, Value, Stderr) are right-aligned. */
static void table_render(const table *t, chv_strbuf *out) {
    static const int right[N_COLUMNS] = {0, 1, 0, 1, 0, 0, 1, 0, 1};
    size_t widths[N_COLUMNS] = {0};
    for (size_t r = 0; r < t->n_rows; r++)
        for (int c = 0; c < N_COLUMNS; c++) {
            size_t w = width(t->rows[r][c]);
            widths[c] = w > widths[c] ? w : widths[c];
        }
    for (int c = 0; c < N_COLUMNS; c++)
        widths[c] = widths[c] < 3 ? 3 : widths[c];

    for (size_t r = 0; r < t->n_rows; r++) {
        chv_strbuf_putc(out, '|');
        for (int c = 0; c < N_COLUMNS; c++) {
            const char *cell = t->rows[r][c];
            size_t gap = widths[c] - width(cell);
            if (r == 0) { /* headers are centred */
                pad(out, gap / 2);
                chv_strbuf_puts(out, cell);
                pad(out, gap - gap / 2);
            } else if (right[c]) {
                pad(out, gap);
                chv_strbuf_puts(out, cell);
            } else {
                chv_strbuf_puts(out, cell);
                pad(out, gap);
            }
            chv_strbuf_putc(out, '|');
        }
        chv_strbuf_putc(out, '\n');

        if (r == 0) {
            chv_strbuf_putc(out, '|');
            for (int c = 0; c < N_COLUMNS; c++) {
                for (size_t i = 0; i + (right[c] ? 1 : 0) < widths[c]; i++)
                    chv_strbuf_putc(out, '-');
                if (right[c])
                    chv_strbuf_putc(out, ':');
                chv_strbuf_putc(out, '|');
            }
            chv_strbuf_putc(out, '\n');
        }
    }
}

/* lm-eval prints versions as numbers: "1.0" shows as "1", "2.1" as "2.1". */
static void display_version(const char *version, char *out, size_t n) {
    size_t len = strlen(version);
    if (len > 2 && strcmp(version + len - 2, ".0") == 0)
        snprintf(out, n, "%.*s", (int)(len - 2), version);
    else
        snprintf(out, n, "%s", version);
}

/* Adds one row per metric; only the first shows the name and version. */
static void add_metric_rows(table *t, const char *name, const char *version,
                            const chv_metric_value *metrics, size_t n) {
    char shown_version[32];
    display_version(version, shown_version, sizeof shown_version);
    for (size_t m = 0; m < n; m++) {
        char value[64], se[64];
        snprintf(value, sizeof value, "%.4f", metrics[m].value);
        if (isnan(metrics[m].stderr_value))
            snprintf(se, sizeof se, "   N/A");
        else
            snprintf(se, sizeof se, "%.4f", metrics[m].stderr_value);
        const char *cells[N_COLUMNS] = {
            m == 0 ? name : "", m == 0 ? shown_version : "", "none", "0", metrics[m].name,
            metrics[m].higher_is_better ? "\xE2\x86\x91" : "\xE2\x86\x93", value, "\xC2\xB1", se};
        table_add(t, cells);
    }
}

char *chv_results_markdown(const chv_run_result *run) {
    static const char *header[N_COLUMNS] = {"Tasks",  "Version", "Filter", "n-shot", "Metric",
                                            "",       "Value",   "",       "Stderr"};
    chv_strbuf out = {0};
    chv_strbuf_append(&out, "", 0);

    table tasks = {0};
    table_add(&tasks, header);
    for (size_t i = 0; i < run->n_tasks; i++) {
        /* A complete group gets its own row before its first subtask. */
        for (size_t g = 0; g < run->n_groups; g++) {
            if (run->groups[g].first_task == i)
                add_metric_rows(&tasks, run->groups[g].spec->name, run->groups[g].spec->version,
                                &run->groups[g].acc, 1);
        }
        char name[256];
        alias(run, i, name, sizeof name);
        add_metric_rows(&tasks, name, run->tasks[i].task->version, run->tasks[i].metrics,
                        run->tasks[i].n_metrics);
    }
    table_render(&tasks, &out);
    table_free(&tasks);

    if (run->n_groups > 0) {
        table groups = {0};
        const char *group_header[N_COLUMNS];
        memcpy(group_header, header, sizeof group_header);
        group_header[0] = "Groups";
        table_add(&groups, group_header);
        for (size_t g = 0; g < run->n_groups; g++)
            add_metric_rows(&groups, run->groups[g].spec->name, run->groups[g].spec->version,
                            &run->groups[g].acc, 1);
        chv_strbuf_putc(&out, '\n');
        table_render(&groups, &out);
        table_free(&groups);
    }

    if (run->n_failures > 0) {
        chv_strbuf_puts(&out, "\nFailed tasks (not in the table above):\n\n");
        for (size_t i = 0; i < run->n_failures; i++) {
            chv_strbuf_puts(&out, "- ");
            chv_strbuf_puts(&out, run->failures[i].message);
            chv_strbuf_putc(&out, '\n');
        }
    }
    return chv_strbuf_take(&out);
}

int chv_results_write(const chv_run_result *run, const chv_run_config *config, const char *dir,
                      chv_error *err) {
    if (chv_mkdir_p(dir, err) != 0)
        return -1;

    cJSON *root = chv_results_json(run, config);
    char *json = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    char *markdown = chv_results_markdown(run);
    if (json == NULL || markdown == NULL) {
        free(json);
        free(markdown);
        return chv_error_set(err, "out of memory writing results");
    }

    char *json_path = chv_path_join(dir, "results.json");
    char *md_path = chv_path_join(dir, "results.md");
    size_t json_len = strlen(json);
    json = realloc(json, json_len + 2);
    json[json_len] = '\n';
    json[json_len + 1] = '\0';
    int rc = chv_write_file_atomic(json_path, json, json_len + 1, err);
    if (rc == 0)
        rc = chv_write_file_atomic(md_path, markdown, strlen(markdown), err);
    free(json_path);
    free(md_path);
    free(json);
    free(markdown);
    return rc;
}
