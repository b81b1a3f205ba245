/* Tests for `cheval compare` and src/report/compare on the fixture runs
 * under tests/fixtures/report/ (base, candidate, no_samples). */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare.h"
#include "report/stats.h"
#include "support/testutil.h"
#include "util/fileio.h"
#include "util/lines.h"

#define FIXTURES "tests/fixtures/report"

#define ck_assert_contains(haystack, needle) \
    ck_assert_msg(strstr((haystack), (needle)) != NULL, "missing \"%s\" in:\n%s", (needle), (haystack))

static char *copy_fixture(const char *name) {
    char *dir = test_make_temp_dir("cheval-compare");
    char command[2048];
    snprintf(command, sizeof command, "cp -r %s/%s/. '%s'/", FIXTURES, name, dir);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    ck_assert_int_eq(out.status, 0);
    test_output_free(&out);
    return dir;
}

/* Loads dir/results.json, lets edit change it, and writes it back. */
static void edit_results(const char *dir, void (*edit)(cJSON *root)) {
    char *path = chv_path_join(dir, "results.json");
    chv_error err;
    char *text = chv_read_file(path, NULL, &err);
    ck_assert_ptr_nonnull(text);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    edit(root);
    char *out = cJSON_Print(root);
    ck_assert_int_eq(test_write_file(path, out, strlen(out)), 0);
    free(out);
    cJSON_Delete(root);
    free(text);
    free(path);
}

static const chv_compare_row *find_row(const chv_comparison *c, const char *task) {
    for (size_t i = 0; i < c->n_rows; i++)
        if (strcmp(c->rows[i].task, task) == 0)
            return &c->rows[i];
    for (size_t i = 0; i < c->n_subrows; i++)
        if (strcmp(c->subrows[i].task, task) == 0)
            return &c->subrows[i];
    return NULL;
}

static int run_compare(const char *args, test_output *out) {
    char command[4096];
    snprintf(command, sizeof command, "%s compare %s", test_cheval_bin(), args);
    ck_assert_int_eq(test_run(command, NULL, out), 0);
    return out->status;
}

START_TEST(paired_rows_and_mcnemar) {
    chv_comparison *c;
    chv_error err;
    ck_assert_msg(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", NULL, &c, &err) == 0,
                  "%s", err.message);
    ck_assert_uint_eq(c->n_rows, 5);   /* arithmark, arc_easy, hellaswag, wikitext, blimp */
    ck_assert_uint_eq(c->n_subrows, 2);
    ck_assert_uint_eq(c->n_notes, 0);

    const chv_compare_row *arith = find_row(c, "arithmark");
    ck_assert_int_eq(arith->paired, 1);
    ck_assert_str_eq(arith->test, "McNemar exact");
    ck_assert_str_eq(arith->metric, "acc");
    ck_assert_uint_eq(arith->n, 40);
    ck_assert(fabs(arith->base - 0.475) < 1e-12);
    ck_assert(fabs(arith->delta - (arith->candidate - arith->base)) < 1e-15);
    ck_assert(fabs(arith->delta - (double)(arith->candidate_only - arith->base_only) / 40.0) < 1e-12);
    ck_assert(arith->p == chv_mcnemar_exact(arith->base_only, arith->candidate_only));
    ck_assert(arith->p_adjusted >= arith->p);
    ck_assert(arith->ci_low <= arith->delta && arith->delta <= arith->ci_high);
    ck_assert_int_eq(arith->verdict, CHV_VERDICT_BETTER);

    const chv_compare_row *wiki = find_row(c, "wikitext");
    ck_assert_str_eq(wiki->metric, "bits_per_byte");
    ck_assert_str_eq(wiki->test, "paired bootstrap");
    ck_assert_int_eq(wiki->higher_is_better, 0);
    ck_assert(wiki->delta < 0);
    ck_assert_int_eq(wiki->verdict, CHV_VERDICT_BETTER);

    const chv_compare_row *blimp = find_row(c, "blimp");
    ck_assert_int_eq(blimp->is_group, 1);
    ck_assert_uint_eq(blimp->n, 20);
    const chv_compare_row *sub = find_row(c, "blimp_adjunct_island");
    ck_assert_str_eq(sub->group, "blimp");

    ck_assert_int_eq(chv_comparison_has_regression(c), 0);
    chv_comparison_free(c);
}
END_TEST

