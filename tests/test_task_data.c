/* Loads every real benchmark file under $CHEVAL_DATA_DIR and builds all of
 * its requests; checks the document counts of the official splits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "task/registry.h"
#include "task/task.h"
#include "util/fileio.h"

static chv_registry *registry;

static void setup(void) {
    chv_error err;
    registry = chv_registry_new(&err);
    ck_assert_msg(registry != NULL, "registry: %s", err.message);
}

static void teardown(void) { chv_registry_free(registry); }

/* Loads task from data_dir (or override, relative to data_dir) and returns
 * its document count; every document must have requests. */
static size_t load_count(const char *data_dir, const char *name, const char *override) {
    const chv_task_def *task = chv_registry_find(registry, name);
    ck_assert_msg(task != NULL, "task %s", name);

    chv_error err;
    char *override_path = override ? chv_path_join(data_dir, override) : NULL;
    char *path = chv_task_find_file(task, data_dir, override_path, &err);
    ck_assert_msg(path != NULL, "%s", err.message);

    chv_doc_list docs = {0};
    int rc = chv_task_load(task, path, 0, &docs, &err);
    ck_assert_msg(rc == 0, "%s: %s", name, err.message);
    for (size_t i = 0; i < docs.n; i++) {
        const chv_doc *doc = &docs.docs[i];
        if (task->spec->output_type == CHV_OUTPUT_ROLLING) {
            ck_assert_ptr_nonnull(doc->text);
            ck_assert_int_gt(doc->words, 0);
            continue;
        }
        ck_assert_uint_ge(doc->n_choices, 2);
        ck_assert_int_lt(doc->gold, (int)doc->n_choices);
        for (size_t c = 0; c < doc->n_choices; c++)
            ck_assert_msg(doc->continuations[c][0] != '\0', "%s doc %zu: empty continuation", name, i);
    }
    size_t n = docs.n;
    chv_doc_list_free(&docs);
    free(path);
    free(override_path);
    return n;
}

START_TEST(official_split_sizes) {
    const char *dir = test_data_dir("official_split_sizes");
    if (dir == NULL)
        return;
    ck_assert_uint_eq(load_count(dir, "arc_easy", NULL), 2376);
    ck_assert_uint_eq(load_count(dir, "arc_challenge", NULL), 1172);
    ck_assert_uint_eq(load_count(dir, "hellaswag", NULL), 10042);
    ck_assert_uint_eq(load_count(dir, "winogrande", NULL), 1267);
    ck_assert_uint_eq(load_count(dir, "piqa", NULL), 1838);
    ck_assert_uint_eq(load_count(dir, "openbookqa", NULL), 500);
    ck_assert_uint_eq(load_count(dir, "boolq", NULL), 3270);
    ck_assert_uint_eq(load_count(dir, "wikitext", NULL), 62);
    ck_assert_uint_eq(load_count(dir, "arithmark", "arithmark/arithmark_synthetic.jsonl"), 2500);
}
END_TEST

START_TEST(blimp_all_paradigms) {
    const char *dir = test_data_dir("blimp_all_paradigms");
    if (dir == NULL)
        return;
    const chv_task_def **tasks = NULL;
    size_t n = 0;
    chv_error err;
    ck_assert_int_eq(chv_registry_select(registry, "blimp", &tasks, &n, &err), 0);
    ck_assert_uint_eq(n, 67);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(load_count(dir, tasks[i]->name, NULL), 1000);
    free(tasks);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("task_data");
    TCase *tc = tcase_create("real_files");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, official_split_sizes);
    tcase_add_test(tc, blimp_all_paradigms);
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
