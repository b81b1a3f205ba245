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

double chv_word_perplexity(double loglikelihood, double words) { return exp(-loglikelihood / words); }

double chv_byte_perplexity(double loglikelihood, double bytes) { return exp(-loglikelihood / bytes); }

double chv_bits_per_byte(double loglikelihood, double bytes) {
    return -loglikelihood / bytes / log(2.0);
}
