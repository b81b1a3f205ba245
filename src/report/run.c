#include "report/run.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/breakdown.h"
#include "util/fileio.h"
#include "util/jsonl.h"
#include "util/lines.h"

/* ---- small JSON helpers ---- */

const cJSON *chv_json_path(const cJSON *object, const char *path) {
    const cJSON *node = object;
    const char *start = path;
    while (node != NULL && *start != '\0') {
        const char *dot = strchr(start, '.');
        size_t len = dot ? (size_t)(dot - start) : strlen(start);
        char name[256];
        if (len >= sizeof name)
            return NULL;
        memcpy(name, start, len);
        name[len] = '\0';

        node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, name) : NULL;
        start = dot ? dot + 1 : start + len;
    }
    return node;
}

char *chv_json_key(const cJSON *value) {
    char buf[64];
    if (cJSON_IsString(value))
        return strdup(value->valuestring);
    if (cJSON_IsBool(value))
        return strdup(cJSON_IsTrue(value) ? "true" : "false");
    if (cJSON_IsNumber(value)) {
        snprintf(buf, sizeof buf, "%.15g", value->valuedouble);
        return strdup(buf);
    }
    return NULL;
}

static char *json_string_or(const cJSON *object, const char *name, const char *fallback) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (cJSON_IsString(item))
        return strdup(item->valuestring);
    if (cJSON_IsNumber(item)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.15g", item->valuedouble);
        return strdup(buf);
    }
    return fallback ? strdup(fallback) : NULL;
}

/* Returns a number, or NaN for "N/A", null or a missing value. */
static double json_number(const cJSON *item) {
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

/* ---- results.json ---- */

/* Converts a byte offset into a 1-based line and column. */
static void offset_to_line_column(const char *text, size_t offset, long *line, long *column) {
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static cJSON *parse_results_json(const char *path, chv_error *err) {
    size_t len = 0;
    char *text = chv_read_file(path, &len, err);
    if (text == NULL)
        return NULL;

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        size_t offset = (end != NULL && end >= text) ? (size_t)(end - text) : 0;
        long line, column;
        offset_to_line_column(text, offset, &line, &column);
        /* A complete results.json ends with its closing brace, so a file
         * that ends on anything else was most likely cut short. */
        size_t last = len;
        while (last > 0 && (text[last - 1] == ' ' || text[last - 1] == '\n' ||
                            text[last - 1] == '\r' || text[last - 1] == '\t'))
            last--;
        int truncated = last == 0 || text[last - 1] != '}';
        chv_error_set(err, "%s:%ld:%ld: invalid JSON%s (byte %zu of %zu); rerun `cheval run` "
                      "or restore the file", path, line, column,
                      truncated ? ", and the file ends early (truncated?)" : "", offset + 1, len);
        free(text);
        return NULL;
    }
    free(text);

    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "results"))) {
        cJSON_Delete(root);
        chv_error_set(err, "%s: no \"results\" object; is this a cheval or lm-eval results file?",
                      path);
        return NULL;
    }
    return root;
}

