/* Tests for `cheval tokenize`, run through the built binary ($CHEVAL_BIN).
 *
 * Most tests use a tiny tokenizer.json written into a temporary folder, so
 * they run without $CHEVAL_MODELS_DIR. The expected ids come from Hugging
 * Face's `tokenizers` 0.23.2 on the same file. The stories260K tests need
 * $CHEVAL_MODELS_DIR and skip without it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "util/fileio.h"

/* A Llama-style BPE tokenizer: "▁" is prepended and spaces become "▁",
 * <s> is added in front with special tokens, and unknown characters fuse
 * into one <unk>. Vocabulary: <unk>=0 <s>=1 ▁=2 a=3 b=4 c=5 ab=6 ▁ab=7. */
static const char TINY_TOKENIZER[] =
    "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
    "\"added_tokens\":["
    "{\"id\":0,\"content\":\"<unk>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
    "\"normalized\":false,\"special\":true},"
    "{\"id\":1,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
    "\"normalized\":false,\"special\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":["
    "{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},"
    "\"pre_tokenizer\":null,"
    "\"post_processor\":{\"type\":\"TemplateProcessing\","
    "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
    "\"pair\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
    "{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":1}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],"
    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"decoder\":null,"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\",\"continuing_subword_prefix\":null,"
    "\"end_of_word_suffix\":null,\"fuse_unk\":true,\"byte_fallback\":false,\"ignore_merges\":false,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"\\u2581\":2,\"a\":3,\"b\":4,\"c\":5,\"ab\":6,\"\\u2581ab\":7},"
    "\"merges\":[[\"a\",\"b\"],[\"\\u2581\",\"ab\"]]}}";

/* Writes TINY_TOKENIZER as the only file of a fresh folder. */
static char *tiny_tokenizer_dir(void) {
    char *dir = test_make_temp_dir("cheval-tokenize");
    ck_assert_ptr_nonnull(dir);
    char *path = chv_path_join(dir, "tokenizer.json");
    ck_assert_int_eq(test_write_file(path, TINY_TOKENIZER, sizeof TINY_TOKENIZER - 1), 0);
    free(path);
    return dir;
}

static void remove_tiny_dir(char *dir) {
    char *path = chv_path_join(dir, "tokenizer.json");
    remove(path);
    remove(dir);
    free(path);
    free(dir);
}

/* Runs `cheval tokenize ARGS` with stdin_text on its standard input. */
static void run_tokenize(const char *args, const char *stdin_text, test_output *out) {
    char command[4096];
    snprintf(command, sizeof command, "%s tokenize %s", test_cheval_bin(), args);
    ck_assert_int_eq(test_run(command, stdin_text, out), 0);
}

static char *stories_dir(const char *test_name) {
    const char *models = test_models_dir(test_name);
    return models != NULL ? chv_path_join(models, "stories260K-hf") : NULL;
}

