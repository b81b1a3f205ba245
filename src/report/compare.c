#include "report/compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/run.h"
#include "report/stats.h"

#define Z95 1.959963984540054

/* ---- a growable list of messages ---- */

typedef struct message_list {
    char **items;
    size_t n;
} message_list;

__attribute__((format(printf, 2, 3))) static void message_add(message_list *list, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **grown = realloc(list->items, (list->n + 1) * sizeof *grown);
    if (grown == NULL)
        return;
    list->items = grown;
    list->items[list->n] = strdup(buf);
    if (list->items[list->n] != NULL)
        list->n++;
}

/* ---- compatibility of the two runs ---- */

/* A growable list of differences; see chv_compare_difference. */
typedef struct difference_list {
    chv_compare_difference *items;
    size_t n;
} difference_list;

static void difference_free(chv_compare_difference *d) {
    free(d->task);
    free(d->field);
    cJSON_Delete(d->base);
    cJSON_Delete(d->candidate);
    free(d->text);
}

static void difference_list_free(difference_list *list) {
    for (size_t i = 0; i < list->n; i++)
        difference_free(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* Appends a difference; base and candidate are copied (NULL stays NULL),
 * text is printf-formatted. Memory failures drop the item. */
__attribute__((format(printf, 6, 7))) static void difference_add(
    difference_list *list, const char *task, const char *field, const cJSON *base,
    const cJSON *candidate, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    chv_compare_difference *grown = realloc(list->items, (list->n + 1) * sizeof *grown);
    if (grown == NULL)
        return;
    list->items = grown;
    chv_compare_difference *d = &grown[list->n];
    memset(d, 0, sizeof *d);
    d->task = task ? strdup(task) : NULL;
    d->field = strdup(field);
    d->base = base ? cJSON_Duplicate(base, 1) : NULL;
    d->candidate = candidate ? cJSON_Duplicate(candidate, 1) : NULL;
    d->text = strdup(buf);
    if (d->field == NULL || d->text == NULL) {
        difference_free(d);
        return;
    }
    list->n++;
}

/* A value as people read it: strings without quotes, hashes (long hex
 * strings) cut to their first 12 digits, "(missing)" for an absent value.
 * The JSON output keeps the full values. */
static void human_value(const cJSON *value, char *out, size_t size) {
    if (value == NULL) {
        snprintf(out, size, "(missing)");
        return;
    }
    if (cJSON_IsString(value)) {
        const char *s = value->valuestring;
        size_t len = strlen(s);
        int hex = len >= 32 && strspn(s, "0123456789abcdefABCDEF") == len;
        if (hex)
            snprintf(out, size, "%.12s…", s);
        else
            snprintf(out, size, "%s", s);
        return;
    }
    char *text = cJSON_PrintUnformatted(value);
    snprintf(out, size, "%s", text ? text : "?");
    free(text);
}

static const cJSON *task_section(const chv_run *run, const char *section, const char *task) {
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(run->results_json, section), task);
}

/* Compares one value of both runs; a value missing from both is not a
 * difference. */
static void compare_value(const cJSON *a, const cJSON *b, const char *task, const char *field,
                          const char *what, difference_list *issues) {
    if (a == NULL && b == NULL)
        return;
    if (a != NULL && b != NULL && cJSON_Compare(a, b, 1))
        return;
    char text_a[256], text_b[256];
    human_value(a, text_a, sizeof text_a);
    human_value(b, text_b, sizeof text_b);
    difference_add(issues, task, field, a, b, "%s: %s (base %s, candidate %s)", task, what, text_a,
                   text_b);
}

/* Compares sampling.<task>, an object of limit, seed, sample and
 * doc_ids_sha256. Each differing key is its own item, so the list stays
 * readable. */
static void compare_sampling(const chv_run *base, const chv_run *cand, const char *task,
                             difference_list *issues) {
    const cJSON *a = task_section(base, "sampling", task);
    const cJSON *b = task_section(cand, "sampling", task);
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b)) {
        compare_value(a, b, task, "sampling", "limits/sampling differ", issues);
        return;
    }
    const cJSON *item;
    char field[256], what[256];
    cJSON_ArrayForEach(item, a) {
        snprintf(field, sizeof field, "sampling.%s", item->string);
        snprintf(what, sizeof what, "limits/sampling differ in %s", item->string);
        compare_value(item, cJSON_GetObjectItemCaseSensitive(b, item->string), task, field, what,
                      issues);
    }
    cJSON_ArrayForEach(item, b) {
        if (cJSON_GetObjectItemCaseSensitive(a, item->string) != NULL)
            continue;
        snprintf(field, sizeof field, "sampling.%s", item->string);
        snprintf(what, sizeof what, "limits/sampling differ in %s", item->string);
        compare_value(NULL, item, task, field, what, issues);
    }
}