/* Adds or finds the metric named name in task. */
static chv_metric *task_metric_slot(chv_task *task, const char *name) {
    for (size_t i = 0; i < task->n_metrics; i++)
        if (strcmp(task->metrics[i].name, name) == 0)
            return &task->metrics[i];

    chv_metric *grown = realloc(task->metrics, (task->n_metrics + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    task->metrics = grown;
    chv_metric *metric = &task->metrics[task->n_metrics++];
    metric->name = strdup(name);
    metric->value = NAN;
    metric->stderr_value = NAN;
    metric->higher_is_better = -1;
    return metric;
}

/* Reads the "metric,filter" keys of one results entry. */
static int read_task_metrics(chv_task *task, const cJSON *entry) {
    const cJSON *item;
    cJSON_ArrayForEach(item, entry) {
        const char *comma = strchr(item->string, ',');
        if (comma == NULL)
            continue;

        char name[128];
        size_t len = (size_t)(comma - item->string);
        if (len >= sizeof name)
            continue;
        memcpy(name, item->string, len);
        name[len] = '\0';

        int is_stderr = len > 7 && strcmp(name + len - 7, "_stderr") == 0;
        if (is_stderr)
            name[len - 7] = '\0';

        chv_metric *metric = task_metric_slot(task, name);
        if (metric == NULL || metric->name == NULL)
            return -1;
        if (is_stderr)
            metric->stderr_value = json_number(item);
        else
            metric->value = json_number(item);
    }
    return 0;
}

static int read_task(chv_task *task, const char *name, const cJSON *entry, const cJSON *root,
                     int is_group) {
    memset(task, 0, sizeof *task);
    task->name = strdup(name);
    task->alias = json_string_or(entry, "alias", name);
    task->version = json_string_or(cJSON_GetObjectItemCaseSensitive(root, "versions"), name, "N/A");
    task->is_group = is_group;
    task->chance = NAN;
    task->sample_len = -1;
    task->n_shot = -1;
    if (task->name == NULL || task->alias == NULL || task->version == NULL)
        return -1;

    const cJSON *n_shot = chv_json_path(cJSON_GetObjectItemCaseSensitive(root, "n-shot"), name);
    if (cJSON_IsNumber(n_shot))
        task->n_shot = n_shot->valueint;

    const cJSON *sample_len = cJSON_GetObjectItemCaseSensitive(entry, "sample_len");
    if (cJSON_IsNumber(sample_len))
        task->sample_len = (long)sample_len->valuedouble;
    const cJSON *effective = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "n-samples"), name),
        "effective");
    if (task->sample_len < 0 && cJSON_IsNumber(effective))
        task->sample_len = (long)effective->valuedouble;

    const cJSON *chance = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "chance"), name);
    if (cJSON_IsNumber(chance))
        task->chance = chance->valuedouble;

    if (read_task_metrics(task, entry) < 0)
        return -1;

    const cJSON *directions = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "higher_is_better"), name);
    for (size_t i = 0; i < task->n_metrics; i++) {
        const cJSON *flag = cJSON_GetObjectItemCaseSensitive(directions, task->metrics[i].name);
        if (cJSON_IsBool(flag))
            task->metrics[i].higher_is_better = cJSON_IsTrue(flag);
        else if (strstr(task->metrics[i].name, "perplexity") != NULL ||
                 strcmp(task->metrics[i].name, "bits_per_byte") == 0)
            task->metrics[i].higher_is_better = 0;
        else if (strncmp(task->metrics[i].name, "acc", 3) == 0)
            task->metrics[i].higher_is_better = 1;
    }

    const cJSON *subtasks = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "group_subtasks"), name);
    if (is_group && cJSON_IsArray(subtasks)) {
        size_t n = (size_t)cJSON_GetArraySize(subtasks);
        task->subtasks = calloc(n ? n : 1, sizeof *task->subtasks);
        if (task->subtasks == NULL)
            return -1;
        const cJSON *sub;
        cJSON_ArrayForEach(sub, subtasks) {
            if (cJSON_IsString(sub))
                task->subtasks[task->n_subtasks++] = strdup(sub->valuestring);
        }
    }
    return 0;
}

static int read_tasks(chv_run *run, chv_error *err) {
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(run->results_json, "results");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(run->results_json, "groups");
    size_t n = (size_t)cJSON_GetArraySize(results) +
               (cJSON_IsObject(groups) ? (size_t)cJSON_GetArraySize(groups) : 0);

    run->tasks = calloc(n ? n : 1, sizeof *run->tasks);
    if (run->tasks == NULL)
        return chv_error_set(err, "out of memory reading %s/results.json", run->dir);

    const cJSON *entry;
    cJSON_ArrayForEach(entry, results) {
        if (!cJSON_IsObject(entry))
            return chv_error_set(err, "%s/results.json: results.%s is not an object", run->dir,
                                 entry->string);
        /* A group's own entry may also appear under "results" (lm-eval
         * does this); it is read once, from "groups". */
        if (cJSON_IsObject(groups) && cJSON_GetObjectItemCaseSensitive(groups, entry->string))
            continue;
        if (read_task(&run->tasks[run->n_tasks++], entry->string, entry, run->results_json, 0) < 0)
            return chv_error_set(err, "out of memory reading %s/results.json", run->dir);
    }
    if (cJSON_IsObject(groups)) {
        cJSON_ArrayForEach(entry, groups) {
            if (!cJSON_IsObject(entry))
                continue;
            if (read_task(&run->tasks[run->n_tasks++], entry->string, entry, run->results_json, 1) < 0)
                return chv_error_set(err, "out of memory reading %s/results.json", run->dir);
        }
    }
    return 0;
}

