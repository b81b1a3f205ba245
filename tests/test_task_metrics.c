/* Tests for the metrics, their standard errors and document selection,
 * against values computed by hand. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "report/stats.h"
#include "task/metrics.h"
#include "task/selection.h"

START_TEST(argmax_first_of_ties) {
    double v[] = {-3.0, -1.0, -2.0, -1.0, -1.0};
    int ties = -1;
    ck_assert_uint_eq(chv_argmax(v, 5, &ties), 1);
    ck_assert_int_eq(ties, 2);
    double with_nan[] = {-1.0, NAN, -0.5, NAN};
    ck_assert_uint_eq(chv_argmax(with_nan, 4, NULL), 1);
    double w[] = {-1.0, -2.0};
    ck_assert_uint_eq(chv_argmax(w, 2, &ties), 0);
    ck_assert_int_eq(ties, 0);
}
END_TEST

START_TEST(acc_norm_counts_code_points) {
    /* "é" is 1 code point and 2 bytes. lls -2 over "éé" (2 chars, 4 bytes) and
     * -2.5 over "abc" (3 chars, 3 bytes):
     *   acc:      -2 > -2.5                  -> 0
     *   acc_norm: -1 < -0.8333               -> 1
     *   acc_bytes: -0.5 > -0.8333            -> 0 */
    double lls[] = {-2.0, -2.5};
    const char *choices[] = {"\xC3\xA9\xC3\xA9", "abc"};
    chv_mc_outcome out;
    chv_mc_score(lls, choices, 2, 1, &out);
    ck_assert_int_eq(out.pred, 0);
    ck_assert_int_eq(out.pred_norm, 1);
    ck_assert_int_eq(out.pred_bytes, 0);
    ck_assert_double_eq(out.acc, 0.0);
    ck_assert_double_eq(out.acc_norm, 1.0);
    ck_assert_double_eq(out.acc_bytes, 0.0);
    ck_assert_int_eq(out.ties, 0);
}
END_TEST

START_TEST(mean_stderr_formula) {
    /* 3 of 4 correct: p = 0.75, sqrt(p(1-p)/(n-1)) = sqrt(0.1875/3) = 0.25 */
    double x[] = {1, 1, 0, 1};
    ck_assert_double_eq_tol(chv_mean(x, 4), 0.75, 1e-15);
    ck_assert_double_eq_tol(chv_stderr_of_mean(x, 4), 0.25, 1e-15);
    /* Non-binary values: mean 2, sample sd 1, stderr 1/sqrt(3). */
    double y[] = {1, 2, 3};
    ck_assert_double_eq_tol(chv_stderr_of_mean(y, 3), 1.0 / sqrt(3.0), 1e-15);
    ck_assert(isnan(chv_stderr_of_mean(y, 1)));
}
END_TEST

START_TEST(pooled_stderr_formula) {
    /* Two subtasks: n = 4 and 9, s = 0.25 and 0.1.
     * numerator (n-1) n s^2: 3*4*0.0625 + 8*9*0.01 = 0.75 + 0.72 = 1.47
     * pooled variance 1.47 / (13 - 2) = 0.133636..., over 13, sqrt */
    double s[] = {0.25, 0.1};
    double n[] = {4, 9};
    double expected = sqrt(1.47 / 11.0 / 13.0);
    ck_assert_double_eq_tol(chv_pooled_stderr(n, s, 2), expected, 1e-15);

    double with_na[] = {0.25, NAN};
    ck_assert(isnan(chv_pooled_stderr(n, with_na, 2)));
}
END_TEST

START_TEST(perplexity_formulas) {
    /* ll = -100 nats over 50 words and 200 bytes. */
    ck_assert_double_eq_tol(chv_word_perplexity(-100.0, 50.0), exp(2.0), 1e-12);
    ck_assert_double_eq_tol(chv_byte_perplexity(-100.0, 200.0), exp(0.5), 1e-12);
    ck_assert_double_eq_tol(chv_bits_per_byte(-100.0, 200.0), 0.5 / log(2.0), 1e-12);
}
END_TEST

START_TEST(splitmix64_reference_values) {
    /* Outputs of the reference splitmix64 for seed 0. */
    chv_splitmix64 rng = {0};
    ck_assert_uint_eq(chv_splitmix64_next(&rng), 0xE220A8397B1DCDAFULL);
    ck_assert_uint_eq(chv_splitmix64_next(&rng), 0x6E789E6AA1B965F4ULL);
    ck_assert_uint_eq(chv_splitmix64_next(&rng), 0x06C45D188009454FULL);
}
END_TEST

START_TEST(selection_rules) {
    size_t *ids = NULL, n = 0;
    chv_selection_rule all = {0};
    ck_assert_int_eq(chv_select_documents(5, &all, &ids, &n), 0);
    ck_assert_uint_eq(n, 5);
    free(ids);

    chv_selection_rule first = {.limit = 3};
    ck_assert_int_eq(chv_select_documents(5, &first, &ids, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(ids[2], 2);
    free(ids);

    chv_selection_rule sample = {.sample = 10, .seed = 42};
    size_t *again = NULL, n_again = 0;
    ck_assert_int_eq(chv_select_documents(1000, &sample, &ids, &n), 0);
    ck_assert_int_eq(chv_select_documents(1000, &sample, &again, &n_again), 0);
    ck_assert_uint_eq(n, 10);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(ids[i], again[i]);
        ck_assert_uint_lt(ids[i], 1000);
        if (i > 0)
            ck_assert_uint_gt(ids[i], ids[i - 1]);
    }
    free(ids);
    free(again);

    /* A sample larger than the file takes every document. */
    chv_selection_rule big = {.sample = 50, .seed = 1};
    ck_assert_int_eq(chv_select_documents(7, &big, &ids, &n), 0);
    ck_assert_uint_eq(n, 7);
    free(ids);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("task_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, argmax_first_of_ties);
    tcase_add_test(tc, acc_norm_counts_code_points);
    tcase_add_test(tc, mean_stderr_formula);
    tcase_add_test(tc, pooled_stderr_formula);
    tcase_add_test(tc, perplexity_formulas);
    tcase_add_test(tc, splitmix64_reference_values);
    tcase_add_test(tc, selection_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
