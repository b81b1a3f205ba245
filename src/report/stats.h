/* Statistics for reports and checkpoint comparison.
 *
 * Every function is pure: no I/O, no global state. Standard errors follow
 * lm-evaluation-harness (sample standard deviation with n-1, over sqrt(n)).
 * The bootstrap uses splitmix64 so a given seed gives the same interval on
 * every platform.
 */
#ifndef CHEVAL_REPORT_STATS_H
#define CHEVAL_REPORT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "util/splitmix.h"

/* Returns the mean of x[0..n), or NaN when n is 0. */
double chv_mean(const double *x, size_t n);

/* Returns the standard error of the mean: the sample standard deviation
 * (divisor n-1) over sqrt(n). NaN when n < 2. For 0/1 outcomes this is
 * sqrt(p(1-p)/(n-1)), lm-eval's stderr for acc. */
double chv_stderr_of_mean(const double *x, size_t n);

/* Returns lm-eval's pooled standard error of a group of k subtasks with
 * sizes n[i] and standard errors se[i]: each variance is rebuilt as
 * n_i*se_i^2, the variances are pooled with (n_i-1) weights over
 * (sum n - k), and the result is divided by sum n before the square root.
 * NaN when k is 0 or sum n <= k. */
double chv_pooled_stderr(const double *n, const double *se, size_t k);

/* Returns the two-sided exact McNemar p-value for b and c discordant pairs
 * (b: only the base run was right, c: only the candidate was right):
 * min(1, 2 * P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2). 1.0 when
 * b + c is 0. */
double chv_mcnemar_exact(long b, long c);

/* Returns P(X <= k) for X ~ Binomial(n, 1/2), summed in log space. */
double chv_binomial_half_cdf(long k, long n);

/* Returns the two-sided p-value of a standard normal z statistic. */
double chv_normal_two_sided_p(double z);

/* A paired bootstrap over strata. Stratum s contains n[s] paired differences
 * diff[s][0..n[s]). Each resample draws n[s] items with replacement inside
 * every stratum and records the mean over strata of the stratum means (one
 * stratum gives the plain mean difference). */
typedef struct chv_bootstrap_result {
    double low;    /* 2.5th percentile of the resampled statistic */
    double high;   /* 97.5th percentile */
    double se;     /* standard deviation of the resampled statistic */
    double p_value; /* two-sided: 2 * min(share <= 0, share >= 0), at least 1/(B+1) */
} chv_bootstrap_result;

/* Runs `resamples` resamples with a splitmix64 stream seeded with seed.
 * Returns 0, or -1 when memory runs out or a stratum is empty. */
int chv_paired_bootstrap(const double *const *diff, const size_t *n, size_t strata,
                         size_t resamples, uint64_t seed, chv_bootstrap_result *out);

/* The corpus statistic for perplexity: each page i has the log-likelihood
 * (natural log) of the base run base_lp[i] and of the candidate cand_lp[i],
 * and a unit count units[i] (bytes or words). The statistic is
 * cand - base of either bits per unit (-sum lp / ln 2 / sum units, kind 0)
 * or perplexity per unit (exp(-sum lp / sum units), kind 1). */
enum { CHV_CORPUS_BITS_PER_UNIT = 0, CHV_CORPUS_PERPLEXITY = 1 };

double chv_corpus_statistic(const double *lp, const double *units, size_t n, int kind);

/* Paired bootstrap of the corpus statistic difference over pages. */
int chv_paired_bootstrap_corpus(const double *base_lp, const double *cand_lp,
                                const double *units, size_t n, int kind, size_t resamples,
                                uint64_t seed, chv_bootstrap_result *out);

/* Holm's step-down correction: fills adjusted[i] with the adjusted p-value
 * of p[i] (monotone, capped at 1). NaN entries are left NaN and do not
 * count towards the number of tests. Returns -1 when memory runs out. */
int chv_holm_adjust(const double *p, size_t n, double *adjusted);

#endif