/* ---- samples_<task>.jsonl ---- */

static void wrong_doc_free(chv_wrong_doc *doc) {
    free(doc->prompt);
    for (int i = 0; i < doc->n_choices; i++)
        free(doc->choices[i]);
    free(doc->choices);
}

/* Keeps the prompt, choices, gold and chosen answer of a wrong document. */
static int keep_wrong_doc(chv_task *task, const cJSON *record, long doc_id, size_t max_wrong) {
    task->n_wrong_total++;
    if (task->n_wrong >= max_wrong)
        return 0;

    if (task->wrong == NULL) {
        task->wrong = calloc(max_wrong, sizeof *task->wrong);
        if (task->wrong == NULL)
            return -1;
    }
    chv_wrong_doc *doc = &task->wrong[task->n_wrong++];
    doc->doc_id = doc_id;
    doc->target = (int)json_number(cJSON_GetObjectItemCaseSensitive(record, "target"));
    doc->pred = (int)json_number(cJSON_GetObjectItemCaseSensitive(record, "pred"));

    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(record, "choices");
    int n = cJSON_GetArraySize(choices);
    doc->choices = calloc(n > 0 ? (size_t)n : 1, sizeof *doc->choices);
    if (doc->choices == NULL)
        return -1;
    const cJSON *choice;
    cJSON_ArrayForEach(choice, choices) {
        doc->choices[doc->n_choices++] = strdup(cJSON_IsString(choice) ? choice->valuestring : "");
    }

    /* All requests of a multiple-choice document share the context except
     * in tasks that vary it (WinoGrande); the gold request's is shown. */
    const cJSON *requests = cJSON_GetObjectItemCaseSensitive(record, "requests");
    int gold_request = doc->target >= 0 && doc->target < cJSON_GetArraySize(requests) ? doc->target : 0;
    const cJSON *context = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(requests, gold_request),
                                                           "context");
    doc->prompt = strdup(cJSON_IsString(context) ? context->valuestring : "");
    return doc->prompt == NULL ? -1 : 0;
}

static int read_sample(chv_task *task, const cJSON *record, chv_sample *sample,
                       const char *where, size_t max_wrong, chv_error *err) {
    memset(sample, 0, sizeof *sample);
    const cJSON *doc_id = cJSON_GetObjectItemCaseSensitive(record, "doc_id");
    if (!cJSON_IsNumber(doc_id))
        return chv_error_set(err, "%s: missing numeric \"doc_id\"", where);
    sample->doc_id = (long)doc_id->valuedouble;

    sample->acc = json_number(cJSON_GetObjectItemCaseSensitive(record, "acc"));
    sample->acc_norm = json_number(cJSON_GetObjectItemCaseSensitive(record, "acc_norm"));
    sample->acc_bytes = json_number(cJSON_GetObjectItemCaseSensitive(record, "acc_bytes"));
    sample->logprob = json_number(cJSON_GetObjectItemCaseSensitive(record, "logprob"));
    sample->words = json_number(cJSON_GetObjectItemCaseSensitive(record, "words"));
    sample->bytes = json_number(cJSON_GetObjectItemCaseSensitive(record, "bytes"));
    sample->n_choices = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(record, "choices"));

    int rolling = isnan(sample->acc) && !isnan(sample->logprob);
    if (isnan(sample->acc) && !rolling)
        return chv_error_set(err, "%s: the record has neither \"acc\" nor \"logprob\"", where);
    if (rolling && (isnan(sample->words) || isnan(sample->bytes)))
        return chv_error_set(err, "%s: a perplexity record needs \"words\" and \"bytes\"", where);
    task->is_rolling = rolling;

    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(record, "doc");
    if (task->n_breakdowns > 0) {
        sample->keys = calloc(task->n_breakdowns, sizeof *sample->keys);
        if (sample->keys == NULL)
            return chv_error_set(err, "out of memory reading %s", where);
        for (size_t b = 0; b < task->n_breakdowns; b++)
            sample->keys[b] = chv_breakdown_key(doc, &task->breakdowns[b]);
    }

    if (!rolling && sample->acc == 0.0 && max_wrong > 0 &&
        keep_wrong_doc(task, record, sample->doc_id, max_wrong) < 0)
        return chv_error_set(err, "out of memory reading %s", where);
    return 0;
}

