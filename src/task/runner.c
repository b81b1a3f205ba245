#include "task/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/stats.h"
#include "task/metrics.h"
#include "task/samples.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/progress.h"

static void progress_callback(void *user, size_t done, size_t total) {
    chv_progress *p = user;
    p->total = total;
    chv_progress_update(p, done);
}

static const char *task_file_override(const chv_run_options *options, const char *name) {
    const char *path = NULL;
    for (size_t i = 0; i < options->n_task_files; i++) {
        if (strcmp(options->task_files[i].task, name) == 0)
            path = options->task_files[i].path; /* the last one given wins */
    }
    return path;
}

static void hash_doc_ids(const size_t *ids, size_t n, char hex[65]) {
    size_t cap = n * 21 + 1, len = 0;
    char *text = malloc(cap);
    if (text == NULL) {
        hex[0] = '\0';
        return;
    }
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%zu\n", ids[i]);
    chv_sha256_hex(text, len, hex);
    free(text);
}

static void add_metric(chv_task_result *result, const char *name, double value, double stderr_value,
                       int higher_is_better) {
    chv_metric_value *m = &result->metrics[result->n_metrics++];
    m->name = name;
    m->value = value;
    m->stderr_value = stderr_value;
    m->higher_is_better = higher_is_better;
}

/* Scores the selected multiple-choice documents with one scorer call. */
static int run_multiple_choice(const chv_task_def *task, chv_doc_list *docs, const size_t *ids,
                               size_t n_ids, const chv_backend *backend, chv_samples_writer *log,
                               chv_task_result *result, chv_error *err) {
    size_t n_requests = 0;
    for (size_t i = 0; i < n_ids; i++)
        n_requests += docs->docs[ids[i]].n_choices;

    chv_ll_request *requests = calloc(n_requests ? n_requests : 1, sizeof *requests);
    chv_ll_result *results = calloc(n_requests ? n_requests : 1, sizeof *results);
    double *acc = malloc((n_ids ? n_ids : 1) * sizeof *acc);
    double *acc_norm = malloc((n_ids ? n_ids : 1) * sizeof *acc_norm);
    double *acc_bytes = malloc((n_ids ? n_ids : 1) * sizeof *acc_bytes);
    if (requests == NULL || results == NULL || acc == NULL || acc_norm == NULL || acc_bytes == NULL) {
        free(requests);
        free(results);
        free(acc);
        free(acc_norm);
        free(acc_bytes);
        return chv_error_set(err, "%s: out of memory for %zu requests", task->name, n_requests);
    }

    size_t r = 0;
    for (size_t i = 0; i < n_ids; i++) {
        const chv_doc *doc = &docs->docs[ids[i]];
        for (size_t c = 0; c < doc->n_choices; c++) {
            requests[r].context = doc->contexts[c];
            requests[r].continuation = doc->continuations[c];
            r++;
        }
    }

    chv_progress progress;
    chv_progress_start(&progress, task->name, "requests", n_requests);
    chv_log_set_context(task->name);
    int rc = backend->loglikelihood(backend->ctx, requests, n_requests, results, progress_callback,
                                    &progress, err);
    chv_log_set_context(NULL);
    int scored = rc == 0;
    if (rc != 0) {
        chv_error_prefix(err, "%s", task->name);
    } else {
        chv_progress_update(&progress, progress.total);
        chv_progress_finish(&progress);
    }

    double chance = 0.0;
    r = 0;
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        const chv_doc *doc = &docs->docs[ids[i]];
        double lls[doc->n_choices];
        for (size_t c = 0; c < doc->n_choices; c++) {
            lls[c] = results[r + c].logprob;
            result->n_truncated += results[r + c].truncated ? 1 : 0;
            result->n_long += results[r + c].long_continuation ? 1 : 0;
        }

        chv_mc_outcome outcome;
        chv_mc_score(lls, (const char *const *)doc->choices, doc->n_choices, doc->gold, &outcome);
        acc[i] = outcome.acc;
        acc_norm[i] = outcome.acc_norm;
        acc_bytes[i] = outcome.acc_bytes;
        chance += 1.0 / (double)doc->n_choices;
        result->n_ties += outcome.ties > 0 ? 1 : 0;

        if (log != NULL)
            rc = chv_samples_write_choice(log, doc, results + r, &outcome, err);
        r += doc->n_choices;
    }

    if (rc == 0) {
        add_metric(result, "acc", chv_mean(acc, n_ids), chv_stderr_of_mean(acc, n_ids), 1);
        if (task->spec->report_acc_norm)
            add_metric(result, "acc_norm", chv_mean(acc_norm, n_ids),
                       chv_stderr_of_mean(acc_norm, n_ids), 1);
        add_metric(result, "acc_bytes", chv_mean(acc_bytes, n_ids),
                   chv_stderr_of_mean(acc_bytes, n_ids), 1);
        result->chance = n_ids ? chance / (double)n_ids : NAN;
    }

    /* A failed scorer call leaves nothing to release. */
    for (size_t i = 0; scored && i < n_requests; i++)
        backend->release(&results[i]);
    free(requests);
    free(results);
    free(acc);
    free(acc_norm);
    free(acc_bytes);
    return rc;
}

