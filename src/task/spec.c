#include "task/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/template.h"
#include "util/jsonl.h"

static const char *const known_fields[] = {
    "task",     "version", "file",    "alt_files", "output_type",    "context",
    "choices",  "gold",    "target_delimiter",     "metrics",        "hook",
    "subtasks", "subtask_prefix",     "subtask_version",             "description",
};

static int is_known_field(const char *name) {
    for (size_t i = 0; i < sizeof known_fields / sizeof known_fields[0]; i++) {
        if (strcmp(name, known_fields[i]) == 0)
            return 1;
    }
    return 0;
}

/* Copies an optional string field into *out. Returns -1 when the field is
 * present but not a string. */
static int get_string(const cJSON *root, const char *field, char **out, const char *source,
                      chv_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, field);
    *out = NULL;
    if (item == NULL)
        return 0;
    if (!cJSON_IsString(item))
        return chv_error_set(err, "%s: field \"%s\" must be a string", source, field);
    *out = strdup(item->valuestring);
    return 0;
}

static int get_string_list(const cJSON *root, const char *field, char ***out, size_t *n,
                           const char *source, chv_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, field);
    *out = NULL;
    *n = 0;
    if (item == NULL)
        return 0;
    if (!cJSON_IsArray(item))
        return chv_error_set(err, "%s: field \"%s\" must be a list of strings", source, field);

    size_t count = (size_t)cJSON_GetArraySize(item);
    char **list = calloc(count ? count : 1, sizeof *list);
    if (list == NULL)
        return chv_error_set(err, "%s: out of memory", source);
    size_t i = 0;
    const cJSON *element;
    cJSON_ArrayForEach(element, item) {
        if (!cJSON_IsString(element)) {
            chv_string_list_free(list, i);
            return chv_error_set(err, "%s: field \"%s\" must be a list of strings", source, field);
        }
        list[i++] = strdup(element->valuestring);
    }
    *out = list;
    *n = count;
    return 0;
}

static int parse_gold(chv_task_spec *spec, const cJSON *gold, const char *source, chv_error *err) {
    if (gold == NULL)
        return 0;

    if (cJSON_IsString(gold)) {
        spec->gold_kind = CHV_GOLD_VALUE;
        spec->gold_of = strdup(gold->valuestring);
        return chv_template_check(spec->gold_of, err) == 0
                   ? 0
                   : chv_error_prefix(err, "%s: field \"gold\"", source);
    }
    if (!cJSON_IsObject(gold))
        return chv_error_set(err, "%s: field \"gold\" must be a template or an object", source);

    const cJSON *index_of = cJSON_GetObjectItemCaseSensitive(gold, "index_of");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(gold, "in");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(gold, "map");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(gold, "of");
    const cJSON *lstrip = cJSON_GetObjectItemCaseSensitive(gold, "lstrip");

    if (cJSON_IsString(index_of) && cJSON_IsString(in)) {
        spec->gold_kind = CHV_GOLD_INDEX_OF;
        spec->gold_of = strdup(index_of->valuestring);
        spec->gold_in = strdup(in->valuestring);
        spec->gold_lstrip = cJSON_IsTrue(lstrip);
        return 0;
    }
    if (cJSON_IsObject(map) && cJSON_IsString(of)) {
        const cJSON *entry;
        cJSON_ArrayForEach(entry, map) {
            if (!cJSON_IsNumber(entry))
                return chv_error_set(err, "%s: gold map entry \"%s\" must be a number", source,
                                     entry->string);
        }
        spec->gold_kind = CHV_GOLD_MAP;
        spec->gold_of = strdup(of->valuestring);
        spec->gold_map = cJSON_Duplicate(map, 1);
        return 0;
    }
    return chv_error_set(err,
                         "%s: field \"gold\" must be \"{field}\", {\"index_of\": ..., \"in\": ...} "
                         "or {\"map\": {...}, \"of\": ...}",
                         source);
}

static int parse_metrics(chv_task_spec *spec, const cJSON *metrics, const char *source,
                         chv_error *err) {
    if (metrics == NULL)
        return 0;
    if (!cJSON_IsArray(metrics))
        return chv_error_set(err, "%s: field \"metrics\" must be a list", source);

    const cJSON *m;
    cJSON_ArrayForEach(m, metrics) {
        const char *name = cJSON_IsString(m) ? m->valuestring : "";
        if (strcmp(name, "acc_norm") == 0)
            spec->report_acc_norm = 1;
        else if (strcmp(name, "acc") != 0 && strcmp(name, "acc_bytes") != 0 &&
                 strcmp(name, "word_perplexity") != 0 && strcmp(name, "byte_perplexity") != 0 &&
                 strcmp(name, "bits_per_byte") != 0)
            return chv_error_set(err,
                                 "%s: unknown metric \"%s\" (known: acc, acc_norm, acc_bytes, "
                                 "word_perplexity, byte_perplexity, bits_per_byte)",
                                 source, name);
    }
    return 0;
}

