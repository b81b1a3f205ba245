/* Tests for `cheval run` through the binary: usage errors, task listing,
 * missing data files and, with $CHEVAL_MODELS_DIR and $CHEVAL_DATA_DIR, a
 * short evaluation of every task on a tiny model. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "util/fileio.h"
#include "util/lines.h"

static test_output run_cheval(const char *args) {
    char command[8192];
    snprintf(command, sizeof command, "%s run %s", test_cheval_bin(), args);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    return out;
}

START_TEST(usage_errors_exit_2) {
    static const char *const cases[] = {
        "",
        "--tasks arc_easy",
        "--model m --tasks no_such_task",
        "--model m --tasks arc_easy --sample 5",
        "--model m --tasks arc_easy --seed 1",
        "--model m --tasks arc_easy --limit 0",
        "--model m --tasks arc_easy --limit 5 --seed 1 --sample 5",
        "--model m --tasks arc_easy --add-bos maybe",
        "--model m --tasks arc_easy --task-file arc_easy",
        "--model m --tasks arc_easy --bogus",
        "--model m --tasks arc_easy --threads 0",
        "--model m --tasks arc_easy --threads -2",
        "--model m --tasks arc_easy --threads 1025",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_output out = run_cheval(cases[i]);
        ck_assert_msg(out.status == 2, "'%s': status %d, stderr %s", cases[i], out.status, out.err);
        ck_assert_msg(strstr(out.err, "cheval run:") != NULL, "'%s': %s", cases[i], out.err);
        test_output_free(&out);
    }
}
END_TEST

START_TEST(help_lists_options) {
    test_output out = run_cheval("--help");
    ck_assert_int_eq(out.status, 0);
    ck_assert_ptr_nonnull(strstr(out.out, "--task-file"));
    ck_assert_ptr_nonnull(strstr(out.out, "--wikitext-double-bos"));
    ck_assert_ptr_nonnull(strstr(out.out, "default: all"));
    static const char *const files[] = {"results.json", "results.md", "report.md", "report.html",
                                        "results.csv", "samples_<task>.jsonl", "data/samples"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        ck_assert_msg(strstr(out.out, files[i]) != NULL, "--help lacks %s", files[i]);
    test_output_free(&out);
}
END_TEST

START_TEST(list_tasks_with_user_spec) {
    char *dir = test_make_temp_dir("cheval-cli");
    char *spec = chv_path_join(dir, "capitals.json");
    const char text[] = "{\"task\": \"capitals\", \"file\": \"capitals/test.jsonl\", "
                        "\"context\": \"Q: {country}?\\nA:\", \"choices\": \"{options}\", "
                        "\"gold\": \"{answer}\"}";
    ck_assert_int_eq(test_write_file(spec, text, sizeof text - 1), 0);

    char args[4096];
    snprintf(args, sizeof args, "--list-tasks --task-spec %s", spec);
    test_output out = run_cheval(args);
    ck_assert_int_eq(out.status, 0);
    ck_assert_ptr_nonnull(strstr(out.out, "capitals "));
    ck_assert_ptr_nonnull(strstr(out.out, "blimp_wh_island "));
    ck_assert_ptr_nonnull(strstr(out.out, "wikitext2/wiki.test.raw"));
    test_output_free(&out);

    /* The same spec, found through --tasks-dir. */
    snprintf(args, sizeof args, "--list-tasks --tasks-dir %s", dir);
    out = run_cheval(args);
    ck_assert_int_eq(out.status, 0);
    ck_assert_ptr_nonnull(strstr(out.out, "capitals "));
    test_output_free(&out);
    free(spec);
    free(dir);
}
END_TEST

START_TEST(missing_data_file_exit_1) {
    test_output out = run_cheval("--model /nonexistent/model --tasks arc_easy "
                                 "--data-dir /nonexistent/data");
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "/nonexistent/data/arc/ARC-Easy-Test.jsonl") != NULL, "%s",
                  out.err);
    ck_assert_msg(strstr(out.err, "scripts/fetch-data.sh") != NULL, "%s", out.err);
    ck_assert_msg(strstr(out.err, "--data-dir data/samples") != NULL, "%s", out.err);
    test_output_free(&out);
}
END_TEST