START_TEST(bootstrap_interval_is_reproducible) {
    chv_comparison *a, *b;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", NULL, &a, &err), 0);
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", NULL, &b, &err), 0);
    for (size_t i = 0; i < a->n_rows; i++) {
        ck_assert(a->rows[i].ci_low == b->rows[i].ci_low);
        ck_assert(a->rows[i].ci_high == b->rows[i].ci_high);
    }
    ck_assert_uint_eq(a->resamples, CHV_COMPARE_RESAMPLES);
    ck_assert_uint_eq(a->seed, CHV_COMPARE_SEED);
    chv_comparison_free(a);
    chv_comparison_free(b);
}
END_TEST

START_TEST(holm_on_by_default_off_with_flag) {
    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", NULL, &c, &err), 0);
    double p[5], adjusted[5];
    for (size_t i = 0; i < 5; i++)
        p[i] = c->rows[i].p;
    ck_assert_int_eq(chv_holm_adjust(p, 5, adjusted), 0);
    for (size_t i = 0; i < 5; i++)
        ck_assert(c->rows[i].p_adjusted == adjusted[i]);
    chv_comparison_free(c);

    chv_compare_options options = {.no_holm = 1};
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", &options, &c, &err), 0);
    for (size_t i = 0; i < c->n_rows; i++)
        ck_assert(c->rows[i].p_adjusted == c->rows[i].p || (isnan(c->rows[i].p) && isnan(c->rows[i].p_adjusted)));
    chv_comparison_free(c);
}
END_TEST

START_TEST(metric_option_acc_norm_and_perplexity) {
    chv_compare_options options = {.metric = "acc_norm"};
    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", &options, &c, &err), 0);
    ck_assert_str_eq(find_row(c, "arithmark")->metric, "acc_norm");
    ck_assert(fabs(find_row(c, "arithmark")->base - 0.625) < 1e-12);
    /* BLiMP reports no acc_norm, so it keeps acc. */
    ck_assert_str_eq(find_row(c, "blimp_adjunct_island")->metric, "acc");
    ck_assert_str_eq(find_row(c, "wikitext")->metric, "bits_per_byte");
    chv_comparison_free(c);

    options.metric = "acc_bytes";
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", &options, &c, &err), 0);
    ck_assert_str_eq(find_row(c, "arc_easy")->metric, "acc_bytes");
    ck_assert(fabs(find_row(c, "arc_easy")->base - 0.25) < 1e-12);
    /* Only arc_easy reports acc_bytes in the fixture. */
    ck_assert_str_eq(find_row(c, "arithmark")->metric, "acc");
    chv_comparison_free(c);

    options.metric = "word_perplexity";
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", &options, &c, &err), 0);
    const chv_compare_row *wiki = find_row(c, "wikitext");
    ck_assert_str_eq(wiki->metric, "word_perplexity");
    ck_assert_str_eq(find_row(c, "arithmark")->metric, "acc");
    chv_comparison_free(c);
}
END_TEST

START_TEST(unpaired_fallback_without_samples) {
    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/no_samples", FIXTURES "/candidate", NULL, &c, &err), 0);
    const chv_compare_row *arith = find_row(c, "arithmark");
    ck_assert_int_eq(arith->paired, 0);
    ck_assert_str_eq(arith->test, "z-test (unpaired)");
    ck_assert(fabs(arith->delta - (0.925 - 0.475)) < 1e-12);
    /* Without stderrs, perplexity cannot be tested unpaired. */
    ck_assert_int_eq(find_row(c, "wikitext")->verdict, CHV_VERDICT_NOT_TESTED);
    ck_assert_uint_eq(c->n_notes, 1);
    ck_assert_contains(c->notes[0], "unpaired z-test");
    chv_comparison_free(c);
}
END_TEST

static void bump_version(cJSON *root) {
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "versions"), "arc_easy", cJSON_CreateString("2.0"));
}

