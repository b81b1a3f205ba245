#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int log_level = -1;
static char log_context[128];

static chv_log_level level_from_env(void) {
    const char *value = getenv("CHEVAL_LOG");
    if (value == NULL)
        return CHV_LOG_INFO;
    if (strcmp(value, "error") == 0)
        return CHV_LOG_ERROR;
    if (strcmp(value, "warn") == 0)
        return CHV_LOG_WARN;
    if (strcmp(value, "debug") == 0)
        return CHV_LOG_DEBUG;
    return CHV_LOG_INFO;
}

void chv_log_set_level(chv_log_level level) { log_level = (int)level; }

void chv_log_set_context(const char *label) {
    snprintf(log_context, sizeof log_context, "%s", label != NULL ? label : "");
}

chv_log_level chv_log_get_level(void) {
    if (log_level < 0)
        log_level = (int)level_from_env();
    return (chv_log_level)log_level;
}

void chv_log(chv_log_level level, const char *fmt, ...) {
    if (level > chv_log_get_level())
        return;

    static const char *const names[] = {"error", "warning", "info", "debug"};
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);

    /* One fputs per line, so lines from worker threads do not interleave. */
    char out[4200];
    if (log_context[0] != '\0')
        snprintf(out, sizeof out, "cheval: %s: %s: %s\n", names[level], log_context, line);
    else
        snprintf(out, sizeof out, "cheval: %s: %s\n", names[level], line);
    fputs(out, stderr);
}