static int read_samples(chv_task *task, const char *path, const chv_run_load_options *options,
                        chv_error *err) {
    if (chv_breakdown_specs_for(task->name, options->group_by, options->n_group_by,
                                &task->breakdowns, &task->n_breakdowns) < 0)
        return chv_error_set(err, "out of memory preparing breakdowns for %s", task->name);

    chv_jsonl *reader = chv_jsonl_open(path, err);
    if (reader == NULL)
        return -1;

    size_t capacity = task->sample_len > 0 ? (size_t)task->sample_len : 64;
    task->samples = malloc(capacity * sizeof *task->samples);
    if (task->samples == NULL) {
        chv_jsonl_close(reader);
        return chv_error_set(err, "out of memory reading %s", path);
    }

    cJSON *record;
    int rc;
    while ((rc = chv_jsonl_next(reader, &record, err)) == 1) {
        char where[1200];
        snprintf(where, sizeof where, "%s:%ld", path, chv_jsonl_line(reader));

        if (task->n_samples == capacity) {
            capacity *= 2;
            chv_sample *grown = realloc(task->samples, capacity * sizeof *grown);
            if (grown == NULL) {
                cJSON_Delete(record);
                rc = chv_error_set(err, "out of memory reading %s", path);
                break;
            }
            task->samples = grown;
        }

        chv_sample *sample = &task->samples[task->n_samples];
        rc = read_sample(task, record, sample, where, options->max_wrong, err);
        cJSON_Delete(record);
        if (rc < 0)
            break;
        task->n_samples++;

        if (task->n_samples > 1 && sample->doc_id <= task->samples[task->n_samples - 2].doc_id) {
            rc = chv_error_set(err, "%s: doc_id %ld is not above the previous doc_id %ld; sample "
                               "logs must be in doc_id order without repeats",
                               where, sample->doc_id, task->samples[task->n_samples - 2].doc_id);
            break;
        }
    }
    chv_jsonl_close(reader);
    if (rc < 0)
        return -1;

    if (task->sample_len >= 0 && (long)task->n_samples != task->sample_len)
        return chv_error_set(err, "%s: %zu records, but results.json says %s evaluated %ld "
                             "documents (sample_len / n-samples effective); the log does not "
                             "belong to this results file", path, task->n_samples, task->name,
                             task->sample_len);
    task->has_samples = 1;
    return 0;
}

/* Fills a group's document count from its subtasks when results.json has
 * none. */
static void fill_group_sizes(chv_run *run) {
    for (size_t t = 0; t < run->n_tasks; t++) {
        chv_task *group = &run->tasks[t];
        if (!group->is_group || group->sample_len >= 0 || group->n_subtasks == 0)
            continue;
        long total = 0;
        for (size_t s = 0; s < group->n_subtasks; s++) {
            chv_task *sub = chv_run_find_task(run, group->subtasks[s]);
            if (sub == NULL || sub->sample_len < 0) {
                total = -1;
                break;
            }
            total += sub->sample_len;
        }
        group->sample_len = total;
    }
}

/* Fills chance from the samples (mean of 1/choices) when results.json has
 * none, and a group's from its subtasks. */
static void fill_chance(chv_run *run) {
    for (size_t t = 0; t < run->n_tasks; t++) {
        chv_task *task = &run->tasks[t];
        if (!isnan(task->chance) || !task->has_samples || task->is_rolling)
            continue;
        double sum = 0.0;
        size_t counted = 0;
        for (size_t i = 0; i < task->n_samples; i++) {
            if (task->samples[i].n_choices > 0) {
                sum += 1.0 / task->samples[i].n_choices;
                counted++;
            }
        }
        if (counted > 0)
            task->chance = sum / (double)counted;
    }

    for (size_t t = 0; t < run->n_tasks; t++) {
        chv_task *group = &run->tasks[t];
        if (!group->is_group || !isnan(group->chance) || group->n_subtasks == 0)
            continue;
        double sum = 0.0;
        size_t counted = 0;
        for (size_t s = 0; s < group->n_subtasks; s++) {
            chv_task *sub = chv_run_find_task(run, group->subtasks[s]);
            if (sub != NULL && !isnan(sub->chance)) {
                sum += sub->chance;
                counted++;
            }
        }
        if (counted == group->n_subtasks)
            group->chance = sum / (double)counted;
    }
}

