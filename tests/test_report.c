/* Tests for src/report: loading run folders, breakdowns, and the
 * Markdown, CSV, HTML and JSON writers, on the fixture runs under
 * tests/fixtures/report/. Each test works on a copy in a temp folder. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/breakdown.h"
#include "report/report.h"
#include "report/run.h"
#include "support/testutil.h"
#include "util/fileio.h"
#include "util/lines.h"

#define FIXTURES "tests/fixtures/report"

/* Copies fixture run `name` into a fresh temp folder; returns its path. */
static char *copy_fixture(const char *name) {
    char *dir = test_make_temp_dir("cheval-report");
    char command[2048];
    snprintf(command, sizeof command, "cp -r %s/%s/. '%s'/", FIXTURES, name, dir);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    ck_assert_int_eq(out.status, 0);
    test_output_free(&out);
    return dir;
}

static char *read_text(const char *dir, const char *name) {
    char *path = chv_path_join(dir, name);
    chv_error err;
    char *text = chv_read_file(path, NULL, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    free(path);
    return text;
}

static void run_shell(const char *command) {
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    ck_assert_msg(out.status == 0, "%s: %s", command, out.err);
    test_output_free(&out);
}

#define ck_assert_contains(haystack, needle) \
    ck_assert_msg(strstr((haystack), (needle)) != NULL, "missing \"%s\"", (needle))

static const chv_breakdown *find_breakdown(const chv_breakdown *list, long n, const char *task,
                                           const char *title) {
    for (long i = 0; i < n; i++)
        if (strcmp(list[i].task, task) == 0 && strcmp(list[i].title, title) == 0)
            return &list[i];
    return NULL;
}

START_TEST(load_reads_tasks_and_groups) {
    chv_error err;
    chv_run *run = chv_run_load(FIXTURES "/base", NULL, &err);
    ck_assert_msg(run != NULL, "%s", err.message);
    ck_assert_str_eq(run->model_name, "tiny-base");

    chv_task *arith = chv_run_find_task(run, "arithmark");
    ck_assert_ptr_nonnull(arith);
    ck_assert_int_eq(arith->has_samples, 1);
    ck_assert_uint_eq(arith->n_samples, 40);
    ck_assert(fabs(chv_task_metric(arith, "acc")->value - 0.475) < 1e-12);
    ck_assert(fabs(arith->chance - 0.25) < 1e-12);

    chv_task *blimp = chv_run_find_task(run, "blimp");
    ck_assert_ptr_nonnull(blimp);
    ck_assert_int_eq(blimp->is_group, 1);
    ck_assert_uint_eq(blimp->n_subtasks, 2);
    ck_assert(fabs(blimp->chance - 0.5) < 1e-12);

    chv_task *wikitext = chv_run_find_task(run, "wikitext");
    ck_assert_int_eq(wikitext->is_rolling, 1);
    ck_assert(isnan(chv_task_metric(wikitext, "bits_per_byte")->stderr_value));
    ck_assert_int_eq(chv_task_metric(wikitext, "bits_per_byte")->higher_is_better, 0);
    chv_run_free(run);
}
END_TEST

START_TEST(chance_from_choices_when_absent) {
    chv_error err;
    chv_run *run = chv_run_load(FIXTURES "/base", NULL, &err);
    ck_assert_msg(run != NULL, "%s", err.message);
    /* ARC fixture documents have 3, 4, 5, 4 choices, three times over. */
    double expected = (1.0 / 3 + 1.0 / 4 + 1.0 / 5 + 1.0 / 4) / 4;
    ck_assert(fabs(chv_run_find_task(run, "arc_easy")->chance - expected) < 1e-12);
    chv_run_free(run);
}
END_TEST

START_TEST(breakdowns_by_topic_sorted_and_flagged) {
    chv_error err;
    chv_run *run = chv_run_load(FIXTURES "/base", NULL, &err);
    ck_assert_msg(run != NULL, "%s", err.message);
    chv_breakdown *list;
    long n = chv_breakdowns_compute(run, &list);
    ck_assert_int_gt(n, 0);

    const chv_breakdown *topic = find_breakdown(list, n, "arithmark", "metadata.topic");
    ck_assert_ptr_nonnull(topic);
    ck_assert_uint_eq(topic->n_rows, 3);
    for (size_t r = 1; r < topic->n_rows; r++)
        ck_assert(topic->rows[r - 1].acc >= topic->rows[r].acc);
    for (size_t r = 0; r < topic->n_rows; r++) {
        const chv_breakdown_row *row = &topic->rows[r];
        if (strcmp(row->key, "addition") == 0) {
            ck_assert_uint_eq(row->n, 30);
            ck_assert_int_eq(row->noisy, 0);
            ck_assert(fabs(row->acc - 0.5) < 1e-12);
            ck_assert(fabs(row->chance - 0.25) < 1e-12);
        } else {
            ck_assert_int_eq(row->noisy, 1);
        }
    }
    chv_breakdowns_free(list, (size_t)n);
    chv_run_free(run);
}
END_TEST

START_TEST(breakdowns_arc_hellaswag_blimp) {
    chv_error err;
    chv_run *run = chv_run_load(FIXTURES "/base", NULL, &err);
    ck_assert_msg(run != NULL, "%s", err.message);
    chv_breakdown *list;
    long n = chv_breakdowns_compute(run, &list);

    const chv_breakdown *arc = find_breakdown(list, n, "arc_easy", "exam source (id prefix)");
    ck_assert_ptr_nonnull(arc);
    size_t total = 0;
    int has_mcas = 0, has_mercury = 0;
    for (size_t r = 0; r < arc->n_rows; r++) {
        total += arc->rows[r].n;
        has_mcas |= strcmp(arc->rows[r].key, "MCAS") == 0 && arc->rows[r].n == 4;
        has_mercury |= strcmp(arc->rows[r].key, "Mercury") == 0 && arc->rows[r].n == 5;
    }
    ck_assert_uint_eq(total, 12);
    ck_assert(has_mcas);
    ck_assert(has_mercury);

    const chv_breakdown *source = find_breakdown(list, n, "hellaswag", "source (ActivityNet or WikiHow)");
    ck_assert_ptr_nonnull(source);
    ck_assert_uint_eq(source->n_rows, 2);
    ck_assert(strcmp(source->rows[0].key, "ActivityNet") == 0 || strcmp(source->rows[0].key, "WikiHow") == 0);

    const chv_breakdown *subtasks = find_breakdown(list, n, "blimp", "subtask");
    ck_assert_ptr_nonnull(subtasks);
    ck_assert_uint_eq(subtasks->n_rows, 2);
    const chv_breakdown *term = find_breakdown(list, n, "blimp", "linguistics_term");
    ck_assert_ptr_nonnull(term);
    ck_assert_uint_eq(term->n_rows, 2);
    ck_assert_int_eq(term->has_acc_norm, 0);
    ck_assert_ptr_nonnull(find_breakdown(list, n, "blimp", "field"));

    chv_breakdowns_free(list, (size_t)n);
    chv_run_free(run);
}
END_TEST

/* BLiMP's two spellings of one field give one key. */
START_TEST(blimp_field_spellings_merge) {
    chv_breakdown_spec spec = {.title = "field", .path = "field", .kind = CHV_KEY_BLIMP_FIELD};
    cJSON *slash = cJSON_Parse("{\"field\": \"syntax/semantics\"}");
    cJSON *underscore = cJSON_Parse("{\"field\": \"syntax_semantics\"}");
    char *a = chv_breakdown_key(slash, &spec);
    char *b = chv_breakdown_key(underscore, &spec);
    ck_assert_str_eq(a, "syntax_semantics");
    ck_assert_str_eq(b, "syntax_semantics");
    free(a);
    free(b);
    cJSON_Delete(slash);
    cJSON_Delete(underscore);
}
END_TEST

START_TEST(group_by_adds_breakdown) {
    const char *fields[] = {"activity_label", "no.such.field"};
    chv_run_load_options options = {1, fields, 2, 50};
    chv_error err;
    chv_run *run = chv_run_load(FIXTURES "/base", &options, &err);
    ck_assert_msg(run != NULL, "%s", err.message);
    chv_breakdown *list;
    long n = chv_breakdowns_compute(run, &list);
    const chv_breakdown *activity = find_breakdown(list, n, "hellaswag", "activity_label");
    ck_assert_ptr_nonnull(activity);
    ck_assert_uint_eq(activity->n_rows, 4);
    /* A field that no document has produces no table. */
    ck_assert_ptr_null(find_breakdown(list, n, "hellaswag", "no.such.field"));
    /* ... and is recorded, so that the report can say so. */
    ck_assert_uint_eq(run->n_unmatched_group_by, 1);
    ck_assert_str_eq(run->unmatched_group_by[0], "no.such.field");
    chv_breakdowns_free(list, (size_t)n);
    chv_run_free(run);
}
END_TEST

START_TEST(write_all_markdown_content) {
    char *dir = copy_fixture("base");
    chv_error err;
    ck_assert_msg(chv_report_write_all(dir, NULL, &err) == 0, "%s", err.message);
    char *md = read_text(dir, "report.md");

    ck_assert_contains(md, "# Evaluation report: tiny-base");
    ck_assert_contains(md, "Tasks");
    ck_assert_contains(md, "|Version|Filter|n-shot|");
    ck_assert_contains(md, "|Groups|");
    ck_assert_contains(md, "## Model card");
    ck_assert_contains(md, "|arithmark|0.4750|0.0800|  0.6250|0.0775|");
    /* Versions print as results.md prints them: "1.0" as 1, "2.0" as 2. */
    ck_assert_contains(md, "|arithmark                        |      1|none  |");
    ck_assert_contains(md, "|blimp |      2|none  |");
    ck_assert_ptr_null(strstr(md, ".0|none"));
    ck_assert_contains(md, "## Perplexity");
    ck_assert_contains(md, "### arithmark by metadata.topic");
    ck_assert_contains(md, "noisy (n < 30)");
    ck_assert_contains(md, "### arc_easy by exam source (id prefix)");
    ck_assert_contains(md, "### hellaswag by split_type");
    ck_assert_contains(md, "### blimp by linguistics_term");
    /* Sorted by acc: multiplication 0.75, addition 0.50, subtraction 0.17. */
    char *mul = strstr(md, "|multiplication|"), *add = strstr(md, "|addition      |");
    char *sub = strstr(md, "|subtraction   |");
    ck_assert(mul && add && sub && mul < add && add < sub);

    char *html_path = chv_path_join(dir, "report.html");
    ck_assert(chv_file_exists(html_path));
    char *csv_path = chv_path_join(dir, "results.csv");
    ck_assert(chv_file_exists(csv_path));
    char *json_path = chv_path_join(dir, "report.json");
    ck_assert(!chv_file_exists(json_path)); /* not a default format */
    free(html_path);
    free(csv_path);
    free(json_path);
    free(md);
    free(dir);
}
END_TEST

START_TEST(csv_rows_per_task_metric) {
    char *dir = copy_fixture("base");
    chv_report_options options = {.formats = CHV_REPORT_CSV};
    chv_error err;
    ck_assert_msg(chv_report_write_all(dir, &options, &err) == 0, "%s", err.message);
    char *csv = read_text(dir, "results.csv");
    ck_assert(strncmp(csv, "task,metric,value,stderr,n,higher_is_better\n", 44) == 0);
    ck_assert_contains(csv, "\narithmark,acc,0.475,0.07996393418,40,true\n");
    ck_assert_contains(csv, "\nwikitext,bits_per_byte,");
    ck_assert_contains(csv, ",,4,false\n"); /* N/A stderr is an empty field */
    ck_assert_contains(csv, "\nblimp,acc,0.75,");

    size_t lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    /* header + 2 arithmark + 3 arc + 2 hellaswag + 2 blimp subtasks + 3 wikitext + 1 group */
    ck_assert_uint_eq(lines, 14);
    free(csv);
    free(dir);
}
END_TEST

START_TEST(html_self_contained_and_escaped) {
    char *dir = copy_fixture("base");
    chv_report_options options = {.formats = CHV_REPORT_HTML, .max_wrong = 2};
    chv_error err;
    ck_assert_msg(chv_report_write_all(dir, &options, &err) == 0, "%s", err.message);
    char *html = read_text(dir, "report.html");

    ck_assert_contains(html, "<!DOCTYPE html>");
    ck_assert_contains(html, "<svg");
    ck_assert_contains(html, "class=\"bar\"");
    ck_assert_contains(html, "class=\"chance\"");
    ck_assert_contains(html, "class=\"err\"");
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, " src="));
    ck_assert_ptr_null(strstr(html, " href="));
    ck_assert_ptr_null(strstr(html, "<link"));

    /* ARC stems contain "<quantity N> & why?" and choices contain quotes. */
    ck_assert_contains(html, "&lt;quantity");
    ck_assert_contains(html, "&amp; why?");
    ck_assert_contains(html, "&quot;");
    ck_assert_ptr_null(strstr(html, "<quantity"));

    /* The summary chart draws tasks with fewer than 30 documents paler,
     * like the breakdowns: arc_easy (12), hellaswag (8) and blimp (20),
     * but not arithmark (40). */
    char *summary = strstr(html, "aria-label=\"acc per task against chance\"");
    ck_assert_ptr_nonnull(summary);
    char *summary_end = strstr(summary, "</svg>");
    ck_assert_ptr_nonnull(summary_end);
    size_t muted = 0, plain = 0;
    for (char *p = summary; (p = strstr(p, "<rect class=\"bar")) != NULL && p < summary_end; p++) {
        static const char muted_bar[] = "<rect class=\"bar muted\"", plain_bar[] = "<rect class=\"bar\"";
        muted += strncmp(p, muted_bar, sizeof muted_bar - 1) == 0;
        plain += strncmp(p, plain_bar, sizeof plain_bar - 1) == 0;
    }
    ck_assert_uint_eq(muted, 3);
    ck_assert_uint_eq(plain, 1);
    ck_assert_contains(html, "<tr class=\"noisy\"><td>arc_easy</td>");
    ck_assert_contains(html, "<tr><td>arithmark</td>");

    ck_assert_contains(html, "Documents the model got wrong");
    ck_assert_contains(html, "(showing the first 2)");
    ck_assert_contains(html, "class=\"tag gold\"");
    free(html);
    free(dir);
}
END_TEST

