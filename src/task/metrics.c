#include "task/metrics.h"

#include <math.h>
#include <string.h>

#include "util/utf8.h"

size_t chv_argmax(const double *v, size_t n, int *ties) {
    size_t best = 0;
    for (size_t i = 1; i < n && !isnan(v[best]); i++) {
        /* Strictly greater keeps the first maximum, and a NaN wins as the
         * first NaN does in numpy.argmax (0 / 0 for an empty choice). */
        if (v[i] > v[best] || isnan(v[i]))
            best = i;
    }
    if (ties != NULL) {
        int count = 0;
        for (size_t i = best + 1; i < n; i++) {
            if (v[i] == v[best])
                count++;
        }
        *ties = count;
    }
    return best;
}

void chv_mc_score(const double *loglikelihoods, const char *const *choices, size_t n, int gold,
                  chv_mc_outcome *out) {
    double per_char[n > 0 ? n : 1];
    double per_byte[n > 0 ? n : 1];
    for (size_t i = 0; i < n; i++) {
        size_t bytes = strlen(choices[i]);
        size_t chars = chv_utf8_codepoints(choices[i], bytes);
        /* An empty choice divides by zero like numpy: -inf or nan, never the
         * argmax unless every choice is empty. */
        per_char[i] = loglikelihoods[i] / (double)chars;
        per_byte[i] = loglikelihoods[i] / (double)bytes;
    }

    memset(out, 0, sizeof *out);
    out->pred = (int)chv_argmax(loglikelihoods, n, &out->ties);
    out->pred_norm = (int)chv_argmax(per_char, n, NULL);
    out->pred_bytes = (int)chv_argmax(per_byte, n, NULL);
    out->acc = out->pred == gold ? 1.0 : 0.0;
    out->acc_norm = out->pred_norm == gold ? 1.0 : 0.0;
    out->acc_bytes = out->pred_bytes == gold ? 1.0 : 0.0;
}

double chv_metric_mean(const double *x, size_t n) {
    if (n == 0)
        return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double)n;
}

double chv_metric_stderr(const double *x, size_t n) {
    if (n < 2)
        return NAN;
    double mu = chv_metric_mean(x, n);
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mu) * (x[i] - mu);
    double sample_sd = sqrt(ss / (double)(n - 1));
    return sample_sd / sqrt((double)n);
}

double chv_metric_pooled_stderr(const double *stderrs, const size_t *sizes, size_t k) {
    double pooled = 0.0, total = 0.0;
    for (size_t i = 0; i < k; i++) {
        if (isnan(stderrs[i]))
            return NAN;
        double n = (double)sizes[i];
        /* n * s^2 is the subtask's sample variance; weight it by n - 1. */
        pooled += (n - 1.0) * n * stderrs[i] * stderrs[i];
        total += n;
    }
    if (total <= (double)k)
        return NAN;
    pooled /= total - (double)k;
    return sqrt(pooled / total);
}

double chv_word_perplexity(double loglikelihood, double words) { return exp(-loglikelihood / words); }

double chv_byte_perplexity(double loglikelihood, double bytes) { return exp(-loglikelihood / bytes); }

double chv_bits_per_byte(double loglikelihood, double bytes) {
    return -loglikelihood / bytes / log(2.0);
}
