/* Tests for scripts/fetch-data.sh in its offline modes (--from and --check):
 * files that verify, corrupted files, missing files and the DIFFERS
 * warning, first on a small mirror built here, then on the real benchmark
 * files when CHEVAL_DATA_DIR is set. Nothing here downloads. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/testutil.h"
#include "util/fileio.h"
#include "util/lines.h"

#define FETCH "scripts/fetch-data.sh"

/* A small mirror: three files and a manifest that describes them. */
typedef struct mirror {
    char *root;     /* temporary folder holding everything below */
    char *source;   /* the mirror folder */
    char *dest;     /* an empty destination folder */
    char *manifest; /* the manifest file */
} mirror;

static const char ARC_TEXT[] = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n";
static const char LABELS_TEXT[] = "0\n1\n";
static const char DERIVED_TEXT[] = "{\"qID\": \"x\"}\n{\"qID\": \"y\"}\n";

static void write_in(const char *dir, const char *name, const char *text) {
    char *path = chv_path_join(dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    chv_error err;
    ck_assert_msg(chv_mkdir_p(path, &err) == 0, "%s", err.message);
    *slash = '/';
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    free(path);
}

/* Appends one manifest line for text stored at path with the given kind. */
static void manifest_line(FILE *fp, const char *path, int records, const char *text, const char *kind) {
    char hex[65];
    chv_sha256_hex(text, strlen(text), hex);
    fprintf(fp, "%s %d %zu %s %s\n", path, records, strlen(text), hex, kind);
}

static mirror make_mirror(void) {
    mirror m;
    m.root = test_make_temp_dir("cheval-fetch");
    m.source = chv_path_join(m.root, "mirror");
    m.dest = chv_path_join(m.root, "dest");
    m.manifest = chv_path_join(m.root, "MANIFEST");

    write_in(m.source, "arc/ARC-Easy-Test.jsonl", ARC_TEXT);
    write_in(m.source, "piqa/valid-labels.lst", LABELS_TEXT);
    write_in(m.source, "winogrande/dev.jsonl", DERIVED_TEXT);

    FILE *fp = fopen(m.manifest, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "# test manifest\n\n");
    manifest_line(fp, "arc/ARC-Easy-Test.jsonl", 3, ARC_TEXT, "checksum");
    manifest_line(fp, "piqa/valid-labels.lst", 2, LABELS_TEXT, "official");
    manifest_line(fp, "winogrande/dev.jsonl", 2, DERIVED_TEXT, "derived");
    fclose(fp);
    return m;
}

static void free_mirror(mirror *m) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", m->root);
    ck_assert_int_eq(system(cmd), 0);
    free(m->root);
    free(m->source);
    free(m->dest);
    free(m->manifest);
}

/* Runs fetch-data.sh --from the mirror with extra options. */
static void run_fetch(const mirror *m, const char *options, test_output *result) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, FETCH " --manifest '%s' --from '%s' --dest '%s' %s", m->manifest,
             m->source, m->dest, options);
    ck_assert_int_eq(test_run(cmd, NULL, result), 0);
}

static void assert_contains(const char *haystack, const char *needle) {
    ck_assert_msg(strstr(haystack, needle) != NULL, "expected '%s' in:\n%s", needle, haystack);
}

