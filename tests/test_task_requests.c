/* Tests for the request builders of every built-in task, on hand-written
 * documents, against the exact strings lm-evaluation-harness builds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "support/testutil.h"
#include "task/pystr.h"
#include "task/registry.h"
#include "task/task.h"
#include "util/fileio.h"
#include "util/jsonl.h"

static chv_registry *registry;

static void setup(void) {
    chv_error err;
    registry = chv_registry_new(&err);
    ck_assert_msg(registry != NULL, "registry: %s", err.message);
}

static void teardown(void) { chv_registry_free(registry); }

static const chv_task_def *task_named(const char *name) {
    const chv_task_def *task = chv_registry_find(registry, name);
    ck_assert_msg(task != NULL, "task %s not found", name);
    return task;
}

/* Builds a document of task from JSON text; returns 0 or -1 with err. */
static int build(const char *task_name, const char *json, chv_doc *doc, chv_error *err) {
    cJSON *record = cJSON_Parse(json);
    ck_assert_msg(record != NULL, "bad test JSON: %s", json);
    memset(doc, 0, sizeof *doc);
    int rc = chv_task_build_doc(task_named(task_name), record, doc, "doc.jsonl:7", err);
    cJSON_Delete(record);
    return rc;
}

static void build_ok(const char *task_name, const char *json, chv_doc *doc) {
    chv_error err;
    int rc = build(task_name, json, doc, &err);
    ck_assert_msg(rc == 0, "%s: %s", task_name, err.message);
}

static char *temp_file(const char *name, const char *text) {
    char *dir = test_make_temp_dir("cheval-task");
    char *path = chv_path_join(dir, name);
    free(dir);
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    return path;
}

