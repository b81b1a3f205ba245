#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *env_dir(const char *variable, const char *test_name) {
    const char *value = getenv(variable);
    if (value == NULL || value[0] == '\0') {
        printf("SKIP %s: %s is not set\n", test_name, variable);
        return NULL;
    }
    return value;
}

const char *test_models_dir(const char *test_name) { return env_dir("CHEVAL_MODELS_DIR", test_name); }

const char *test_data_dir(const char *test_name) { return env_dir("CHEVAL_DATA_DIR", test_name); }

const char *test_cheval_bin(void) {
    const char *bin = getenv("CHEVAL_BIN");
    return (bin != NULL && bin[0] != '\0') ? bin : "./cheval";
}

static char *slurp(FILE *fp) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL)
                free(buf);
            buf = grown;
        }
    }
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

int test_run(const char *shell_command, const char *stdin_text, test_output *result) {
    memset(result, 0, sizeof *result);

    char in_path[] = "/tmp/cheval-test-in-XXXXXX";
    char out_path[] = "/tmp/cheval-test-out-XXXXXX";
    char err_path[] = "/tmp/cheval-test-err-XXXXXX";
    int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0)
        return -1;
    if (stdin_text != NULL && write(in_fd, stdin_text, strlen(stdin_text)) < 0)
        return -1;
    close(in_fd);
    close(out_fd);
    close(err_fd);

    size_t n = strlen(shell_command) + 3 * sizeof in_path + 32;
    char *cmd = malloc(n);
    snprintf(cmd, n, "(%s) <%s >%s 2>%s", shell_command, in_path, out_path, err_path);
    int rc = system(cmd);
    free(cmd);

    result->status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    FILE *fp = fopen(out_path, "rb");
    result->out = fp ? slurp(fp) : strdup("");
    if (fp)
        fclose(fp);
    fp = fopen(err_path, "rb");
    result->err = fp ? slurp(fp) : strdup("");
    if (fp)
        fclose(fp);

    unlink(in_path);
    unlink(out_path);
    unlink(err_path);
    return 0;
}

void test_output_free(test_output *result) {
    free(result->out);
    free(result->err);
    memset(result, 0, sizeof *result);
}

char *test_make_temp_dir(const char *prefix) {
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    size_t n = strlen(tmp) + strlen(prefix) + 16;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s-XXXXXX", tmp, prefix);
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

int test_write_file(const char *path, const char *text, size_t len) {
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return -1;
    size_t written = fwrite(text, 1, len, fp);
    fclose(fp);
    return written == len ? 0 : -1;
}
