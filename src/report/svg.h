/* Inline SVG charts for the HTML reports: horizontal bars with error bars
 * and a chance marker, and signed deltas around zero. No scripts, no
 * external assets. */
#ifndef CHEVAL_REPORT_SVG_H
#define CHEVAL_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct chv_svg_bar {
    const char *label;
    double value;   /* bar length; NaN draws no bar */
    double half_ci; /* half-width of the error bar (1.96 * stderr); NaN for none */
    double low, high; /* explicit interval for delta charts; NaN to use half_ci */
    double chance;  /* chance marker; NaN for none */
    int muted;      /* draws a lighter bar (noisy rows) */
} chv_svg_bar;

/* Draws bars on a fixed [0, 1] scale, one row per bar. */
void chv_svg_score_chart(FILE *out, const chv_svg_bar *bars, size_t n, const char *aria_label);

/* Draws signed bars around zero on a symmetric scale that fits every
 * interval; green when positive_is_good matches the sign, red otherwise.
 * positive_is_good[i] is per bar. */
void chv_svg_delta_chart(FILE *out, const chv_svg_bar *bars, const int *positive_is_good,
                         size_t n, const char *aria_label);

#endif