static void change_hash(cJSON *root) {
    cJSON *files = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "task_files"), "hellaswag");
    cJSON_ReplaceItemInObject(files, "sha256", cJSON_CreateString("ffff000000000000000000000000000000000000000000000000000000000000"));
}

static void change_limit(cJSON *root) {
    cJSON *sampling = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sampling"), "arithmark");
    cJSON_ReplaceItemInObject(sampling, "limit", cJSON_CreateNumber(40));
}

/* wikitext failed in the candidate run, as cheval run records it. */
static void drop_wikitext(cJSON *root) {
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(root, "results"), "wikitext");
    cJSON *failed = cJSON_AddObjectToObject(root, "failed");
    cJSON_AddStringToObject(failed, "wikitext", "wikitext: wiki.test.raw: cannot read: Permission denied");
}

START_TEST(mismatch_rejected_with_reasons) {
    char *dir = copy_fixture("candidate");
    edit_results(dir, bump_version);
    edit_results(dir, change_hash);
    edit_results(dir, change_limit);
    edit_results(dir, drop_wikitext);
    char command[2048];
    snprintf(command, sizeof command, "rm '%s/samples_wikitext.jsonl'", dir);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    test_output_free(&out);

    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", dir, NULL, &c, &err), -1);
    ck_assert_contains(err.message, "not comparable");
    ck_assert_contains(err.message, "arc_easy: task versions differ");
    ck_assert_contains(err.message, "hellaswag: data file sha256 differs");
    ck_assert_contains(err.message, "arithmark: limits/sampling differ");
    ck_assert_contains(err.message,
                       "wikitext: only in the base run; it failed in the candidate run: wiki.test.raw: cannot read");
    ck_assert_contains(err.message, "--allow-mismatch");

    chv_compare_options options = {.allow_mismatch = 1};
    ck_assert_msg(chv_compare_runs(FIXTURES "/base", dir, &options, &c, &err) == 0, "%s", err.message);
    ck_assert_ptr_null(find_row(c, "wikitext"));
    ck_assert_ptr_nonnull(find_row(c, "arc_easy"));
    ck_assert_uint_eq(c->n_notes, 4);
    ck_assert_contains(c->notes[3], "wikitext: only in the base run");
    chv_comparison_free(c);
    free(dir);
}
END_TEST

START_TEST(document_sets_must_match) {
    char *dir = copy_fixture("candidate");
    char command[2048];
    /* Renumber the last ARC document: one doc_id only in each run. */
    snprintf(command, sizeof command, "sed -i '$s/\"doc_id\": 11,/\"doc_id\": 12,/' '%s/samples_arc_easy.jsonl'", dir);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    test_output_free(&out);

    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", dir, NULL, &c, &err), -1);
    ck_assert_contains(err.message, "arc_easy: document sets differ (1 doc_ids only in base, 1 only in candidate)");

    chv_compare_options options = {.allow_mismatch = 1};
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", dir, &options, &c, &err), 0);
    ck_assert_uint_eq(find_row(c, "arc_easy")->n, 11);
    ck_assert_uint_eq(c->n_notes, 1);
    ck_assert_contains(c->notes[0], "document sets differ");
    chv_comparison_free(c);
    free(dir);
}
END_TEST

static void change_settings(cJSON *root) {
    cJSON *config = cJSON_GetObjectItem(root, "config");
    cJSON_ReplaceItemInObject(config, "max_length", cJSON_CreateNumber(2048));
    cJSON_ReplaceItemInObject(config, "model_dtype", cJSON_CreateString("BF16"));
    cJSON_AddStringToObject(config, "bos", "no");
    cJSON_AddBoolToObject(config, "wikitext_double_bos", 1);
}

