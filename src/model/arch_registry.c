/* The architectures cheval can load. Adding one is a new arch_<name>.c
 * that defines a chv_arch, plus its extern declaration and its entry in
 * the registry below. */
#include <stdio.h>
#include <string.h>

#include "model/arch.h"

extern const chv_arch chv_arch_llama;

static const chv_arch *const registry[] = {
    &chv_arch_llama,
};

#define N_ARCHS (sizeof registry / sizeof registry[0])

const chv_arch *chv_arch_find(const char *class_name) {
    for (size_t a = 0; a < N_ARCHS; a++) {
        for (const char *const *name = registry[a]->class_names; *name != NULL; name++) {
            if (strcmp(*name, class_name) == 0)
                return registry[a];
        }
    }
    return NULL;
}

void chv_arch_list(char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t a = 0; a < N_ARCHS; a++) {
        for (const char *const *name = registry[a]->class_names; *name != NULL && used < size; name++)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", *name);
    }
}
