/* Per-document metrics and their aggregation, as lm-evaluation-harness
 * computes them.
 *
 * Multiple choice: acc compares argmax(loglikelihood) with the gold;
 * acc_norm divides each loglikelihood by the choice's length in Unicode
 * code points; acc_bytes by its length in UTF-8 bytes. The choice is the
 * string without the target delimiter. argmax picks the first of equal
 * scores, like numpy.argmax.
 *
 * Means carry stderr = sample standard deviation (n - 1) / sqrt(n); a group
 * carries lm-eval's pooled stderr. Perplexities are corpus-weighted and
 * have no stderr.
 */
#ifndef CHEVAL_TASK_METRICS_H
#define CHEVAL_TASK_METRICS_H

#include <stddef.h>

typedef struct chv_mc_outcome {
    int pred;       /* argmax of loglikelihoods */
    int pred_norm;  /* argmax of loglikelihood / code points */
    int pred_bytes; /* argmax of loglikelihood / bytes */
    int ties;       /* other choices whose loglikelihood equals the maximum */
    double acc;
    double acc_norm;
    double acc_bytes;
} chv_mc_outcome;

/* Returns the index of the first maximum of v[0..n) (n >= 1) and stores
 * in *ties how many later entries equal it (ties may be NULL). */
size_t chv_argmax(const double *v, size_t n, int *ties);

/* Scores one document from its n choices' loglikelihoods. */
void chv_mc_score(const double *loglikelihoods, const char *const *choices, size_t n, int gold,
                  chv_mc_outcome *out);

/* Means, their standard errors and lm-eval's pooled group stderr are in
 * report/stats.h, shared with the reports. */

/* Corpus-level perplexities from summed loglikelihood (nats), words and
 * bytes: exp(-ll / words), exp(-ll / bytes) and -ll / bytes / ln 2. */
double chv_word_perplexity(double loglikelihood, double words);
double chv_byte_perplexity(double loglikelihood, double bytes);
double chv_bits_per_byte(double loglikelihood, double bytes);

#endif
