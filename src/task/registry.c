#include "task/registry.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/builtin_specs.h"
#include "task/spec.h"
#include "util/lines.h"

struct chv_registry {
    chv_task_spec **specs;
    size_t n_specs;
    chv_task_def **tasks;
    size_t n_tasks;
};

static void task_free(chv_task_def *task) {
    if (task == NULL)
        return;
    free(task->name);
    free(task->file);
    free(task->group);
    free(task->version);
    free(task);
}

/* Substitutes "{subtask}" in pattern. */
static char *subtask_file(const char *pattern, const char *subtask) {
    const char *at = strstr(pattern, "{subtask}");
    if (at == NULL)
        return strdup(pattern);
    size_t n = strlen(pattern) - 9 + strlen(subtask) + 1;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%.*s%s%s", (int)(at - pattern), pattern, subtask, at + 9);
    return s;
}

static int add_task(chv_registry *reg, const chv_task_spec *spec, const char *name,
                    const char *file, const char *group, const char *version, chv_error *err) {
    chv_task_def **tasks = realloc(reg->tasks, (reg->n_tasks + 1) * sizeof *tasks);
    chv_task_def *task = calloc(1, sizeof *task);
    if (tasks == NULL || task == NULL) {
        free(task);
        if (tasks != NULL)
            reg->tasks = tasks;
        return chv_error_set(err, "out of memory adding task %s", name);
    }
    reg->tasks = tasks;
    task->name = strdup(name);
    task->file = strdup(file);
    task->group = group ? strdup(group) : NULL;
    task->version = strdup(version);
    task->spec = spec;
    task->hooks = spec->hook ? chv_task_hooks_find(spec->hook) : NULL;
    reg->tasks[reg->n_tasks++] = task;
    return 0;
}

/* Removes the spec called name and every task made from it. Returns 1 when
 * that spec was built in. */
static int remove_spec(chv_registry *reg, const char *name) {
    for (size_t i = 0; i < reg->n_specs; i++) {
        chv_task_spec *spec = reg->specs[i];
        if (strcmp(spec->name, name) != 0)
            continue;

        size_t kept = 0;
        for (size_t t = 0; t < reg->n_tasks; t++) {
            if (reg->tasks[t]->spec == spec)
                task_free(reg->tasks[t]);
            else
                reg->tasks[kept++] = reg->tasks[t];
        }
        reg->n_tasks = kept;
        int builtin = spec->builtin;
        chv_task_spec_free(spec);
        memmove(&reg->specs[i], &reg->specs[i + 1], (reg->n_specs - i - 1) * sizeof *reg->specs);
        reg->n_specs--;
        return builtin;
    }
    return 0;
}