START_TEST(text_on_stories260k) {
    char *dir = stories_dir("cheval tokenize --text on stories260K");
    if (dir == NULL)
        return;
    char args[1024];
    test_output out;

    snprintf(args, sizeof args, "--model '%s' --text 'Once upon a time'", dir);
    run_tokenize(args, NULL, &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[403,407,261,378]\n");
    test_output_free(&out);

    snprintf(args, sizeof args, "--model '%s' --add-special-tokens --text 'Once upon a time'", dir);
    run_tokenize(args, NULL, &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[1,403,407,261,378]\n");
    test_output_free(&out);
    free(dir);
}
END_TEST

START_TEST(stdin_lines_on_stories260k) {
    char *dir = stories_dir("cheval tokenize stdin on stories260K");
    if (dir == NULL)
        return;
    char args[1024];
    snprintf(args, sizeof args, "--model '%s'", dir);
    test_output out;

    /* The blank line in the middle is skipped, and the escapes are JSON's. */
    run_tokenize(args, "\"Once upon a time\"\n\n\" Lily\"\n\"The cat sat.\"\n\"\\u00e9\"\n", &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[403,407,261,378]\n"
                              "[317]\n"
                              "[291,280,294,262,294,426]\n"
                              "[410,485]\n");
    test_output_free(&out);
    free(dir);
}
END_TEST

START_TEST(tokenizer_only_folder) {
    char *dir = tiny_tokenizer_dir();
    char args[1024];
    test_output out;

    snprintf(args, sizeof args, "--model '%s' --text 'ab ab c'", dir);
    run_tokenize(args, NULL, &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[7,7,2,5]\n");
    test_output_free(&out);

    snprintf(args, sizeof args, "-m '%s' -s -t 'ab ab c'", dir);
    run_tokenize(args, NULL, &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[1,7,7,2,5]\n");
    test_output_free(&out);

    /* The tokenizer.json file itself works as --model too. */
    snprintf(args, sizeof args, "--model '%s/tokenizer.json' --text 'c ab'", dir);
    run_tokenize(args, NULL, &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[2,5,7]\n");
    test_output_free(&out);
    remove_tiny_dir(dir);
}
END_TEST

START_TEST(stdin_several_lines) {
    char *dir = tiny_tokenizer_dir();
    char args[1024];
    snprintf(args, sizeof args, "--model '%s' --add-special-tokens", dir);
    test_output out;

    /* Unknown characters fuse into one <unk>. The empty string gets only
     * <s>, a leading space gives an extra "▁", and "<s>" in the text is the
     * special token. A CRLF line ending and blank lines are accepted. */
    run_tokenize(args, "\"abxyz\"\n   \n\"\"\r\n\" <s>ab\"\n\"c ab\"", &out);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);
    ck_assert_str_eq(out.out, "[1,7,0]\n"
                              "[1]\n"
                              "[1,2,2,1,7]\n"
                              "[1,2,5,7]\n");
    ck_assert_str_eq(out.err, "");
    test_output_free(&out);
    remove_tiny_dir(dir);
}
END_TEST

START_TEST(bad_json_line_names_line) {
    char *dir = tiny_tokenizer_dir();
    char args[1024];
    snprintf(args, sizeof args, "--model '%s'", dir);
    test_output out;

    run_tokenize(args, "\"ab\"\n\n\"unterminated\n\"c\"\n", &out);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "stdin:3") != NULL, "stderr: %s", out.err);
    ck_assert_str_eq(out.out, "[7]\n");
    test_output_free(&out);

    /* Valid JSON that is not a string is rejected too. */
    run_tokenize(args, "[1, 2]\n", &out);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "stdin:1") != NULL, "stderr: %s", out.err);
    ck_assert_msg(strstr(out.err, "JSON string") != NULL, "stderr: %s", out.err);
    test_output_free(&out);

    /* Raw text instead of a JSON string. */
    run_tokenize(args, "ab ab\n", &out);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "stdin:1") != NULL, "stderr: %s", out.err);
    test_output_free(&out);

    /* Invalid UTF-8 inside the JSON string. */
    run_tokenize(args, "\"ab\"\n\"a\xff\"\n", &out);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "stdin:2") != NULL, "stderr: %s", out.err);
    ck_assert_msg(strstr(out.err, "UTF-8") != NULL, "stderr: %s", out.err);
    test_output_free(&out);
    remove_tiny_dir(dir);
}
END_TEST

START_TEST(missing_folder_fails) {
    test_output out;
    run_tokenize("--model /nonexistent/cheval-tokenizer --text hi", NULL, &out);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "/nonexistent/cheval-tokenizer") != NULL, "stderr: %s", out.err);
    ck_assert_str_eq(out.out, "");
    test_output_free(&out);
}
END_TEST

START_TEST(invalid_tokenizer_fails) {
    char *dir = test_make_temp_dir("cheval-tokenize");
    char *path = chv_path_join(dir, "tokenizer.json");
    ck_assert_int_eq(test_write_file(path, "{\"model\": ", 10), 0);
    char args[1024];
    snprintf(args, sizeof args, "--model '%s' --text hi", dir);
    test_output out;

    run_tokenize(args, NULL, &out);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "tokenizer.json") != NULL, "stderr: %s", out.err);
    test_output_free(&out);
    free(path);
    remove_tiny_dir(dir);
}
END_TEST

START_TEST(usage_errors_exit_2) {
    test_output out;

    run_tokenize("--model /tmp --frobnicate", NULL, &out);
    ck_assert_int_eq(out.status, 2);
    ck_assert_msg(strstr(out.err, "--frobnicate") != NULL, "stderr: %s", out.err);
    test_output_free(&out);

    run_tokenize("--text hi", NULL, &out);
    ck_assert_int_eq(out.status, 2);
    ck_assert_msg(strstr(out.err, "--model") != NULL, "stderr: %s", out.err);
    test_output_free(&out);

    run_tokenize("--model", NULL, &out);
    ck_assert_int_eq(out.status, 2);
    test_output_free(&out);

    run_tokenize("--model /tmp stray", NULL, &out);
    ck_assert_int_eq(out.status, 2);
    ck_assert_msg(strstr(out.err, "stray") != NULL, "stderr: %s", out.err);
    test_output_free(&out);
}
END_TEST

START_TEST(help_lists_every_flag) {
    test_output out;
    run_tokenize("--help", NULL, &out);
    ck_assert_int_eq(out.status, 0);
    const char *flags[] = {"--model", "--add-special-tokens", "--text", "--help"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        ck_assert_msg(strstr(out.out, flags[i]) != NULL, "help lacks %s:\n%s", flags[i], out.out);
    test_output_free(&out);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cli_tokenize");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, text_on_stories260k);
    tcase_add_test(tc, stdin_lines_on_stories260k);
    tcase_add_test(tc, tokenizer_only_folder);
    tcase_add_test(tc, stdin_several_lines);
    tcase_add_test(tc, bad_json_line_names_line);
    tcase_add_test(tc, missing_folder_fails);
    tcase_add_test(tc, invalid_tokenizer_fails);
    tcase_add_test(tc, usage_errors_exit_2);
    tcase_add_test(tc, help_lists_every_flag);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
