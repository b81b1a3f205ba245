/* Tests for src/report/stats: McNemar's exact test, the binomial tail,
 * stderrs, lm-eval's pooled stderr, the seeded bootstrap and Holm.
 *
 * Expected values were computed once with Python's math.comb and a
 * Python transcription of splitmix64; only the numbers are kept here. */
#include <check.h>
#include <math.h>

#include "report/stats.h"

#define ck_assert_close(x, y, tol) ck_assert_msg(fabs((x) - (y)) <= (tol), "%.17g != %.17g", (double)(x), (double)(y))

START_TEST(mcnemar_matches_exact_binomial) {
    struct {
        long b, c;
        double p;
    } cases[] = {
        {3, 12, 0.03515625},
        {12, 3, 0.03515625},
        {0, 5, 0.0625},
        {10, 10, 1.0},
        {40, 60, 0.05688793364098079},
        {120, 80, 0.0056851559967503055},
        {1, 0, 1.0},
        {0, 0, 1.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double p = chv_mcnemar_exact(cases[i].b, cases[i].c);
        ck_assert_msg(fabs(p - cases[i].p) <= 1e-12 * (1.0 + cases[i].p),
                      "b=%ld c=%ld: %.17g, expected %.17g", cases[i].b, cases[i].c, p, cases[i].p);
    }
}
END_TEST

START_TEST(binomial_half_cdf_values) {
    ck_assert_close(chv_binomial_half_cdf(7, 20), 0.13158798217773438, 1e-13);
    ck_assert_close(chv_binomial_half_cdf(-1, 20), 0.0, 0.0);
    ck_assert_close(chv_binomial_half_cdf(20, 20), 1.0, 0.0);
    ck_assert_close(chv_binomial_half_cdf(0, 1), 0.5, 1e-15);
}
END_TEST

START_TEST(mcnemar_large_counts_stay_finite) {
    /* 20000 discordant pairs: terms underflow individually but the sum
     * must remain a probability. */
    double p = chv_mcnemar_exact(10000, 10000);
    ck_assert(p > 0.99 && p <= 1.0);
    double q = chv_mcnemar_exact(9000, 11000);
    ck_assert(q >= 0.0 && q < 1e-40);
}
END_TEST

START_TEST(stderr_of_binary_outcomes) {
    double x[] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 1};
    ck_assert_close(chv_mean(x, 10), 0.6, 1e-15);
    /* sqrt(p(1-p)/(n-1)) = sqrt(0.24/9) */
    ck_assert_close(chv_stderr_of_mean(x, 10), 0.1632993161855452, 1e-15);
    ck_assert(isnan(chv_stderr_of_mean(x, 1)));
    ck_assert(isnan(chv_mean(x, 0)));
}
END_TEST

START_TEST(pooled_stderr_matches_lm_eval) {
    double n2[] = {1000, 1000}, se2[] = {0.0155, 0.02};
    ck_assert_close(chv_pooled_stderr(n2, se2, 2), 0.012651580928879996, 1e-15);
    double n3[] = {500, 1000, 250}, se3[] = {0.02, 0.015, 0.03};
    ck_assert_close(chv_pooled_stderr(n3, se3, 3), 0.011157551886580021, 1e-15);
    ck_assert(isnan(chv_pooled_stderr(n3, se3, 0)));
}
END_TEST

START_TEST(splitmix64_reference_outputs) {
    /* The first outputs for seed 0 in Vigna's reference splitmix64.c. */
    chv_splitmix64 rng = {0};
    ck_assert_uint_eq(chv_splitmix64_next(&rng), 0xe220a8397b1dcdafULL);
    ck_assert_uint_eq(chv_splitmix64_next(&rng), 0x6e789e6aa1b965f4ULL);
    ck_assert_uint_eq(chv_splitmix64_next(&rng), 0x06c45d188009454fULL);
}
END_TEST

START_TEST(bootstrap_fixed_seed_fixed_output) {
    double d[] = {1, 0, 0, -1, 1, 1, 0, 1, 0, 0, 1, -1, 0, 1, 0, 0, 1, 0, 0, 1};
    const double *strata[] = {d};
    size_t n[] = {20};
    chv_bootstrap_result a, b;
    ck_assert_int_eq(chv_paired_bootstrap(strata, n, 1, 1000, 42, &a), 0);
    ck_assert_close(a.low, 0.0, 1e-12);
    ck_assert_close(a.high, 0.55, 1e-12);
    ck_assert_close(a.se, 0.14559518521557652, 1e-12);
    ck_assert_close(a.p_value, 0.066, 1e-12);

    ck_assert_int_eq(chv_paired_bootstrap(strata, n, 1, 1000, 42, &b), 0);
    ck_assert(a.low == b.low && a.high == b.high && a.se == b.se && a.p_value == b.p_value);

    ck_assert_int_eq(chv_paired_bootstrap(strata, n, 1, 1000, 43, &b), 0);
    ck_assert(a.se != b.se);
}
END_TEST