START_TEST(fetch_copies_and_verifies_mirror) {
    mirror m = make_mirror();
    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "OK        arc/ARC-Easy-Test.jsonl (3 records, size and sha256)");
    assert_contains(r.out, "OK        piqa/valid-labels.lst (2 records");
    assert_contains(r.out, "OK        winogrande/dev.jsonl (2 records");
    assert_contains(r.out, "fetch-data: 3 OK, 0 DIFFERS, 0 MISMATCH, 0 MISSING");
    test_output_free(&r);

    /* The copy has the mirror's bytes. */
    char *copied = chv_path_join(m.dest, "arc/ARC-Easy-Test.jsonl");
    chv_error err;
    size_t len;
    char *text = chv_read_file(copied, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    ck_assert_str_eq(text, ARC_TEXT);
    free(text);
    free(copied);

    /* --check verifies the destination without a mirror. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, FETCH " --manifest '%s' --check --dest '%s'", m.manifest, m.dest);
    ck_assert_int_eq(test_run(cmd, NULL, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "3 OK, 0 DIFFERS, 0 MISMATCH, 0 MISSING");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_reports_corrupted_file) {
    mirror m = make_mirror();
    write_in(m.source, "piqa/valid-labels.lst", "0\n0\n"); /* same size and count, other bytes */
    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_int_eq(r.status, 1);
    assert_contains(r.out, "MISMATCH  piqa/valid-labels.lst (sha256 ");
    assert_contains(r.out, "OK        arc/ARC-Easy-Test.jsonl");
    assert_contains(r.out, "1 MISMATCH");
    assert_contains(r.err, "do not match the manifest");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_reports_truncated_file) {
    mirror m = make_mirror();
    write_in(m.source, "arc/ARC-Easy-Test.jsonl", "{\"id\":\"a\"}\n");
    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_int_eq(r.status, 1);
    assert_contains(r.out, "MISMATCH  arc/ARC-Easy-Test.jsonl (1 records, expected 3; 11 bytes, expected 33;");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_missing_file_is_warning) {
    mirror m = make_mirror();
    char *path = chv_path_join(m.source, "piqa/valid-labels.lst");
    ck_assert_int_eq(remove(path), 0);
    free(path);

    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "MISSING   piqa/valid-labels.lst");
    assert_contains(r.out, "2 OK, 0 DIFFERS, 0 MISMATCH, 1 MISSING");
    test_output_free(&r);

    run_fetch(&m, "--strict", &r);
    ck_assert_int_eq(r.status, 1);
    assert_contains(r.err, "--strict");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_derived_difference_is_warning) {
    mirror m = make_mirror();
    /* Same two records, other formatting: allowed for a derived entry. */
    write_in(m.source, "winogrande/dev.jsonl", "{\"qID\":\"x\"}\n{\"qID\":\"y\"}\n");
    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "DIFFERS   winogrande/dev.jsonl");
    test_output_free(&r);

    run_fetch(&m, "--strict", &r);
    ck_assert_int_eq(r.status, 1);
    test_output_free(&r);

    /* A wrong record count is a mismatch for every kind. */
    write_in(m.source, "winogrande/dev.jsonl", "{\"qID\":\"x\"}\n");
    run_fetch(&m, "", &r);
    ck_assert_int_eq(r.status, 1);
    assert_contains(r.out, "MISMATCH  winogrande/dev.jsonl (1 records, expected 2");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_summary_names_alternatives) {
    /* The mirror has HellaSwag's text form but not its JSONL, and no
     * ArithMark file. */
    mirror m = make_mirror();
    static const char HELLASWAG_TEXT[] = "ctx\n0\na\nb\nc\nd\n";
    write_in(m.source, "hellaswag/hellaswag_val_full.txt", HELLASWAG_TEXT);
    FILE *fp = fopen(m.manifest, "a");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "hellaswag/hellaswag_val.jsonl 1 - - unpinned\n");
    manifest_line(fp, "hellaswag/hellaswag_val_full.txt", 1, HELLASWAG_TEXT, "official");
    fprintf(fp, "arithmark/arithmark_2.0.jsonl 2500 - - published\n");
    fclose(fp);

    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "MISSING   hellaswag/hellaswag_val.jsonl");
    assert_contains(r.out, "OK        hellaswag/hellaswag_val_full.txt");
    assert_contains(r.err, "HellaSwag can still run (from the text file)");
    assert_contains(r.err, "--task-file arithmark=PATH");
    assert_contains(r.err, "a task list without arithmark");
    test_output_free(&r);

    /* With the ArithMark file there, only the HellaSwag note remains, and
     * no task is said to be blocked. */
    write_in(m.source, "arithmark/arithmark_2.0.jsonl", "{}\n");
    size_t len;
    chv_error err;
    char *manifest_text = chv_read_file(m.manifest, &len, &err);
    ck_assert_ptr_nonnull(manifest_text);
    /* Record count 2500 -> 1 (the padding keeps the length). */
    char *line = strstr(manifest_text, "arithmark/arithmark_2.0.jsonl 2500");
    ck_assert_ptr_nonnull(line);
    memcpy(line + strlen("arithmark/arithmark_2.0.jsonl "), "1   ", 4);
    ck_assert_int_eq(test_write_file(m.manifest, manifest_text, len), 0);
    free(manifest_text);

    run_fetch(&m, "", &r);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.err, "HellaSwag can still run");
    ck_assert_msg(strstr(r.err, "arithmark") == NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "cannot run") == NULL, "%s", r.err);
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_rejects_samples_folder) {
    mirror m = make_mirror();
    write_in(m.dest, "SAMPLES.md", "samples\n");
    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_int_eq(r.status, 2);
    assert_contains(r.err, "is the bundled samples folder");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

START_TEST(fetch_rejects_bad_usage) {
    test_output r;
    ck_assert_int_eq(test_run(FETCH " --no-such-option", NULL, &r), 0);
    ck_assert_int_eq(r.status, 2);
    assert_contains(r.err, "unknown option '--no-such-option'");
    test_output_free(&r);

    ck_assert_int_eq(test_run(FETCH " --from /nonexistent/mirror --dest /tmp/unused", NULL, &r), 0);
    ck_assert_int_eq(r.status, 2);
    assert_contains(r.err, "mirror folder '/nonexistent/mirror' not found");
    test_output_free(&r);

    ck_assert_int_eq(test_run(FETCH " --help", NULL, &r), 0);
    ck_assert_int_eq(r.status, 0);
    assert_contains(r.out, "--from DIR");
    test_output_free(&r);
}
END_TEST

START_TEST(fetch_rejects_bad_manifest) {
    mirror m = make_mirror();
    FILE *fp = fopen(m.manifest, "a");
    fprintf(fp, "../outside.jsonl 1 2 - official\n");
    fclose(fp);
    test_output r;
    run_fetch(&m, "", &r);
    ck_assert_int_eq(r.status, 1);
    assert_contains(r.err, "must be relative and stay inside the data folder");
    test_output_free(&r);
    free_mirror(&m);
}
END_TEST

/* Real files: the official manifest against the CHEVAL_DATA_DIR mirror. */

START_TEST(fetch_real_mirror_verifies) {
    const char *data = test_data_dir("fetch_real_mirror_verifies");
    if (data == NULL)
        return;
    char *root = test_make_temp_dir("cheval-fetch-real");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, FETCH " --from '%s' --dest '%s/data'", data, root);
    test_output r;
    ck_assert_int_eq(test_run(cmd, NULL, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
    assert_contains(r.out, "OK        arc/ARC-Easy-Test.jsonl (2376 records, size and sha256)");
    assert_contains(r.out, "OK        arc/ARC-Challenge-Test.jsonl (1172 records");
    assert_contains(r.out, "OK        hellaswag/hellaswag_val_full.txt (10042 records");
    assert_contains(r.out, "OK        winogrande/dev.jsonl (1267 records");
    assert_contains(r.out, "OK        piqa/valid.jsonl (1838 records");
    assert_contains(r.out, "OK        openbookqa/test.jsonl (500 records");
    assert_contains(r.out, "OK        boolq/dev.jsonl (3270 records");
    assert_contains(r.out, "OK        blimp/adjunct_island.jsonl (1000 records");
    assert_contains(r.out, "OK        wikitext2/wiki.test.raw (62 records");
    assert_contains(r.out, " 0 MISMATCH");
    test_output_free(&r);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    free(root);
}
END_TEST

START_TEST(fetch_real_mirror_corruption) {
    const char *data = test_data_dir("fetch_real_mirror_corruption");
    if (data == NULL)
        return;
    /* A mirror of symbolic links to the real files, except one label file
     * that is replaced by a copy with its first label flipped. */
    char *root = test_make_temp_dir("cheval-fetch-real");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "mirror='%s/mirror' && mkdir -p \"$mirror\" && cd '%s' && "
             "find . -type f | while read -r f; do mkdir -p \"$mirror/$(dirname \"$f\")\" && "
             "ln -s \"$PWD/$f\" \"$mirror/$f\"; done && "
             "rm \"$mirror/piqa/valid-labels.lst\" && "
             "awk 'NR == 1 { print ($0 == \"0\") ? \"1\" : \"0\"; next } { print }' piqa/valid-labels.lst "
             "> \"$mirror/piqa/valid-labels.lst\"",
             root, data);
    test_output r;
    ck_assert_int_eq(test_run(cmd, NULL, &r), 0);
    ck_assert_msg(r.status == 0, "building the mirror failed: %s", r.err);
    test_output_free(&r);

    snprintf(cmd, sizeof cmd, FETCH " --from '%s/mirror' --dest '%s/data'", root, root);
    ck_assert_int_eq(test_run(cmd, NULL, &r), 0);
    ck_assert_int_eq(r.status, 1);
    assert_contains(r.out, "MISMATCH  piqa/valid-labels.lst (sha256 ");
    assert_contains(r.out, "OK        piqa/valid.jsonl");
    assert_contains(r.out, " 1 MISMATCH");
    test_output_free(&r);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    free(root);
}
END_TEST

int main(void) {
    Suite *s = suite_create("data_fetch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fetch_copies_and_verifies_mirror);
    tcase_add_test(tc, fetch_reports_corrupted_file);
    tcase_add_test(tc, fetch_reports_truncated_file);
    tcase_add_test(tc, fetch_missing_file_is_warning);
    tcase_add_test(tc, fetch_derived_difference_is_warning);
    tcase_add_test(tc, fetch_summary_names_alternatives);
    tcase_add_test(tc, fetch_rejects_samples_folder);
    tcase_add_test(tc, fetch_rejects_bad_usage);
    tcase_add_test(tc, fetch_rejects_bad_manifest);
    tcase_add_test(tc, fetch_real_mirror_verifies);
    tcase_add_test(tc, fetch_real_mirror_corruption);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
