#include "util/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

double chv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_duration(double seconds, char *out, size_t n) {
    if (seconds < 0 || seconds > 1e7) {
        snprintf(out, n, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(out, n, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        snprintf(out, n, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(out, n, "%lds", s);
}

static void print_line(chv_progress *p, int final) {
    double elapsed = chv_now() - p->start;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
    char eta[32], took[32];
    format_duration(rate > 0 ? (double)(p->total - p->done) / rate : -1, eta, sizeof eta);
    format_duration(elapsed, took, sizeof took);

    char line[512];
    if (final)
        snprintf(line, sizeof line, "%s: %zu/%zu %s in %s (%.1f %s/s)", p->label, p->done,
                 p->total, p->unit, took, rate, p->unit);
    else
        snprintf(line, sizeof line, "%s: %zu/%zu %s, %.1f %s/s, ETA %s", p->label, p->done,
                 p->total, p->unit, rate, p->unit, eta);

    if (p->tty)
        fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

void chv_progress_start(chv_progress *p, const char *label, const char *unit, size_t total) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->unit = unit;
    p->total = total;
    p->start = chv_now();
    p->last_print = p->start;
    p->tty = isatty(STDERR_FILENO);
    p->active = chv_log_get_level() >= CHV_LOG_INFO;
}

void chv_progress_update(chv_progress *p, size_t done) {
    p->done = done;
    if (!p->active)
        return;
    double now = chv_now();
    double interval = p->tty ? 0.1 : 10.0;
    if (now - p->last_print < interval)
        return;
    p->last_print = now;
    print_line(p, 0);
}

void chv_progress_finish(chv_progress *p) {
    if (!p->active)
        return;
    print_line(p, 1);
}
