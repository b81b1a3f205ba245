/* End-to-end tests of the scorer on real checkpoints (CHEVAL_MODELS_DIR)
 * and of `cheval score`. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/scorer.h"
#include "support/testutil.h"
#include "util/fileio.h"

static const char story[] = "Once upon a time, there was a little girl named Lily. She loved to "
                            "play outside in the park.";

typedef struct loaded {
    chv_model *model;
    chv_tokenizer *tok;
    chv_scorer *scorer;
} loaded;

static int load(loaded *l, const char *name, const chv_scorer_options *options) {
    const char *models = test_models_dir(name);
    if (models == NULL)
        return 0;
    char *dir = chv_path_join(models, name);
    chv_error err;
    l->model = chv_model_load(dir, &err);
    ck_assert_msg(l->model != NULL, "%s", err.message);
    l->tok = chv_tokenizer_load(dir, &err);
    ck_assert_msg(l->tok != NULL, "%s", err.message);
    l->scorer = chv_scorer_new(l->model, l->tok, options, &err);
    ck_assert_msg(l->scorer != NULL, "%s", err.message);
    free(dir);
    return 1;
}

static void unload(loaded *l) {
    chv_scorer_free(l->scorer);
    chv_tokenizer_free(l->tok);
    chv_model_free(l->model);
}

static void score(loaded *l, const chv_ll_request *requests, size_t n, chv_ll_result *results) {
    chv_error err;
    int rc = chv_scorer_loglikelihood(l->scorer, requests, n, results, NULL, NULL, &err);
    ck_assert_msg(rc == 0, "%s", err.message);
}

/* The known greedy sample of stories260K, scored after an empty context,
 * is greedy; the same sentence with one word changed is not. */
START_TEST(stories_greedy_sentence) {
    loaded l;
    if (!load(&l, "stories260K-hf", NULL))
        return;

    chv_ll_request requests[2] = {
        {"", story},
        {"", "Once upon a time, there was a little girl named Lily. She loved to play outside "
             "in the garden."},
    };
    chv_ll_result results[2];
    score(&l, requests, 2, results);

    ck_assert_int_eq(results[0].is_greedy, 1);
    ck_assert_int_eq(results[1].is_greedy, 0);
    ck_assert(results[0].logprob < 0.0);
    ck_assert(results[0].logprob > results[1].logprob);
    /* The empty context is [BOS]. */
    ck_assert_uint_eq(results[0].n_context_tokens, 1);
    ck_assert_int_eq(results[0].context_tokens[0], 1);

    for (int i = 0; i < 2; i++)
        chv_ll_result_free(&results[i]);
    unload(&l);
}
END_TEST

/* Scoring requests one by one or all together (with shared prefixes)
 * gives the same numbers. */
START_TEST(stories_packing_invariant) {
    loaded l;
    if (!load(&l, "stories260K-hf", NULL))
        return;

    chv_ll_request requests[6] = {
        {"Once upon a time, there was a little girl named Lily.", " She loved to play."},
        {"Once upon a time, there was a little girl named Lily.", " She had a red ball."},
        {"Once upon a time, there was a little girl named Lily.", " The dog barked."},
        {"Tom and Sue went to the park. ", "They played on the swings."},
        {"Tom and Sue went to the park. ", "It rained."},
        {"", "The end."},
    };
    chv_ll_result together[6], alone[6];
    score(&l, requests, 6, together);
    for (int i = 0; i < 6; i++)
        score(&l, &requests[i], 1, &alone[i]);

    for (int i = 0; i < 6; i++) {
        double delta = fabs(together[i].logprob - alone[i].logprob);
        ck_assert_msg(delta <= 1e-6 * fabs(alone[i].logprob) + 1e-9,
                      "request %d: packed %.9f vs alone %.9f", i, together[i].logprob,
                      alone[i].logprob);
        ck_assert_int_eq(together[i].is_greedy, alone[i].is_greedy);
        chv_ll_result_free(&together[i]);
        chv_ll_result_free(&alone[i]);
    }
    unload(&l);
}
END_TEST

/* The context's trailing space moves to the continuation, as in lm-eval. */
START_TEST(stories_whitespace_moves) {
    loaded l;
    if (!load(&l, "stories260K-hf", NULL))
        return;

    chv_ll_request requests[2] = {
        {"Tom and Sue went to the park. ", "They played."},
        {"Tom and Sue went to the park.", " They played."},
    };
    chv_ll_result results[2];
    score(&l, requests, 2, results);

    ck_assert_uint_eq(results[0].n_continuation_tokens, results[1].n_continuation_tokens);
    for (size_t i = 0; i < results[0].n_continuation_tokens; i++)
        ck_assert_int_eq(results[0].continuation_tokens[i], results[1].continuation_tokens[i]);
    ck_assert(fabs(results[0].logprob - results[1].logprob) < 1e-9);

    chv_ll_result_free(&results[0]);
    chv_ll_result_free(&results[1]);
    unload(&l);
}
END_TEST

/* With one window, the rolling log-likelihood of a text equals the
 * log-likelihood of the text after an empty context; with short windows
 * every token is still scored once. */
