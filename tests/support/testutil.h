/* Helpers shared by the Check tests. */
#ifndef CHEVAL_TESTS_TESTUTIL_H
#define CHEVAL_TESTS_TESTUTIL_H

#include <stddef.h>

/* Returns $CHEVAL_MODELS_DIR or $CHEVAL_DATA_DIR, or NULL after printing
 * "SKIP <test>: <variable> is not set" to stdout. */
const char *test_models_dir(const char *test_name);
const char *test_data_dir(const char *test_name);

/* Returns the path of the cheval binary under test: $CHEVAL_BIN, else
 * "./cheval". */
const char *test_cheval_bin(void);

/* Captured output of a command run through /bin/sh. */
typedef struct test_output {
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
    int status; /* exit status, or -1 when killed by a signal */
} test_output;

/* Runs `shell_command` with stdin_text (may be NULL) on its standard input.
 * Returns 0 when the command could be started. */
int test_run(const char *shell_command, const char *stdin_text, test_output *result);
void test_output_free(test_output *result);

/* Makes a fresh empty folder under $TMPDIR (or /tmp) and returns its path,
 * which the caller frees. */
char *test_make_temp_dir(const char *prefix);

/* Writes text to path, replacing it. Returns 0 on success. */
int test_write_file(const char *path, const char *text, size_t len);

#endif