int chv_registry_add_spec(chv_registry *reg, const char *text, const char *source, int builtin,
                          chv_error *err) {
    chv_task_spec *spec = chv_task_spec_parse(text, source, err);
    if (spec == NULL)
        return -1;
    /* A spec that replaces a built-in task keeps its place in the presets. */
    spec->builtin = remove_spec(reg, spec->name) || builtin;
    chv_task_spec **specs = realloc(reg->specs, (reg->n_specs + 1) * sizeof *specs);
    if (specs == NULL) {
        chv_task_spec_free(spec);
        return chv_error_set(err, "out of memory adding %s", source);
    }
    reg->specs = specs;
    reg->specs[reg->n_specs++] = spec;

    if (spec->n_subtasks == 0)
        return add_task(reg, spec, spec->name, spec->file, NULL, spec->version, err);

    for (size_t i = 0; i < spec->n_subtasks; i++) {
        size_t n = strlen(spec->subtask_prefix) + strlen(spec->subtasks[i]) + 1;
        char *name = malloc(n);
        char *file = subtask_file(spec->file, spec->subtasks[i]);
        if (name == NULL || file == NULL) {
            free(name);
            free(file);
            return chv_error_set(err, "out of memory adding %s", source);
        }
        snprintf(name, n, "%s%s", spec->subtask_prefix, spec->subtasks[i]);
        int rc = add_task(reg, spec, name, file, spec->name, spec->subtask_version, err);
        free(name);
        free(file);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int chv_registry_add_spec_file(chv_registry *reg, const char *path, chv_error *err) {
    size_t len = 0;
    char *text = chv_read_file(path, &len, err);
    if (text == NULL)
        return chv_error_prefix(err, "task spec");
    int rc = chv_registry_add_spec(reg, text, path, 0, err);
    free(text);
    return rc;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int chv_registry_add_dir(chv_registry *reg, const char *dir, chv_error *err) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return chv_error_set(err, "cannot open the tasks folder %s", dir);

    char **names = NULL;
    size_t n = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 6 || strcmp(entry->d_name + len - 5, ".json") != 0)
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (grown == NULL)
            break;
        names = grown;
        names[n++] = strdup(entry->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);

    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0)
            rc = chv_registry_add_spec_file(reg, path, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

chv_registry *chv_registry_new(chv_error *err) {
    chv_registry *reg = calloc(1, sizeof *reg);
    if (reg == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < chv_builtin_spec_count; i++) {
        char source[256];
        snprintf(source, sizeof source, "built-in tasks/%s", chv_builtin_specs[i].file);
        if (chv_registry_add_spec(reg, chv_builtin_specs[i].text, source, 1, err) != 0) {
            chv_registry_free(reg);
            return NULL;
        }
    }
    return reg;
}

void chv_registry_free(chv_registry *reg) {
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n_tasks; i++)
        task_free(reg->tasks[i]);
    for (size_t i = 0; i < reg->n_specs; i++)
        chv_task_spec_free(reg->specs[i]);
    free(reg->tasks);
    free(reg->specs);
    free(reg);
}

const chv_task_def *chv_registry_find(const chv_registry *reg, const char *name) {
    for (size_t i = 0; i < reg->n_tasks; i++) {
        if (strcmp(reg->tasks[i]->name, name) == 0)
            return reg->tasks[i];
    }
    return NULL;
}

const chv_task_spec *chv_registry_group(const chv_registry *reg, const char *name) {
    for (size_t i = 0; i < reg->n_specs; i++) {
        if (reg->specs[i]->n_subtasks > 0 && strcmp(reg->specs[i]->name, name) == 0)
            return reg->specs[i];
    }
    return NULL;
}

size_t chv_registry_count(const chv_registry *reg) { return reg->n_tasks; }

const chv_task_def *chv_registry_task(const chv_registry *reg, size_t i) { return reg->tasks[i]; }

typedef struct selection {
    const chv_task_def **tasks;
    size_t n;
} selection;

static int select_add(selection *sel, const chv_task_def *task) {
    for (size_t i = 0; i < sel->n; i++) {
        if (sel->tasks[i] == task)
            return 0;
    }
    const chv_task_def **grown = realloc(sel->tasks, (sel->n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    sel->tasks = grown;
    sel->tasks[sel->n++] = task;
    return 0;
}

/* Adds every task of spec, in subtask order. */
static int select_spec(selection *sel, const chv_registry *reg, const chv_task_spec *spec) {
    for (size_t t = 0; t < reg->n_tasks; t++) {
        if (reg->tasks[t]->spec == spec && select_add(sel, reg->tasks[t]) != 0)
            return -1;
    }
    return 0;
}

/* The "card" preset: every built-in spec in name order. */
static int select_card(selection *sel, const chv_registry *reg) {
    const chv_task_spec **specs = malloc((reg->n_specs + 1) * sizeof *specs);
    if (specs == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < reg->n_specs; i++) {
        if (reg->specs[i]->builtin)
            specs[n++] = reg->specs[i];
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(specs[j - 1]->name, specs[j]->name) > 0; j--) {
            const chv_task_spec *tmp = specs[j];
            specs[j] = specs[j - 1];
            specs[j - 1] = tmp;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = select_spec(sel, reg, specs[i]);
    free(specs);
    return rc;
}

/* Levenshtein distance between a and b (insertions, deletions and
 * substitutions of bytes), capped at 255 for long names. */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 255 || lb > 255)
        return 255;
    size_t row[256];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0]; /* distance(a[0..i-1), b[0..j-1)) */
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t substitute = diagonal + (a[i - 1] != b[j - 1]);
            size_t deletion = row[j] + 1;
            size_t insertion = row[j - 1] + 1;
            diagonal = row[j];
            size_t best = substitute < deletion ? substitute : deletion;
            row[j] = best < insertion ? best : insertion;
        }
    }
    return row[lb];
}