START_TEST(stories_rolling_matches_loglikelihood) {
    loaded l;
    if (!load(&l, "stories260K-hf", NULL))
        return;

    const char *texts[1] = {story};
    chv_rolling_result rolling;
    chv_error err;
    ck_assert_msg(chv_scorer_rolling(l.scorer, texts, 1, &rolling, NULL, NULL, &err) == 0, "%s",
                  err.message);

    chv_ll_request request = {"", story};
    chv_ll_result result;
    score(&l, &request, 1, &result);

    ck_assert_uint_eq(rolling.n_windows, 1);
    ck_assert_uint_eq(rolling.n_tokens, result.n_continuation_tokens);
    ck_assert_msg(fabs(rolling.logprob - result.logprob) < 1e-6, "rolling %.9f vs %.9f",
                  rolling.logprob, result.logprob);
    size_t n_story_tokens = result.n_continuation_tokens;
    chv_ll_result_free(&result);
    unload(&l);

    chv_scorer_options small = {.max_length = 8};
    if (!load(&l, "stories260K-hf", &small))
        return;
    ck_assert_msg(chv_scorer_rolling(l.scorer, texts, 1, &rolling, NULL, NULL, &err) == 0, "%s",
                  err.message);
    ck_assert_uint_eq(rolling.n_tokens, n_story_tokens);
    ck_assert_uint_eq(rolling.n_windows, (rolling.n_tokens + 7) / 8);
    ck_assert(rolling.logprob < 0.0);

    /* A continuation longer than the maximum length is scored in the same
     * windows as the rolling log-likelihood. */
    score(&l, &request, 1, &result);
    ck_assert_int_eq(result.long_continuation, 1);
    ck_assert_msg(fabs(rolling.logprob - result.logprob) < 1e-4, "rolling %.9f vs long %.9f",
                  rolling.logprob, result.logprob);
    chv_ll_result_free(&result);
    unload(&l);
}
END_TEST

START_TEST(llama2xs_scores) {
    loaded l;
    if (!load(&l, "llama2xs-281K-hf", NULL))
        return;
    chv_ll_request request = {"", "Once upon a time, there was a little girl named Lily."};
    chv_ll_result result;
    score(&l, &request, 1, &result);
    ck_assert_int_eq(result.is_greedy, 1);
    chv_ll_result_free(&result);
    unload(&l);
}
END_TEST

static char *model_path(const char *name) {
    const char *models = test_models_dir(name);
    return models != NULL ? chv_path_join(models, name) : NULL;
}

START_TEST(cli_score_outputs_in_order) {
    char *dir = model_path("stories260K-hf");
    if (dir == NULL)
        return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s score --model %s --threads 1", test_cheval_bin(), dir);
    test_output out;
    const char *input = "{\"context\": \"Once upon a time,\", \"continuation\": \" there was\"}\n"
                        "\n"
                        "{\"text\": \"Lily went to the park.\"}\n"
                        "{\"context\": \"\", \"continuation\": \"Once upon a time\"}\n";
    ck_assert_int_eq(test_run(cmd, input, &out), 0);
    ck_assert_msg(out.status == 0, "status %d, stderr: %s", out.status, out.err);

    char *line2 = strchr(out.out, '\n');
    ck_assert_ptr_nonnull(line2);
    ck_assert_msg(strncmp(out.out, "{\"logprob\":", 11) == 0, "stdout: %s", out.out);
    ck_assert_msg(strstr(out.out, "\"continuation_tokens\"") != NULL, "stdout: %s", out.out);
    ck_assert_msg(strstr(line2 + 1, "\"tokens\":") != NULL, "stdout: %s", out.out);
    test_output_free(&out);
    free(dir);
}
END_TEST

START_TEST(cli_score_bad_line_named) {
    char *dir = model_path("stories260K-hf");
    if (dir == NULL)
        return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s score --model %s", test_cheval_bin(), dir);
    test_output out;
    ck_assert_int_eq(test_run(cmd, "{\"text\": \"ok\"}\n{\"context\": \n", &out), 0);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "stdin:2") != NULL, "stderr: %s", out.err);
    test_output_free(&out);

    ck_assert_int_eq(test_run(cmd, "{\"prompt\": \"x\"}\n", &out), 0);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "stdin:1") != NULL, "stderr: %s", out.err);
    test_output_free(&out);
    free(dir);
}
END_TEST

START_TEST(cli_score_usage_errors) {
    char cmd[512];
    test_output out;
    snprintf(cmd, sizeof cmd, "%s score", test_cheval_bin());
    ck_assert_int_eq(test_run(cmd, "", &out), 0);
    ck_assert_int_eq(out.status, 2);
    ck_assert_msg(strstr(out.err, "--model") != NULL, "stderr: %s", out.err);
    test_output_free(&out);

    snprintf(cmd, sizeof cmd, "%s score --model x --add-bos maybe", test_cheval_bin());
    ck_assert_int_eq(test_run(cmd, "", &out), 0);
    ck_assert_int_eq(out.status, 2);
    test_output_free(&out);

    snprintf(cmd, sizeof cmd, "%s score --model /nonexistent/model", test_cheval_bin());
    ck_assert_int_eq(test_run(cmd, "", &out), 0);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "/nonexistent/model") != NULL, "stderr: %s", out.err);
    test_output_free(&out);
}
END_TEST

int main(void) {
    Suite *s = suite_create("score");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stories_greedy_sentence);
    tcase_add_test(tc, stories_packing_invariant);
    tcase_add_test(tc, stories_whitespace_moves);
    tcase_add_test(tc, stories_rolling_matches_loglikelihood);
    tcase_add_test(tc, llama2xs_scores);
    tcase_add_test(tc, cli_score_outputs_in_order);
    tcase_add_test(tc, cli_score_bad_line_named);
    tcase_add_test(tc, cli_score_usage_errors);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
