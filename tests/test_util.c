/* Tests for src/util: JSON Lines reading, UTF-8 helpers, atomic writes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "support/testutil.h"
#include "util/fileio.h"
#include "util/jsonl.h"
#include "util/lines.h"
#include "util/utf8.h"

static char *temp_file(const char *name, const char *text, size_t len) {
    char *dir = test_make_temp_dir("cheval-util");
    char *path = chv_path_join(dir, name);
    free(dir);
    ck_assert_int_eq(test_write_file(path, text, len), 0);
    return path;
}

static int count_items(const char *path, chv_error *err) {
    chv_jsonl *reader = chv_jsonl_open(path, err);
    if (reader == NULL)
        return -1;
    int n = 0, rc;
    cJSON *item;
    while ((rc = chv_jsonl_next(reader, &item, err)) == 1) {
        n++;
        cJSON_Delete(item);
    }
    chv_jsonl_close(reader);
    return rc < 0 ? -1 : n;
}

START_TEST(jsonl_blank_lines_and_no_final_newline) {
    const char text[] = "{\"a\":1}\n\n   \n{\"a\":2}\r\n{\"a\":3}";
    char *path = temp_file("x.jsonl", text, sizeof text - 1);
    chv_error err;
    ck_assert_int_eq(count_items(path, &err), 3);
    free(path);
}
END_TEST

START_TEST(jsonl_invalid_json_names_line) {
    const char text[] = "{\"a\":1}\n{\"a\":\n";
    char *path = temp_file("bad.jsonl", text, sizeof text - 1);
    chv_error err;
    ck_assert_int_eq(count_items(path, &err), -1);
    ck_assert_msg(strstr(err.message, "bad.jsonl:2") != NULL, "message: %s", err.message);
    ck_assert_msg(strstr(err.message, "invalid JSON") != NULL, "message: %s", err.message);
    free(path);
}
END_TEST

START_TEST(jsonl_invalid_utf8_names_line) {
    const char text[] = "{\"a\":1}\n{\"a\":1}\n{\"a\":\"\xff\"}\n";
    char *path = temp_file("utf.jsonl", text, sizeof text - 1);
    chv_error err;
    ck_assert_int_eq(count_items(path, &err), -1);
    ck_assert_msg(strstr(err.message, "utf.jsonl:3") != NULL, "message: %s", err.message);
    ck_assert_msg(strstr(err.message, "invalid UTF-8") != NULL, "message: %s", err.message);
    free(path);
}
END_TEST

START_TEST(jsonl_trailing_garbage_rejected) {
    const char text[] = "{\"a\":1} x\n";
    char *path = temp_file("t.jsonl", text, sizeof text - 1);
    chv_error err;
    ck_assert_int_eq(count_items(path, &err), -1);
    ck_assert_msg(strstr(err.message, "t.jsonl:1") != NULL, "message: %s", err.message);
    free(path);
}
END_TEST

START_TEST(jsonl_reads_gzip) {
    char *dir = test_make_temp_dir("cheval-util");
    char *path = chv_path_join(dir, "x.jsonl.gz");
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    for (int i = 0; i < 1000; i++)
        gzprintf(gz, "{\"i\":%d}\n", i);
    gzclose(gz);

    chv_error err;
    ck_assert_int_eq(count_items(path, &err), 1000);
    free(path);
    free(dir);
}
END_TEST

START_TEST(jsonl_missing_file_named) {
    chv_error err;
    ck_assert_ptr_null(chv_jsonl_open("/nonexistent/file.jsonl", &err));
    ck_assert_msg(strstr(err.message, "/nonexistent/file.jsonl") != NULL, "message: %s",
                  err.message);
}
END_TEST

START_TEST(jsonl_long_line_accepted) {
    size_t n = 1 << 20;
    char *text = malloc(n + 16);
    strcpy(text, "{\"s\":\"");
    memset(text + 6, 'x', n);
    strcpy(text + 6 + n, "\"}\n");
    char *path = temp_file("long.jsonl", text, strlen(text));
    chv_error err;
    ck_assert_int_eq(count_items(path, &err), 1);
    free(path);
    free(text);
}
END_TEST

START_TEST(utf8_codepoints_like_python_len) {
    ck_assert_uint_eq(chv_utf8_codepoints("abc", 3), 3);
    ck_assert_uint_eq(chv_utf8_codepoints("caf\xc3\xa9", 5), 4);
    ck_assert_uint_eq(chv_utf8_codepoints("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);
    ck_assert_uint_eq(chv_utf8_codepoints("\xf0\x9f\x98\x80", 4), 1);
}
END_TEST

START_TEST(utf8_replace_matches_python) {
    /* b"a\xffb\xe6\x97c".decode("utf-8", "replace") == "a\ufffdb\ufffdc" */
    size_t len;
    char *out = chv_utf8_replace_invalid("a\xff" "b\xe6\x97" "c", 6, &len);
    ck_assert_str_eq(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
    free(out);

    /* b"\xed\xa0\x80".decode(errors="replace") gives three U+FFFD. */
    out = chv_utf8_replace_invalid("\xed\xa0\x80", 3, &len);
    ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(out);
}
END_TEST

START_TEST(atomic_write_replaces_file) {
    char *dir = test_make_temp_dir("cheval-util");
    char *path = chv_path_join(dir, "out.txt");
    chv_error err;
    ck_assert_int_eq(chv_write_file_atomic(path, "old", 3, &err), 0);
    ck_assert_int_eq(chv_write_file_atomic(path, "new text", 8, &err), 0);
    size_t len;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_str_eq(text, "new text");
    free(text);
    free(path);
    free(dir);
}
END_TEST

START_TEST(sha256_known_value) {
    char hex[65];
    chv_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

int main(void) {
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, jsonl_blank_lines_and_no_final_newline);
    tcase_add_test(tc, jsonl_invalid_json_names_line);
    tcase_add_test(tc, jsonl_invalid_utf8_names_line);
    tcase_add_test(tc, jsonl_trailing_garbage_rejected);
    tcase_add_test(tc, jsonl_reads_gzip);
    tcase_add_test(tc, jsonl_missing_file_named);
    tcase_add_test(tc, jsonl_long_line_accepted);
    tcase_add_test(tc, utf8_codepoints_like_python_len);
    tcase_add_test(tc, utf8_replace_matches_python);
    tcase_add_test(tc, atomic_write_replaces_file);
    tcase_add_test(tc, sha256_known_value);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
