/* The main job end to end on real files: `cheval run --tasks card` on the
 * stories260K-hf checkpoint, then `cheval report` and `cheval compare` on
 * its output. It takes about a minute, so it runs only when
 * CHEVAL_E2E_LIMIT (documents per task) is set, as .ci/run does. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "util/fileio.h"
#include "util/lines.h"

/* Every task of the card preset that is not a BLiMP subtask. */
static const char *const card_tasks[] = {
    "arc_easy", "arc_challenge", "hellaswag", "winogrande", "piqa",
    "openbookqa", "boolq", "arithmark", "wikitext",
};

static long count_lines(const char *path) {
    chv_error err;
    chv_lines *reader = chv_lines_open(path, &err);
    if (reader == NULL)
        return -1;
    const char *line;
    size_t len;
    long n = 0;
    while (chv_lines_next(reader, &line, &len, &err) == 1)
        n += len > 0;
    chv_lines_close(reader);
    return n;
}

static cJSON *load_json(const char *path) {
    chv_error err;
    size_t len;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    cJSON *json = cJSON_Parse(text);
    free(text);
    ck_assert_msg(json != NULL, "%s is not valid JSON", path);
    return json;
}

static void check_task(const cJSON *results, const char *run_dir, const char *task, long limit) {
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(results, "results"),
                                                          task);
    ck_assert_msg(entry != NULL, "results.json has no results.%s", task);

    const cJSON *n_samples = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItem(results, "n-samples"), task);
    ck_assert_msg(n_samples != NULL, "results.json has no n-samples.%s", task);
    double original = cJSON_GetObjectItem(n_samples, "original")->valuedouble;
    double effective = cJSON_GetObjectItem(n_samples, "effective")->valuedouble;
    ck_assert_msg(effective == (original < limit ? original : limit),
                  "%s: effective %g for original %g and limit %ld", task, effective, original,
                  limit);

    if (strcmp(task, "wikitext") == 0) {
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(entry, "word_perplexity,none")));
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(entry, "bits_per_byte,none")));
        ck_assert_str_eq(cJSON_GetObjectItem(entry, "bits_per_byte_stderr,none")->valuestring,
                         "N/A");
    } else {
        const cJSON *acc = cJSON_GetObjectItem(entry, "acc,none");
        ck_assert_msg(cJSON_IsNumber(acc), "%s has no acc,none", task);
        ck_assert(acc->valuedouble >= 0.0 && acc->valuedouble <= 1.0);
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(entry, "acc_stderr,none")));
    }

    char name[256];
    snprintf(name, sizeof name, "samples_%s.jsonl", task);
    char *path = chv_path_join(run_dir, name);
    ck_assert_msg(count_lines(path) == (long)effective, "%s: %ld lines, expected %g", path,
                  count_lines(path), effective);
    free(path);
}

START_TEST(card_run_report_compare) {
    const char *limit_text = getenv("CHEVAL_E2E_LIMIT");
    if (limit_text == NULL || limit_text[0] == '\0') {
        printf("SKIP card_run_report_compare: CHEVAL_E2E_LIMIT is not set\n");
        return;
    }
    const char *models = test_models_dir("card_run_report_compare");
    const char *data = test_data_dir("card_run_report_compare");
    if (models == NULL || data == NULL)
        return;
    long limit = atol(limit_text);

    char *run_dir = test_make_temp_dir("cheval-e2e");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "%s run --model %s/stories260K-hf --tasks card --data-dir %s "
             "--task-file arithmark=%s/arithmark/arithmark_synthetic.jsonl --limit %ld "
             "--log-samples --output-dir %s",
             test_cheval_bin(), models, data, data, limit, run_dir);
    test_output out;
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_msg(out.status == 0, "cheval run exited %d: %s", out.status, out.err);
    ck_assert_msg(strstr(out.out, "Tasks") != NULL && strstr(out.out, "Stderr") != NULL, "no results table on stdout");
    test_output_free(&out);

    char *results_path = chv_path_join(run_dir, "results.json");
    cJSON *results = load_json(results_path);
    for (size_t i = 0; i < sizeof card_tasks / sizeof card_tasks[0]; i++)
        check_task(results, run_dir, card_tasks[i], limit);
    check_task(results, run_dir, "blimp_adjunct_island", limit);

    const cJSON *blimp = cJSON_GetObjectItem(cJSON_GetObjectItem(results, "groups"), "blimp");
    ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(blimp, "acc,none")), "no groups.blimp");
    const cJSON *subtasks =
        cJSON_GetObjectItem(cJSON_GetObjectItem(results, "group_subtasks"), "blimp");
    ck_assert_int_eq(cJSON_GetArraySize(subtasks), 67);

    /* The official files are not the bundled samples, and every task ran. */
    const cJSON *config = cJSON_GetObjectItem(results, "config");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(config, "sample_data")));
    ck_assert_ptr_null(cJSON_GetObjectItem(results, "failed"));
    cJSON_Delete(results);
    free(results_path);

    const char *outputs[] = {"results.md", "report.md", "results.csv", "report.html"};
    for (size_t i = 0; i < 4; i++) {
        char *path = chv_path_join(run_dir, outputs[i]);
        ck_assert_msg(chv_file_exists(path), "%s was not written", path);
        free(path);
    }

    snprintf(cmd, sizeof cmd, "%s report %s --group-by metadata.difficulty", test_cheval_bin(),
             run_dir);
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_msg(out.status == 0, "cheval report exited %d: %s", out.status, out.err);
    test_output_free(&out);

    snprintf(cmd, sizeof cmd, "%s compare %s %s --fail-on-regression", test_cheval_bin(), run_dir,
             run_dir);
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_msg(out.status == 0, "cheval compare exited %d: %s", out.status, out.err);
    ck_assert_msg(strstr(out.out, "arc_easy") != NULL, "compare table: %s", out.out);
    test_output_free(&out);

    snprintf(cmd, sizeof cmd, "rm -rf %s", run_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(run_dir);
}
END_TEST

int main(void) {
    Suite *s = suite_create("e2e_card");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, card_run_report_compare);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