START_TEST(json_format_lists_breakdowns) {
    char *dir = copy_fixture("base");
    chv_report_options options = {.formats = CHV_REPORT_JSON};
    chv_error err;
    ck_assert_msg(chv_report_write_all(dir, &options, &err) == 0, "%s", err.message);
    char *text = read_text(dir, "report.json");
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    cJSON *list = cJSON_GetObjectItem(root, "breakdowns");
    ck_assert_int_gt(cJSON_GetArraySize(list), 5);
    cJSON *first = cJSON_GetArrayItem(list, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "task")->valuestring, "arithmark");
    cJSON_Delete(root);
    free(text);
    free(dir);
}
END_TEST

START_TEST(txt_hellaswag_says_not_available) {
    char *dir = copy_fixture("txt_hellaswag");
    chv_report_options options = {.formats = CHV_REPORT_MD};
    chv_error err;
    ck_assert_msg(chv_report_write_all(dir, &options, &err) == 0, "%s", err.message);
    char *md = read_text(dir, "report.md");
    ck_assert_contains(md, "### hellaswag by source (ActivityNet or WikiHow)\n\nnot available: "
                           "the documents carry no source_id");
    ck_assert_contains(md, "### hellaswag by split_type\n\nnot available");
    free(md);
    free(dir);
}
END_TEST