/* Scores the selected pages with one rolling call; perplexities are
 * corpus-weighted over words and bytes of the original pages. */
static int run_rolling(const chv_task_def *task, chv_doc_list *docs, const size_t *ids, size_t n_ids,
                       const chv_backend *backend, chv_samples_writer *log,
                       chv_task_result *result, chv_error *err) {
    const char **texts = malloc((n_ids ? n_ids : 1) * sizeof *texts);
    chv_rolling_result *results = calloc(n_ids ? n_ids : 1, sizeof *results);
    if (texts == NULL || results == NULL) {
        free(texts);
        free(results);
        return chv_error_set(err, "%s: out of memory", task->name);
    }
    for (size_t i = 0; i < n_ids; i++)
        texts[i] = docs->docs[ids[i]].text;

    chv_progress progress;
    /* The scorer counts rolling progress in windows of max_length tokens. */
    chv_progress_start(&progress, task->name, "windows", n_ids);
    chv_log_set_context(task->name);
    int rc = backend->rolling(backend->ctx, texts, n_ids, results, progress_callback, &progress, err);
    chv_log_set_context(NULL);
    if (rc != 0) {
        chv_error_prefix(err, "%s", task->name);
    } else {
        chv_progress_update(&progress, progress.total);
        chv_progress_finish(&progress);
    }

    double loglikelihood = 0.0, words = 0.0, bytes = 0.0;
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        const chv_doc *doc = &docs->docs[ids[i]];
        loglikelihood += results[i].logprob;
        words += (double)doc->words;
        bytes += (double)doc->bytes;
        if (log != NULL)
            rc = chv_samples_write_rolling(log, doc, &results[i], err);
    }

    if (rc == 0) {
        add_metric(result, "word_perplexity", chv_word_perplexity(loglikelihood, words), NAN, 0);
        add_metric(result, "byte_perplexity", chv_byte_perplexity(loglikelihood, bytes), NAN, 0);
        add_metric(result, "bits_per_byte", chv_bits_per_byte(loglikelihood, bytes), NAN, 0);
        result->chance = NAN;
    }
    free(texts);
    free(results);
    return rc;
}

static int run_one(const chv_task_def *task, const chv_run_options *options,
                   const chv_backend *backend, chv_task_result *result, chv_error *err) {
    memset(result, 0, sizeof *result);
    result->task = task;
    result->chance = NAN;

    const char *override = task_file_override(options, task->name);
    result->path = chv_task_find_file(task, options->data_dir, override, err);
    if (result->path == NULL)
        return -1;
    if (chv_sha256_file(result->path, result->sha256, err) != 0)
        return -1;

    chv_doc_list docs = {0};
    int keep_records = options->samples_dir != NULL;
    if (chv_task_load(task, result->path, keep_records, &docs, err) != 0) {
        chv_doc_list_free(&docs);
        return chv_error_prefix(err, "%s", task->name);
    }
    if (docs.n == 0) {
        chv_doc_list_free(&docs);
        return chv_error_set(err, "%s: %s holds no documents", task->name, result->path);
    }

    size_t *ids = NULL, n_ids = 0;
    if (chv_select_documents(docs.n, &options->selection, &ids, &n_ids) != 0) {
        chv_doc_list_free(&docs);
        return chv_error_set(err, "%s: out of memory", task->name);
    }
    result->n_original = docs.n;
    result->n_effective = n_ids;
    hash_doc_ids(ids, n_ids, result->doc_ids_sha256);
    chv_log_info("%s: %zu of %zu documents from %s", task->name, n_ids, docs.n, result->path);

    chv_samples_writer *log = NULL;
    int rc = 0;
    if (options->samples_dir != NULL) {
        log = chv_samples_open(options->samples_dir, task->name, err);
        if (log == NULL)
            rc = -1;
    }

    if (rc == 0 && task->spec->output_type == CHV_OUTPUT_ROLLING)
        rc = run_rolling(task, &docs, ids, n_ids, backend, log, result, err);
    else if (rc == 0)
        rc = run_multiple_choice(task, &docs, ids, n_ids, backend, log, result, err);

    if (log != NULL) {
        if (rc == 0)
            rc = chv_samples_commit(log, err);
        else
            chv_samples_abort(log);
    }
    free(ids);
    chv_doc_list_free(&docs);
    return rc;
}

