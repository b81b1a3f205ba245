/* PIQA: the official files keep the labels apart, one per line, in
 * "<name>-labels.lst" next to "<name>.jsonl". Each record gets its label as
 * field "label" before the spec builds it. A record that already has a
 * "label" field keeps it, and then the labels file is optional. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "util/fileio.h"
#include "util/lines.h"

typedef struct labels {
    char **values;
    size_t n;
    const char *path;
} labels;

/* Returns "<base>-labels.lst" for "<base>.jsonl" or "<base>.jsonl.gz". */
static char *labels_path(const char *path) {
    size_t len = strlen(path);
    size_t base = len;
    if (len > 9 && strcmp(path + len - 9, ".jsonl.gz") == 0)
        base = len - 9;
    else if (len > 6 && strcmp(path + len - 6, ".jsonl") == 0)
        base = len - 6;
    char *out = malloc(base + 16);
    if (out != NULL)
        snprintf(out, base + 16, "%.*s-labels.lst", (int)base, path);
    return out;
}

static int read_labels(labels *l, const char *path, chv_error *err) {
    chv_lines *lines = chv_lines_open(path, err);
    if (lines == NULL)
        return -1;
    const char *line;
    size_t len;
    int rc;
    while ((rc = chv_lines_next(lines, &line, &len, err)) == 1) {
        if (len == 0)
            continue;
        char **grown = realloc(l->values, (l->n + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = chv_error_set(err, "out of memory reading %s", path);
            break;
        }
        l->values = grown;
        l->values[l->n++] = strdup(line);
    }
    chv_lines_close(lines);
    return rc < 0 ? -1 : 0;
}

static int add_label(void *user, cJSON *record, size_t index, const char *where, chv_error *err) {
    labels *l = user;
    if (cJSON_GetObjectItemCaseSensitive(record, "label") != NULL)
        return 0;
    if (index >= l->n)
        return chv_error_set(err, "%s: no label for this record: %s has only %zu lines", where,
                             l->path, l->n);
    cJSON_AddStringToObject(record, "label", l->values[index]);
    return 0;
}

static int load(const chv_task_def *task, const char *path, int keep_records, chv_doc_list *docs,
                chv_error *err) {
    labels l = {0};
    char *lpath = labels_path(path);
    if (lpath == NULL)
        return chv_error_set(err, "out of memory");
    l.path = lpath;

    char *found = NULL;
    if (chv_file_exists(lpath)) {
        found = strdup(lpath);
    } else {
        char gz[4200];
        snprintf(gz, sizeof gz, "%s.gz", lpath);
        if (chv_file_exists(gz))
            found = strdup(gz);
    }

    int rc = found ? read_labels(&l, found, err) : 0;
    if (rc == 0)
        rc = chv_task_load_jsonl_with(task, path, keep_records, docs, add_label, &l, err);
    if (rc != 0 && found == NULL && err != NULL && strstr(err->message, "no label") != NULL)
        chv_error_set(err, "%s: labels file not found: %s (PIQA keeps its labels in a separate file)",
                      path, lpath);
    else if (rc == 0 && found != NULL && l.n != docs->n)
        rc = chv_error_set(err, "%s has %zu labels but %s has %zu records", found, l.n, path,
                           docs->n);

    for (size_t i = 0; i < l.n; i++)
        free(l.values[i]);
    free(l.values);
    free(found);
    free(lpath);
    return rc;
}

const chv_task_hooks chv_hooks_piqa = {"piqa", load, NULL};