/* Counts doc_ids of a that are not in b (both sorted ascending). */
static size_t count_missing(const chv_task *a, const chv_task *b) {
    size_t i = 0, j = 0, missing = 0;
    while (i < a->n_samples) {
        if (j == b->n_samples || a->samples[i].doc_id < b->samples[j].doc_id) {
            missing++;
            i++;
        } else if (a->samples[i].doc_id > b->samples[j].doc_id) {
            j++;
        } else {
            i++;
            j++;
        }
    }
    return missing;
}

static void check_documents(const chv_task *a, const chv_task *b, difference_list *issues) {
    if (a->has_samples && b->has_samples) {
        size_t only_base = count_missing(a, b), only_cand = count_missing(b, a);
        if (only_base || only_cand) {
            cJSON *x = cJSON_CreateNumber((double)only_base), *y = cJSON_CreateNumber((double)only_cand);
            difference_add(issues, a->name, "doc_ids_only_in", x, y, "%s: document sets differ "
                           "(%zu doc_ids only in base, %zu only in candidate)", a->name,
                           only_base, only_cand);
            cJSON_Delete(x);
            cJSON_Delete(y);
        }
    } else if (a->sample_len != b->sample_len) {
        cJSON *x = cJSON_CreateNumber((double)a->sample_len), *y = cJSON_CreateNumber((double)b->sample_len);
        difference_add(issues, a->name, "sample_len", x, y, "%s: document counts differ (base %ld, "
                       "candidate %ld)", a->name, a->sample_len, b->sample_len);
        cJSON_Delete(x);
        cJSON_Delete(y);
    }
}

/* Reports a task that has results in one run only, and why when the
 * other run lists it as failed. */
static void add_missing_task(const chv_run *other, const char *other_name, const char *name, const char *where,
                             difference_list *issues) {
    const cJSON *failed = chv_run_failed_tasks(other);
    const cJSON *entry = failed != NULL ? cJSON_GetObjectItemCaseSensitive(failed, name) : NULL;
    if (entry != NULL)
        difference_add(issues, name, "task", NULL, NULL, "%s: only in the %s run; it failed in the %s run: %s", name,
                       where, other_name, chv_run_failure_message(entry));
    else
        difference_add(issues, name, "task", NULL, NULL, "%s: only in the %s run", name, where);
}

/* Collects every difference that makes the runs not comparable. */
static void find_mismatches(const chv_run *base, const chv_run *cand, difference_list *issues) {
    for (size_t t = 0; t < base->n_tasks; t++) {
        const chv_task *a = &base->tasks[t];
        const chv_task *b = chv_run_find_task(cand, a->name);
        if (b == NULL) {
            add_missing_task(cand, "candidate", a->name, "base", issues);
            continue;
        }
        compare_value(task_section(base, "versions", a->name),
                      task_section(cand, "versions", a->name), a->name, "versions",
                      "task versions differ", issues);
        if (a->is_group)
            continue;
        compare_value(cJSON_GetObjectItemCaseSensitive(task_section(base, "task_files", a->name), "sha256"),
                      cJSON_GetObjectItemCaseSensitive(task_section(cand, "task_files", a->name), "sha256"),
                      a->name, "task_files.sha256", "data file sha256 differs", issues);
        compare_sampling(base, cand, a->name, issues);
        compare_value(task_section(base, "n-shot", a->name), task_section(cand, "n-shot", a->name),
                      a->name, "n-shot", "n-shot differs", issues);
        check_documents(a, b, issues);
    }
    for (size_t t = 0; t < cand->n_tasks; t++)
        if (chv_run_find_task(base, cand->tasks[t].name) == NULL)
            add_missing_task(base, "base", cand->tasks[t].name, "candidate", issues);
}

