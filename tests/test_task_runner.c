/* Tests for the runner and the result writers with a stand-in scorer, so
 * no model is needed: metrics, groups, sampling, sample logs, results.json
 * and results.md. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "task/registry.h"
#include "task/results.h"
#include "task/runner.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/log.h"

/* The stand-in scores a continuation by minus its length in bytes, so the
 * shortest choice wins acc. A page scores minus one nat per byte. */
static int fake_loglikelihood(void *ctx, const chv_ll_request *requests, size_t n,
                              chv_ll_result *results, chv_progress_fn progress, void *user,
                              chv_error *err) {
    (void)ctx;
    (void)err;
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].logprob = -(double)strlen(requests[i].continuation);
        results[i].is_greedy = i % 2;
        results[i].context_tokens = malloc(4); /* exercises release */
    }
    if (progress)
        progress(user, n, n);
    return 0;
}

static int fake_rolling(void *ctx, const char *const *texts, size_t n, chv_rolling_result *results,
                        chv_progress_fn progress, void *user, chv_error *err) {
    (void)ctx;
    (void)err;
    for (size_t i = 0; i < n; i++) {
        results[i].logprob = -(double)strlen(texts[i]);
        results[i].n_tokens = strlen(texts[i]);
        results[i].n_windows = 1;
    }
    if (progress)
        progress(user, n, n);
    return 0;
}

static void fake_release(chv_ll_result *result) { free(result->context_tokens); }

static const chv_backend fake = {NULL, fake_loglikelihood, fake_rolling, fake_release};

/* A stand-in that fails every call whose first continuation is ctx, the
 * way a scorer fails on a request it cannot score. */
static int failing_loglikelihood(void *ctx, const chv_ll_request *requests, size_t n,
                                 chv_ll_result *results, chv_progress_fn progress, void *user,
                                 chv_error *err) {
    if (n > 0 && strcmp(requests[0].continuation, ctx) == 0)
        return chv_error_set(err, "request 0: stand-in scorer failure");
    return fake_loglikelihood(ctx, requests, n, results, progress, user, err);
}

/* The worked example of tasks/README.md, verbatim. */
static const char capitals_spec[] =
    "{\n"
    "  \"task\": \"capitals\",\n"
    "  \"version\": \"1.0\",\n"
    "  \"file\": \"capitals/test.jsonl\",\n"
    "  \"context\": \"Q: What is the capital of {country}?\\nA:\",\n"
    "  \"choices\": \"{options}\",\n"
    "  \"gold\": \"{answer}\",\n"
    "  \"metrics\": [\"acc\", \"acc_norm\"]\n"
    "}\n";

static const char capitals_data[] =
    "{\"country\": \"France\", \"options\": [\"Paris\", \"Lyon\", \"Marseille\"], \"answer\": \"Paris\"}\n"
    "{\"country\": \"Japan\", \"options\": [\"Osaka\", \"Tokyo\"], \"answer\": \"Tokyo\"}\n"
    "{\"country\": \"Italy\", \"options\": [\"Rome\", \"Milan\"], \"answer\": 0}\n"
    "{\"country\": \"Peru\", \"options\": [\"Cusco\", \"Lima\"], \"answer\": \"Lima\"}\n";

static char *data_dir;
static chv_registry *registry;

static void write_under(const char *dir, const char *rel, const char *text) {
    char *path = chv_path_join(dir, rel);
    char *parent = strdup(path);
    *strrchr(parent, '/') = '\0';
    chv_error err;
    ck_assert_int_eq(chv_mkdir_p(parent, &err), 0);
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    free(parent);
    free(path);
}

static void setup(void) {
    chv_error err;
    data_dir = test_make_temp_dir("cheval-runner");
    write_under(data_dir, "capitals/test.jsonl", capitals_data);
    registry = chv_registry_new(&err);
    ck_assert_msg(registry != NULL, "%s", err.message);
    int rc = chv_registry_add_spec(registry, capitals_spec, "capitals.json", 0, &err);
    ck_assert_msg(rc == 0, "%s", err.message);
}

static void teardown(void) {
    chv_registry_free(registry);
    free(data_dir);
}

