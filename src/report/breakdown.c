#include "report/breakdown.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/stats.h"

/* ---- which breakdowns a task gets ---- */

typedef struct default_spec {
    const char *task_prefix;
    const char *title;
    const char *path;
    chv_key_kind kind;
    const char *missing_note;
} default_spec;

static const default_spec default_specs[] = {
    {"arithmark", "metadata.topic", "metadata.topic", CHV_KEY_FIELD, NULL},
    {"arithmark", "metadata.difficulty", "metadata.difficulty", CHV_KEY_FIELD, NULL},
    {"arithmark", "metadata.operator_count", "metadata.operator_count", CHV_KEY_FIELD, NULL},
    {"blimp", "field", "field", CHV_KEY_BLIMP_FIELD, NULL},
    {"blimp", "linguistics_term", "linguistics_term", CHV_KEY_FIELD, NULL},
    {"hellaswag", "source (ActivityNet or WikiHow)", "source_id", CHV_KEY_HELLASWAG_SOURCE,
     "not available: the documents carry no source_id (the txt format has none; the official "
     "JSONL does)"},
    {"hellaswag", "split_type", "split_type", CHV_KEY_FIELD,
     "not available: the documents carry no split_type (the txt format has none; the official "
     "JSONL does)"},
    {"arc", "exam source (id prefix)", "id", CHV_KEY_ID_PREFIX, NULL},
};