/* ---- scoring settings ---- */

static int has_perplexity_task(const chv_run *run) {
    for (size_t t = 0; t < run->n_tasks; t++)
        if (run->tasks[t].is_rolling || chv_task_metric(&run->tasks[t], "bits_per_byte") != NULL)
            return 1;
    return 0;
}

/* Collects the settings in config that change the numbers. They do not
 * make the runs incomparable, because comparing models is the point and
 * max_length follows each model, but the reader must know. limit, seed
 * and sample are checked per task with the sampling section, and
 * model_dtype may differ. */
static void find_setting_differences(const chv_run *base, const chv_run *cand,
                                     difference_list *settings) {
    static const struct {
        const char *key;
        int perplexity_only; /* only matters when a perplexity task is compared */
        const char *consequence;
    } keys[] = {
        {"max_length", 0,
         "it defaults to each model's max_position_embeddings, so it often differs "
         "between models; perplexities and requests truncated to fit are not directly "
         "comparable"},
        {"bos", 0, "the BOS rule changes every log-likelihood; scores are not directly comparable"},
        {"wikitext_double_bos", 1,
         "one or two BOS tokens before each WikiText page; perplexities are not directly "
         "comparable"},
    };
    const cJSON *config_a = cJSON_GetObjectItemCaseSensitive(base->results_json, "config");
    const cJSON *config_b = cJSON_GetObjectItemCaseSensitive(cand->results_json, "config");
    int perplexity = has_perplexity_task(base) && has_perplexity_task(cand);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i].perplexity_only && !perplexity)
            continue;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(config_a, keys[i].key);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(config_b, keys[i].key);
        if (a == NULL && b == NULL)
            continue;
        if (a != NULL && b != NULL && cJSON_Compare(a, b, 1))
            continue;
        char text_a[256], text_b[256];
        human_value(a, text_a, sizeof text_a);
        human_value(b, text_b, sizeof text_b);
        difference_add(settings, NULL, keys[i].key, a, b, "%s: base %s, candidate %s (%s)",
                       keys[i].key, text_a, text_b, keys[i].consequence);
    }
}

/* ---- choosing the metric ---- */

static int is_perplexity_metric(const char *name) {
    return strcmp(name, "bits_per_byte") == 0 || strcmp(name, "word_perplexity") == 0 ||
           strcmp(name, "byte_perplexity") == 0;
}

static int task_is_perplexity(const chv_task *task) {
    return task->is_rolling || chv_task_metric(task, "bits_per_byte") != NULL;
}

/* Accuracy metrics that every multiple-choice sample record carries. */
static int is_sample_metric(const char *name) {
    return strcmp(name, "acc") == 0 || strcmp(name, "acc_norm") == 0 ||
           strcmp(name, "acc_bytes") == 0;
}

/* The metric a row compares: the requested one when the task reports it,
 * else acc (accuracy tasks) or bits_per_byte (perplexity tasks). */
static const char *row_metric(const chv_task *task, const char *requested) {
    if (task_is_perplexity(task)) {
        if (requested != NULL && is_perplexity_metric(requested) && chv_task_metric(task, requested))
            return requested;
        return "bits_per_byte";
    }
    if (requested != NULL && is_sample_metric(requested) && chv_task_metric(task, requested))
        return requested;
    return "acc";
}

