/* HellaSwag: lm-eval's preprocessing of the official JSONL, and the
 * already-preprocessed 6-lines-per-context text file used by llama.cpp.
 *
 * JSONL: context = preprocess(activity_label + ": " + ctx_a + " " +
 * ctx_b.capitalize()), choices = preprocess(ending) for each of the 4
 * endings, gold = label. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "task/pystr.h"
#include "task/strbuf.h"
#include "task/template.h"
#include "util/lines.h"

/* Removes every shortest "[...]" span; like the regex `\[.*?\]`, a span
 * never crosses a newline. */
static char *remove_bracket_spans(const char *s) {
    chv_strbuf out = {0};
    chv_strbuf_append(&out, "", 0);
    for (size_t i = 0; s[i] != '\0';) {
        if (s[i] == '[') {
            size_t j = i + 1;
            while (s[j] != '\0' && s[j] != ']' && s[j] != '\n')
                j++;
            if (s[j] == ']') {
                i = j + 1;
                continue;
            }
        }
        chv_strbuf_putc(&out, s[i]);
        i++;
    }
    return chv_strbuf_take(&out);
}

char *chv_hellaswag_preprocess(const char *text) {
    char *stripped = chv_py_strip(text);
    char *titled = stripped ? chv_py_replace(stripped, " [title]", ". ") : NULL;
    char *unbracketed = titled ? remove_bracket_spans(titled) : NULL;
    char *single = unbracketed ? chv_py_replace(unbracketed, "  ", " ") : NULL;
    free(stripped);
    free(titled);
    free(unbracketed);
    return single;
}

static const char *string_field(const cJSON *record, const char *name) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(record, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int build_official(const chv_task_def *task, const cJSON *record, chv_doc *doc,
                          const char *where, chv_error *err) {
    const char *fields[] = {"activity_label", "ctx_a", "ctx_b"};
    for (size_t i = 0; i < 3; i++) {
        if (string_field(record, fields[i]) == NULL)
            return chv_error_set(err, "%s: field \"%s\" is missing or not a string", where,
                                 fields[i]);
    }
    const cJSON *endings = cJSON_GetObjectItemCaseSensitive(record, "endings");
    if (!cJSON_IsArray(endings) || cJSON_GetArraySize(endings) == 0)
        return chv_error_set(err, "%s: field \"endings\" is missing or not a list", where);

    char *ctx_b = chv_py_capitalize(string_field(record, "ctx_b"));
    chv_strbuf raw = {0};
    chv_strbuf_puts(&raw, string_field(record, "activity_label"));
    chv_strbuf_puts(&raw, ": ");
    chv_strbuf_puts(&raw, string_field(record, "ctx_a"));
    chv_strbuf_puts(&raw, " ");
    chv_strbuf_puts(&raw, ctx_b ? ctx_b : "");
    free(ctx_b);
    char *raw_query = chv_strbuf_take(&raw);
    char *query = raw_query ? chv_hellaswag_preprocess(raw_query) : NULL;
    free(raw_query);
    if (query == NULL)
        return chv_error_set(err, "%s: out of memory", where);

    size_t n = (size_t)cJSON_GetArraySize(endings);
    if (chv_doc_alloc_choices(doc, n, err) != 0) {
        free(query);
        return -1;
    }
    size_t i = 0;
    const cJSON *ending;
    cJSON_ArrayForEach(ending, endings) {
        if (!cJSON_IsString(ending)) {
            free(query);
            return chv_error_set(err, "%s: field \"endings\" item %zu is not a string", where, i);
        }
        doc->choices[i++] = chv_hellaswag_preprocess(ending->valuestring);
    }
    int rc = chv_doc_pair_choices(doc, query, task->spec->target_delimiter, err);
    free(query);
    return rc;
}

/* Reads llama.cpp's form: per context, line 1 the preprocessed context,
 * line 2 the gold 0..3, lines 3-6 the preprocessed endings. */
static int load_text(const chv_task_def *task, const char *path, int keep_records,
                     chv_doc_list *docs, chv_error *err) {
    chv_lines *lines = chv_lines_open(path, err);
    if (lines == NULL)
        return -1;

    char *group[6] = {0};
    int n_read = 0, rc = 0;
    long first_line = 0;
    const char *line;
    size_t len;
    while (rc == 0 && (rc = chv_lines_next(lines, &line, &len, err)) == 1) {
        rc = 0;
        if (n_read == 0)
            first_line = chv_lines_number(lines);
        group[n_read++] = strdup(line);
        if (n_read < 6)
            continue;

        char where[1200];
        snprintf(where, sizeof where, "%s:%ld", path, first_line + 1);
        char *end = NULL;
        long gold = strtol(group[1], &end, 10);
        chv_doc *doc = chv_doc_list_add(docs);
        if (doc == NULL) {
            rc = chv_error_set(err, "%s: out of memory", where);
        } else if (end == group[1] || *end != '\0' || gold < 0 || gold > 3) {
            rc = chv_error_set(err, "%s: gold label \"%s\" must be 0, 1, 2 or 3", where, group[1]);
        } else if (chv_doc_alloc_choices(doc, 4, err) == 0) {
            doc->doc_id = (long)docs->n - 1;
            doc->line = first_line;
            doc->gold = (int)gold;
            for (int i = 0; i < 4; i++)
                doc->choices[i] = strdup(group[2 + i]);
            rc = chv_doc_pair_choices(doc, group[0], task->spec->target_delimiter, err);
            if (rc == 0 && keep_records) {
                doc->record = cJSON_CreateObject();
                cJSON_AddStringToObject(doc->record, "ctx", group[0]);
                cJSON_AddNumberToObject(doc->record, "label", (double)gold);
                cJSON *endings = cJSON_AddArrayToObject(doc->record, "endings");
                for (int i = 0; i < 4; i++)
                    cJSON_AddItemToArray(endings, cJSON_CreateString(group[2 + i]));
            }
        } else {
            rc = -1;
        }
        for (int i = 0; i < 6; i++) {
            free(group[i]);
            group[i] = NULL;
        }
        n_read = 0;
    }
    if (rc == 0 && n_read != 0)
        rc = chv_error_set(err,
                           "%s:%ld: the last context has %d lines; each needs 6 (context, gold, "
                           "4 endings)",
                           path, first_line, n_read);
    for (int i = 0; i < 6; i++)
        free(group[i]);
    chv_lines_close(lines);
    return rc < 0 ? -1 : 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static int load(const chv_task_def *task, const char *path, int keep_records, chv_doc_list *docs,
                chv_error *err) {
    if (ends_with(path, ".txt") || ends_with(path, ".txt.gz"))
        return load_text(task, path, keep_records, docs, err);
    return chv_task_load_jsonl(task, path, keep_records, docs, err);
}

const chv_task_hooks chv_hooks_hellaswag = {"hellaswag", load, build_official};