START_TEST(unknown_task_suggests_name) {
    test_output out = run_cheval("--model m --tasks arc_easy,arc_eazy");
    ck_assert_int_eq(out.status, 2);
    ck_assert_msg(strstr(out.err, "did you mean arc_easy?") != NULL, "%s", out.err);
    ck_assert_msg(strstr(out.err, "--list-tasks") != NULL, "%s", out.err);
    test_output_free(&out);
}
END_TEST

/* Writes the random-weight demo model into a new folder and returns it. */
static char *make_demo_model(void) {
    const char *tool = getenv("CHEVAL_DEMO_TOOL");
    if (tool == NULL || tool[0] == '\0')
        tool = "build/tools/make-demo-model";
    char *dir = test_make_temp_dir("cheval-demo");
    char command[4096];
    snprintf(command, sizeof command, "'%s' '%s/model'", tool, dir);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    ck_assert_msg(out.status == 0, "%s: %s", command, out.err);
    test_output_free(&out);
    return dir;
}

static cJSON *read_results(const char *dir) {
    char *path = chv_path_join(dir, "results.json");
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

START_TEST(failed_task_still_writes_results) {
    /* boolq and piqa read the bundled samples; "broken" has a gold label out
     * of range on its second line and sits between them. */
    char *dir = make_demo_model();
    char *spec = chv_path_join(dir, "broken.json");
    char *data = chv_path_join(dir, "broken.jsonl");
    const char spec_text[] = "{\"task\": \"broken\", \"file\": \"broken.jsonl\", "
                             "\"context\": \"{q}\", \"choices\": \"{options}\", "
                             "\"gold\": \"{answer}\"}";
    const char data_text[] = "{\"q\": \"a\", \"options\": [\"x\", \"y\"], \"answer\": 0}\n"
                             "{\"q\": \"b\", \"options\": [\"x\", \"y\"], \"answer\": 2}\n";
    ck_assert_int_eq(test_write_file(spec, spec_text, sizeof spec_text - 1), 0);
    ck_assert_int_eq(test_write_file(data, data_text, sizeof data_text - 1), 0);

    char args[8192];
    snprintf(args, sizeof args,
             "--model %s/model --tasks boolq,broken,piqa --task-spec %s --task-file broken=%s "
             "--data-dir data/samples --output-dir %s/run --log-samples --threads 1",
             dir, spec, data, dir);
    test_output out = run_cheval(args);
    ck_assert_msg(out.status == 1, "status %d: %s", out.status, out.err);
    ck_assert_msg(strstr(out.err, "broken.jsonl:2") != NULL, "%s", out.err);
    ck_assert_msg(strstr(out.err, "1 of 3 tasks failed") != NULL, "%s", out.err);
    ck_assert_msg(strstr(out.out, "|boolq") != NULL && strstr(out.out, "|piqa") != NULL, "%s",
                  out.out);

    /* The closing log line lists every file written. */
    ck_assert_msg(strstr(out.err, "results.json, results.md, report.md, report.html, results.csv "
                                  "and samples_<task>.jsonl") != NULL,
                  "%s", out.err);

    /* The samples warning appears once. */
    const char *warning = strstr(out.err, "sample documents, not the benchmarks");
    ck_assert_msg(warning != NULL, "%s", out.err);
    ck_assert_msg(strstr(warning + 1, "sample documents, not the benchmarks") == NULL, "%s", out.err);
    test_output_free(&out);

    snprintf(args, sizeof args, "%s/run", dir);
    cJSON *root = read_results(args);
    cJSON *results = cJSON_GetObjectItem(root, "results");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(results, "boolq"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(results, "piqa"));
    ck_assert_ptr_null(cJSON_GetObjectItem(results, "broken"));
    const char *message = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "failed"), "broken"));
    ck_assert_msg(message != NULL && strstr(message, "broken.jsonl:2") != NULL, "%s",
                  message ? message : "no failed.broken");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "sample_data")));
    const char *matmul = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "matmul"));
    ck_assert_msg(matmul != NULL && (strcmp(matmul, "packed") == 0 || strcmp(matmul, "openblas") == 0), "matmul %s",
                  matmul ? matmul : "missing");
    cJSON_Delete(root);

    static const char *const files[] = {"results.md", "report.md", "report.html", "results.csv",
                                        "samples_boolq.jsonl", "samples_piqa.jsonl"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(args, sizeof args, "%s/run/%s", dir, files[i]);
        ck_assert_msg(chv_file_exists(args), "%s was not written", args);
    }
    snprintf(args, sizeof args, "%s/run/samples_broken.jsonl", dir);
    ck_assert_msg(!chv_file_exists(args), "%s was written", args);

    /* The reports warn, above the numbers, that the data are samples and
     * that a task failed. */
    static const char *const reports[] = {"report.md", "report.html"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "%s/run/%s", dir, reports[i]);
        size_t len;
        chv_error err;
        char *text = chv_read_file(args, &len, &err);
        ck_assert_msg(text != NULL, "%s", err.message);
        ck_assert_msg(strstr(text, "Warning: sample data.") != NULL, "%s has no sample-data warning", reports[i]);
        ck_assert_msg(strstr(text, "Warning: 1 task failed") != NULL, "%s has no failed-task warning", reports[i]);
        ck_assert_msg(strstr(text, "broken.jsonl:2") != NULL, "%s does not give the failure", reports[i]);
        ck_assert_msg(strstr(text, "broken: broken") == NULL, "%s names the task twice", reports[i]);
        free(text);
    }
    free(spec);
    free(data);
    free(dir);
}
END_TEST