static int run_list(const char *list, chv_run_options *options, chv_run_result *run, chv_error *err) {
    const chv_task_def **tasks = NULL;
    size_t n = 0;
    ck_assert_int_eq(chv_registry_select(registry, list, &tasks, &n, err), 0);
    int rc = chv_run_tasks(tasks, n, options, &fake, run, err);
    free(tasks);
    return rc;
}

START_TEST(worked_example_metrics) {
    chv_run_options options = {.data_dir = data_dir};
    chv_run_result run;
    chv_error err;
    ck_assert_msg(run_list("capitals", &options, &run, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(run.n_tasks, 1);

    /* Shortest continuation wins: Lyon (wrong), Osaka (wrong; tie with
     * Tokyo, first wins), Rome (right), Lima (right) -> acc 0.5. */
    const chv_task_result *r = &run.tasks[0];
    ck_assert_uint_eq(r->n_effective, 4);
    const chv_metric_value *acc = chv_task_result_metric(r, "acc");
    ck_assert_double_eq_tol(acc->value, 0.5, 1e-12);
    ck_assert_double_eq_tol(acc->stderr_value, sqrt(0.25 / 3.0), 1e-12);
    ck_assert_ptr_nonnull(chv_task_result_metric(r, "acc_norm"));
    ck_assert_ptr_nonnull(chv_task_result_metric(r, "acc_bytes"));
    ck_assert_uint_eq(r->n_ties, 1);
    ck_assert_double_eq_tol(r->chance, (1.0 / 3 + 0.5 + 0.5 + 0.5) / 4, 1e-12);
    chv_run_result_free(&run);
}
END_TEST

START_TEST(limit_and_seeded_sample) {
    chv_run_options options = {.data_dir = data_dir, .selection = {.limit = 2}};
    chv_run_result run;
    chv_error err;
    ck_assert_int_eq(run_list("capitals", &options, &run, &err), 0);
    ck_assert_uint_eq(run.tasks[0].n_effective, 2);
    ck_assert_uint_eq(run.tasks[0].n_original, 4);
    char first_two[65];
    memcpy(first_two, run.tasks[0].doc_ids_sha256, 65);
    chv_run_result_free(&run);

    options.selection = (chv_selection_rule){.sample = 2, .seed = 7};
    ck_assert_int_eq(run_list("capitals", &options, &run, &err), 0);
    ck_assert_uint_eq(run.tasks[0].n_effective, 2);
    char sampled[65];
    memcpy(sampled, run.tasks[0].doc_ids_sha256, 65);
    chv_run_result_free(&run);

    ck_assert_int_eq(run_list("capitals", &options, &run, &err), 0);
    ck_assert_str_eq(run.tasks[0].doc_ids_sha256, sampled);
    chv_run_result_free(&run);
    (void)first_two;
}
END_TEST

START_TEST(task_file_override_and_missing_file) {
    char *other = chv_path_join(data_dir, "other.jsonl");
    size_t first_line = (size_t)(strchr(capitals_data, '\n') - capitals_data) + 1;
    ck_assert_int_eq(test_write_file(other, capitals_data, first_line), 0);
    chv_task_file files[] = {{"capitals", other}};
    chv_run_options options = {.data_dir = "/nonexistent", .task_files = files, .n_task_files = 1};
    chv_run_result run;
    chv_error err;
    ck_assert_msg(run_list("capitals", &options, &run, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(run.tasks[0].n_original, 1);
    chv_run_result_free(&run);

    options.n_task_files = 0;
    ck_assert_int_eq(run_list("capitals", &options, &run, &err), -1);
    ck_assert_msg(strstr(err.message, "/nonexistent/capitals/test.jsonl") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "scripts/fetch-data.sh") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "--task-file capitals=PATH") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "--data-dir data/samples") != NULL, "%s", err.message);
    ck_assert_uint_eq(run.n_failures, 1);
    chv_run_result_free(&run);
    free(other);
}
END_TEST

/* Reads dir/name as JSON. */
static cJSON *read_json_file(const char *dir, const char *name) {
    char *path = chv_path_join(dir, name);
    size_t len;
    chv_error err;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    free(text);
    free(path);
    return root;
}

START_TEST(failed_task_keeps_finished_ones) {
    /* capitals is fine; broken has a gold out of range on its second line;
     * the third task is capitals again under another name, after the
     * failure, so the run must go on past it. */
    const char broken_spec[] = "{\"task\": \"broken\", \"file\": \"broken/test.jsonl\", "
                               "\"context\": \"{q}\", \"choices\": \"{options}\", "
                               "\"gold\": \"{answer}\"}";
    const char after_spec[] = "{\"task\": \"after\", \"file\": \"capitals/test.jsonl\", "
                              "\"context\": \"{country}\", \"choices\": \"{options}\", "
                              "\"gold\": \"{answer}\"}";
    write_under(data_dir, "broken/test.jsonl",
                "{\"q\": \"a\", \"options\": [\"x\", \"y\"], \"answer\": 0}\n"
                "{\"q\": \"b\", \"options\": [\"x\", \"y\"], \"answer\": 7}\n"
                "{\"q\": \"c\", \"options\": [\"x\", \"y\"], \"answer\": 1}\n");
    chv_error err;
    ck_assert_int_eq(chv_registry_add_spec(registry, broken_spec, "broken.json", 0, &err), 0);
    ck_assert_int_eq(chv_registry_add_spec(registry, after_spec, "after.json", 0, &err), 0);

    chv_run_options options = {.data_dir = data_dir};
    chv_run_result run;
    ck_assert_int_eq(run_list("capitals,broken,after", &options, &run, &err), -1);
    ck_assert_msg(strstr(err.message, "broken/test.jsonl:2") != NULL, "%s", err.message);
    ck_assert_uint_eq(run.n_tasks, 2);
    ck_assert_str_eq(run.tasks[0].task->name, "capitals");
    ck_assert_str_eq(run.tasks[1].task->name, "after");
    ck_assert_uint_eq(run.n_failures, 1);
    ck_assert_str_eq(run.failures[0].task->name, "broken");
    ck_assert_msg(strstr(run.failures[0].message, "broken/test.jsonl:2") != NULL, "%s",
                  run.failures[0].message);

    /* results.json keeps the finished tasks and names the failed one. */
    char *out_dir = test_make_temp_dir("cheval-failed");
    chv_run_config config = {.model = "m", .date = "2026-01-01T00:00:00Z"};
    ck_assert_msg(chv_results_write(&run, &config, out_dir, &err) == 0, "%s", err.message);
    cJSON *root = read_json_file(out_dir, "results.json");
    cJSON *results = cJSON_GetObjectItem(root, "results");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(results, "capitals"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(results, "after"));
    ck_assert_ptr_null(cJSON_GetObjectItem(results, "broken"));
    const char *message = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "failed"), "broken"));
    ck_assert_ptr_nonnull(message);
    ck_assert_msg(strstr(message, "broken/test.jsonl:2") != NULL, "%s", message);
    cJSON_Delete(root);

    char *markdown = chv_results_markdown(&run);
    ck_assert_msg(strstr(markdown, "Failed tasks") != NULL, "%s", markdown);
    ck_assert_msg(strstr(markdown, "broken/test.jsonl:2") != NULL, "%s", markdown);
    free(markdown);
    chv_run_result_free(&run);
    free(out_dir);
}
END_TEST

