/* WinoGrande with lm-eval's partial scoring: one context per option (the
 * sentence up to "_", then the option, with no space added) and one shared
 * continuation (" " + the text after "_", stripped). The choices, which
 * acc_norm measures, are the per-option contexts. */
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "task/pystr.h"

static int build(const chv_task_def *task, const cJSON *record, chv_doc *doc, const char *where,
                 chv_error *err) {
    const char *names[] = {"sentence", "option1", "option2"};
    const char *values[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(record, names[i]);
        if (!cJSON_IsString(item))
            return chv_error_set(err, "%s: field \"%s\" is missing or not a string", where,
                                 names[i]);
        values[i] = item->valuestring;
    }

    const char *sentence = values[0];
    const char *blank = strchr(sentence, '_');
    if (blank == NULL)
        return chv_error_set(err, "%s: field \"sentence\" has no \"_\" to fill", where);
    size_t prefix_len = (size_t)(blank - sentence);

    char *target = chv_py_strip(blank + 1);
    if (target == NULL || chv_doc_alloc_choices(doc, 2, err) != 0) {
        free(target);
        return chv_error_set(err, "%s: out of memory", where);
    }

    const char *delimiter = task->spec->target_delimiter;
    for (int i = 0; i < 2; i++) {
        const char *option = values[1 + i];
        size_t option_len = strlen(option);
        char *context = malloc(prefix_len + option_len + 1);
        char *continuation = malloc(strlen(delimiter) + strlen(target) + 1);
        if (context == NULL || continuation == NULL) {
            free(context);
            free(continuation);
            free(target);
            return chv_error_set(err, "%s: out of memory", where);
        }
        memcpy(context, sentence, prefix_len);
        memcpy(context + prefix_len, option, option_len + 1);
        strcpy(continuation, delimiter);
        strcat(continuation, target);

        doc->contexts[i] = context;
        doc->choices[i] = strdup(context);
        doc->continuations[i] = continuation;
    }
    free(target);
    return 0;
}

const chv_task_hooks chv_hooks_winogrande = {"winogrande", NULL, build};