START_TEST(official_data_is_not_sample_data) {
    /* A data folder without the samples marker: no warning, and
     * sample_data is false. */
    char *dir = make_demo_model();
    char args[8192];
    snprintf(args, sizeof args,
             "--model %s/model --tasks boolq --task-file boolq=data/samples/boolq/dev.jsonl "
             "--data-dir %s --output-dir %s/run --threads 1",
             dir, dir, dir);
    test_output out = run_cheval(args);
    ck_assert_msg(out.status == 0, "status %d: %s", out.status, out.err);
    ck_assert_msg(strstr(out.err, "not the benchmarks") == NULL, "%s", out.err);
    test_output_free(&out);

    snprintf(args, sizeof args, "%s/run", dir);
    cJSON *root = read_results(args);
    cJSON *flag = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "sample_data");
    ck_assert(cJSON_IsFalse(flag));
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "failed"));
    cJSON_Delete(root);
    free(dir);
}
END_TEST

/* Checks results.json of a finished run: every task has its sample_len. */
static void check_results(const char *dir, const char *const *tasks, size_t n, long expected_len) {
    char *path = chv_path_join(dir, "results.json");
    size_t len;
    chv_error err;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    cJSON *results = cJSON_GetObjectItem(root, "results");
    for (size_t i = 0; i < n; i++) {
        cJSON *entry = cJSON_GetObjectItem(results, tasks[i]);
        ck_assert_msg(entry != NULL, "no results for %s", tasks[i]);
        ck_assert_int_eq(cJSON_GetObjectItem(entry, "sample_len")->valueint, expected_len);
    }
    cJSON_Delete(root);
    free(text);
    free(path);
}

START_TEST(every_task_on_tiny_model) {
    const char *models = test_models_dir("every_task_on_tiny_model");
    const char *data = test_data_dir("every_task_on_tiny_model");
    if (models == NULL || data == NULL)
        return;

    char *out_dir = test_make_temp_dir("cheval-run");
    char args[8192];
    snprintf(args, sizeof args,
             "--model %s/stories260K-hf --tasks arc_easy,arc_challenge,hellaswag,winogrande,piqa,"
             "openbookqa,boolq,arithmark,wikitext,blimp_adjunct_island --data-dir %s "
             "--task-file arithmark=%s/arithmark/arithmark_synthetic.jsonl --limit 3 "
             "--max-length 128 --output-dir %s --log-samples --threads 1 --quiet",
             models, data, data, out_dir);
    test_output out = run_cheval(args);
    ck_assert_msg(out.status == 0, "status %d: %s", out.status, out.err);
    ck_assert_msg(strstr(out.out, "|arc_easy") != NULL, "%s", out.out);
    ck_assert_msg(strstr(out.out, "word_perplexity") != NULL, "%s", out.out);
    test_output_free(&out);

    static const char *const tasks[] = {"arc_easy", "arc_challenge", "hellaswag", "winogrande",
                                        "piqa", "openbookqa", "boolq", "arithmark",
                                        "wikitext", "blimp_adjunct_island"};
    check_results(out_dir, tasks, sizeof tasks / sizeof tasks[0], 3);

    /* The sample log has 3 records with finite log-probabilities. */
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "samples_%s.jsonl", tasks[i]);
        char *path = chv_path_join(out_dir, name);
        chv_error err;
        chv_lines *lines = chv_lines_open(path, &err);
        ck_assert_msg(lines != NULL, "%s", err.message);
        const char *line;
        size_t len;
        int n = 0;
        while (chv_lines_next(lines, &line, &len, &err) == 1) {
            cJSON *item = cJSON_Parse(line);
            ck_assert_msg(item != NULL, "%s: invalid JSON", name);
            cJSON *requests = cJSON_GetObjectItem(item, "requests");
            cJSON *request;
            cJSON_ArrayForEach(request, requests) {
                double lp = cJSON_GetObjectItem(request, "logprob")->valuedouble;
                ck_assert_msg(lp <= 0.0 && lp > -1e6, "%s: logprob %g", name, lp);
            }
            cJSON_Delete(item);
            n++;
        }
        ck_assert_int_eq(n, 3);
        chv_lines_close(lines);
        free(path);
    }
    free(out_dir);
}
END_TEST