START_TEST(arc_letter_key) {
    chv_doc doc;
    build_ok("arc_easy",
             "{\"id\":\"Q1\",\"question\":{\"stem\":\"Which is a gas?\",\"choices\":["
             "{\"text\":\"ice\",\"label\":\"A\"},{\"text\":\"steam\",\"label\":\"B\"},"
             "{\"text\":\"rock\",\"label\":\"C\"}]},\"answerKey\":\"B\"}",
             &doc);
    ck_assert_uint_eq(doc.n_choices, 3);
    ck_assert_str_eq(doc.contexts[0], "Question: Which is a gas?\nAnswer:");
    ck_assert_str_eq(doc.continuations[0], " ice");
    ck_assert_str_eq(doc.continuations[1], " steam");
    ck_assert_str_eq(doc.choices[2], "rock");
    ck_assert_int_eq(doc.gold, 1);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(arc_digit_key) {
    chv_doc doc;
    build_ok("arc_challenge",
             "{\"question\":{\"stem\":\"Pick\",\"choices\":[{\"text\":\"a\",\"label\":\"1\"},"
             "{\"text\":\"b\",\"label\":\"2\"},{\"text\":\"c\",\"label\":\"3\"},"
             "{\"text\":\"d\",\"label\":\"4\"}]},\"answerKey\":\"4\"}",
             &doc);
    ck_assert_int_eq(doc.gold, 3);
    ck_assert_uint_eq(doc.n_choices, 4);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(arc_unknown_key_names_field) {
    chv_doc doc;
    chv_error err;
    int rc = build("arc_easy",
                   "{\"question\":{\"stem\":\"Pick\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},"
                   "{\"text\":\"b\",\"label\":\"B\"}]},\"answerKey\":\"E\"}",
                   &doc, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "doc.jsonl:7") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "answerKey") != NULL, "%s", err.message);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(arc_missing_field_names_it) {
    chv_doc doc;
    chv_error err;
    int rc = build("arc_easy", "{\"question\":{\"choices\":[]},\"answerKey\":\"A\"}", &doc, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "doc.jsonl:7") != NULL, "%s", err.message);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(openbookqa_bare_stem_lstrip_key) {
    chv_doc doc;
    build_ok("openbookqa",
             "{\"id\":\"7-1\",\"question\":{\"stem\":\"The sun is\",\"choices\":["
             "{\"text\":\"cold\",\"label\":\"A\"},{\"text\":\"a star\",\"label\":\"B\"},"
             "{\"text\":\"a moon\",\"label\":\"C\"},{\"text\":\"wet\",\"label\":\"D\"}]},"
             "\"answerKey\":\" B\"}",
             &doc);
    ck_assert_str_eq(doc.contexts[1], "The sun is");
    ck_assert_str_eq(doc.continuations[1], " a star");
    ck_assert_int_eq(doc.gold, 1);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(boolq_prompt_and_long_passage) {
    /* A passage far longer than any model's maximum length is built whole;
     * truncation is the scorer's job. */
    size_t n = 200000;
    char *passage = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        passage[i] = (i % 7 == 6) ? ' ' : 'x';
    passage[n] = '\0';
    char *json = malloc(n + 200);
    snprintf(json, n + 200,
             "{\"question\":\"is it long\",\"title\":\"T\",\"answer\":true,\"passage\":\"%s\"}",
             passage);

    chv_doc doc;
    build_ok("boolq", json, &doc);
    ck_assert_uint_eq(doc.n_choices, 2);
    ck_assert_uint_eq(strlen(doc.contexts[0]), n + strlen("\nQuestion: is it long?\nAnswer:"));
    ck_assert_int_eq(strncmp(doc.contexts[0], passage, n), 0);
    ck_assert_str_eq(doc.contexts[0] + n, "\nQuestion: is it long?\nAnswer:");
    ck_assert_str_eq(doc.continuations[0], " no");
    ck_assert_str_eq(doc.continuations[1], " yes");
    ck_assert_int_eq(doc.gold, 1);
    chv_doc_free(&doc);

    build_ok("boolq", "{\"question\":\"q\",\"answer\":false,\"passage\":\"P.\"}", &doc);
    ck_assert_str_eq(doc.contexts[1], "P.\nQuestion: q?\nAnswer:");
    ck_assert_int_eq(doc.gold, 0);
    chv_doc_free(&doc);
    free(json);
    free(passage);
}
END_TEST

START_TEST(piqa_record_with_label) {
    chv_doc doc;
    build_ok("piqa", "{\"goal\":\"Open a jar\",\"sol1\":\"twist the lid\",\"sol2\":\"eat it\",\"label\":0}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "Question: Open a jar\nAnswer:");
    ck_assert_str_eq(doc.continuations[0], " twist the lid");
    ck_assert_str_eq(doc.continuations[1], " eat it");
    ck_assert_int_eq(doc.gold, 0);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(piqa_labels_file) {
    char *path = temp_file("valid.jsonl", "{\"goal\":\"g1\",\"sol1\":\"a\",\"sol2\":\"b\"}\n"
                                          "{\"goal\":\"g2\",\"sol1\":\"c\",\"sol2\":\"d\"}\n");
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    char *labels = chv_path_join(dir, "valid-labels.lst");
    ck_assert_int_eq(test_write_file(labels, "1\n0\n", 4), 0);

    chv_doc_list docs = {0};
    chv_error err;
    int rc = chv_task_load(task_named("piqa"), path, 1, &docs, &err);
    ck_assert_msg(rc == 0, "%s", err.message);
    ck_assert_uint_eq(docs.n, 2);
    ck_assert_int_eq(docs.docs[0].gold, 1);
    ck_assert_int_eq(docs.docs[1].gold, 0);
    ck_assert_str_eq(docs.docs[1].contexts[0], "Question: g2\nAnswer:");
    chv_doc_list_free(&docs);

    /* One label short: the error names the labels file. */
    ck_assert_int_eq(test_write_file(labels, "1\n", 2), 0);
    rc = chv_task_load(task_named("piqa"), path, 0, &docs, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "valid-labels.lst") != NULL, "%s", err.message);
    chv_doc_list_free(&docs);
    free(labels);
    free(dir);
    free(path);
}
END_TEST

START_TEST(winogrande_partial_scoring) {
    chv_doc doc;
    build_ok("winogrande",
             "{\"sentence\":\"Sarah was a better surgeon than Maria so _ got the harder cases.\","
             "\"option1\":\"Sarah\",\"option2\":\"Maria\",\"answer\":\"1\"}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "Sarah was a better surgeon than Maria so Sarah");
    ck_assert_str_eq(doc.contexts[1], "Sarah was a better surgeon than Maria so Maria");
    ck_assert_str_eq(doc.continuations[0], " got the harder cases.");
    ck_assert_str_eq(doc.continuations[1], " got the harder cases.");
    ck_assert_str_eq(doc.choices[1], "Sarah was a better surgeon than Maria so Maria");
    ck_assert_int_eq(doc.gold, 0);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(winogrande_blank_at_edges) {
    chv_doc doc;
    build_ok("winogrande",
             "{\"sentence\":\"_ was late, so Tom waited.\",\"option1\":\"Ann\",\"option2\":\"Tom\","
             "\"answer\":\"2\"}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "Ann");
    ck_assert_str_eq(doc.continuations[0], " was late, so Tom waited.");
    ck_assert_int_eq(doc.gold, 1);
    chv_doc_free(&doc);

    build_ok("winogrande",
             "{\"sentence\":\"The cup did not fit in the box, the smaller one was the _\","
             "\"option1\":\"cup\",\"option2\":\"box\",\"answer\":\"1\"}",
             &doc);
    ck_assert_str_eq(doc.contexts[1], "The cup did not fit in the box, the smaller one was the box");
    ck_assert_str_eq(doc.continuations[1], " ");
    chv_doc_free(&doc);
}
END_TEST

START_TEST(winogrande_bad_answer) {
    chv_doc doc;
    chv_error err;
    int rc = build("winogrande",
                   "{\"sentence\":\"A _ b\",\"option1\":\"x\",\"option2\":\"y\",\"answer\":\"3\"}",
                   &doc, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "doc.jsonl:7") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "answer") != NULL, "%s", err.message);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(hellaswag_capitalize_lowercases_rest) {
    chv_doc doc;
    build_ok("hellaswag",
             "{\"activity_label\":\"Roof shingle removal\",\"ctx_a\":\"A man is on a roof.\","
             "\"ctx_b\":\"Then The MAN\",\"endings\":[\"rips off tiles.\",\"x\",\"y\",\"z\"],"
             "\"label\":2}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "Roof shingle removal: A man is on a roof. Then the man");
    ck_assert_str_eq(doc.continuations[0], " rips off tiles.");
    ck_assert_int_eq(doc.gold, 2);
    chv_doc_free(&doc);

    /* Unicode-aware: "ÉCOLE" lower-cases to "école", first letter titled. */
    build_ok("hellaswag",
             "{\"activity_label\":\"A\",\"ctx_a\":\"b\",\"ctx_b\":\"éCOLE\",\"endings\":[\"e\"],"
             "\"label\":\"0\"}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "A: b École");
    chv_doc_free(&doc);
}
END_TEST

START_TEST(hellaswag_title_and_brackets) {
    chv_doc doc;
    build_ok("hellaswag",
             "{\"activity_label\":\"Home and Garden\",\"ctx_a\":\"[header] How to clean a rug "
             "[title] Vacuum it.\",\"ctx_b\":\"\",\"endings\":[\"[step] Use [a [nested]] brush.\","
             "\"Then  rinse   it. \",\"[unclosed ending\",\"[sub] x [title] y\"],\"label\":1}",
             &doc);
    /* ctx_b is empty, so the query ends with a space that strip removes. */
    ck_assert_str_eq(doc.contexts[0], "Home and Garden: How to clean a rug. Vacuum it.");
    /* strip runs before the brackets go, so the space after "[step]" stays;
     * "[a [nested]" is the shortest span and the lone "]" stays. */
    ck_assert_str_eq(doc.choices[0], " Use ] brush.");
    /* One pass of "  " -> " ": three spaces become two. */
    ck_assert_str_eq(doc.choices[1], "Then rinse  it.");
    ck_assert_str_eq(doc.choices[2], "[unclosed ending");
    ck_assert_str_eq(doc.choices[3], " x. y");
    chv_doc_free(&doc);
}
END_TEST

START_TEST(hellaswag_text_format) {
    char *path = temp_file("hs.txt", "Roof shingle removal: A man is sitting on a roof. he\n3\n"
                                     "is using wrap.\nis ripping tiles.\nis holding a cube.\n"
                                     "starts pulling up roofing.\n"
                                     "Ctx two\n0\na\nb\nc\nd\n");
    chv_doc_list docs = {0};
    chv_error err;
    int rc = chv_task_load(task_named("hellaswag"), path, 1, &docs, &err);
    ck_assert_msg(rc == 0, "%s", err.message);
    ck_assert_uint_eq(docs.n, 2);
    ck_assert_str_eq(docs.docs[0].contexts[3], "Roof shingle removal: A man is sitting on a roof. he");
    ck_assert_str_eq(docs.docs[0].continuations[3], " starts pulling up roofing.");
    ck_assert_int_eq(docs.docs[0].gold, 3);
    ck_assert_int_eq(docs.docs[1].gold, 0);
    ck_assert_int_eq(docs.docs[1].line, 7);
    chv_doc_list_free(&docs);
    free(path);

    path = temp_file("bad.txt", "ctx\n7\na\nb\nc\nd\n");
    rc = chv_task_load(task_named("hellaswag"), path, 0, &docs, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "bad.txt:2") != NULL, "%s", err.message);
    chv_doc_list_free(&docs);
    free(path);
}
END_TEST

START_TEST(blimp_empty_context) {
    chv_doc doc;
    build_ok("blimp_adjunct_island",
             "{\"sentence_good\":\"Who should Derek hug after shocking Richard?\","
             "\"sentence_bad\":\"Who should Derek hug Richard after shocking?\",\"UID\":\"adjunct_island\"}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "");
    ck_assert_str_eq(doc.contexts[1], "");
    ck_assert_str_eq(doc.continuations[0], " Who should Derek hug after shocking Richard?");
    ck_assert_str_eq(doc.continuations[1], " Who should Derek hug Richard after shocking?");
    ck_assert_int_eq(doc.gold, 0);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(arithmark_empty_delimiter_string_label) {
    chv_doc doc;
    build_ok("arithmark",
             "{\"ctx\":\"10 - 18 =\",\"endings\":[\" -10\",\" 2\",\" -8\",\" -6\"],\"label\":\"2\","
             "\"metadata\":{\"topic\":\"subtraction\",\"difficulty\":\"easy\",\"operator_count\":1}}",
             &doc);
    ck_assert_str_eq(doc.contexts[0], "10 - 18 =");
    ck_assert_str_eq(doc.continuations[0], " -10");
    ck_assert_str_eq(doc.continuations[2], " -8");
    /* acc_norm measures the ending as given, leading space included. */
    ck_assert_str_eq(doc.choices[2], " -8");
    ck_assert_int_eq(doc.gold, 2);
    chv_doc_free(&doc);

    build_ok("arithmark", "{\"ctx\":\"1 + 1 =\",\"endings\":[\" 2\",\" 3\"],\"label\":0}", &doc);
    ck_assert_int_eq(doc.gold, 0);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(arithmark_label_out_of_range) {
    chv_doc doc;
    chv_error err;
    int rc = build("arithmark", "{\"ctx\":\"1 + 1 =\",\"endings\":[\" 2\",\" 3\"],\"label\":4}", &doc,
                   &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "doc.jsonl:7") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "label") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "out of range") != NULL, "%s", err.message);
    chv_doc_free(&doc);
}
END_TEST

START_TEST(wikitext_detokenizer_rules) {
    static const char *const cases[][2] = {
        {"the dogs ' bones", "the dogs' bones"},
        {"see /' 5/ here", "see /'[0-9]/ here"},
        {"1 @,@ 000 and 3 @.@ 5 and well @-@ known", "1,000 and 3.5 and well-known"},
        {"a : b ; c . d ! e ? f , g", "a: b; c. d! e? f, g"},
        {"( a b ) [ c ] { d } \" e \" ' f '", "(a b) [c] {d} \"e\" 'f'"},
        {"x ( y ( z ) w )", "x (y ( z) w )"},
        {" = = = = Deep = = = = \n", " ==== Deep ====\n"},
        {"= = = Sub = = =", "=== Sub ==="},
        {"= = Section = =", "== Section =="},
        {"20 \xC2\xB0 C", "20\xC2\xB0" "C"},
        {"line \n next", "line\nnext"},
        {"N N", "N N"},
        {"a N b", "a 1 b"},
        {"John 's hat", "John's hat"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = chv_wikitext_detokenize(cases[i][0]);
        ck_assert_msg(strcmp(out, cases[i][1]) == 0, "case %zu: \"%s\" -> \"%s\", expected \"%s\"",
                      i, cases[i][0], out, cases[i][1]);
        free(out);
    }
}
END_TEST

START_TEST(wikitext_page_split) {
    const char raw[] = " \n"
                       " = Alpha = \n"
                       " \n"
                       " Alpha text @-@ here . \n"
                       " = = Section = = \n"
                       " More . \n"
                       " = Beta = \n"
                       " Beta text \n";
    char **pages = NULL;
    size_t n = 0;
    ck_assert_int_eq(chv_wikitext_split_pages(raw, &pages, &n), 0);
    /* The leading blank line makes no page; a sub-heading starts none. */
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(pages[0], " = Alpha = \n \n Alpha text @-@ here . \n = = Section = = \n More . ");
    ck_assert_str_eq(pages[1], " = Beta = \n Beta text \n");
    ck_assert_int_eq(chv_py_split_whitespace_count(pages[1]), 7);
    for (size_t i = 0; i < n; i++)
        free(pages[i]);
    free(pages);

    char *path = temp_file("wiki.test.raw", raw);
    chv_doc_list docs = {0};
    chv_error err;
    ck_assert_int_eq(chv_task_load(task_named("wikitext"), path, 1, &docs, &err), 0);
    ck_assert_uint_eq(docs.n, 2);
    ck_assert_str_eq(docs.docs[0].text, " = Alpha =\n\nAlpha text-here.\n== Section ==\nMore. ");
    ck_assert_int_eq(docs.docs[0].bytes, (long)strlen(docs.docs[0].page));
    /* re.split(r"\s+", page) on " = Beta = \n Beta text \n": "", "=", "Beta",
     * "=", "Beta", "text", "" */
    ck_assert_int_eq(docs.docs[1].words, 7);
    chv_doc_list_free(&docs);
    free(path);
}
END_TEST

START_TEST(python_string_helpers) {
    char *s = chv_py_strip("\xC2\xA0 x y \t\n");
    ck_assert_str_eq(s, "x y");
    free(s);
    s = chv_py_capitalize("hELLO wORLD");
    ck_assert_str_eq(s, "Hello world");
    free(s);
    s = chv_py_capitalize("\xC3\x9F" "ER");                    /* "ßER" */
    ck_assert_str_eq(s, "Sser");
    free(s);
    s = chv_py_capitalize("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"); /* "ΟΔΟΣ" -> "Οδος" */
    ck_assert_str_eq(s, "\xCE\x9F\xCE\xB4\xCE\xBF\xCF\x82");
    free(s);
    s = chv_py_replace("a   b", "  ", " ");
    ck_assert_str_eq(s, "a  b");
    free(s);
    ck_assert_int_eq(chv_py_split_whitespace_count(""), 1);
    ck_assert_int_eq(chv_py_split_whitespace_count(" a  b "), 4);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("task_requests");
    TCase *tc = tcase_create("builders");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, arc_letter_key);
    tcase_add_test(tc, arc_digit_key);
    tcase_add_test(tc, arc_unknown_key_names_field);
    tcase_add_test(tc, arc_missing_field_names_it);
    tcase_add_test(tc, openbookqa_bare_stem_lstrip_key);
    tcase_add_test(tc, boolq_prompt_and_long_passage);
    tcase_add_test(tc, piqa_record_with_label);
    tcase_add_test(tc, piqa_labels_file);
    tcase_add_test(tc, winogrande_partial_scoring);
    tcase_add_test(tc, winogrande_blank_at_edges);
    tcase_add_test(tc, winogrande_bad_answer);
    tcase_add_test(tc, hellaswag_capitalize_lowercases_rest);
    tcase_add_test(tc, hellaswag_title_and_brackets);
    tcase_add_test(tc, hellaswag_text_format);
    tcase_add_test(tc, blimp_empty_context);
    tcase_add_test(tc, arithmark_empty_delimiter_string_label);
    tcase_add_test(tc, arithmark_label_out_of_range);
    tcase_add_test(tc, wikitext_detokenizer_rules);
    tcase_add_test(tc, wikitext_page_split);
    tcase_add_test(tc, python_string_helpers);
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
