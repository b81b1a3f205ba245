/* Progress lines on stderr: "arc_easy: 120/2376 docs, 35.2 docs/s, ETA 1m04s".
 *
 * On a terminal the line is rewritten in place at most 10 times a second.
 * Otherwise (CI logs, files) a plain line is printed at most every 10
 * seconds, plus one at the end. Nothing is printed at log level "error" or
 * "warn". */
#ifndef CHEVAL_UTIL_PROGRESS_H
#define CHEVAL_UTIL_PROGRESS_H

#include <stddef.h>

typedef struct chv_progress {
    char label[128];
    const char *unit; /* "docs", "requests", ... */
    size_t total;
    size_t done;
    double start;      /* seconds, monotonic */
    double last_print; /* seconds, monotonic */
    int tty;
    int active;
} chv_progress;

void chv_progress_start(chv_progress *p, const char *label, const char *unit, size_t total);
void chv_progress_update(chv_progress *p, size_t done);
/* Prints the final line with the elapsed time. */
void chv_progress_finish(chv_progress *p);

/* Returns monotonic wall time in seconds. */
double chv_now(void);

#endif