START_TEST(seeded_sample_is_reproducible) {
    const char *models = test_models_dir("seeded_sample_is_reproducible");
    const char *data = test_data_dir("seeded_sample_is_reproducible");
    if (models == NULL || data == NULL)
        return;

    char *dirs[2];
    for (int i = 0; i < 2; i++) {
        dirs[i] = test_make_temp_dir("cheval-sample");
        char args[4096];
        snprintf(args, sizeof args,
                 "--model %s/stories260K-hf --tasks boolq --data-dir %s --seed 11 --sample 4 "
                 "--max-length 128 --output-dir %s --quiet",
                 models, data, dirs[i]);
        test_output out = run_cheval(args);
        ck_assert_msg(out.status == 0, "status %d: %s", out.status, out.err);
        test_output_free(&out);
    }
    char *a_path = chv_path_join(dirs[0], "results.json");
    char *b_path = chv_path_join(dirs[1], "results.json");
    size_t len;
    chv_error err;
    char *a = chv_read_file(a_path, &len, &err);
    char *b = chv_read_file(b_path, &len, &err);
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    cJSON *sa = cJSON_GetObjectItem(cJSON_GetObjectItem(ja, "sampling"), "boolq");
    cJSON *sb = cJSON_GetObjectItem(cJSON_GetObjectItem(jb, "sampling"), "boolq");
    ck_assert_str_eq(cJSON_GetObjectItem(sa, "doc_ids_sha256")->valuestring,
                     cJSON_GetObjectItem(sb, "doc_ids_sha256")->valuestring);
    ck_assert_int_eq(cJSON_GetObjectItem(sa, "sample")->valueint, 4);
    ck_assert_int_eq(cJSON_GetObjectItem(sa, "seed")->valueint, 11);
    cJSON *ra = cJSON_GetObjectItem(cJSON_GetObjectItem(ja, "results"), "boolq");
    cJSON *rb = cJSON_GetObjectItem(cJSON_GetObjectItem(jb, "results"), "boolq");
    ck_assert_double_eq(cJSON_GetObjectItem(ra, "acc,none")->valuedouble,
                        cJSON_GetObjectItem(rb, "acc,none")->valuedouble);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    free(a);
    free(b);
    free(a_path);
    free(b_path);
    free(dirs[0]);
    free(dirs[1]);
}
END_TEST