static double sample_value(const chv_sample *s, const char *metric) {
    if (strcmp(metric, "acc_norm") == 0)
        return s->acc_norm;
    if (strcmp(metric, "acc_bytes") == 0)
        return s->acc_bytes;
    return s->acc;
}

/* ---- paired comparisons ---- */

/* The paired values of one task: x[i] base, y[i] candidate. */
typedef struct pairs {
    double *x, *y;     /* accuracy outcomes, or log-likelihoods for perplexity */
    double *units;     /* perplexity only: bytes or words per page */
    size_t n;
} pairs;

static void pairs_free(pairs *p) {
    free(p->x);
    free(p->y);
    free(p->units);
}

static int collect_pairs(const chv_task *a, const chv_task *b, const char *metric, pairs *out) {
    size_t capacity = a->n_samples ? a->n_samples : 1;
    out->x = malloc(capacity * sizeof *out->x);
    out->y = malloc(capacity * sizeof *out->y);
    out->units = malloc(capacity * sizeof *out->units);
    out->n = 0;
    if (out->x == NULL || out->y == NULL || out->units == NULL)
        return -1;

    int perplexity = is_perplexity_metric(metric);
    int per_word = strcmp(metric, "word_perplexity") == 0;
    size_t i = 0, j = 0;
    while (i < a->n_samples && j < b->n_samples) {
        const chv_sample *s = &a->samples[i], *t = &b->samples[j];
        if (s->doc_id < t->doc_id) {
            i++;
        } else if (s->doc_id > t->doc_id) {
            j++;
        } else {
            if (perplexity) {
                out->x[out->n] = s->logprob;
                out->y[out->n] = t->logprob;
                out->units[out->n] = per_word ? s->words : s->bytes;
            } else {
                out->x[out->n] = sample_value(s, metric);
                out->y[out->n] = sample_value(t, metric);
            }
            out->n++;
            i++;
            j++;
        }
    }
    return 0;
}

static int compare_accuracy_pairs(const pairs *p, const chv_comparison *c, chv_compare_row *row) {
    double *diff = malloc((p->n ? p->n : 1) * sizeof *diff);
    if (diff == NULL)
        return -1;
    long base_only = 0, cand_only = 0;
    for (size_t i = 0; i < p->n; i++) {
        diff[i] = p->y[i] - p->x[i];
        base_only += p->x[i] > 0.5 && p->y[i] < 0.5;
        cand_only += p->x[i] < 0.5 && p->y[i] > 0.5;
    }

    row->test = "McNemar exact";
    row->n = p->n;
    row->base = chv_mean(p->x, p->n);
    row->candidate = chv_mean(p->y, p->n);
    row->delta = row->candidate - row->base;
    row->se = chv_stderr_of_mean(diff, p->n);
    row->base_only = base_only;
    row->candidate_only = cand_only;
    row->p = chv_mcnemar_exact(base_only, cand_only);

    chv_bootstrap_result boot;
    const double *strata[1] = {diff};
    int rc = chv_paired_bootstrap(strata, &p->n, 1, c->resamples, c->seed, &boot);
    free(diff);
    if (rc < 0)
        return -1;
    row->ci_low = boot.low;
    row->ci_high = boot.high;
    return 0;
}

static int compare_perplexity_pairs(const pairs *p, const chv_comparison *c, chv_compare_row *row) {
    int kind = strcmp(row->metric, "bits_per_byte") == 0 ? CHV_CORPUS_BITS_PER_UNIT
                                                         : CHV_CORPUS_PERPLEXITY;
    row->test = "paired bootstrap";
    row->n = p->n;
    row->base = chv_corpus_statistic(p->x, p->units, p->n, kind);
    row->candidate = chv_corpus_statistic(p->y, p->units, p->n, kind);
    row->delta = row->candidate - row->base;

    chv_bootstrap_result boot;
    if (chv_paired_bootstrap_corpus(p->x, p->y, p->units, p->n, kind, c->resamples, c->seed,
                                    &boot) < 0)
        return -1;
    row->se = boot.se;
    row->ci_low = boot.low;
    row->ci_high = boot.high;
    row->p = boot.p_value;
    return 0;
}