START_TEST(scorer_failure_keeps_finished_ones) {
    /* The scorer fails on capitals' call, whose first continuation is
     * " Paris"; the task after it still runs. */
    const char after_spec[] = "{\"task\": \"after\", \"file\": \"capitals/test.jsonl\", "
                              "\"context\": \"{country}\", \"choices\": [\"no\", \"yes\"], "
                              "\"gold\": \"0\"}";
    chv_error err;
    int rc = chv_registry_add_spec(registry, after_spec, "after.json", 0, &err);
    ck_assert_msg(rc == 0, "%s", err.message);

    static char failing_continuation[] = " Paris";
    chv_backend failing = {failing_continuation, failing_loglikelihood, fake_rolling, fake_release};
    const chv_task_def **tasks = NULL;
    size_t n = 0;
    ck_assert_int_eq(chv_registry_select(registry, "capitals,after", &tasks, &n, &err), 0);
    chv_run_options options = {.data_dir = data_dir};
    chv_run_result run;
    ck_assert_int_eq(chv_run_tasks(tasks, n, &options, &failing, &run, &err), -1);
    ck_assert_msg(strstr(err.message, "capitals: request 0") != NULL, "%s", err.message);
    ck_assert_uint_eq(run.n_tasks, 1);
    ck_assert_str_eq(run.tasks[0].task->name, "after");
    ck_assert_uint_eq(run.n_failures, 1);
    ck_assert_str_eq(run.failures[0].task->name, "capitals");
    chv_run_result_free(&run);
    free(tasks);
}
END_TEST