START_TEST(partial_blimp_folder) {
    const char *models = test_models_dir("partial_blimp_folder");
    if (models == NULL)
        return;

    /* Two of the 67 paradigm files: the group runs what is there, warns,
     * and reports no group score. */
    char *data = test_make_temp_dir("cheval-blimp");
    char *blimp = chv_path_join(data, "blimp");
    chv_error err;
    ck_assert_int_eq(chv_mkdir_p(blimp, &err), 0);
    const char pair[] = "{\"sentence_good\": \"The cat sleeps.\", \"sentence_bad\": \"The cat sleep.\"}\n"
                        "{\"sentence_good\": \"Dogs bark.\", \"sentence_bad\": \"Dogs barks.\"}\n";
    const char *names[] = {"passive_1.jsonl", "wh_island.jsonl"};
    for (int i = 0; i < 2; i++) {
        char *path = chv_path_join(blimp, names[i]);
        ck_assert_int_eq(test_write_file(path, pair, sizeof pair - 1), 0);
        free(path);
    }

    char *out_dir = test_make_temp_dir("cheval-blimp-out");
    char args[4096];
    snprintf(args, sizeof args, "--model %s/stories260K-hf --tasks blimp --data-dir %s --output-dir %s",
             models, data, out_dir);
    test_output out = run_cheval(args);
    ck_assert_msg(out.status == 0, "status %d: %s", out.status, out.err);
    ck_assert_msg(strstr(out.err, "65 selected subtasks of blimp have no data file") != NULL, "%s",
                  out.err);
    ck_assert_msg(strstr(out.out, "blimp_passive_1") != NULL, "%s", out.out);
    ck_assert_msg(strstr(out.out, "Groups") == NULL, "%s", out.out);
    test_output_free(&out);

    static const char *const ran[] = {"blimp_passive_1", "blimp_wh_island"};
    check_results(out_dir, ran, 2, 2);

    /* A subtask named on its own must have its file. */
    snprintf(args, sizeof args, "--model %s/stories260K-hf --tasks blimp_passive_2 --data-dir %s "
             "--output-dir %s", models, data, out_dir);
    out = run_cheval(args);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "blimp/passive_2.jsonl") != NULL, "%s", out.err);
    test_output_free(&out);
    free(out_dir);
    free(blimp);
    free(data);
}
END_TEST

/* Returns the "tokens" and "logprob" of the first WikiText page. */
static void first_page(const char *models, const char *data, const char *extra, double *logprob,
                       long *tokens) {
    char *dir = test_make_temp_dir("cheval-bos");
    char args[4096];
    snprintf(args, sizeof args,
             "--model %s/stories260K-hf --tasks wikitext --data-dir %s --limit 1 --max-length 64 "
             "--output-dir %s --log-samples --quiet %s",
             models, data, dir, extra);
    test_output out = run_cheval(args);
    ck_assert_msg(out.status == 0, "status %d: %s", out.status, out.err);
    test_output_free(&out);

    char *path = chv_path_join(dir, "samples_wikitext.jsonl");
    size_t len;
    chv_error err;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    cJSON *item = cJSON_Parse(text);
    ck_assert_ptr_nonnull(item);
    *logprob = cJSON_GetObjectItem(item, "logprob")->valuedouble;
    *tokens = (long)cJSON_GetObjectItem(item, "tokens")->valuedouble;
    cJSON_Delete(item);
    free(text);
    free(path);
    free(dir);
}

START_TEST(wikitext_double_bos_switch) {
    const char *models = test_models_dir("wikitext_double_bos_switch");
    const char *data = test_data_dir("wikitext_double_bos_switch");
    if (models == NULL || data == NULL)
        return;

    /* The stories260K tokenizer adds BOS itself. lm-eval's way scores one
     * more token (the tokenizer's BOS after the prefix BOS). */
    double one_lp, two_lp;
    long one_tokens, two_tokens;
    first_page(models, data, "", &one_lp, &one_tokens);
    first_page(models, data, "--wikitext-double-bos", &two_lp, &two_tokens);
    ck_assert_int_eq(two_tokens, one_tokens + 1);
    ck_assert_msg(two_lp != one_lp, "logprob %g in both modes", one_lp);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("task_cli");
    TCase *tc = tcase_create("cheval_run");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, usage_errors_exit_2);
    tcase_add_test(tc, help_lists_options);
    tcase_add_test(tc, list_tasks_with_user_spec);
    tcase_add_test(tc, missing_data_file_exit_1);
    tcase_add_test(tc, unknown_task_suggests_name);
    tcase_add_test(tc, failed_task_still_writes_results);
    tcase_add_test(tc, official_data_is_not_sample_data);
    tcase_add_test(tc, every_task_on_tiny_model);
    tcase_add_test(tc, seeded_sample_is_reproducible);
    tcase_add_test(tc, wikitext_double_bos_switch);
    tcase_add_test(tc, partial_blimp_folder);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
