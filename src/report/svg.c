#include "report/svg.h"

#include <math.h>
#include <string.h>

#include "report/format.h"
#include "util/utf8.h"

enum { ROW_HEIGHT = 22, BAR_HEIGHT = 14, TOP = 24, PLOT_WIDTH = 480, VALUE_WIDTH = 110 };

/* Label column width from the longest label, at about 7.5 px per
 * character of 12 px text (wide capitals included), at least 120 px so
 * that charts line up, and capped so long BLiMP names do not squeeze the
 * plot. */
static int label_width(const chv_svg_bar *bars, size_t n) {
    size_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = chv_utf8_codepoints(bars[i].label, strlen(bars[i].label));
        if (len > longest)
            longest = len;
    }
    int width = (int)((double)longest * 7.5) + 16;
    if (width < 120)
        return 120;
    return width > 380 ? 380 : width;
}

/* Returns the smallest step of the form {1, 2, 2.5, 5} * 10^k with
 * 2 * step >= extent, so ticks at -2..2 steps cover [-extent, extent]. */
static double nice_step(double extent) {
    double half = extent / 2.0;
    double power = pow(10.0, floor(log10(half)));
    static const double factors[] = {1.0, 2.0, 2.5, 5.0, 10.0};
    for (size_t i = 0; i < sizeof factors / sizeof factors[0]; i++)
        if (factors[i] * power >= half)
            return factors[i] * power;
    return 10.0 * power;
}

static double clamp(double x, double lo, double hi) {
    if (x < lo)
        return lo;
    return x > hi ? hi : x;
}

static void open_svg(FILE *out, int width, int height, const char *aria_label) {
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" "
                 "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            width, height, width, height);
    chv_html_text(out, aria_label);
    fprintf(out, "\">\n");
}

static void write_label(FILE *out, int x, int y, const char *label) {
    fprintf(out, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", x, y);
    chv_html_text(out, label);
    fprintf(out, "<title>");
    chv_html_text(out, label);
    fprintf(out, "</title></text>\n");
}

static void write_error_bar(FILE *out, double x_low, double x_high, int y_mid) {
    fprintf(out, "<line class=\"err\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x_low,
            y_mid, x_high, y_mid);
    fprintf(out, "<line class=\"err\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x_low,
            y_mid - 4, x_low, y_mid + 4);
    fprintf(out, "<line class=\"err\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", x_high,
            y_mid - 4, x_high, y_mid + 4);
}

void chv_svg_score_chart(FILE *out, const chv_svg_bar *bars, size_t n, const char *aria_label) {
    int x0 = label_width(bars, n);
    int width = x0 + PLOT_WIDTH + VALUE_WIDTH;
    int height = TOP + (int)n * ROW_HEIGHT + 8;
    open_svg(out, width, height, aria_label);

    /* Grid at 0, 0.25, ..., 1 with labels above the plot. */
    for (int i = 0; i <= 4; i++) {
        double x = x0 + PLOT_WIDTH * i / 4.0;
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                     "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2f</text>\n",
                x, TOP - 4, x, height - 8, x, TOP - 10, i / 4.0);
    }

    for (size_t i = 0; i < n; i++) {
        const chv_svg_bar *bar = &bars[i];
        int y = TOP + (int)i * ROW_HEIGHT;
        int y_mid = y + ROW_HEIGHT / 2;
        write_label(out, x0 - 8, y_mid + 4, bar->label);

        if (!isnan(bar->value)) {
            double w = PLOT_WIDTH * clamp(bar->value, 0.0, 1.0);
            fprintf(out, "<rect class=\"bar%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
                         "<title>%.4f</title></rect>\n",
                    bar->muted ? " muted" : "", x0, y + (ROW_HEIGHT - BAR_HEIGHT) / 2, w,
                    BAR_HEIGHT, bar->value);
        }
        if (!isnan(bar->value) && !isnan(bar->half_ci)) {
            double lo = clamp(bar->value - bar->half_ci, 0.0, 1.0);
            double hi = clamp(bar->value + bar->half_ci, 0.0, 1.0);
            write_error_bar(out, x0 + PLOT_WIDTH * lo, x0 + PLOT_WIDTH * hi, y_mid);
        }
        if (!isnan(bar->chance)) {
            double x = x0 + PLOT_WIDTH * clamp(bar->chance, 0.0, 1.0);
            fprintf(out, "<line class=\"chance\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\">"
                         "<title>chance %.4f</title></line>\n",
                    x, y + 1, x, y + ROW_HEIGHT - 1, bar->chance);
        }
        char value[32];
        fprintf(out, "<text class=\"value\" x=\"%d\" y=\"%d\">%s</text>\n", x0 + PLOT_WIDTH + 8,
                y_mid + 4, chv_fmt4(value, sizeof value, bar->value));
    }
    fprintf(out, "</svg>\n");
}

void chv_svg_delta_chart(FILE *out, const chv_svg_bar *bars, const int *positive_is_good,
                         size_t n, const char *aria_label) {
    /* The scale is symmetric around 0 and covers every interval. */
    double extent = 0.0;
    for (size_t i = 0; i < n; i++) {
        double candidates[] = {bars[i].value, bars[i].low, bars[i].high};
        for (int k = 0; k < 3; k++)
            if (!isnan(candidates[k]) && fabs(candidates[k]) > extent)
                extent = fabs(candidates[k]);
    }
    if (extent == 0.0)
        extent = 0.01;
    double step = nice_step(extent * 1.05);
    extent = 2.0 * step;

    int x0 = label_width(bars, n);
    int width = x0 + PLOT_WIDTH + VALUE_WIDTH;
    int height = TOP + (int)n * ROW_HEIGHT + 8;
    double zero = x0 + PLOT_WIDTH / 2.0;
    double scale = (PLOT_WIDTH / 2.0) / extent;
    open_svg(out, width, height, aria_label);

    for (int i = -2; i <= 2; i++) {
        double x = zero + PLOT_WIDTH / 4.0 * i;
        char tick[32];
        if (i == 0)
            snprintf(tick, sizeof tick, "0");
        else
            snprintf(tick, sizeof tick, "%+.4g", step * i);
        fprintf(out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                     "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                i == 0 ? "axis" : "grid", x, TOP - 4, x, height - 8, x, TOP - 10, tick);
    }

    for (size_t i = 0; i < n; i++) {
        const chv_svg_bar *bar = &bars[i];
        int y = TOP + (int)i * ROW_HEIGHT;
        int y_mid = y + ROW_HEIGHT / 2;
        write_label(out, x0 - 8, y_mid + 4, bar->label);

        if (!isnan(bar->value)) {
            double x_end = zero + scale * bar->value;
            double left = x_end < zero ? x_end : zero;
            int good = (bar->value >= 0) == (positive_is_good[i] != 0);
            fprintf(out, "<rect class=\"bar %s%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                         "height=\"%d\"><title>%+.4f</title></rect>\n",
                    good ? "up" : "down", bar->muted ? " muted" : "", left,
                    y + (ROW_HEIGHT - BAR_HEIGHT) / 2, fabs(x_end - zero), BAR_HEIGHT, bar->value);
        }
        if (!isnan(bar->low) && !isnan(bar->high))
            write_error_bar(out, zero + scale * bar->low, zero + scale * bar->high, y_mid);

        char value[32];
        fprintf(out, "<text class=\"value\" x=\"%d\" y=\"%d\">%s</text>\n", x0 + PLOT_WIDTH + 8,
                y_mid + 4, chv_fmt_signed4(value, sizeof value, bar->value));
    }
    fprintf(out, "</svg>\n");
}
