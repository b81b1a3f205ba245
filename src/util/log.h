/* Logging to stderr. Results never go through here: they go to stdout or
 * to files. The level is set once by the CLI (--quiet, --verbose) or by the
 * CHEVAL_LOG environment variable (error, warn, info, debug). */
#ifndef CHEVAL_UTIL_LOG_H
#define CHEVAL_UTIL_LOG_H

typedef enum { CHV_LOG_ERROR = 0, CHV_LOG_WARN, CHV_LOG_INFO, CHV_LOG_DEBUG } chv_log_level;

void chv_log_set_level(chv_log_level level);
chv_log_level chv_log_get_level(void);

void chv_log(chv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets a label ("boolq") that prefixes every following log line, so that
 * messages from shared code name the task they concern. NULL clears it.
 * The label is copied. Not thread-safe: set it from the main thread. */
void chv_log_set_context(const char *label);

#define chv_log_error(...) chv_log(CHV_LOG_ERROR, __VA_ARGS__)
#define chv_log_warn(...) chv_log(CHV_LOG_WARN, __VA_ARGS__)
#define chv_log_info(...) chv_log(CHV_LOG_INFO, __VA_ARGS__)
#define chv_log_debug(...) chv_log(CHV_LOG_DEBUG, __VA_ARGS__)

#endif