START_TEST(no_samples_says_so) {
    char *dir = copy_fixture("no_samples");
    chv_error err;
    ck_assert_msg(chv_report_write_all(dir, NULL, &err) == 0, "%s", err.message);
    char *md = read_text(dir, "report.md");
    ck_assert_contains(md, "no per-sample logs");
    ck_assert_contains(md, "--log-samples");
    ck_assert_ptr_null(strstr(md, "metadata.topic"));
    char *html = read_text(dir, "report.html");
    ck_assert_contains(html, "no per-sample logs");
    free(html);
    free(md);
    free(dir);
}
END_TEST

START_TEST(error_missing_run_dir) {
    chv_error err;
    ck_assert_int_eq(chv_report_write_all("/nonexistent/cheval-run", NULL, &err), -1);
    ck_assert_contains(err.message, "/nonexistent/cheval-run");
    ck_assert_contains(err.message, "not found");
}
END_TEST

START_TEST(error_missing_results_json) {
    char *dir = test_make_temp_dir("cheval-report");
    chv_error err;
    ck_assert_int_eq(chv_report_write_all(dir, NULL, &err), -1);
    ck_assert_contains(err.message, "results.json");
    ck_assert_contains(err.message, "not found");
    free(dir);
}
END_TEST

START_TEST(error_truncated_results_json) {
    char *dir = copy_fixture("base");
    char command[2048];
    snprintf(command, sizeof command, "truncate -s 700 '%s/results.json'", dir);
    run_shell(command);
    chv_error err;
    ck_assert_int_eq(chv_report_write_all(dir, NULL, &err), -1);
    ck_assert_contains(err.message, "results.json:");
    ck_assert_contains(err.message, "invalid JSON");
    ck_assert_contains(err.message, "truncated");
    ck_assert_contains(err.message, "of 700)");
    free(dir);
}
END_TEST