/* Rejects a samples_<task>.jsonl whose task is not in results.json. */
static int check_unknown_sample_logs(const chv_run *run, chv_error *err) {
    DIR *dir = opendir(run->dir);
    if (dir == NULL)
        return chv_error_set(err, "%s: cannot list the folder", run->dir);

    int rc = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        size_t len = strlen(name);
        if (strncmp(name, "samples_", 8) != 0 || len <= 14 || strcmp(name + len - 6, ".jsonl") != 0)
            continue;

        char task[512];
        size_t task_len = len - 8 - 6;
        if (task_len >= sizeof task)
            continue;
        memcpy(task, name + 8, task_len);
        task[task_len] = '\0';
        if (chv_run_find_task(run, task) == NULL) {
            rc = chv_error_set(err, "%s/%s: task \"%s\" is not in results.json; the log does "
                               "not belong to this run (remove it or rerun)", run->dir, name, task);
            break;
        }
    }
    closedir(dir);
    return rc;
}

/* 1 when some document of a non-rolling task has a key for the field
 * breakdown at path. */
static int group_by_matched(const chv_run *run, const char *path) {
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        if (task->is_group || task->is_rolling)
            continue;
        for (size_t b = 0; b < task->n_breakdowns; b++) {
            const chv_breakdown_spec *spec = &task->breakdowns[b];
            int by_field = spec->kind == CHV_KEY_FIELD || spec->kind == CHV_KEY_BLIMP_FIELD;
            if (!by_field || strcmp(spec->path, path) != 0)
                continue;
            for (size_t i = 0; i < task->n_samples; i++)
                if (task->samples[i].keys != NULL && task->samples[i].keys[b] != NULL)
                    return 1;
        }
    }
    return 0;
}

/* Records the --group-by fields that give no breakdown, so that the CLI
 * can warn and report.md can mention them. */
static int find_unmatched_group_by(chv_run *run, const chv_run_load_options *options) {
    if (options->n_group_by == 0)
        return 0;
    run->unmatched_group_by = calloc(options->n_group_by, sizeof *run->unmatched_group_by);
    if (run->unmatched_group_by == NULL)
        return -1;
    for (size_t g = 0; g < options->n_group_by; g++) {
        const char *path = options->group_by[g];
        int seen = 0;
        for (size_t i = 0; i < run->n_unmatched_group_by; i++)
            seen |= strcmp(run->unmatched_group_by[i], path) == 0;
        if (seen || group_by_matched(run, path))
            continue;
        run->unmatched_group_by[run->n_unmatched_group_by] = strdup(path);
        if (run->unmatched_group_by[run->n_unmatched_group_by] == NULL)
            return -1;
        run->n_unmatched_group_by++;
    }
    return 0;
}

static char *folder_name(const char *dir) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    return strndup(dir + start, len - start);
}