START_TEST(scoring_settings_warned_not_refused) {
    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", FIXTURES "/candidate", NULL, &c, &err), 0);
    ck_assert_uint_eq(c->n_settings, 0);
    chv_comparison_free(c);

    char *dir = copy_fixture("candidate");
    edit_results(dir, change_settings);
    ck_assert_msg(chv_compare_runs(FIXTURES "/base", dir, NULL, &c, &err) == 0, "%s", err.message);
    /* model_dtype may differ; the other three change the numbers. */
    ck_assert_uint_eq(c->n_settings, 3);
    ck_assert_contains(c->settings[0].text, "max_length: base 512, candidate 2048");
    ck_assert_contains(c->settings[0].text, "perplexities and requests truncated to fit are not "
                                            "directly comparable");
    ck_assert_contains(c->settings[1].text, "bos: base (missing), candidate no");
    ck_assert_contains(c->settings[2].text, "wikitext_double_bos: base (missing), candidate true");
    chv_comparison_free(c);

    char args[2048];
    snprintf(args, sizeof args, FIXTURES "/base '%s' --json '%s/c.json'", dir, dir);
    test_output out;
    ck_assert_int_eq(run_compare(args, &out), 0);
    ck_assert_contains(out.out, "> **Warning: the runs were scored with different settings.**");
    ck_assert_contains(out.out, "> - max_length: base 512, candidate 2048");
    ck_assert_contains(out.err, "warning: the runs were scored with different settings");
    ck_assert_contains(out.err, "  - bos: base (missing), candidate no");
    ck_assert_ptr_null(strstr(out.err, "model_dtype"));
    test_output_free(&out);

    char *json_path = chv_path_join(dir, "c.json");
    char *text = chv_read_file(json_path, NULL, &err);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    cJSON *settings = cJSON_GetObjectItem(root, "settings_differ");
    ck_assert_int_eq(cJSON_GetArraySize(settings), 3);
    cJSON *first = cJSON_GetArrayItem(settings, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "setting")->valuestring, "max_length");
    ck_assert_int_eq(cJSON_GetObjectItem(first, "base")->valueint, 512);
    ck_assert_int_eq(cJSON_GetObjectItem(first, "candidate")->valueint, 2048);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(settings, 1), "base")));
    cJSON_Delete(root);
    free(text);
    free(json_path);
    free(dir);
}
END_TEST

#define LONG_HASH "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

/* Changes versions, data hashes and every sampling field of every task. */
static void change_everything(cJSON *root) {
    cJSON *task;
    cJSON_ArrayForEach(task, cJSON_GetObjectItem(root, "versions"))
        cJSON_SetValuestring(task, "9.0");
    cJSON_ArrayForEach(task, cJSON_GetObjectItem(root, "task_files"))
        cJSON_ReplaceItemInObject(task, "sha256", cJSON_CreateString(LONG_HASH));
    cJSON_ArrayForEach(task, cJSON_GetObjectItem(root, "sampling")) {
        cJSON_ReplaceItemInObject(task, "limit", cJSON_CreateNumber(3));
        cJSON_ReplaceItemInObject(task, "seed", cJSON_CreateNumber(7));
        cJSON_ReplaceItemInObject(task, "sample", cJSON_CreateNumber(5));
        cJSON_ReplaceItemInObject(task, "doc_ids_sha256", cJSON_CreateString(LONG_HASH));
    }
}