START_TEST(samples_marker_detected) {
    ck_assert_int_eq(chv_data_dir_is_samples(data_dir), 0);
    ck_assert_int_eq(chv_data_dir_is_samples("data/samples"), 1);
    ck_assert_int_eq(chv_data_dir_is_samples("data"), 0);
}
END_TEST

START_TEST(unknown_task_suggestions) {
    static const char *const cases[][2] = {
        {"arc_eazy", "did you mean arc_easy?"},
        {"hellaswg", "did you mean hellaswag?"},
        {"arc", "did you mean arc_challenge or arc_easy?"},
        {"blimp_passive", "did you mean blimp_passive_1 or blimp_passive_2?"},
        {"crad", "did you mean card?"},
        {"capitols", "did you mean capitals?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const chv_task_def **tasks = NULL;
        size_t n = 0;
        chv_error err;
        ck_assert_int_eq(chv_registry_select(registry, cases[i][0], &tasks, &n, &err), -1);
        ck_assert_msg(strstr(err.message, cases[i][1]) != NULL, "%s: %s", cases[i][0], err.message);
        ck_assert_msg(strstr(err.message, "--list-tasks") != NULL, "%s", err.message);
    }

    /* Nothing close: no guess, only the pointer to --list-tasks. */
    const chv_task_def **tasks = NULL;
    size_t n = 0;
    chv_error err;
    ck_assert_int_eq(chv_registry_select(registry, "xyzzy", &tasks, &n, &err), -1);
    ck_assert_msg(strstr(err.message, "did you mean") == NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "--list-tasks") != NULL, "%s", err.message);
}
END_TEST

/* A group "pairs" of two subtasks, "pairs_one" and "pairs_two". */
static const char PAIRS_SPEC[] = "{\"task\": \"pairs\", \"version\": \"2.0\", \"file\": \"pairs/{subtask}.jsonl\","
                                 " \"subtasks\": [\"one\", \"two\"], \"context\": \"\","
                                 " \"choices\": [\"{good}\", \"{bad}\"], \"gold\": \"0\", \"metrics\": [\"acc\"]}";

/* Writes the outputs of run into out_dir with a fixed config and returns
 * the parsed results.json, which the caller deletes. */
static cJSON *write_and_read_results(const chv_run_result *run, const char *out_dir) {
    chv_run_config config = {.model = "/m/tiny", .model_name = "tiny", .cheval_version = "0.1.0",
                             .git_hash = "abc", .date = "2026-01-01T00:00:00Z", .seconds = 1.5};
    chv_error err;
    ck_assert_msg(chv_results_write(run, &config, out_dir, &err) == 0, "%s", err.message);

    char *path = chv_path_join(out_dir, "results.json");
    size_t len;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    free(text);
    free(path);
    return root;
}

/* A subtask run without the rest of its group has no group row, so its
 * alias is not indented, as lm-eval prints a task run on its own. */
