#include "report/stats.h"

#include <math.h>
#include <stdlib.h>

double chv_mean(const double *x, size_t n) {
    if (n == 0)
        return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double)n;
}

double chv_stderr_of_mean(const double *x, size_t n) {
    if (n < 2)
        return NAN;
    double mean = chv_mean(x, n);
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    double variance = ss / (double)(n - 1);
    return sqrt(variance / (double)n);
}

double chv_pooled_stderr(const double *n, const double *se, size_t k) {
    if (k == 0)
        return NAN;

    double total = 0.0, pooled = 0.0;
    for (size_t i = 0; i < k; i++) {
        double variance = n[i] * se[i] * se[i]; /* se^2 = var/n */
        pooled += (n[i] - 1.0) * variance;
        total += n[i];
    }
    if (total <= (double)k)
        return NAN;

    pooled /= total - (double)k;
    return sqrt(pooled / total);
}

double chv_binomial_half_cdf(long k, long n) {
    if (k < 0)
        return 0.0;
    if (k >= n)
        return 1.0;

    /* Sum C(n,i) / 2^n for i = 0..k, each term from lgamma, so that n in
     * the tens of thousands neither overflows nor underflows early. */
    double log_half_n = (double)n * log(0.5);
    double sum = 0.0;
    for (long i = 0; i <= k; i++) {
        double log_comb = lgamma((double)n + 1.0) - lgamma((double)i + 1.0) -
                          lgamma((double)(n - i) + 1.0);
        sum += exp(log_comb + log_half_n);
    }
    return sum > 1.0 ? 1.0 : sum;
}

double chv_mcnemar_exact(long b, long c) {
    long n = b + c;
    if (n == 0)
        return 1.0;
    long k = b < c ? b : c;
    double p = 2.0 * chv_binomial_half_cdf(k, n);
    return p > 1.0 ? 1.0 : p;
}

double chv_normal_two_sided_p(double z) { return erfc(fabs(z) / sqrt(2.0)); }

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills out from the sorted resampled statistics. The percentiles use the
 * nearest rank below: index floor(q * (B - 1)). */
static void summarize_resamples(double *stats, size_t resamples, chv_bootstrap_result *out) {
    double mean = chv_mean(stats, resamples);
    double ss = 0.0;
    size_t at_or_below_zero = 0, at_or_above_zero = 0;
    for (size_t r = 0; r < resamples; r++) {
        ss += (stats[r] - mean) * (stats[r] - mean);
        at_or_below_zero += stats[r] <= 0.0;
        at_or_above_zero += stats[r] >= 0.0;
    }
    out->se = resamples > 1 ? sqrt(ss / (double)(resamples - 1)) : NAN;

    qsort(stats, resamples, sizeof stats[0], compare_doubles);
    out->low = stats[(size_t)(0.025 * (double)(resamples - 1))];
    out->high = stats[(size_t)(0.975 * (double)(resamples - 1))];

    size_t tail = at_or_below_zero < at_or_above_zero ? at_or_below_zero : at_or_above_zero;
    double p = 2.0 * (double)tail / (double)resamples;
    double floor_p = 1.0 / (double)(resamples + 1);
    out->p_value = p < floor_p ? floor_p : (p > 1.0 ? 1.0 : p);
}

int chv_paired_bootstrap(const double *const *diff, const size_t *n, size_t strata,
                         size_t resamples, uint64_t seed, chv_bootstrap_result *out) {
    if (strata == 0 || resamples == 0)
        return -1;
    for (size_t s = 0; s < strata; s++)
        if (n[s] == 0)
            return -1;

    double *stats = malloc(resamples * sizeof *stats);
    if (stats == NULL)
        return -1;

    chv_splitmix64 rng = {seed};
    for (size_t r = 0; r < resamples; r++) {
        double mean_of_means = 0.0;
        for (size_t s = 0; s < strata; s++) {
            double sum = 0.0;
            for (size_t i = 0; i < n[s]; i++)
                sum += diff[s][chv_splitmix64_below(&rng, n[s])];
            mean_of_means += sum / (double)n[s];
        }
        stats[r] = mean_of_means / (double)strata;
    }

    summarize_resamples(stats, resamples, out);
    free(stats);
    return 0;
}

double chv_corpus_statistic(const double *lp, const double *units, size_t n, int kind) {
    double lp_sum = 0.0, unit_sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        lp_sum += lp[i];
        unit_sum += units[i];
    }
    if (unit_sum <= 0.0)
        return NAN;
    if (kind == CHV_CORPUS_PERPLEXITY)
        return exp(-lp_sum / unit_sum);
    return -lp_sum / log(2.0) / unit_sum;
}

int chv_paired_bootstrap_corpus(const double *base_lp, const double *cand_lp,
                                const double *units, size_t n, int kind, size_t resamples,
                                uint64_t seed, chv_bootstrap_result *out) {
    if (n == 0 || resamples == 0)
        return -1;

    double *stats = malloc(resamples * sizeof *stats);
    if (stats == NULL)
        return -1;

    chv_splitmix64 rng = {seed};
    for (size_t r = 0; r < resamples; r++) {
        double base_sum = 0.0, cand_sum = 0.0, unit_sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            size_t page = chv_splitmix64_below(&rng, n);
            base_sum += base_lp[page];
            cand_sum += cand_lp[page];
            unit_sum += units[page];
        }
        if (kind == CHV_CORPUS_PERPLEXITY)
            stats[r] = exp(-cand_sum / unit_sum) - exp(-base_sum / unit_sum);
        else
            stats[r] = (base_sum - cand_sum) / log(2.0) / unit_sum;
    }

    summarize_resamples(stats, resamples, out);
    free(stats);
    return 0;
}

typedef struct ranked_p {
    double p;
    size_t index;
} ranked_p;

static int compare_ranked(const void *a, const void *b) {
    const ranked_p *x = a, *y = b;
    if (x->p != y->p)
        return (x->p > y->p) - (x->p < y->p);
    return (x->index > y->index) - (x->index < y->index);
}

int chv_holm_adjust(const double *p, size_t n, double *adjusted) {
    ranked_p *ranked = malloc((n ? n : 1) * sizeof *ranked);
    if (ranked == NULL)
        return -1;

    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        adjusted[i] = NAN;
        if (!isnan(p[i]))
            ranked[m++] = (ranked_p){p[i], i};
    }
    qsort(ranked, m, sizeof ranked[0], compare_ranked);

    /* The k-th smallest p (0-based) is multiplied by (m - k); a running
     * maximum keeps the adjusted values monotone in the ranking. */
    double running = 0.0;
    for (size_t k = 0; k < m; k++) {
        double value = ranked[k].p * (double)(m - k);
        if (value > 1.0)
            value = 1.0;
        if (value < running)
            value = running;
        running = value;
        adjusted[ranked[k].index] = value;
    }

    free(ranked);
    return 0;
}
