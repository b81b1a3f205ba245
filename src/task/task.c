#include "task/task.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/pystr.h"
#include "task/template.h"
#include "util/fileio.h"
#include "util/jsonl.h"

chv_doc *chv_doc_list_add(chv_doc_list *list) {
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 256;
        chv_doc *docs = realloc(list->docs, cap * sizeof *docs);
        if (docs == NULL)
            return NULL;
        list->docs = docs;
        list->cap = cap;
    }
    chv_doc *doc = &list->docs[list->n++];
    memset(doc, 0, sizeof *doc);
    return doc;
}

void chv_doc_free(chv_doc *doc) {
    cJSON_Delete(doc->record);
    chv_string_list_free(doc->choices, doc->n_choices);
    chv_string_list_free(doc->contexts, doc->n_choices);
    chv_string_list_free(doc->continuations, doc->n_choices);
    free(doc->page);
    free(doc->text);
    memset(doc, 0, sizeof *doc);
}

void chv_doc_list_free(chv_doc_list *list) {
    for (size_t i = 0; i < list->n; i++)
        chv_doc_free(&list->docs[i]);
    free(list->docs);
    memset(list, 0, sizeof *list);
}

int chv_doc_alloc_choices(chv_doc *doc, size_t n, chv_error *err) {
    chv_string_list_free(doc->choices, doc->n_choices);
    chv_string_list_free(doc->contexts, doc->n_choices);
    chv_string_list_free(doc->continuations, doc->n_choices);
    doc->n_choices = n;
    doc->choices = calloc(n ? n : 1, sizeof(char *));
    doc->contexts = calloc(n ? n : 1, sizeof(char *));
    doc->continuations = calloc(n ? n : 1, sizeof(char *));
    if (doc->choices == NULL || doc->contexts == NULL || doc->continuations == NULL)
        return chv_error_set(err, "out of memory");
    return 0;
}

static char *concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

int chv_doc_pair_choices(chv_doc *doc, const char *context, const char *target_delimiter,
                         chv_error *err) {
    for (size_t i = 0; i < doc->n_choices; i++) {
        free(doc->contexts[i]);
        free(doc->continuations[i]);
        doc->contexts[i] = strdup(context);
        doc->continuations[i] = concat(target_delimiter, doc->choices[i]);
        if (doc->contexts[i] == NULL || doc->continuations[i] == NULL)
            return chv_error_set(err, "out of memory");
    }
    return 0;
}

/* lm-eval turns a target string of digits into an int (ast.literal_eval). */
static int parse_digits(const char *s, long *value) {
    if (*s == '\0')
        return 0;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 100000000)
            return 0;
        v = v * 10 + (*p - '0');
    }
    *value = v;
    return 1;
}

static int gold_from_value(const chv_task_spec *spec, const cJSON *record, chv_doc *doc,
                           const char *where, long *gold, chv_error *err) {
    char *value = chv_template_render(spec->gold_of, record, where, err);
    if (value == NULL)
        return chv_error_prefix(err, "gold");

    int rc = 0;
    if (parse_digits(value, gold)) {
        rc = 0;
    } else {
        *gold = -1;
        for (size_t i = 0; i < doc->n_choices; i++) {
            if (strcmp(doc->choices[i], value) == 0) {
                *gold = (long)i;
                break;
            }
        }
        if (*gold < 0)
            rc = chv_error_set(err, "%s: gold \"%s\" (from %s) is neither an index nor one of the choices",
                               where, value, spec->gold_of);
    }
    free(value);
    return rc;
}

static int gold_from_index_of(const chv_task_spec *spec, const cJSON *record, const char *where,
                              long *gold, chv_error *err) {
    char *key = chv_template_render(spec->gold_of, record, where, err);
    if (key == NULL)
        return -1;
    if (spec->gold_lstrip) {
        char *stripped = chv_py_lstrip(key);
        free(key);
        key = stripped;
    }

    cJSON *tmpl = cJSON_CreateString(spec->gold_in);
    char **labels = NULL;
    size_t n_labels = 0;
    int rc = chv_template_render_list(tmpl, record, where, &labels, &n_labels, err);
    cJSON_Delete(tmpl);
    if (rc != 0) {
        free(key);
        return -1;
    }

    *gold = -1;
    for (size_t i = 0; i < n_labels; i++) {
        if (strcmp(labels[i], key) == 0) {
            *gold = (long)i;
            break;
        }
    }
    if (*gold < 0)
        rc = chv_error_set(err, "%s: gold \"%s\" (from %s) is not among the labels %s", where, key,
                           spec->gold_of, spec->gold_in);
    chv_string_list_free(labels, n_labels);
    free(key);
    return rc;
}

static int gold_from_map(const chv_task_spec *spec, const cJSON *record, const char *where,
                         long *gold, chv_error *err) {
    char *key = chv_template_render(spec->gold_of, record, where, err);
    if (key == NULL)
        return -1;
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(spec->gold_map, key);
    int rc = 0;
    if (entry == NULL)
        rc = chv_error_set(err, "%s: gold value \"%s\" (from %s) is not in the spec's gold map",
                           where, key, spec->gold_of);
    else
        *gold = (long)entry->valuedouble;
    free(key);
    return rc;
}

int chv_task_resolve_gold(const chv_task_def *task, const cJSON *record, chv_doc *doc,
                          const char *where, chv_error *err) {
    const chv_task_spec *spec = task->spec;
    long gold = -1;
    int rc;
    switch (spec->gold_kind) {
    case CHV_GOLD_VALUE:
        rc = gold_from_value(spec, record, doc, where, &gold, err);
        break;
    case CHV_GOLD_INDEX_OF:
        rc = gold_from_index_of(spec, record, where, &gold, err);
        break;
    case CHV_GOLD_MAP:
        rc = gold_from_map(spec, record, where, &gold, err);
        break;
    default:
        rc = 0;
        gold = doc->gold;
        break;
    }
    if (rc != 0)
        return -1;

    if (gold < 0 || (size_t)gold >= doc->n_choices)
        return chv_error_set(err, "%s: gold index %ld (field %s) is out of range for %zu choices",
                             where, gold, spec->gold_of ? spec->gold_of : "label", doc->n_choices);
    doc->gold = (int)gold;
    return 0;
}