/* ---- unpaired fallback ---- */

static void compare_unpaired(const chv_task *a, const chv_task *b, chv_compare_row *row) {
    const chv_metric *ma = chv_task_metric(a, row->metric);
    const chv_metric *mb = chv_task_metric(b, row->metric);
    row->test = "z-test (unpaired)";
    row->n = a->sample_len > 0 ? (size_t)a->sample_len : 0;
    row->base = ma ? ma->value : NAN;
    row->candidate = mb ? mb->value : NAN;
    row->delta = row->candidate - row->base;
    row->base_only = row->candidate_only = -1;

    double se_a = ma ? ma->stderr_value : NAN, se_b = mb ? mb->stderr_value : NAN;
    row->se = sqrt(se_a * se_a + se_b * se_b);
    row->ci_low = row->delta - Z95 * row->se;
    row->ci_high = row->delta + Z95 * row->se;
    row->p = row->se > 0 ? chv_normal_two_sided_p(row->delta / row->se) : NAN;
}

/* ---- rows ---- */

static int init_row(chv_compare_row *row, const chv_task *task, const char *metric,
                    const char *group) {
    memset(row, 0, sizeof *row);
    row->task = strdup(task->name);
    row->metric = strdup(metric);
    row->group = group ? strdup(group) : NULL;
    row->is_group = task->is_group;
    row->p = row->p_adjusted = NAN;
    row->ci_low = row->ci_high = row->se = NAN;
    row->base_only = row->candidate_only = -1;
    const chv_metric *m = chv_task_metric(task, metric);
    row->higher_is_better = m && m->higher_is_better >= 0 ? m->higher_is_better
                                                         : !is_perplexity_metric(metric);
    return row->task && row->metric ? 0 : -1;
}

static int compare_task(const chv_task *a, const chv_task *b, const char *group,
                        chv_comparison *c, chv_compare_row *row) {
    const char *metric = row_metric(a, c->metric_request);
    if (init_row(row, a, metric, group) < 0)
        return -1;

    if (!(a->has_samples && b->has_samples)) {
        compare_unpaired(a, b, row);
        return 0;
    }

    pairs p;
    int rc = collect_pairs(a, b, metric, &p);
    if (rc == 0 && p.n == 0) {
        pairs_free(&p);
        compare_unpaired(a, b, row);
        return 0;
    }
    row->paired = 1;
    if (rc == 0)
        rc = is_perplexity_metric(metric) ? compare_perplexity_pairs(&p, c, row)
                                          : compare_accuracy_pairs(&p, c, row);
    pairs_free(&p);
    return rc;
}

/* A group row from its subtask rows: the unweighted mean of subtask
 * deltas (lm-eval's group value for BLiMP), McNemar on the pooled
 * discordant pairs and a bootstrap stratified by subtask. */
