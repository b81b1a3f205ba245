/* report.json: the breakdowns and chance levels as data. */
#include <math.h>
#include <stdlib.h>

#include "report/format.h"
#include "report/report.h"

static cJSON *number_or_null(double value) {
    return isnan(value) ? cJSON_CreateNull() : cJSON_CreateNumber(value);
}

static cJSON *breakdown_json(const chv_breakdown *b) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "task", b->task);
    cJSON_AddStringToObject(item, "by", b->title);
    cJSON_AddNumberToObject(item, "missing", (double)b->n_missing);
    if (b->missing_note != NULL)
        cJSON_AddStringToObject(item, "note", b->missing_note);

    cJSON *rows = cJSON_AddArrayToObject(item, "rows");
    for (size_t r = 0; r < b->n_rows; r++) {
        const chv_breakdown_row *row = &b->rows[r];
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "key", row->key);
        cJSON_AddNumberToObject(entry, "n", (double)row->n);
        cJSON_AddItemToObject(entry, "acc", number_or_null(row->acc));
        cJSON_AddItemToObject(entry, "acc_stderr", number_or_null(row->acc_stderr));
        if (b->has_acc_norm) {
            cJSON_AddItemToObject(entry, "acc_norm", number_or_null(row->acc_norm));
            cJSON_AddItemToObject(entry, "acc_norm_stderr", number_or_null(row->acc_norm_stderr));
        }
        cJSON_AddItemToObject(entry, "chance", number_or_null(row->chance));
        cJSON_AddItemToObject(entry, "acc_minus_chance", number_or_null(row->acc - row->chance));
        cJSON_AddBoolToObject(entry, "noisy", row->noisy);
        cJSON_AddItemToArray(rows, entry);
    }
    return item;
}

int chv_report_write_json(FILE *out, const chv_run *run, const chv_breakdown *breakdowns,
                          size_t n_breakdowns) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model_name", run->model_name);

    cJSON *tasks = cJSON_AddObjectToObject(root, "tasks");
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddBoolToObject(entry, "group", task->is_group);
        cJSON_AddItemToObject(entry, "chance", number_or_null(task->chance));
        cJSON_AddNumberToObject(entry, "n", (double)task->sample_len);
        cJSON_AddBoolToObject(entry, "has_samples", task->has_samples);
        cJSON *metrics = cJSON_AddObjectToObject(entry, "metrics");
        for (size_t m = 0; m < task->n_metrics; m++) {
            cJSON *metric = cJSON_CreateObject();
            cJSON_AddItemToObject(metric, "value", number_or_null(task->metrics[m].value));
            cJSON_AddItemToObject(metric, "stderr", number_or_null(task->metrics[m].stderr_value));
            cJSON_AddItemToObject(metrics, task->metrics[m].name, metric);
        }
        cJSON_AddItemToObject(tasks, task->name, entry);
    }

    cJSON *list = cJSON_AddArrayToObject(root, "breakdowns");
    for (size_t i = 0; i < n_breakdowns; i++)
        cJSON_AddItemToArray(list, breakdown_json(&breakdowns[i]));

    return chv_json_write(out, root);
}