START_TEST(bootstrap_rejects_empty_stratum) {
    double d[] = {1};
    const double *strata[] = {d, d};
    size_t n[] = {1, 0};
    chv_bootstrap_result r;
    ck_assert_int_eq(chv_paired_bootstrap(strata, n, 2, 100, 1, &r), -1);
}
END_TEST

START_TEST(corpus_bootstrap_identical_runs) {
    double lp[] = {-100, -200, -150}, units[] = {50, 90, 70};
    chv_bootstrap_result r;
    ck_assert_int_eq(chv_paired_bootstrap_corpus(lp, lp, units, 3, CHV_CORPUS_BITS_PER_UNIT,
                                                 500, 7, &r), 0);
    ck_assert_close(r.low, 0.0, 0.0);
    ck_assert_close(r.high, 0.0, 0.0);
    ck_assert_close(r.p_value, 1.0, 0.0);
    /* bits per byte = 450 / ln 2 / 210 */
    ck_assert_close(chv_corpus_statistic(lp, units, 3, CHV_CORPUS_BITS_PER_UNIT),
                    450.0 / log(2.0) / 210.0, 1e-12);
    ck_assert_close(chv_corpus_statistic(lp, units, 3, CHV_CORPUS_PERPLEXITY),
                    exp(450.0 / 210.0), 1e-9);
}
END_TEST

START_TEST(corpus_bootstrap_better_candidate) {
    double base[] = {-100, -200, -150, -120}, cand[] = {-90, -185, -140, -110};
    double units[] = {50, 90, 70, 60};
    chv_bootstrap_result r;
    ck_assert_int_eq(chv_paired_bootstrap_corpus(base, cand, units, 4, CHV_CORPUS_BITS_PER_UNIT,
                                                 1000, 7, &r), 0);
    /* Every page improves, so every resample has a negative difference. */
    ck_assert(r.high < 0.0);
    ck_assert_close(r.p_value, 1.0 / 1001.0, 1e-15);
}
END_TEST

START_TEST(holm_adjusts_and_keeps_order) {
    double p[] = {0.01, 0.04, 0.03, 0.005};
    double adjusted[4];
    ck_assert_int_eq(chv_holm_adjust(p, 4, adjusted), 0);
    ck_assert_close(adjusted[3], 0.02, 1e-15);
    ck_assert_close(adjusted[0], 0.03, 1e-15);
    ck_assert_close(adjusted[2], 0.06, 1e-15);
    /* 0.04 * 1 = 0.04 is raised to the running maximum 0.06. */
    ck_assert_close(adjusted[1], 0.06, 1e-15);
}
END_TEST

START_TEST(holm_skips_nan_and_caps) {
    double p[] = {0.5, NAN, 0.2};
    double adjusted[3];
    ck_assert_int_eq(chv_holm_adjust(p, 3, adjusted), 0);
    ck_assert(isnan(adjusted[1]));
    ck_assert_close(adjusted[2], 0.4, 1e-15);
    ck_assert_close(adjusted[0], 0.5, 1e-15);

    double q[] = {0.6, 0.7};
    ck_assert_int_eq(chv_holm_adjust(q, 2, adjusted), 0);
    ck_assert_close(adjusted[0], 1.0, 0.0);
    ck_assert_close(adjusted[1], 1.0, 0.0);
}
END_TEST

START_TEST(normal_two_sided_p_values) {
    ck_assert_close(chv_normal_two_sided_p(0.0), 1.0, 1e-15);
    ck_assert_close(chv_normal_two_sided_p(1.959963984540054), 0.05, 1e-12);
    ck_assert_close(chv_normal_two_sided_p(-1.959963984540054), 0.05, 1e-12);
}
END_TEST

static Suite *stats_suite(void) {
    Suite *s = suite_create("report_stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mcnemar_matches_exact_binomial);
    tcase_add_test(tc, binomial_half_cdf_values);
    tcase_add_test(tc, mcnemar_large_counts_stay_finite);
    tcase_add_test(tc, stderr_of_binary_outcomes);
    tcase_add_test(tc, pooled_stderr_matches_lm_eval);
    tcase_add_test(tc, splitmix64_reference_outputs);
    tcase_add_test(tc, bootstrap_fixed_seed_fixed_output);
    tcase_add_test(tc, bootstrap_rejects_empty_stratum);
    tcase_add_test(tc, corpus_bootstrap_identical_runs);
    tcase_add_test(tc, corpus_bootstrap_better_candidate);
    tcase_add_test(tc, holm_adjusts_and_keeps_order);
    tcase_add_test(tc, holm_skips_nan_and_caps);
    tcase_add_test(tc, normal_two_sided_p_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *runner = srunner_create(stats_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