static int parse_fields(chv_task_spec *spec, const cJSON *root, const char *source,
                        chv_error *err) {
    const cJSON *field;
    cJSON_ArrayForEach(field, root) {
        if (!is_known_field(field->string))
            return chv_error_set(err, "%s: unknown field \"%s\"", source, field->string);
    }

    if (get_string(root, "task", &spec->name, source, err) != 0 ||
        get_string(root, "version", &spec->version, source, err) != 0 ||
        get_string(root, "file", &spec->file, source, err) != 0 ||
        get_string(root, "context", &spec->context, source, err) != 0 ||
        get_string(root, "target_delimiter", &spec->target_delimiter, source, err) != 0 ||
        get_string(root, "hook", &spec->hook, source, err) != 0 ||
        get_string(root, "subtask_prefix", &spec->subtask_prefix, source, err) != 0 ||
        get_string(root, "subtask_version", &spec->subtask_version, source, err) != 0 ||
        get_string_list(root, "alt_files", &spec->alt_files, &spec->n_alt_files, source, err) != 0 ||
        get_string_list(root, "subtasks", &spec->subtasks, &spec->n_subtasks, source, err) != 0)
        return -1;

    if (spec->name == NULL || spec->name[0] == '\0')
        return chv_error_set(err, "%s: field \"task\" (the task name) is required", source);
    for (const char *p = spec->name; *p; p++) {
        if (!(*p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            return chv_error_set(err,
                                 "%s: task name \"%s\" may contain only letters, digits, '_' and '-'",
                                 source, spec->name);
    }
    if (spec->file == NULL)
        return chv_error_set(err, "%s: field \"file\" (the data file under the data folder) is required",
                             source);
    if (spec->version == NULL)
        spec->version = strdup("1.0");
    if (spec->target_delimiter == NULL)
        spec->target_delimiter = strdup(" ");
    if (spec->subtasks != NULL && spec->subtask_prefix == NULL) {
        size_t n = strlen(spec->name) + 2;
        spec->subtask_prefix = malloc(n);
        snprintf(spec->subtask_prefix, n, "%s_", spec->name);
    }
    if (spec->subtasks != NULL && spec->subtask_version == NULL)
        spec->subtask_version = strdup("1.0");

    char *output_type = NULL;
    if (get_string(root, "output_type", &output_type, source, err) != 0)
        return -1;
    if (output_type == NULL || strcmp(output_type, "multiple_choice") == 0) {
        spec->output_type = CHV_OUTPUT_MULTIPLE_CHOICE;
    } else if (strcmp(output_type, "loglikelihood_rolling") == 0) {
        spec->output_type = CHV_OUTPUT_ROLLING;
    } else {
        chv_error_set(err,
                      "%s: output_type \"%s\" is not supported (use multiple_choice or "
                      "loglikelihood_rolling)",
                      source, output_type);
        free(output_type);
        return -1;
    }
    free(output_type);

    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (choices != NULL) {
        if (cJSON_IsArray(choices)) {
            const cJSON *c;
            cJSON_ArrayForEach(c, choices) {
                if (!cJSON_IsString(c) || chv_template_check(c->valuestring, err) != 0)
                    return chv_error_set(err, "%s: field \"choices\" must hold template strings",
                                         source);
            }
        } else if (!cJSON_IsString(choices)) {
            return chv_error_set(err, "%s: field \"choices\" must be \"{field}\" or a list", source);
        }
        spec->choices = cJSON_Duplicate(choices, 1);
    }
    if (spec->context != NULL && chv_template_check(spec->context, err) != 0)
        return chv_error_prefix(err, "%s: field \"context\"", source);

    if (parse_gold(spec, cJSON_GetObjectItemCaseSensitive(root, "gold"), source, err) != 0 ||
        parse_metrics(spec, cJSON_GetObjectItemCaseSensitive(root, "metrics"), source, err) != 0)
        return -1;

    if (spec->hook != NULL && chv_task_hooks_find(spec->hook) == NULL)
        return chv_error_set(err, "%s: unknown hook \"%s\"", source, spec->hook);

    /* Without a hook, a multiple-choice spec must say everything itself. */
    if (spec->output_type == CHV_OUTPUT_MULTIPLE_CHOICE && spec->hook == NULL) {
        if (spec->context == NULL)
            return chv_error_set(err, "%s: field \"context\" is required", source);
        if (spec->choices == NULL)
            return chv_error_set(err, "%s: field \"choices\" is required", source);
        if (spec->gold_kind == CHV_GOLD_NONE)
            return chv_error_set(err, "%s: field \"gold\" is required", source);
    }
    if (spec->output_type == CHV_OUTPUT_ROLLING && spec->hook == NULL)
        return chv_error_set(err, "%s: loglikelihood_rolling tasks need a hook that reads pages",
                             source);
    return 0;
}

chv_task_spec *chv_task_spec_parse(const char *text, const char *source, chv_error *err) {
    cJSON *root = chv_json_parse(text, strlen(text), source, err);
    if (root == NULL)
        return NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        chv_error_set(err, "%s: a task spec must be a JSON object", source);
        return NULL;
    }

    chv_task_spec *spec = calloc(1, sizeof *spec);
    if (spec == NULL) {
        cJSON_Delete(root);
        chv_error_set(err, "%s: out of memory", source);
        return NULL;
    }
    spec->source = strdup(source);

    int rc = parse_fields(spec, root, source, err);
    cJSON_Delete(root);
    if (rc != 0) {
        chv_task_spec_free(spec);
        return NULL;
    }
    return spec;
}

void chv_task_spec_free(chv_task_spec *spec) {
    if (spec == NULL)
        return;
    free(spec->name);
    free(spec->version);
    free(spec->file);
    chv_string_list_free(spec->alt_files, spec->n_alt_files);
    free(spec->context);
    cJSON_Delete(spec->choices);
    free(spec->target_delimiter);
    free(spec->gold_of);
    free(spec->gold_in);
    cJSON_Delete(spec->gold_map);
    free(spec->hook);
    chv_string_list_free(spec->subtasks, spec->n_subtasks);
    free(spec->subtask_prefix);
    free(spec->subtask_version);
    free(spec->source);
    free(spec);
}
