#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int chv_error_set(chv_error *err, const char *fmt, ...) {
    if (err == NULL)
        return -1;

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

int chv_error_prefix(chv_error *err, const char *fmt, ...) {
    if (err == NULL)
        return -1;

    char prefix[CHV_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);

    char old[CHV_ERROR_MAX];
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
    return -1;
}

void chv_error_clear(chv_error *err) {
    if (err != NULL)
        err->message[0] = '\0';
}