static int has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int append_spec(chv_breakdown_spec **specs, size_t *n, const char *title,
                       const char *path, chv_key_kind kind, const char *missing_note) {
    chv_breakdown_spec *grown = realloc(*specs, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    *specs = grown;
    chv_breakdown_spec *spec = &grown[(*n)++];
    spec->title = strdup(title);
    spec->path = strdup(path);
    spec->kind = kind;
    spec->missing_note = missing_note ? strdup(missing_note) : NULL;
    return spec->title && spec->path ? 0 : -1;
}

int chv_breakdown_specs_for(const char *task_name, const char *const *group_by,
                            size_t n_group_by, chv_breakdown_spec **specs, size_t *n_specs) {
    *specs = NULL;
    *n_specs = 0;

    for (size_t i = 0; i < sizeof default_specs / sizeof default_specs[0]; i++) {
        const default_spec *d = &default_specs[i];
        if (has_prefix(task_name, d->task_prefix) &&
            append_spec(specs, n_specs, d->title, d->path, d->kind, d->missing_note) < 0)
            return -1;
    }

    for (size_t g = 0; g < n_group_by; g++) {
        int duplicate = 0;
        for (size_t i = 0; i < *n_specs; i++)
            duplicate |= ((*specs)[i].kind == CHV_KEY_FIELD || (*specs)[i].kind == CHV_KEY_BLIMP_FIELD) &&
                         strcmp((*specs)[i].path, group_by[g]) == 0;
        if (!duplicate && append_spec(specs, n_specs, group_by[g], group_by[g], CHV_KEY_FIELD, NULL) < 0)
            return -1;
    }
    return 0;
}

void chv_breakdown_specs_free(chv_breakdown_spec *specs, size_t n_specs) {
    for (size_t i = 0; i < n_specs; i++) {
        free(specs[i].title);
        free(specs[i].path);
        free(specs[i].missing_note);
    }
    free(specs);
}

char *chv_breakdown_key(const cJSON *doc, const chv_breakdown_spec *spec) {
    const cJSON *value = chv_json_path(doc, spec->path);
    char *key = chv_json_key(value);
    if (key == NULL || spec->kind == CHV_KEY_FIELD)
        return key;

    if (spec->kind == CHV_KEY_BLIMP_FIELD) {
        /* One paradigm of the official data (principle_A_case_2) spells
         * the field "syntax/semantics" where the others use
         * "syntax_semantics"; both mean the same field. */
        for (char *c = key; *c != '\0'; c++)
            *c = *c == '/' ? '_' : *c;
        return key;
    }

    if (spec->kind == CHV_KEY_ID_PREFIX) {
        /* "Mercury_7220990" -> "Mercury", "MCAS_2000_4_6" -> "MCAS", and
         * an id without an underscore keeps its leading letters:
         * "CSZ20679" -> "CSZ". */
        char *underscore = strchr(key, '_');
        if (underscore != NULL) {
            *underscore = '\0';
            return key;
        }
        size_t letters = 0;
        while (isalpha((unsigned char)key[letters]))
            letters++;
        if (letters > 0)
            key[letters] = '\0';
        return key;
    }

    /* HellaSwag's official JSONL has source_id "activitynet~v_..." or
     * "wikihow~12345"; anything else keeps its text before '~'. */
    const char *source = has_prefix(key, "activitynet") ? "ActivityNet"
                         : has_prefix(key, "wikihow")   ? "WikiHow"
                                                        : NULL;
    if (source != NULL) {
        free(key);
        return strdup(source);
    }
    char *tilde = strchr(key, '~');
    if (tilde != NULL)
        *tilde = '\0';
    return key;
}

/* ---- computing rows ---- */

typedef struct keyed_sample {
    const char *key;
    const chv_sample *sample;
} keyed_sample;

static int compare_keyed(const void *a, const void *b) {
    return strcmp(((const keyed_sample *)a)->key, ((const keyed_sample *)b)->key);
}

static int compare_rows(const void *a, const void *b) {
    const chv_breakdown_row *x = a, *y = b;
    if (x->acc != y->acc)
        return x->acc < y->acc ? 1 : -1;
    return strcmp(x->key, y->key);
}

static int fill_row(chv_breakdown_row *row, const keyed_sample *items, size_t n, int has_norm) {
    double *acc = malloc(n * sizeof *acc);
    double *norm = malloc(n * sizeof *norm);
    if (acc == NULL || norm == NULL) {
        free(acc);
        free(norm);
        return -1;
    }

    double chance_sum = 0.0;
    size_t chance_n = 0;
    for (size_t i = 0; i < n; i++) {
        acc[i] = items[i].sample->acc;
        norm[i] = items[i].sample->acc_norm;
        if (items[i].sample->n_choices > 0) {
            chance_sum += 1.0 / items[i].sample->n_choices;
            chance_n++;
        }
    }

    row->key = strdup(items[0].key);
    row->n = n;
    row->acc = chv_mean(acc, n);
    row->acc_stderr = chv_stderr_of_mean(acc, n);
    row->acc_norm = has_norm ? chv_mean(norm, n) : NAN;
    row->acc_norm_stderr = has_norm ? chv_stderr_of_mean(norm, n) : NAN;
    row->chance = chance_n > 0 ? chance_sum / (double)chance_n : NAN;
    row->noisy = n < CHV_NOISY_BELOW;
    free(acc);
    free(norm);
    return row->key ? 0 : -1;
}

/* Groups items by key into rows sorted by acc. Sorts items in place. */
static int build_rows(chv_breakdown *out, keyed_sample *items, size_t n) {
    qsort(items, n, sizeof *items, compare_keyed);
    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    if (out->rows == NULL)
        return -1;

    size_t start = 0;
    while (start < n) {
        size_t end = start + 1;
        while (end < n && strcmp(items[end].key, items[start].key) == 0)
            end++;
        if (fill_row(&out->rows[out->n_rows++], items + start, end - start, out->has_acc_norm) < 0)
            return -1;
        start = end;
    }
    qsort(out->rows, out->n_rows, sizeof *out->rows, compare_rows);
    return 0;
}

/* acc_norm is shown when results.json reports it for the task and every
 * sample carries it. */
static int task_has_acc_norm(const chv_task *task) {
    if (chv_task_metric(task, "acc_norm") == NULL)
        return 0;
    for (size_t i = 0; i < task->n_samples; i++)
        if (isnan(task->samples[i].acc_norm))
            return 0;
    return task->n_samples > 0;
}

/* Appends one breakdown over the samples of tasks[0..n_tasks) whose spec
 * title is title. Keeps it when at least one document has the field or
 * when the spec explains why the field is missing. */
static int add_breakdown(chv_breakdown **list, size_t *count, const char *task_name,
                         const chv_task *const *tasks, size_t n_tasks, const char *title) {
    size_t total = 0;
    for (size_t t = 0; t < n_tasks; t++)
        total += tasks[t]->n_samples;
    keyed_sample *items = malloc((total ? total : 1) * sizeof *items);
    if (items == NULL)
        return -1;

    size_t n = 0, missing = 0;
    int has_norm = 1;
    const char *note = NULL;
    for (size_t t = 0; t < n_tasks; t++) {
        const chv_task *task = tasks[t];
        size_t b = 0;
        while (b < task->n_breakdowns && strcmp(task->breakdowns[b].title, title) != 0)
            b++;
        if (b == task->n_breakdowns)
            continue;
        note = task->breakdowns[b].missing_note;
        has_norm &= task_has_acc_norm(task);
        for (size_t i = 0; i < task->n_samples; i++) {
            const chv_sample *sample = &task->samples[i];
            if (sample->keys == NULL || sample->keys[b] == NULL)
                missing++;
            else
                items[n++] = (keyed_sample){sample->keys[b], sample};
        }
    }
    if (n == 0 && note == NULL) {
        free(items);
        return 0;
    }

    chv_breakdown *grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (grown == NULL) {
        free(items);
        return -1;
    }
    *list = grown;
    chv_breakdown *out = &grown[(*count)++];
    memset(out, 0, sizeof *out);
    out->task = strdup(task_name);
    out->title = strdup(title);
    out->n_missing = missing;
    out->missing_note = n == 0 ? note : NULL;
    out->has_acc_norm = has_norm;

    int rc = build_rows(out, items, n);
    free(items);
    return rc;
}

/* One row per subtask of a group, from the subtasks' results entries. */
static int add_subtask_breakdown(chv_breakdown **list, size_t *count, const chv_run *run,
                                 const chv_task *group) {
    chv_breakdown *grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    *list = grown;
    chv_breakdown *out = &grown[(*count)++];
    memset(out, 0, sizeof *out);
    out->task = strdup(group->name);
    out->title = strdup("subtask");
    out->rows = calloc(group->n_subtasks ? group->n_subtasks : 1, sizeof *out->rows);
    if (out->task == NULL || out->title == NULL || out->rows == NULL)
        return -1;

    out->has_acc_norm = 1;
    for (size_t s = 0; s < group->n_subtasks; s++) {
        const chv_task *sub = chv_run_find_task(run, group->subtasks[s]);
        const chv_metric *acc = sub ? chv_task_metric(sub, "acc") : NULL;
        if (acc == NULL)
            continue;
        const chv_metric *norm = chv_task_metric(sub, "acc_norm");
        out->has_acc_norm &= norm != NULL;

        chv_breakdown_row *row = &out->rows[out->n_rows++];
        row->key = strdup(sub->name);
        row->n = sub->sample_len > 0 ? (size_t)sub->sample_len : 0;
        row->acc = acc->value;
        row->acc_stderr = acc->stderr_value;
        row->acc_norm = norm ? norm->value : NAN;
        row->acc_norm_stderr = norm ? norm->stderr_value : NAN;
        row->chance = sub->chance;
        row->noisy = row->n < CHV_NOISY_BELOW;
        if (row->key == NULL)
            return -1;
    }
    qsort(out->rows, out->n_rows, sizeof *out->rows, compare_rows);
    return 0;
}

static int add_group_breakdowns(chv_breakdown **list, size_t *count, const chv_run *run,
                                const chv_task *group) {
    if (group->n_subtasks == 0)
        return 0;
    if (add_subtask_breakdown(list, count, run, group) < 0)
        return -1;

    const chv_task **subs = malloc(group->n_subtasks * sizeof *subs);
    if (subs == NULL)
        return -1;
    size_t n_subs = 0;
    for (size_t s = 0; s < group->n_subtasks; s++) {
        const chv_task *sub = chv_run_find_task(run, group->subtasks[s]);
        if (sub != NULL && sub->has_samples)
            subs[n_subs++] = sub;
    }

    /* Pool every breakdown title of the first subtask across all of them. */
    int rc = 0;
    if (n_subs > 0) {
        for (size_t b = 0; b < subs[0]->n_breakdowns && rc == 0; b++)
            rc = add_breakdown(list, count, group->name, subs, n_subs, subs[0]->breakdowns[b].title);
    }
    free(subs);
    return rc;
}

long chv_breakdowns_compute(const chv_run *run, chv_breakdown **out) {
    chv_breakdown *list = NULL;
    size_t count = 0;
    int rc = 0;

    for (size_t t = 0; t < run->n_tasks && rc == 0; t++) {
        const chv_task *task = &run->tasks[t];
        if (task->is_group) {
            rc = add_group_breakdowns(&list, &count, run, task);
            continue;
        }
        /* A group member's breakdowns are pooled at the group level. */
        if (!task->has_samples || task->is_rolling || chv_run_is_group_member(run, task))
            continue;
        for (size_t b = 0; b < task->n_breakdowns && rc == 0; b++) {
            const chv_task *one[1] = {task};
            rc = add_breakdown(&list, &count, task->name, one, 1, task->breakdowns[b].title);
        }
    }

    if (rc < 0) {
        chv_breakdowns_free(list, count);
        return -1;
    }
    *out = list;
    return (long)count;
}

void chv_breakdowns_free(chv_breakdown *breakdowns, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(breakdowns[i].task);
        free(breakdowns[i].title);
        for (size_t r = 0; r < breakdowns[i].n_rows; r++)
            free(breakdowns[i].rows[r].key);
        free(breakdowns[i].rows);
    }
    free(breakdowns);
}
