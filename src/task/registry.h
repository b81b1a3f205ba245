/* The task registry: every known task, from the built-in specs (the
 * tasks folder's .json files, compiled into cheval) and from spec files
 * the user adds.
 *
 * Names in a task list may be task names ("arc_easy"), group names
 * ("blimp": its 67 subtasks) or presets ("card" and its synonym "all":
 * every built-in task).
 */
#ifndef CHEVAL_TASK_REGISTRY_H
#define CHEVAL_TASK_REGISTRY_H

#include <stddef.h>

#include "task/task.h"

typedef struct chv_registry chv_registry;

/* Creates a registry holding the built-in tasks. Returns NULL with err
 * filled when a built-in spec is invalid (a build error). */
chv_registry *chv_registry_new(chv_error *err);
void chv_registry_free(chv_registry *reg);

/* Adds a spec from text. A spec whose name matches an existing task or
 * group replaces it. Returns 0, or -1 with err filled. */
int chv_registry_add_spec(chv_registry *reg, const char *text, const char *source, int builtin,
                          chv_error *err);

/* Adds the spec file at path (--task-spec). */
int chv_registry_add_spec_file(chv_registry *reg, const char *path, chv_error *err);

/* Adds every *.json spec in folder dir, in name order (--tasks-dir). */
int chv_registry_add_dir(chv_registry *reg, const char *dir, chv_error *err);

/* Returns the task called name, or NULL. */
const chv_task_def *chv_registry_find(const chv_registry *reg, const char *name);

/* Returns the group spec called name (a spec with subtasks), or NULL. */
const chv_task_spec *chv_registry_group(const chv_registry *reg, const char *name);

/* Resolves a comma-separated list of task names, group names and presets
 * into tasks, in list order without duplicates. *tasks is a new array of
 * borrowed pointers that the caller frees. Returns 0, or -1 with err
 * naming the unknown entry (a usage error). */
int chv_registry_select(const chv_registry *reg, const char *list, const chv_task_def ***tasks,
                        size_t *n, chv_error *err);

/* Writes the names of every task and group, one per line, for --help. */
size_t chv_registry_count(const chv_registry *reg);
const chv_task_def *chv_registry_task(const chv_registry *reg, size_t i);

#endif
