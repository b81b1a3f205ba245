/* Tests for lm-eval's truncation and rolling windows on plain tokens. */
#include <check.h>
#include <stdlib.h>

#include "score/windows.h"

static void assert_tokens(const chv_scored_seq *s, const int32_t *expected, int n, int targets) {
    ck_assert_int_eq(s->n_tokens, n);
    ck_assert_int_eq(s->n_targets, targets);
    for (int i = 0; i < n; i++)
        ck_assert_msg(s->tokens[i] == expected[i], "token %d: expected %d, got %d", i,
                      expected[i], s->tokens[i]);
}

/* The example in lm-eval's loglikelihood_rolling docstring: tokens 0..9,
 * max length 4. */
START_TEST(rolling_matches_lm_eval_example) {
    int32_t tokens[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    chv_scored_seq *w;
    size_t n;
    ck_assert_int_eq(chv_rolling_windows(tokens, 10, 100, 4, &w, &n), 0);
    ck_assert_uint_eq(n, 3);

    assert_tokens(&w[0], (int32_t[]){100, 0, 1, 2, 3}, 5, 4);
    assert_tokens(&w[1], (int32_t[]){3, 4, 5, 6, 7}, 5, 4);
    assert_tokens(&w[2], (int32_t[]){5, 6, 7, 8, 9}, 5, 2);

    for (size_t i = 0; i < n; i++)
        chv_scored_seq_free(&w[i]);
    free(w);
}
END_TEST

START_TEST(rolling_every_token_predicted_once) {
    for (int len = 1; len <= 40; len++) {
        for (int L = 1; L <= 9; L++) {
            int32_t tokens[40];
            for (int i = 0; i < len; i++)
                tokens[i] = i;
            chv_scored_seq *w;
            size_t n;
            ck_assert_int_eq(chv_rolling_windows(tokens, (size_t)len, -1, L, &w, &n), 0);

            int next = 0;
            for (size_t k = 0; k < n; k++) {
                ck_assert_int_le(w[k].n_tokens - 1, L);
                for (int j = w[k].n_tokens - w[k].n_targets; j < w[k].n_tokens; j++)
                    ck_assert_int_eq(w[k].tokens[j], next++);
                /* Later windows read a full L tokens of input. */
                if (k > 0)
                    ck_assert_int_eq(w[k].n_tokens - 1, L);
                chv_scored_seq_free(&w[k]);
            }
            ck_assert_int_eq(next, len);
            free(w);
        }
    }
}
END_TEST

START_TEST(rolling_short_document_one_window) {
    int32_t tokens[3] = {7, 8, 9};
    chv_scored_seq *w;
    size_t n;
    ck_assert_int_eq(chv_rolling_windows(tokens, 3, 1, 512, &w, &n), 0);
    ck_assert_uint_eq(n, 1);
    assert_tokens(&w[0], (int32_t[]){1, 7, 8, 9}, 4, 3);
    chv_scored_seq_free(&w[0]);
    free(w);

    ck_assert_int_eq(chv_rolling_windows(tokens, 0, 1, 512, &w, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(truncation_keeps_last_tokens) {
    int32_t ctx[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int32_t cont[2] = {11, 12};
    chv_scored_seq s;
    ck_assert_int_eq(chv_scored_seq_build(ctx, 10, cont, 2, 5, &s), 0);
    assert_tokens(&s, (int32_t[]){7, 8, 9, 10, 11, 12}, 6, 2);
    ck_assert_int_eq(s.truncated, 1);
    chv_scored_seq_free(&s);

    ck_assert_int_eq(chv_scored_seq_build(ctx, 3, cont, 2, 5, &s), 0);
    assert_tokens(&s, (int32_t[]){1, 2, 3, 11, 12}, 5, 2);
    ck_assert_int_eq(s.truncated, 0);
    chv_scored_seq_free(&s);
}
END_TEST

START_TEST(truncation_into_continuation_edge) {
    /* A continuation of exactly max_length tokens keeps one context token. */
    int32_t ctx[4] = {1, 2, 3, 4};
    int32_t cont[3] = {5, 6, 7};
    chv_scored_seq s;
    ck_assert_int_eq(chv_scored_seq_build(ctx, 4, cont, 3, 3, &s), 0);
    assert_tokens(&s, (int32_t[]){4, 5, 6, 7}, 4, 3);
    chv_scored_seq_free(&s);

    ck_assert_int_eq(chv_scored_seq_build(ctx, 4, cont, 3, 2, &s), -1);
}
END_TEST

/* A continuation longer than the maximum length is scored in chunks that
 * predict each of its tokens once, with as much left context as fits. */
START_TEST(long_continuation_windows) {
    int32_t ctx[3] = {1, 2, 3};
    int32_t cont[7] = {10, 11, 12, 13, 14, 15, 16};
    chv_scored_seq *w;
    size_t n;
    ck_assert_int_eq(chv_long_continuation_windows(ctx, 3, cont, 7, 3, &w, &n), 0);
    ck_assert_uint_eq(n, 3);

    assert_tokens(&w[0], (int32_t[]){3, 10, 11, 12}, 4, 3);
    assert_tokens(&w[1], (int32_t[]){12, 13, 14, 15}, 4, 3);
    assert_tokens(&w[2], (int32_t[]){13, 14, 15, 16}, 4, 1);
    ck_assert_int_eq(w[0].truncated, 1);

    for (size_t i = 0; i < n; i++)
        chv_scored_seq_free(&w[i]);
    free(w);
}
END_TEST

START_TEST(long_continuation_short_context) {
    int32_t ctx[1] = {1};
    int32_t cont[5] = {10, 11, 12, 13, 14};
    chv_scored_seq *w;
    size_t n;
    ck_assert_int_eq(chv_long_continuation_windows(ctx, 1, cont, 5, 4, &w, &n), 0);
    ck_assert_uint_eq(n, 2);

    assert_tokens(&w[0], (int32_t[]){1, 10, 11, 12, 13}, 5, 4);
    ck_assert_int_eq(w[0].truncated, 0);
    assert_tokens(&w[1], (int32_t[]){10, 11, 12, 13, 14}, 5, 1);

    for (size_t i = 0; i < n; i++)
        chv_scored_seq_free(&w[i]);
    free(w);
}
END_TEST

int main(void) {
    Suite *s = suite_create("score_windows");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rolling_matches_lm_eval_example);
    tcase_add_test(tc, rolling_every_token_predicted_once);
    tcase_add_test(tc, rolling_short_document_one_window);
    tcase_add_test(tc, truncation_keeps_last_tokens);
    tcase_add_test(tc, truncation_into_continuation_edge);
    tcase_add_test(tc, long_continuation_windows);
    tcase_add_test(tc, long_continuation_short_context);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
