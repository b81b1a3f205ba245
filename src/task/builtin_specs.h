/* The spec files under tasks/, compiled in as strings so cheval finds its
 * built-in tasks from any working directory. The Makefile generates the
 * definitions from the tasks folder (one .json file per spec) with tasks/embed-specs.sh. */
#ifndef CHEVAL_TASK_BUILTIN_SPECS_H
#define CHEVAL_TASK_BUILTIN_SPECS_H

#include <stddef.h>

typedef struct chv_builtin_spec {
    const char *file; /* "arc_easy.json" */
    const char *text; /* the file's contents */
} chv_builtin_spec;

extern const chv_builtin_spec chv_builtin_specs[];
extern const size_t chv_builtin_spec_count;

#endif