/* Adds a group result for each group spec whose every subtask ran, in a
 * row. */
static int aggregate_groups(chv_run_result *run, chv_error *err) {
    for (size_t i = 0; i < run->n_tasks;) {
        const chv_task_def *task = run->tasks[i].task;
        const chv_task_spec *spec = task->spec;
        size_t k = spec->n_subtasks;
        if (task->group == NULL || i + k > run->n_tasks) {
            i++;
            continue;
        }
        int complete = 1;
        for (size_t j = 0; j < k; j++) {
            if (run->tasks[i + j].task->spec != spec)
                complete = 0;
        }
        if (!complete) {
            i++;
            continue;
        }

        double values[k], stderrs[k];
        double sizes[k];
        for (size_t j = 0; j < k; j++) {
            const chv_metric_value *acc = chv_task_result_metric(&run->tasks[i + j], "acc");
            values[j] = acc->value;
            stderrs[j] = acc->stderr_value;
            sizes[j] = (double)run->tasks[i + j].n_effective;
        }

        chv_group_result *groups = realloc(run->groups, (run->n_groups + 1) * sizeof *groups);
        if (groups == NULL)
            return chv_error_set(err, "out of memory");
        run->groups = groups;
        chv_group_result *g = &run->groups[run->n_groups++];
        g->spec = spec;
        g->n_subtasks = k;
        g->first_task = i;
        g->acc.name = "acc";
        g->acc.value = chv_mean(values, k);
        g->acc.stderr_value = chv_pooled_stderr(sizes, stderrs, k);
        g->acc.higher_is_better = 1;
        i += k;
    }
    return 0;
}

static int add_failure(chv_run_result *run, const chv_task_def *task, const char *message) {
    chv_task_failure *grown = realloc(run->failures, (run->n_failures + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    run->failures = grown;
    char *copy = strdup(message);
    if (copy == NULL)
        return -1;
    run->failures[run->n_failures].task = task;
    run->failures[run->n_failures].message = copy;
    run->n_failures++;
    return 0;
}

int chv_run_tasks(const chv_task_def *const *tasks, size_t n, const chv_run_options *options,
                  const chv_backend *backend, chv_run_result *run, chv_error *err) {
    memset(run, 0, sizeof *run);
    run->tasks = calloc(n ? n : 1, sizeof *run->tasks);
    if (run->tasks == NULL)
        return chv_error_set(err, "out of memory");

    chv_error task_err, first = {{0}};
    for (size_t i = 0; i < n; i++) {
        chv_task_result *result = &run->tasks[run->n_tasks];
        if (run_one(tasks[i], options, backend, result, &task_err) == 0) {
            run->n_tasks++;
            continue;
        }

        free(result->path);
        memset(result, 0, sizeof *result);
        chv_log_error("task failed and has no results: %s", task_err.message);
        if (add_failure(run, tasks[i], task_err.message) != 0)
            return chv_error_set(err, "out of memory recording the failure of %s", tasks[i]->name);
        if (run->n_failures == 1)
            first = task_err;
    }

    if (aggregate_groups(run, err) != 0)
        return -1;
    if (run->n_failures > 0)
        return chv_error_set(err, "%s", first.message);
    return 0;
}

void chv_run_result_free(chv_run_result *run) {
    for (size_t i = 0; i < run->n_tasks; i++)
        free(run->tasks[i].path);
    for (size_t i = 0; i < run->n_failures; i++)
        free(run->failures[i].message);
    free(run->tasks);
    free(run->groups);
    free(run->failures);
    memset(run, 0, sizeof *run);
}

const chv_metric_value *chv_task_result_metric(const chv_task_result *result, const char *name) {
    for (size_t i = 0; i < result->n_metrics; i++) {
        if (strcmp(result->metrics[i].name, name) == 0)
            return &result->metrics[i];
    }
    return NULL;
}