int chv_task_build_doc(const chv_task_def *task, const cJSON *record, chv_doc *doc, const char *where,
                       chv_error *err) {
    const chv_task_spec *spec = task->spec;

    if (spec->choices != NULL) {
        char **choices = NULL;
        size_t n = 0;
        if (chv_template_render_list(spec->choices, record, where, &choices, &n, err) != 0)
            return -1;
        if (chv_doc_alloc_choices(doc, n, err) != 0) {
            chv_string_list_free(choices, n);
            return chv_error_prefix(err, "%s", where);
        }
        free(doc->choices);
        doc->choices = choices;
    }

    if (spec->context != NULL) {
        char *context = chv_template_render(spec->context, record, where, err);
        if (context == NULL)
            return -1;
        int rc = chv_doc_pair_choices(doc, context, spec->target_delimiter, err);
        free(context);
        if (rc != 0)
            return chv_error_prefix(err, "%s", where);
    }

    if (task->hooks != NULL && task->hooks->build != NULL &&
        task->hooks->build(task, record, doc, where, err) != 0)
        return -1;

    if (doc->n_choices == 0)
        return chv_error_set(err, "%s: the document has no choices", where);
    for (size_t i = 0; i < doc->n_choices; i++) {
        if (doc->contexts[i] == NULL || doc->continuations[i] == NULL)
            return chv_error_set(err, "%s: task %s built no request for choice %zu", where,
                                 task->name, i);
    }
    return chv_task_resolve_gold(task, record, doc, where, err);
}

int chv_task_load_jsonl(const chv_task_def *task, const char *path, int keep_records,
                        chv_doc_list *docs, chv_error *err) {
    return chv_task_load_jsonl_with(task, path, keep_records, docs, NULL, NULL, err);
}

int chv_task_load_jsonl_with(const chv_task_def *task, const char *path, int keep_records,
                             chv_doc_list *docs, chv_record_fn prepare, void *user,
                             chv_error *err) {
    chv_jsonl *reader = chv_jsonl_open(path, err);
    if (reader == NULL)
        return -1;

    int rc;
    cJSON *record = NULL;
    while ((rc = chv_jsonl_next(reader, &record, err)) == 1) {
        char where[1200];
        snprintf(where, sizeof where, "%s:%ld", path, chv_jsonl_line(reader));

        chv_doc *doc = chv_doc_list_add(docs);
        if (doc == NULL) {
            cJSON_Delete(record);
            rc = chv_error_set(err, "%s: out of memory", where);
            break;
        }
        doc->doc_id = (long)docs->n - 1;
        doc->line = chv_jsonl_line(reader);

        if (!cJSON_IsObject(record)) {
            cJSON_Delete(record);
            rc = chv_error_set(err, "%s: expected a JSON object", where);
            break;
        }
        if ((prepare != NULL && prepare(user, record, docs->n - 1, where, err) != 0) ||
            chv_task_build_doc(task, record, doc, where, err) != 0) {
            cJSON_Delete(record);
            rc = -1;
            break;
        }
        if (keep_records)
            doc->record = record;
        else
            cJSON_Delete(record);
    }
    chv_jsonl_close(reader);
    return rc < 0 ? -1 : 0;
}

int chv_task_load(const chv_task_def *task, const char *path, int keep_records, chv_doc_list *docs,
                  chv_error *err) {
    if (task->hooks != NULL && task->hooks->load != NULL)
        return task->hooks->load(task, path, keep_records, docs, err);
    return chv_task_load_jsonl(task, path, keep_records, docs, err);
}

/* Returns path, or path + ".gz", whichever exists, as a new string. */
static char *existing_variant(const char *path) {
    if (chv_file_exists(path))
        return strdup(path);
    char *gz = concat(path, ".gz");
    if (gz != NULL && chv_file_exists(gz))
        return gz;
    free(gz);
    return NULL;
}

char *chv_task_find_file(const chv_task_def *task, const char *data_dir, const char *override,
                         chv_error *err) {
    if (override != NULL) {
        char *found = existing_variant(override);
        if (found == NULL)
            chv_error_set(err, "%s: data file not found: %s (given with --task-file)", task->name,
                          override);
        return found;
    }

    char *primary = chv_path_join(data_dir, task->file);
    char *found = primary ? existing_variant(primary) : NULL;
    for (size_t i = 0; found == NULL && i < task->spec->n_alt_files; i++) {
        char *alt = chv_path_join(data_dir, task->spec->alt_files[i]);
        found = alt ? existing_variant(alt) : NULL;
        free(alt);
    }
    if (found == NULL) {
        chv_error_set(err,
                      "%s: data file not found: %s (or %s.gz). Run scripts/fetch-data.sh to "
                      "download the benchmarks into data/, point --data-dir at the folder that "
                      "holds them, or give the file with --task-file %s=PATH. To try cheval on "
                      "the bundled sample documents instead, use --data-dir data/samples",
                      task->name, primary ? primary : task->file, primary ? primary : task->file,
                      task->name);
    }
    free(primary);
    return found;
}

int chv_data_dir_is_samples(const char *data_dir) {
    char *marker = chv_path_join(data_dir, CHV_SAMPLES_MARKER);
    int found = marker != NULL && chv_file_exists(marker);
    free(marker);
    return found;
}