START_TEST(error_sample_count_mismatch) {
    char *dir = copy_fixture("base");
    char command[2048];
    snprintf(command, sizeof command, "sed -i '$d' '%s/samples_arc_easy.jsonl'", dir);
    run_shell(command);
    chv_error err;
    ck_assert_int_eq(chv_report_write_all(dir, NULL, &err), -1);
    ck_assert_contains(err.message, "samples_arc_easy.jsonl");
    ck_assert_contains(err.message, "11 records");
    ck_assert_contains(err.message, "evaluated 12");
    free(dir);
}
END_TEST

START_TEST(error_unknown_task_log) {
    char *dir = copy_fixture("base");
    char command[2048];
    snprintf(command, sizeof command, "cp '%s/samples_arc_easy.jsonl' '%s/samples_arc_hard.jsonl'",
             dir, dir);
    run_shell(command);
    chv_error err;
    ck_assert_int_eq(chv_report_write_all(dir, NULL, &err), -1);
    ck_assert_contains(err.message, "samples_arc_hard.jsonl");
    ck_assert_contains(err.message, "not in results.json");
    free(dir);
}
END_TEST

START_TEST(error_doc_ids_out_of_order) {
    char *dir = copy_fixture("base");
    char command[2048];
    /* Swap the first two lines. */
    snprintf(command, sizeof command, "cd '%s' && f=samples_hellaswag.jsonl && { sed -n 2p $f; "
             "sed -n 1p $f; sed -n '3,$p' $f; } > x && mv x $f", dir);
    run_shell(command);
    chv_error err;
    ck_assert_int_eq(chv_report_write_all(dir, NULL, &err), -1);
    ck_assert_contains(err.message, "samples_hellaswag.jsonl:2");
    ck_assert_contains(err.message, "doc_id");
    free(dir);
}
END_TEST

