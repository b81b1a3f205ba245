/* The vector kernels of the forward pass (src/model/vecmath.h): accuracy
 * against double-precision references, and bit-identical results from the
 * AVX2 and portable bodies. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/vecmath.h"

/* Deterministic pseudo-random floats in [lo, hi). */
static void fill(float *x, int n, float lo, float hi, unsigned seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
    }
}

START_TEST(exp_is_within_two_ulp) {
    double worst = 0.0;
    for (float x = -87.0f; x <= 88.0f; x += 0.001953125f) {
        double exact = exp((double)x);
        double rel = fabs((double)chv_expf(x) - exact) / exact;
        worst = rel > worst ? rel : worst;
    }
    printf("chv_expf max relative error = %.3g (float32 ulp = 1.19e-7)\n", worst);
    ck_assert_double_le(worst, 2.5e-7);
    ck_assert_float_eq(chv_expf(0.0f), 1.0f);
    ck_assert_float_eq(chv_expf(-100.0f), 0.0f);
    ck_assert(isfinite(chv_expf(1000.0f)));
}
END_TEST

START_TEST(sums_match_double_reference) {
    enum { N = 1003 };
    float x[N], copy[N];
    fill(x, N, -20.0f, 5.0f, 7);
    float max = chv_max(x, N);
    double exact = 0.0, exact_max = -INFINITY;
    for (int i = 0; i < N; i++)
        exact_max = x[i] > exact_max ? x[i] : exact_max;
    ck_assert_float_eq(max, (float)exact_max);
    for (int i = 0; i < N; i++)
        exact += exp((double)x[i] - max);

    double sum = chv_sum_exp(x, N, max);
    ck_assert_double_le(fabs(sum - exact) / exact, 1e-6);

    memcpy(copy, x, sizeof x);
    float fsum = chv_exp_sum(copy, N, max);
    ck_assert_double_le(fabs(fsum - exact) / exact, 1e-6);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq(copy[i], chv_expf(x[i] - max));
}
END_TEST

START_TEST(attention_products_match_reference) {
    enum { HD = 12, KEYS = 37 };
    float query[HD], keys_t[HD * KEYS], weights[KEYS], values[KEYS * HD], scores[KEYS], out[HD];
    fill(query, HD, -1.0f, 1.0f, 1);
    fill(keys_t, HD * KEYS, -1.0f, 1.0f, 2);
    fill(weights, KEYS, 0.0f, 1.0f, 3);
    fill(values, KEYS * HD, -1.0f, 1.0f, 4);

    chv_dot_keys(scores, query, keys_t, HD, KEYS, KEYS);
    for (int j = 0; j < KEYS; j++) {
        double exact = 0.0;
        for (int d = 0; d < HD; d++)
            exact += (double)query[d] * keys_t[d * KEYS + j];
        ck_assert_double_le(fabs(scores[j] - exact), 1e-5);
    }
    chv_weighted_sum(out, weights, values, KEYS, HD);
    for (int d = 0; d < HD; d++) {
        double exact = 0.0;
        for (int j = 0; j < KEYS; j++)
            exact += (double)weights[j] * values[j * HD + d];
        ck_assert_double_le(fabs(out[d] - exact), 1e-5);
    }
}
END_TEST

/* Every length from 1 to 70 covers full vectors and each tail size, for
 * the AVX2 and the AVX-512 bodies (on CPUs that lack one, the test
 * compares the portable body with itself). */
START_TEST(portable_and_vector_bodies_agree) {
    enum { N = 70, HD = 13 };
    float x[N], a[N], b[N], up[N], keys_t[HD * N], values[N * HD], query[HD];
    float out_a[HD], out_b[HD];
    fill(x, N, -30.0f, 30.0f, 11);
    fill(up, N, -2.0f, 2.0f, 12);
    fill(keys_t, HD * N, -1.0f, 1.0f, 13);
    fill(values, N * HD, -1.0f, 1.0f, 14);
    fill(query, HD, -1.0f, 1.0f, 15);

    for (int level = CHV_VEC_AVX2; level <= CHV_VEC_AVX512; level++) {
        for (int n = 1; n <= N; n++) {
            double sums[2][3];
            float exps[2][N];
            for (int portable = 0; portable <= 1; portable++) {
                chv_vec_limit(portable ? CHV_VEC_PORTABLE : level);
                memcpy(exps[portable], x, sizeof x);
                sums[portable][0] = chv_exp_sum(exps[portable], n, 3.0f);
                sums[portable][1] = chv_sum_exp(x, n, 3.0f);
                sums[portable][2] = chv_max(x, n);
            }
            chv_vec_limit(level);
            ck_assert_msg(memcmp(exps[0], exps[1], sizeof exps[0]) == 0, "level %d, n = %d: exp values differ",
                          level, n);
            ck_assert_msg(memcmp(sums[0], sums[1], sizeof sums[0]) == 0, "level %d, n = %d: sums or max differ",
                          level, n);

            for (int hd = 1; hd <= HD; hd++) {
                memset(a, 0, sizeof a);
                memset(b, 0, sizeof b);
                chv_dot_keys(a, query, keys_t, hd, N, n);
                chv_weighted_sum(out_a, x, values, n, hd);
                chv_vec_limit(CHV_VEC_PORTABLE);
                chv_dot_keys(b, query, keys_t, hd, N, n);
                chv_weighted_sum(out_b, x, values, n, hd);
                chv_vec_limit(level);
                ck_assert_msg(memcmp(a, b, sizeof a) == 0, "level %d, n = %d, head_dim %d: scores differ", level, n,
                              hd);
                ck_assert_msg(memcmp(out_a, out_b, (size_t)hd * sizeof(float)) == 0,
                              "level %d, n = %d, head_dim %d: weighted sums differ", level, n, hd);
            }

            memcpy(a, x, sizeof x);
            memcpy(b, x, sizeof x);
            chv_swiglu_values(a, up, (size_t)n);
            chv_vec_limit(CHV_VEC_PORTABLE);
            chv_swiglu_values(b, up, (size_t)n);
            chv_vec_limit(level);
            ck_assert_msg(memcmp(a, b, sizeof a) == 0, "level %d, n = %d: SwiGLU differs", level, n);
        }
    }
    chv_vec_limit(CHV_VEC_AVX512);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_vecmath");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, exp_is_within_two_ulp);
    tcase_add_test(tc, sums_match_double_reference);
    tcase_add_test(tc, attention_products_match_reference);
    tcase_add_test(tc, portable_and_vector_bodies_agree);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
