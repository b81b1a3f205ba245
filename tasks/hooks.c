#include <string.h>

#include "hooks.h"

static const chv_task_hooks *const all_hooks[] = {
    &chv_hooks_hellaswag,
    &chv_hooks_winogrande,
    &chv_hooks_piqa,
    &chv_hooks_wikitext,
};

const chv_task_hooks *chv_task_hooks_find(const char *name) {
    for (size_t i = 0; i < sizeof all_hooks / sizeof all_hooks[0]; i++) {
        if (strcmp(all_hooks[i]->name, name) == 0)
            return all_hooks[i];
    }
    return NULL;
}