START_TEST(error_sample_without_scores) {
    char *dir = copy_fixture("base");
    char path[2048];
    snprintf(path, sizeof path, "%s/samples_hellaswag.jsonl", dir);
    const char text[] = "{\"doc_id\": 0, \"doc\": {}}\n";
    ck_assert_int_eq(test_write_file(path, text, sizeof text - 1), 0);
    chv_error err;
    ck_assert_int_eq(chv_report_write_all(dir, NULL, &err), -1);
    ck_assert_contains(err.message, "samples_hellaswag.jsonl:1");
    ck_assert_contains(err.message, "neither \"acc\" nor \"logprob\"");
    free(dir);
}
END_TEST

static int run_cli(const char *args, test_output *out) {
    char command[4096];
    snprintf(command, sizeof command, "%s report %s", test_cheval_bin(), args);
    ck_assert_int_eq(test_run(command, NULL, out), 0);
    return out->status;
}

START_TEST(cli_report_exit_codes) {
    test_output out;
    ck_assert_int_eq(run_cli("", &out), 2);
    test_output_free(&out);
    ck_assert_int_eq(run_cli("--format pdf " FIXTURES "/base", &out), 2);
    ck_assert_contains(out.err, "invalid --format 'pdf'");
    test_output_free(&out);
    ck_assert_int_eq(run_cli("/nonexistent/run", &out), 1);
    ck_assert_contains(out.err, "/nonexistent/run");
    test_output_free(&out);
    ck_assert_int_eq(run_cli("--help", &out), 0);
    ck_assert_contains(out.out, "--group-by");
    test_output_free(&out);

    char *dir = copy_fixture("base");
    char args[2048];
    snprintf(args, sizeof args, "'%s' --format md,json --group-by activity_label", dir);
    ck_assert_int_eq(run_cli(args, &out), 0);
    test_output_free(&out);
    char *md = read_text(dir, "report.md");
    ck_assert_contains(md, "### hellaswag by activity_label");
    free(md);

    /* A field that no document has is not an error, but it is not silent. */
    snprintf(args, sizeof args, "'%s' --format md --group-by metadata.nonexistent", dir);
    ck_assert_int_eq(run_cli(args, &out), 0);
    ck_assert_contains(out.err, "warning: --group-by metadata.nonexistent: no document of any task");
    test_output_free(&out);
    md = read_text(dir, "report.md");
    ck_assert_contains(md, "No breakdown by `--group-by metadata.nonexistent`: no document of any "
                           "task has this field.");
    free(md);
    free(dir);
}
END_TEST