START_TEST(subtask_alone_is_not_indented) {
    chv_error err;
    ck_assert_int_eq(chv_registry_add_spec(registry, PAIRS_SPEC, "pairs.json", 0, &err), 0);
    write_under(data_dir, "pairs/one.jsonl", "{\"good\":\"a\",\"bad\":\"bb\"}\n");

    char *out_dir = test_make_temp_dir("cheval-results");
    chv_run_options options = {.data_dir = data_dir, .samples_dir = out_dir};
    chv_run_result run;
    ck_assert_msg(run_list("pairs_one", &options, &run, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(run.n_groups, 0);

    cJSON *root = write_and_read_results(&run, out_dir);
    cJSON *one = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "results"), "pairs_one");
    ck_assert_str_eq(cJSON_GetObjectItem(one, "alias")->valuestring, "pairs_one");
    cJSON_Delete(root);
    chv_run_result_free(&run);
    free(out_dir);
}
END_TEST

START_TEST(group_pooled_and_outputs) {
    /* A two-subtask group; each subtask has 3 documents. */
    chv_error err;
    ck_assert_int_eq(chv_registry_add_spec(registry, PAIRS_SPEC, "pairs.json", 0, &err), 0);
    write_under(data_dir, "pairs/one.jsonl",
                "{\"good\":\"a\",\"bad\":\"bb\"}\n{\"good\":\"cc\",\"bad\":\"d\"}\n"
                "{\"good\":\"e\",\"bad\":\"ff\"}\n");
    write_under(data_dir, "pairs/two.jsonl",
                "{\"good\":\"a\",\"bad\":\"bb\"}\n{\"good\":\"a\",\"bad\":\"bb\"}\n"
                "{\"good\":\"a\",\"bad\":\"bb\"}\n");

    char *out_dir = test_make_temp_dir("cheval-results");
    chv_run_options options = {.data_dir = data_dir, .samples_dir = out_dir};
    chv_run_result run;
    ck_assert_msg(run_list("pairs,capitals", &options, &run, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(run.n_tasks, 3);
    ck_assert_uint_eq(run.n_groups, 1);

    /* acc 2/3 (stderr sqrt(1/3)/sqrt(3) = 1/3) and 1 (stderr 0). Group:
     * mean 5/6; pooled sqrt((2*3*(1/9) + 0) / (6 - 2) / 6). */
    ck_assert_double_eq_tol(run.groups[0].acc.value, 5.0 / 6.0, 1e-12);
    ck_assert_double_eq_tol(run.groups[0].acc.stderr_value, sqrt((6.0 / 9.0) / 4.0 / 6.0), 1e-12);

    cJSON *root = write_and_read_results(&run, out_dir);
    cJSON *one = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "results"), "pairs_one");
    ck_assert_str_eq(cJSON_GetObjectItem(one, "alias")->valuestring, " - pairs_one");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(one, "acc,none")->valuedouble, 2.0 / 3, 1e-12);
    ck_assert_int_eq(cJSON_GetObjectItem(one, "sample_len")->valueint, 3);
    cJSON *group = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "groups"), "pairs");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(group, "acc_stderr,none"));
    cJSON *subtasks = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "group_subtasks"), "pairs");
    ck_assert_int_eq(cJSON_GetArraySize(subtasks), 2);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "versions"), "pairs")->valuestring, "2.0");
    cJSON *ns = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "n-samples"), "capitals");
    ck_assert_int_eq(cJSON_GetObjectItem(ns, "original")->valueint, 4);
    ck_assert_str_eq(cJSON_GetObjectItem(root, "total_evaluation_time_seconds")->valuestring, "1.50");
    cJSON *diag = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "diagnostics"), "capitals");
    ck_assert_int_eq(cJSON_GetObjectItem(diag, "tied_documents")->valueint, 1);
    cJSON *sampling = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sampling"), "capitals");
    ck_assert_ptr_null(cJSON_GetObjectItem(sampling, "tied_documents"));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(sampling, "limit")));
    cJSON_Delete(root);

    char *path = chv_path_join(out_dir, "results.md");
    size_t len;
    char *text = chv_read_file(path, &len, &err);
    static const char *const expected[] = {
        "|   Tasks    |Version|Filter|n-shot| Metric  |   |Value |   |Stderr|\n"
        "|------------|------:|------|-----:|---------|---|-----:|---|-----:|\n"
        "|pairs       |      2|none  |     0|acc      |\xE2\x86\x91  |0.8333|\xC2\xB1  |0.1667|\n"
        "| - pairs_one|      1|none  |     0|acc      |\xE2\x86\x91  |0.6667|\xC2\xB1  |0.3333|\n"
        "|            |       |none  |     0|acc_bytes|\xE2\x86\x91  |0.3333|\xC2\xB1  |0.3333|\n",
        "|Groups|Version|Filter|n-shot|Metric|   |Value |   |Stderr|\n"
        "|------|------:|------|-----:|------|---|-----:|---|-----:|\n"
        "|pairs |      2|none  |     0|acc   |\xE2\x86\x91  |0.8333|\xC2\xB1  |0.1667|\n",
    };
    for (size_t i = 0; i < 2; i++)
        ck_assert_msg(strstr(text, expected[i]) != NULL, "table %zu missing from:\n%s", i, text);
    free(text);
    free(path);

    /* The sample log: one record per document, with requests and metrics. */
    path = chv_path_join(out_dir, "samples_capitals.jsonl");
    chv_lines *lines = chv_lines_open(path, &err);
    ck_assert_ptr_nonnull(lines);
    const char *line;
    int n = 0;
    while (chv_lines_next(lines, &line, &len, &err) == 1) {
        cJSON *item = cJSON_Parse(line);
        ck_assert_int_eq(cJSON_GetObjectItem(item, "doc_id")->valueint, n);
        cJSON *requests = cJSON_GetObjectItem(item, "requests");
        cJSON *first = cJSON_GetArrayItem(requests, 0);
        if (n == 0) {
            ck_assert_str_eq(cJSON_GetObjectItem(first, "context")->valuestring,
                             "Q: What is the capital of France?\nA:");
            ck_assert_str_eq(cJSON_GetObjectItem(first, "continuation")->valuestring, " Paris");
            ck_assert_str_eq(
                cJSON_GetObjectItem(cJSON_GetObjectItem(item, "doc"), "country")->valuestring,
                "France");
            ck_assert_int_eq(cJSON_GetObjectItem(item, "pred")->valueint, 1);
        }
        if (n == 1)
            ck_assert_int_eq(cJSON_GetObjectItem(item, "ties")->valueint, 1);
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(item, "acc_norm"));
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(item, "acc_bytes"));
        cJSON_Delete(item);
        n++;
    }
    ck_assert_int_eq(n, 4);
    chv_lines_close(lines);
    free(path);
    chv_run_result_free(&run);
    free(out_dir);
}
END_TEST