chv_run *chv_run_load(const char *run_dir, const chv_run_load_options *options, chv_error *err) {
    chv_run_load_options defaults = {1, NULL, 0, 50};
    if (options == NULL)
        options = &defaults;

    if (!chv_dir_exists(run_dir)) {
        chv_error_set(err, "%s: run folder not found (expected the output folder of `cheval run`)",
                      run_dir);
        return NULL;
    }

    chv_run *run = calloc(1, sizeof *run);
    if (run == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    run->dir = strdup(run_dir);

    char *results_path = chv_path_join(run_dir, "results.json");
    if (!chv_file_exists(results_path)) {
        chv_error_set(err, "%s: not found; a run folder needs the results.json that `cheval run` "
                      "writes", results_path);
        free(results_path);
        chv_run_free(run);
        return NULL;
    }
    run->results_json = parse_results_json(results_path, err);
    free(results_path);
    if (run->results_json == NULL || read_tasks(run, err) < 0) {
        chv_run_free(run);
        return NULL;
    }

    const cJSON *config = cJSON_GetObjectItemCaseSensitive(run->results_json, "config");
    run->model_name = json_string_or(config, "model_name", NULL);
    if (run->model_name == NULL)
        run->model_name = folder_name(run_dir);

    if (options->load_samples) {
        if (check_unknown_sample_logs(run, err) < 0) {
            chv_run_free(run);
            return NULL;
        }
        for (size_t t = 0; t < run->n_tasks; t++) {
            chv_task *task = &run->tasks[t];
            if (task->is_group)
                continue;
            char name[600];
            snprintf(name, sizeof name, "samples_%s.jsonl", task->name);
            char *path = chv_path_join(run_dir, name);
            int rc = chv_file_exists(path) ? read_samples(task, path, options, err) : 0;
            free(path);
            if (rc < 0) {
                chv_run_free(run);
                return NULL;
            }
        }
    }
    fill_group_sizes(run);
    fill_chance(run);
    if (find_unmatched_group_by(run, options) < 0) {
        chv_error_set(err, "out of memory");
        chv_run_free(run);
        return NULL;
    }
    return run;
}

static void task_free(chv_task *task) {
    free(task->name);
    free(task->alias);
    free(task->version);
    for (size_t i = 0; i < task->n_metrics; i++)
        free(task->metrics[i].name);
    free(task->metrics);
    for (size_t i = 0; i < task->n_subtasks; i++)
        free(task->subtasks[i]);
    free(task->subtasks);
    for (size_t i = 0; i < task->n_samples; i++) {
        if (task->samples[i].keys != NULL) {
            for (size_t b = 0; b < task->n_breakdowns; b++)
                free(task->samples[i].keys[b]);
            free(task->samples[i].keys);
        }
    }
    free(task->samples);
    chv_breakdown_specs_free(task->breakdowns, task->n_breakdowns);
    for (size_t i = 0; i < task->n_wrong; i++)
        wrong_doc_free(&task->wrong[i]);
    free(task->wrong);
}

void chv_run_free(chv_run *run) {
    if (run == NULL)
        return;
    for (size_t t = 0; t < run->n_tasks; t++)
        task_free(&run->tasks[t]);
    free(run->tasks);
    cJSON_Delete(run->results_json);
    free(run->model_name);
    free(run->dir);
    for (size_t i = 0; i < run->n_unmatched_group_by; i++)
        free(run->unmatched_group_by[i]);
    free(run->unmatched_group_by);
    free(run);
}

chv_task *chv_run_find_task(const chv_run *run, const char *name) {
    for (size_t t = 0; t < run->n_tasks; t++)
        if (strcmp(run->tasks[t].name, name) == 0)
            return &run->tasks[t];
    return NULL;
}

int chv_run_has_samples(const chv_run *run) {
    for (size_t t = 0; t < run->n_tasks; t++)
        if (run->tasks[t].has_samples)
            return 1;
    return 0;
}

const chv_metric *chv_task_metric(const chv_task *task, const char *name) {
    for (size_t i = 0; i < task->n_metrics; i++)
        if (strcmp(task->metrics[i].name, name) == 0)
            return &task->metrics[i];
    return NULL;
}

int chv_run_is_group_member(const chv_run *run, const chv_task *task) {
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *group = &run->tasks[t];
        for (size_t s = 0; group->is_group && s < group->n_subtasks; s++) {
            if (strcmp(group->subtasks[s], task->name) == 0)
                return 1;
        }
    }
    return 0;
}

int chv_run_is_sample_data(const chv_run *run) {
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(run->results_json, "config");
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "sample_data"));
}

const cJSON *chv_run_failed_tasks(const chv_run *run) {
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(run->results_json, "failed");
    return cJSON_IsObject(failed) && failed->child != NULL ? failed : NULL;
}

const char *chv_run_failure_message(const cJSON *entry) {
    if (!cJSON_IsString(entry))
        return "(no message)";
    const char *message = entry->valuestring;
    size_t n = entry->string != NULL ? strlen(entry->string) : 0;
    if (n > 0 && strncmp(message, entry->string, n) == 0 && message[n] == ':' && message[n + 1] == ' ')
        return message + n + 2;
    return message;
}

void chv_run_failed_summary(const cJSON *failed, char *buf, size_t size) {
    int n = cJSON_GetArraySize(failed);
    snprintf(buf, size, "%d task%s failed and %s no results", n, n == 1 ? "" : "s", n == 1 ? "has" : "have");
}

const chv_report_setting chv_report_settings[] = {
    {"model", "model"},
    {"model_num_parameters", "parameters"},
    {"model_dtype", "dtype"},
    {"max_length", "max length"},
    {"bos", "BOS"},
    {"limit", "limit"},
    {"seed", "seed"},
    {"matmul", "matrix products"},
    {"cheval_version", "cheval version"},
    {"git_hash", "git commit"},
};
const size_t chv_n_report_settings = sizeof chv_report_settings / sizeof chv_report_settings[0];