START_TEST(long_mismatch_list_is_cut_and_hashes_shortened) {
    char *dir = copy_fixture("candidate");
    edit_results(dir, change_everything);

    chv_comparison *c;
    chv_error err;
    ck_assert_int_eq(chv_compare_runs(FIXTURES "/base", dir, NULL, &c, &err), -1);
    ck_assert_contains(err.message, "hellaswag: data file sha256 differs (base ");
    ck_assert_contains(err.message, "candidate abcdef012345…)");
    ck_assert_contains(err.message, "arithmark: limits/sampling differ in limit (base null, candidate 3)");
    ck_assert_ptr_null(strstr(err.message, LONG_HASH));
    ck_assert_ptr_null(strstr(err.message, "{"));
    ck_assert_contains(err.message, "more\nCompare runs");
    ck_assert_contains(err.message, "--allow-mismatch");
    char message[CHV_ERROR_MAX];
    snprintf(message, sizeof message, "%s", err.message);

    /* 7 versions, then 6 hashes and 4 sampling fields per scored task. */
    chv_compare_options options = {.allow_mismatch = 1};
    ck_assert_msg(chv_compare_runs(FIXTURES "/base", dir, &options, &c, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(c->n_mismatches, 7 + 6 * 5);
    char *more = strstr(message, "... and ");
    ck_assert_ptr_nonnull(more);
    size_t shown = 0;
    for (const char *p = message; (p = strstr(p, "\n  - ")) != NULL && p + 5 < more; p++)
        shown++;
    char expected[64];
    snprintf(expected, sizeof expected, "... and %zu more", c->n_mismatches - shown);
    ck_assert_contains(message, expected);

    FILE *json = tmpfile();
    ck_assert_int_eq(chv_comparison_write_json(json, c), 0);
    rewind(json);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf - 1, json);
    buf[len] = '\0';
    fclose(json);
    cJSON *root = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(root);
    cJSON *mismatches = cJSON_GetObjectItem(root, "mismatches");
    ck_assert_int_eq(cJSON_GetArraySize(mismatches), (int)c->n_mismatches);
    int full_hash = 0;
    cJSON *item;
    cJSON_ArrayForEach(item, mismatches) {
        cJSON *cand = cJSON_GetObjectItem(item, "candidate");
        full_hash |= cJSON_IsString(cand) && strcmp(cand->valuestring, LONG_HASH) == 0;
    }
    ck_assert(full_hash);
    cJSON_Delete(root);
    chv_comparison_free(c);
    free(dir);
}
END_TEST

/* Keeps arc_easy only, in results.json and in the sample logs. */
static void keep_arc_easy(cJSON *root) {
    const char *sections[] = {"results", "versions", "n-shot", "sampling", "task_files",
                              "configs", "higher_is_better", "n-samples", "chance"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        cJSON *section = cJSON_GetObjectItem(root, sections[i]);
        cJSON *item = section ? section->child : NULL;
        while (item != NULL) {
            cJSON *next = item->next;
            if (strcmp(item->string, "arc_easy") != 0)
                cJSON_Delete(cJSON_DetachItemViaPointer(section, item));
            item = next;
        }
    }
    cJSON_DeleteItemFromObject(root, "groups");
    cJSON_DeleteItemFromObject(root, "group_subtasks");
}

static char *arc_only(const char *name) {
    char *dir = copy_fixture(name);
    edit_results(dir, keep_arc_easy);
    char command[2048];
    snprintf(command, sizeof command, "cd '%s' && ls samples_*.jsonl | grep -v arc_easy | xargs rm", dir);
    test_output out;
    ck_assert_int_eq(test_run(command, NULL, &out), 0);
    ck_assert_int_eq(out.status, 0);
    test_output_free(&out);
    return dir;
}

START_TEST(one_row_footnote_is_singular) {
    char *base = arc_only("base"), *cand = arc_only("candidate");
    char args[2048];
    snprintf(args, sizeof args, "'%s' '%s'", base, cand);
    test_output out;
    ck_assert_int_eq(run_compare(args, &out), 0);
    ck_assert_contains(out.out, "|arc_easy (acc ↑)");
    ck_assert_contains(out.out, "the table has one row");
    ck_assert_ptr_null(strstr(out.out, "1 rows"));
    test_output_free(&out);
    free(base);
    free(cand);
}
END_TEST

START_TEST(cli_markdown_and_exit_status) {
    test_output out;
    ck_assert_int_eq(run_compare(FIXTURES "/base " FIXTURES "/candidate --fail-on-regression", &out), 0);
    ck_assert_contains(out.out, "### cheval compare: tiny-base → tiny-candidate");
    ck_assert_contains(out.out, "| base |candidate|   Δ   |  ±   |      95% CI      |  p   |");
    ck_assert_contains(out.out, "|arithmark (acc ↑)");
    ck_assert_contains(out.out, "✅ better");
    ck_assert_contains(out.out, "Holm-adjusted across the 5 rows");
    ck_assert_contains(out.out, "<details><summary>blimp: 2 subtasks");
    test_output_free(&out);

    /* Swapped, arithmark becomes a significant regression. */
    ck_assert_int_eq(run_compare(FIXTURES "/candidate " FIXTURES "/base --fail-on-regression", &out), 1);
    ck_assert_contains(out.out, "❌ worse");
    ck_assert_contains(out.err, "significantly worse on 2 tasks (alpha 0.05, Holm-corrected p)");
    ck_assert_contains(out.err, "  - arithmark: acc 0.9250 -> 0.4750 (delta -0.4500, p 0.0002)\n");
    ck_assert_contains(out.err, "  - wikitext: bits_per_byte ");
    ck_assert_ptr_null(strstr(out.err, "arc_easy"));
    test_output_free(&out);
    ck_assert_int_eq(run_compare(FIXTURES "/candidate " FIXTURES "/base", &out), 0);
    test_output_free(&out);
}
END_TEST

START_TEST(cli_output_and_json_files) {
    char *dir = test_make_temp_dir("cheval-compare");
    char args[2048];
    snprintf(args, sizeof args, FIXTURES "/base " FIXTURES "/candidate --output '%s/c.md' --json '%s/c.json' --html '%s/c.html'", dir, dir, dir);
    test_output out;
    ck_assert_int_eq(run_compare(args, &out), 0);

    char *md_path = chv_path_join(dir, "c.md");
    chv_error err;
    char *md = chv_read_file(md_path, NULL, &err);
    ck_assert_ptr_nonnull(md);
    ck_assert_str_eq(md, out.out);

    char *json_path = chv_path_join(dir, "c.json");
    char *text = chv_read_file(json_path, NULL, &err);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "tasks")), 5);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(root, "regression")));
    ck_assert_str_eq(cJSON_GetObjectItem(root, "bootstrap_prng")->valuestring, "splitmix64");
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "tasks"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "verdict")->valuestring, "better");
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(first, "discordant_candidate_only")));

    char *html_path = chv_path_join(dir, "c.html");
    char *html = chv_read_file(html_path, NULL, &err);
    ck_assert_ptr_nonnull(html);
    ck_assert_contains(html, "<svg");
    ck_assert_contains(html, "class=\"bar up\"");
    ck_assert_ptr_null(strstr(html, "<script"));

    cJSON_Delete(root);
    free(text);
    free(md);
    free(html);
    free(md_path);
    free(json_path);
    free(html_path);
    test_output_free(&out);
    free(dir);
}
END_TEST