START_TEST(rolling_perplexities) {
    write_under(data_dir, "wikitext2/wiki.test.raw", " = A = \n a b \n = B = \n c \n");
    chv_run_options options = {.data_dir = data_dir};
    chv_run_result run;
    chv_error err;
    ck_assert_msg(run_list("wikitext", &options, &run, &err) == 0, "%s", err.message);
    /* Pages " = A = \n a b " (13 bytes, 7 words) and " = B = \n c \n"
     * (12 bytes, 6 words). Detokenized: " = A =\na b " (11 bytes) and
     * " = B =\nc\n" (9 bytes), so the stand-in gives ll = -20. */
    const chv_task_result *r = &run.tasks[0];
    ck_assert_uint_eq(r->n_effective, 2);
    ck_assert_double_eq_tol(chv_task_result_metric(r, "word_perplexity")->value, exp(20.0 / 13.0),
                            1e-9);
    ck_assert_double_eq_tol(chv_task_result_metric(r, "byte_perplexity")->value, exp(20.0 / 25.0),
                            1e-9);
    ck_assert_double_eq_tol(chv_task_result_metric(r, "bits_per_byte")->value,
                            20.0 / 25.0 / log(2.0), 1e-9);
    ck_assert(isnan(chv_task_result_metric(r, "bits_per_byte")->stderr_value));
    char *md = chv_results_markdown(&run);
    ck_assert_msg(strstr(md, "   N/A|") != NULL, "%s", md);
    ck_assert_msg(strstr(md, "\xE2\x86\x93") != NULL, "%s", md);
    free(md);
    chv_run_result_free(&run);
}
END_TEST