static int compare_group_paired(const chv_run *base, const chv_run *cand, const chv_task *group,
                                chv_comparison *c, chv_compare_row *row) {
    size_t k = group->n_subtasks;
    double **diffs = calloc(k, sizeof *diffs);
    size_t *sizes = calloc(k, sizeof *sizes);
    if (diffs == NULL || sizes == NULL) {
        free(diffs);
        free(sizes);
        return -1;
    }

    int rc = 0;
    double base_sum = 0.0, cand_sum = 0.0, variance = 0.0;
    long base_only = 0, cand_only = 0;
    size_t used = 0, total = 0;
    for (size_t s = 0; s < k && rc == 0; s++) {
        const chv_task *a = chv_run_find_task(base, group->subtasks[s]);
        const chv_task *b = chv_run_find_task(cand, group->subtasks[s]);
        if (a == NULL || b == NULL)
            continue;
        pairs p;
        rc = collect_pairs(a, b, row->metric, &p);
        if (rc == 0 && p.n > 0) {
            diffs[used] = malloc(p.n * sizeof *diffs[used]);
            if (diffs[used] == NULL) {
                rc = -1;
            } else {
                for (size_t i = 0; i < p.n; i++) {
                    diffs[used][i] = p.y[i] - p.x[i];
                    base_only += p.x[i] > 0.5 && p.y[i] < 0.5;
                    cand_only += p.x[i] < 0.5 && p.y[i] > 0.5;
                }
                double se = chv_stderr_of_mean(diffs[used], p.n);
                variance += isnan(se) ? 0.0 : se * se;
                base_sum += chv_mean(p.x, p.n);
                cand_sum += chv_mean(p.y, p.n);
                sizes[used] = p.n;
                total += p.n;
                used++;
            }
        }
        pairs_free(&p);
    }

    if (rc == 0 && used > 0) {
        row->paired = 1;
        row->test = "McNemar exact";
        row->n = total;
        row->base = base_sum / (double)used;
        row->candidate = cand_sum / (double)used;
        row->delta = row->candidate - row->base;
        row->se = sqrt(variance) / (double)used;
        row->base_only = base_only;
        row->candidate_only = cand_only;
        row->p = chv_mcnemar_exact(base_only, cand_only);
        chv_bootstrap_result boot;
        rc = chv_paired_bootstrap((const double *const *)diffs, sizes, used, c->resamples,
                                  c->seed, &boot);
        if (rc == 0) {
            row->ci_low = boot.low;
            row->ci_high = boot.high;
        }
    }
    for (size_t s = 0; s < used; s++)
        free(diffs[s]);
    free(diffs);
    free(sizes);
    return rc;
}

static int group_is_paired(const chv_run *base, const chv_run *cand, const chv_task *group) {
    size_t found = 0;
    for (size_t s = 0; s < group->n_subtasks; s++) {
        const chv_task *a = chv_run_find_task(base, group->subtasks[s]);
        const chv_task *b = chv_run_find_task(cand, group->subtasks[s]);
        if (a != NULL && b != NULL) {
            if (!a->has_samples || !b->has_samples)
                return 0;
            found++;
        }
    }
    return found > 0;
}

static const chv_task *parent_group(const chv_run *run, const char *name) {
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *group = &run->tasks[t];
        for (size_t s = 0; group->is_group && s < group->n_subtasks; s++)
            if (strcmp(group->subtasks[s], name) == 0)
                return group;
    }
    return NULL;
}