#define MAX_SUGGESTIONS 3

typedef struct suggestions {
    const char *names[MAX_SUGGESTIONS];
    size_t n;
    size_t distance; /* of every name kept */
} suggestions;

/* Keeps candidate when it is at least as close as the names kept so far. */
static void suggest(suggestions *s, const char *candidate, size_t distance) {
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], candidate) == 0)
            return;
    }
    if (s->n > 0 && distance > s->distance)
        return;
    if (s->n > 0 && distance < s->distance)
        s->n = 0;
    s->distance = distance;
    if (s->n < MAX_SUGGESTIONS)
        s->names[s->n++] = candidate;
}

/* Collects the known names closest to name: task names, group names and
 * the presets. Names that start with name come first ("arc" -> arc_easy,
 * arc_challenge). Failing that, the names within the smallest edit
 * distance, when at most a third of the bytes (at least 2) must change
 * ("hellaswg" -> hellaswag). */
static void find_suggestions(const chv_registry *reg, const char *name, suggestions *s) {
    size_t len = strlen(name);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    static const char *const presets[] = {"card", "all"};

    s->n = 0;
    for (size_t i = 0; len >= 3 && i < reg->n_specs; i++) {
        if (strncmp(reg->specs[i]->name, name, len) == 0)
            suggest(s, reg->specs[i]->name, 0);
    }
    for (size_t i = 0; len >= 3 && i < reg->n_tasks; i++) {
        if (strncmp(reg->tasks[i]->name, name, len) == 0)
            suggest(s, reg->tasks[i]->name, 0);
    }
    if (s->n > 0)
        return;

    for (size_t i = 0; i < 2; i++) {
        size_t d = edit_distance(name, presets[i]);
        if (d <= limit && d < strlen(presets[i]))
            suggest(s, presets[i], d);
    }
    for (size_t i = 0; i < reg->n_specs; i++) {
        size_t d = edit_distance(name, reg->specs[i]->name);
        if (d <= limit)
            suggest(s, reg->specs[i]->name, d);
    }
    for (size_t i = 0; i < reg->n_tasks; i++) {
        size_t d = edit_distance(name, reg->tasks[i]->name);
        if (d <= limit)
            suggest(s, reg->tasks[i]->name, d);
    }
}

static int unknown_task_error(const chv_registry *reg, const char *name, chv_error *err) {
    suggestions s;
    find_suggestions(reg, name, &s);
    if (s.n == 0)
        return chv_error_set(err,
                             "unknown task \"%s\" (run 'cheval run --list-tasks' for the names, "
                             "or use the presets card and all)",
                             name);

    char list[512] = "";
    for (size_t i = 0; i < s.n; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == s.n ? " or " : ", ");
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", sep, s.names[i]);
    }
    return chv_error_set(err,
                         "unknown task \"%s\"; did you mean %s? (run 'cheval run --list-tasks' "
                         "for the names, or use the presets card and all)",
                         name, list);
}

int chv_registry_select(const chv_registry *reg, const char *list, const chv_task_def ***tasks,
                        size_t *n, chv_error *err) {
    selection sel = {0};
    char *copy = strdup(list);
    if (copy == NULL)
        return chv_error_set(err, "out of memory");

    int rc = 0;
    char *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name != NULL && rc == 0;
         name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        size_t len = strlen(name);
        while (len > 0 && name[len - 1] == ' ')
            name[--len] = '\0';
        if (len == 0)
            continue;

        const chv_task_spec *group = chv_registry_group(reg, name);
        const chv_task_def *task = chv_registry_find(reg, name);
        if (strcmp(name, "card") == 0 || strcmp(name, "all") == 0)
            rc = select_card(&sel, reg);
        else if (group != NULL)
            rc = select_spec(&sel, reg, group);
        else if (task != NULL)
            rc = select_add(&sel, task);
        else
            rc = unknown_task_error(reg, name, err);
    }
    free(copy);

    if (rc == 0 && sel.n == 0)
        rc = chv_error_set(err, "the task list \"%s\" names no task", list);
    if (rc != 0) {
        free(sel.tasks);
        return -1;
    }
    *tasks = sel.tasks;
    *n = sel.n;
    return 0;
}
