#include "task/samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"

struct chv_samples_writer {
    chv_atomic_file file;
};

chv_samples_writer *chv_samples_open(const char *dir, const char *task, chv_error *err) {
    char name[256];
    snprintf(name, sizeof name, "samples_%s.jsonl", task);
    char *path = chv_path_join(dir, name);
    chv_samples_writer *w = calloc(1, sizeof *w);
    if (path == NULL || w == NULL) {
        free(path);
        free(w);
        chv_error_set(err, "out of memory");
        return NULL;
    }
    int rc = chv_atomic_open(&w->file, path, err);
    free(path);
    if (rc != 0) {
        free(w);
        return NULL;
    }
    return w;
}

/* Writes item as one line and deletes it. */
static int write_line(chv_samples_writer *w, cJSON *item, chv_error *err) {
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (text == NULL)
        return chv_error_set(err, "out of memory writing %s", w->file.path);
    int ok = fputs(text, w->file.fp) >= 0 && fputc('\n', w->file.fp) != EOF;
    free(text);
    if (!ok)
        return chv_error_set(err, "cannot write %s", w->file.path);
    return 0;
}

static cJSON *doc_json(const chv_doc *doc) {
    return doc->record ? cJSON_Duplicate(doc->record, 1) : cJSON_CreateObject();
}

int chv_samples_write_choice(chv_samples_writer *w, const chv_doc *doc,
                             const chv_ll_result *results, const chv_mc_outcome *outcome,
                             chv_error *err) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddNumberToObject(item, "doc_id", (double)doc->doc_id);
    cJSON_AddItemToObject(item, "doc", doc_json(doc));
    cJSON_AddNumberToObject(item, "target", doc->gold);

    cJSON *choices = cJSON_AddArrayToObject(item, "choices");
    cJSON *requests = cJSON_AddArrayToObject(item, "requests");
    for (size_t c = 0; c < doc->n_choices; c++) {
        cJSON_AddItemToArray(choices, cJSON_CreateString(doc->choices[c]));
        cJSON *request = cJSON_CreateObject();
        cJSON_AddStringToObject(request, "context", doc->contexts[c]);
        cJSON_AddStringToObject(request, "continuation", doc->continuations[c]);
        cJSON_AddNumberToObject(request, "logprob", results[c].logprob);
        cJSON_AddBoolToObject(request, "is_greedy", results[c].is_greedy);
        if (results[c].truncated)
            cJSON_AddBoolToObject(request, "truncated", 1);
        if (results[c].long_continuation)
            cJSON_AddBoolToObject(request, "long_continuation", 1);
        cJSON_AddItemToArray(requests, request);
    }

    cJSON_AddNumberToObject(item, "pred", outcome->pred);
    cJSON_AddNumberToObject(item, "pred_norm", outcome->pred_norm);
    cJSON_AddNumberToObject(item, "pred_bytes", outcome->pred_bytes);
    cJSON_AddNumberToObject(item, "ties", outcome->ties);
    cJSON_AddNumberToObject(item, "acc", outcome->acc);
    cJSON_AddNumberToObject(item, "acc_norm", outcome->acc_norm);
    cJSON_AddNumberToObject(item, "acc_bytes", outcome->acc_bytes);
    return write_line(w, item, err);
}

int chv_samples_write_rolling(chv_samples_writer *w, const chv_doc *doc,
                              const chv_rolling_result *result, chv_error *err) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddNumberToObject(item, "doc_id", (double)doc->doc_id);
    cJSON *d = doc_json(doc);
    if (cJSON_GetObjectItemCaseSensitive(d, "page") == NULL && doc->page != NULL)
        cJSON_AddStringToObject(d, "page", doc->page);
    cJSON_AddItemToObject(item, "doc", d);
    cJSON_AddNumberToObject(item, "logprob", result->logprob);
    cJSON_AddNumberToObject(item, "words", (double)doc->words);
    cJSON_AddNumberToObject(item, "bytes", (double)doc->bytes);
    cJSON_AddNumberToObject(item, "tokens", (double)result->n_tokens);
    cJSON_AddNumberToObject(item, "windows", (double)result->n_windows);
    return write_line(w, item, err);
}

int chv_samples_commit(chv_samples_writer *w, chv_error *err) {
    int rc = chv_atomic_commit(&w->file, err);
    free(w);
    return rc;
}

void chv_samples_abort(chv_samples_writer *w) {
    chv_atomic_abort(&w->file);
    free(w);
}