static chv_compare_row *append_row(chv_compare_row **rows, size_t *n) {
    chv_compare_row *grown = realloc(*rows, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    *rows = grown;
    return &grown[(*n)++];
}

static int build_rows(const chv_run *base, const chv_run *cand, chv_comparison *c) {
    /* Plain tasks and subtasks, in the base run's order. */
    for (size_t t = 0; t < base->n_tasks; t++) {
        const chv_task *a = &base->tasks[t];
        const chv_task *b = chv_run_find_task(cand, a->name);
        if (a->is_group || b == NULL || b->is_group)
            continue;
        const chv_task *group = parent_group(base, a->name);
        chv_compare_row *row = group ? append_row(&c->subrows, &c->n_subrows)
                                     : append_row(&c->rows, &c->n_rows);
        if (row == NULL || compare_task(a, b, group ? group->name : NULL, c, row) < 0)
            return -1;
    }

    for (size_t t = 0; t < base->n_tasks; t++) {
        const chv_task *a = &base->tasks[t];
        const chv_task *b = chv_run_find_task(cand, a->name);
        if (!a->is_group || b == NULL)
            continue;
        chv_compare_row *row = append_row(&c->rows, &c->n_rows);
        if (row == NULL)
            return -1;
        if (group_is_paired(base, cand, a)) {
            if (init_row(row, a, row_metric(a, c->metric_request), NULL) < 0 ||
                compare_group_paired(base, cand, a, c, row) < 0)
                return -1;
        } else if (compare_task(a, b, NULL, c, row) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- verdicts ---- */

static int adjust_family(chv_compare_row *rows, size_t n, const char *group, int holm) {
    double *p = malloc((n ? n : 1) * sizeof *p), *adjusted = malloc((n ? n : 1) * sizeof *adjusted);
    size_t *index = malloc((n ? n : 1) * sizeof *index);
    if (p == NULL || adjusted == NULL || index == NULL) {
        free(p);
        free(adjusted);
        free(index);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int member = group == NULL || (rows[i].group && strcmp(rows[i].group, group) == 0);
        if (member) {
            index[m] = i;
            p[m++] = rows[i].p;
        }
    }
    int rc = holm ? chv_holm_adjust(p, m, adjusted) : 0;
    for (size_t k = 0; k < m && rc == 0; k++)
        rows[index[k]].p_adjusted = holm ? adjusted[k] : p[k];
    free(p);
    free(adjusted);
    free(index);
    return rc;
}

static void set_verdicts(chv_compare_row *rows, size_t n, double alpha) {
    for (size_t i = 0; i < n; i++) {
        chv_compare_row *row = &rows[i];
        if (isnan(row->p_adjusted)) {
            row->verdict = CHV_VERDICT_NOT_TESTED;
        } else if (row->p_adjusted < alpha && row->delta != 0.0) {
            int improved = (row->delta > 0) == (row->higher_is_better != 0);
            row->verdict = improved ? CHV_VERDICT_BETTER : CHV_VERDICT_WORSE;
        } else {
            row->verdict = CHV_VERDICT_NO_CHANGE;
        }
    }
}

static int apply_corrections(chv_comparison *c) {
    if (adjust_family(c->rows, c->n_rows, NULL, c->holm) < 0)
        return -1;
    /* Each group's subtasks form their own family. */
    for (size_t i = 0; i < c->n_subrows; i++) {
        int first = 1;
        for (size_t j = 0; j < i; j++)
            first &= strcmp(c->subrows[j].group, c->subrows[i].group) != 0;
        if (first && adjust_family(c->subrows, c->n_subrows, c->subrows[i].group, c->holm) < 0)
            return -1;
    }
    set_verdicts(c->rows, c->n_rows, c->alpha);
    set_verdicts(c->subrows, c->n_subrows, c->alpha);
    return 0;
}

/* ---- entry point ---- */

static void add_notes(chv_comparison *c) {
    message_list notes = {c->notes, c->n_notes};
    for (size_t i = 0; i < c->n_mismatches; i++)
        message_add(&notes, "compared despite a mismatch (--allow-mismatch): %s; only the common "
                    "tasks and doc_ids are compared", c->mismatches[i].text);

    size_t unpaired = 0;
    for (size_t i = 0; i < c->n_rows; i++)
        unpaired += !c->rows[i].paired;
    if (unpaired > 0)
        message_add(&notes, "%zu task%s no per-sample logs in both runs and use%s an unpaired "
                    "z-test on the reported values and stderrs, which has less power than a "
                    "paired test; rerun with --log-samples to pair documents", unpaired,
                    unpaired == 1 ? " has" : "s have", unpaired == 1 ? "s" : "");
    c->notes = notes.items;
    c->n_notes = notes.n;
}

/* Fills err with the list of mismatches. A list too long for the message
 * is cut, and its last line gives the count of items left out. */
static int mismatch_error(const difference_list *mismatches, chv_error *err) {
    static const char advice[] = "\nCompare runs of the same tasks, data files, limits and "
                                 "documents, or pass --allow-mismatch to compare only what they "
                                 "share (the output then lists every difference).";
    char list[CHV_ERROR_MAX];
    size_t room = sizeof list - sizeof advice - 64; /* 64: the "... and N more" line */
    size_t used = 0, shown = 0;
    list[0] = '\0';
    for (; shown < mismatches->n; shown++) {
        size_t len = strlen(mismatches->items[shown].text) + 5;
        if (used + len >= room)
            break;
        used += (size_t)snprintf(list + used, sizeof list - used, "\n  - %s",
                                 mismatches->items[shown].text);
    }
    if (shown < mismatches->n)
        snprintf(list + used, sizeof list - used, "\n  - ... and %zu more", mismatches->n - shown);
    return chv_error_set(err, "the runs are not comparable:%s%s", list, advice);
}

int chv_compare_runs(const char *base_dir, const char *candidate_dir,
                     const chv_compare_options *options, chv_comparison **out, chv_error *err) {
    chv_compare_options defaults = {0};
    if (options == NULL)
        options = &defaults;

    chv_run_load_options load = {.load_samples = 1, .max_wrong = 0};
    chv_run *base = chv_run_load(base_dir, &load, err);
    if (base == NULL)
        return chv_error_prefix(err, "base run");
    chv_run *cand = chv_run_load(candidate_dir, &load, err);
    if (cand == NULL) {
        chv_run_free(base);
        return chv_error_prefix(err, "candidate run");
    }

    difference_list mismatches = {0}, settings = {0};
    find_mismatches(base, cand, &mismatches);
    if (mismatches.n > 0 && !options->allow_mismatch) {
        mismatch_error(&mismatches, err);
        difference_list_free(&mismatches);
        chv_run_free(base);
        chv_run_free(cand);
        return -1;
    }
    find_setting_differences(base, cand, &settings);

    chv_comparison *c = calloc(1, sizeof *c);
    int rc = c ? 0 : -1;
    if (c != NULL) {
        c->base_dir = strdup(base_dir);
        c->candidate_dir = strdup(candidate_dir);
        c->base_model = strdup(base->model_name);
        c->candidate_model = strdup(cand->model_name);
        c->alpha = options->alpha > 0 ? options->alpha : 0.05;
        c->holm = !options->no_holm;
        c->resamples = options->resamples ? options->resamples : CHV_COMPARE_RESAMPLES;
        c->seed = options->seed ? options->seed : CHV_COMPARE_SEED;
        c->metric_request = options->metric ? strdup(options->metric) : NULL;
        c->mismatches = mismatches.items;
        c->n_mismatches = mismatches.n;
        c->settings = settings.items;
        c->n_settings = settings.n;
        mismatches = (difference_list){0};
        settings = (difference_list){0};
        rc = build_rows(base, cand, c);
        if (rc == 0)
            rc = apply_corrections(c);
        if (rc == 0)
            add_notes(c);
    }
    difference_list_free(&mismatches);
    difference_list_free(&settings);
    chv_run_free(base);
    chv_run_free(cand);
    if (rc < 0) {
        chv_comparison_free(c);
        return chv_error_set(err, "out of memory comparing %s and %s", base_dir, candidate_dir);
    }
    *out = c;
    return 0;
}

static void rows_free(chv_compare_row *rows, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(rows[i].task);
        free(rows[i].metric);
        free(rows[i].group);
    }
    free(rows);
}

void chv_comparison_free(chv_comparison *c) {
    if (c == NULL)
        return;
    rows_free(c->rows, c->n_rows);
    rows_free(c->subrows, c->n_subrows);
    for (size_t i = 0; i < c->n_notes; i++)
        free(c->notes[i]);
    free(c->notes);
    difference_list mismatches = {c->mismatches, c->n_mismatches};
    difference_list settings = {c->settings, c->n_settings};
    difference_list_free(&mismatches);
    difference_list_free(&settings);
    free(c->base_dir);
    free(c->candidate_dir);
    free(c->base_model);
    free(c->candidate_model);
    free(c->metric_request);
    free(c);
}

int chv_comparison_has_regression(const chv_comparison *c) {
    for (size_t i = 0; i < c->n_rows; i++)
        if (c->rows[i].verdict == CHV_VERDICT_WORSE)
            return 1;
    return 0;
}

const char *chv_verdict_name(chv_verdict verdict) {
    switch (verdict) {
    case CHV_VERDICT_BETTER: return "better";
    case CHV_VERDICT_WORSE: return "worse";
    case CHV_VERDICT_NOT_TESTED: return "not tested";
    default: return "no significant change";
    }
}