START_TEST(task_list_resolution) {
    const chv_task_def **tasks = NULL;
    size_t n = 0;
    chv_error err;
    ck_assert_int_eq(chv_registry_select(registry, "card", &tasks, &n, &err), 0);
    /* 9 benchmarks plus 67 BLiMP paradigms; user specs are not in the preset. */
    ck_assert_uint_eq(n, 8 + 67 + 1);
    ck_assert_str_eq(tasks[0]->name, "arc_challenge");
    for (size_t i = 0; i < n; i++)
        ck_assert_str_ne(tasks[i]->name, "capitals");
    free(tasks);

    ck_assert_int_eq(chv_registry_select(registry, "all,arc_easy,capitals", &tasks, &n, &err), 0);
    ck_assert_uint_eq(n, 8 + 67 + 2);
    free(tasks);

    ck_assert_int_eq(chv_registry_select(registry, "boolq, blimp_passive_1", &tasks, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    free(tasks);

    /* A user spec replacing a built-in task keeps its place in the preset. */
    const char boolq[] = "{\"task\": \"boolq\", \"file\": \"my/boolq.jsonl\", \"context\": \"{q}\","
                         " \"choices\": [\"no\", \"yes\"], \"gold\": \"{label}\"}";
    ck_assert_int_eq(chv_registry_add_spec(registry, boolq, "boolq.json", 0, &err), 0);
    ck_assert_str_eq(chv_registry_find(registry, "boolq")->file, "my/boolq.jsonl");
    ck_assert_int_eq(chv_registry_select(registry, "card", &tasks, &n, &err), 0);
    ck_assert_uint_eq(n, 8 + 67 + 1);
    free(tasks);

    ck_assert_int_eq(chv_registry_select(registry, "arc_easy,nope", &tasks, &n, &err), -1);
    ck_assert_msg(strstr(err.message, "\"nope\"") != NULL, "%s", err.message);
}
END_TEST

START_TEST(spec_errors_name_the_field) {
    chv_error err;
    ck_assert_int_eq(chv_registry_add_spec(registry, "{\"task\": \"x\", \"file\": \"x.jsonl\", "
                                                     "\"context\": \"{q}\", \"choices\": \"{c}\", "
                                                     "\"gold\": \"{g}\", \"colour\": 1}",
                                           "bad.json", 0, &err),
                     -1);
    ck_assert_msg(strstr(err.message, "bad.json") && strstr(err.message, "colour"), "%s",
                  err.message);
    ck_assert_int_eq(chv_registry_add_spec(registry, "{\"task\": \"x\", \"file\": \"x.jsonl\", "
                                                     "\"context\": \"{q}\", \"choices\": \"{c}\"}",
                                           "nogold.json", 0, &err),
                     -1);
    ck_assert_msg(strstr(err.message, "gold"), "%s", err.message);
    ck_assert_int_eq(chv_registry_add_spec(registry, "{\"task\": \"x\", \"file\": \"x.jsonl\", "
                                                     "\"context\": \"{q\", \"choices\": \"{c}\", "
                                                     "\"gold\": \"{g}\"}",
                                           "brace.json", 0, &err),
                     -1);
    ck_assert_msg(strstr(err.message, "context"), "%s", err.message);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("task_runner");
    TCase *tc = tcase_create("runner");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, worked_example_metrics);
    tcase_add_test(tc, limit_and_seeded_sample);
    tcase_add_test(tc, task_file_override_and_missing_file);
    tcase_add_test(tc, group_pooled_and_outputs);
    tcase_add_test(tc, subtask_alone_is_not_indented);
    tcase_add_test(tc, rolling_perplexities);
    tcase_add_test(tc, task_list_resolution);
    tcase_add_test(tc, failed_task_keeps_finished_ones);
    tcase_add_test(tc, scorer_failure_keeps_finished_ones);
    tcase_add_test(tc, samples_marker_detected);
    tcase_add_test(tc, unknown_task_suggestions);
    tcase_add_test(tc, spec_errors_name_the_field);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    chv_log_set_level(CHV_LOG_WARN);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