static Suite *report_suite(void) {
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, load_reads_tasks_and_groups);
    tcase_add_test(tc, chance_from_choices_when_absent);
    tcase_add_test(tc, breakdowns_by_topic_sorted_and_flagged);
    tcase_add_test(tc, breakdowns_arc_hellaswag_blimp);
    tcase_add_test(tc, blimp_field_spellings_merge);
    tcase_add_test(tc, group_by_adds_breakdown);
    tcase_add_test(tc, write_all_markdown_content);
    tcase_add_test(tc, csv_rows_per_task_metric);
    tcase_add_test(tc, html_self_contained_and_escaped);
    tcase_add_test(tc, json_format_lists_breakdowns);
    tcase_add_test(tc, txt_hellaswag_says_not_available);
    tcase_add_test(tc, no_samples_says_so);
    tcase_add_test(tc, error_missing_run_dir);
    tcase_add_test(tc, error_missing_results_json);
    tcase_add_test(tc, error_truncated_results_json);
    tcase_add_test(tc, error_sample_count_mismatch);
    tcase_add_test(tc, error_unknown_task_log);
    tcase_add_test(tc, error_doc_ids_out_of_order);
    tcase_add_test(tc, error_sample_without_scores);
    tcase_add_test(tc, cli_report_exit_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(report_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
