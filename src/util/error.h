/* Error records shared by every module.
 *
 * Library functions never print and never exit. A function that can fail
 * takes a `chv_error *` as its last argument, fills it on failure and
 * returns -1 (or NULL). The CLI prints `err.message` and picks the exit
 * status. `err` may be NULL when the caller does not want the message.
 */
#ifndef CHEVAL_UTIL_ERROR_H
#define CHEVAL_UTIL_ERROR_H

#include <stddef.h>

#define CHV_ERROR_MAX 2048

typedef struct chv_error {
    char message[CHV_ERROR_MAX];
} chv_error;

/* Formats a message into err (printf-style) and returns -1, so a caller can
 * write `return chv_error_set(err, "...")`. */
int chv_error_set(chv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the message already in err with "prefix: ". Returns -1. */
int chv_error_prefix(chv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears err so that err->message is the empty string. */
void chv_error_clear(chv_error *err);

#endif