START_TEST(cli_usage_and_load_errors) {
    test_output out;
    ck_assert_int_eq(run_compare(FIXTURES "/base", &out), 2);
    ck_assert_contains(out.err, "expected two run folders");
    test_output_free(&out);
    ck_assert_int_eq(run_compare(FIXTURES "/base " FIXTURES "/candidate --alpha 2", &out), 2);
    ck_assert_contains(out.err, "invalid --alpha '2'");
    test_output_free(&out);
    ck_assert_int_eq(run_compare(FIXTURES "/base " FIXTURES "/candidate --bogus", &out), 2);
    test_output_free(&out);
    ck_assert_int_eq(run_compare(FIXTURES "/base /nonexistent/run", &out), 1);
    ck_assert_contains(out.err, "candidate run: /nonexistent/run: run folder not found");
    test_output_free(&out);
    ck_assert_int_eq(run_compare("--help", &out), 0);
    ck_assert_contains(out.out, "--fail-on-regression");
    test_output_free(&out);
}
END_TEST

static Suite *compare_suite(void) {
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, paired_rows_and_mcnemar);
    tcase_add_test(tc, bootstrap_interval_is_reproducible);
    tcase_add_test(tc, holm_on_by_default_off_with_flag);
    tcase_add_test(tc, metric_option_acc_norm_and_perplexity);
    tcase_add_test(tc, unpaired_fallback_without_samples);
    tcase_add_test(tc, mismatch_rejected_with_reasons);
    tcase_add_test(tc, document_sets_must_match);
    tcase_add_test(tc, scoring_settings_warned_not_refused);
    tcase_add_test(tc, long_mismatch_list_is_cut_and_hashes_shortened);
    tcase_add_test(tc, one_row_footnote_is_singular);
    tcase_add_test(tc, cli_markdown_and_exit_status);
    tcase_add_test(tc, cli_output_and_json_files);
    tcase_add_test(tc, cli_usage_and_load_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(compare_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
