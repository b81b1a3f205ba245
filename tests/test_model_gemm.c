/* The packed matrix product (src/model/gemm.h) against a plain C
 * reference: each output must equal, bit for bit, the chain of fmaf over
 * the inputs in order, for shapes with partial tiles, partial panels and
 * several input blocks, with the AVX-512, the AVX2 and the portable
 * kernel. A kernel the CPU lacks is skipped with a message. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gemm.h"

/* Deterministic pseudo-random floats in [-1, 1). */
static void fill(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = 2.0f * (float)(seed >> 8) / 16777216.0f - 1.0f;
    }
}

static float *packed_copy(const float *w, int n_out, int n_in) {
    float *packed = aligned_alloc(64, (chv_gemm_packed_floats(n_out, n_in) * sizeof(float) + 63) / 64 * 64);
    ck_assert_ptr_nonnull(packed);
    chv_gemm_pack_rows(w, n_out, n_in, 0, n_out, packed);
    return packed;
}

static float *scratch_new(void) {
    float *scratch = aligned_alloc(64, CHV_GEMM_SCRATCH_FLOATS * sizeof(float));
    ck_assert_ptr_nonnull(scratch);
    return scratch;
}

static const int levels[] = {CHV_GEMM_AVX512, CHV_GEMM_AVX2, CHV_GEMM_NONE};
static const char *const level_names[] = {"AVX-512", "AVX2", "portable"};
#define N_LEVELS 3

/* Limits chv_gemm to the kernel levels[level_index]. Returns 0, or 1 with
 * a message when the CPU lacks that kernel. */
static int use_kernel(int level_index, const char *test) {
    chv_gemm_limit(levels[level_index]);
    if (strcmp(chv_gemm_kernel(), level_names[level_index]) == 0)
        return 0;
    printf("%s: %s kernel skipped, this CPU lacks it\n", test, level_names[level_index]);
    return 1;
}

/* Shapes: rows, inputs, outputs. They cover a single row, rows that end
 * in a partial tile of 8, more rows than one row block (256), inputs in
 * one and in two blocks of 2048, and outputs that end in a partial panel
 * of 32. */
static const int shapes[][3] = {
    {1, 64, 32}, {7, 100, 50}, {8, 256, 64}, {13, 257, 33}, {260, 640, 96}, {300, 1000, 130}, {64, 17, 5},
    {19, 2100, 40},
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

START_TEST(matches_fmaf_chain) {
    int shape = _i / N_LEVELS;
    if (use_kernel(_i % N_LEVELS, "matches_fmaf_chain"))
        return;
    int n_rows = shapes[shape][0], n_in = shapes[shape][1], n_out = shapes[shape][2];
    float *x = malloc((size_t)n_rows * n_in * sizeof(float));
    float *w = malloc((size_t)n_out * n_in * sizeof(float));
    float *y = malloc((size_t)n_rows * n_out * sizeof(float));
    fill(x, (size_t)n_rows * n_in, 11u + (unsigned)shape);
    fill(w, (size_t)n_out * n_in, 97u + (unsigned)shape);
    float *packed = packed_copy(w, n_out, n_in);
    float *scratch = scratch_new();

    chv_gemm(x, n_rows, n_in, packed, n_out, 0, chv_gemm_panels(n_out), y, scratch);

    double worst = 0.0;
    for (int r = 0; r < n_rows; r++) {
        for (int j = 0; j < n_out; j++) {
            float chain = 0.0f;
            double exact = 0.0;
            for (int k = 0; k < n_in; k++) {
                chain = fmaf(x[(size_t)r * n_in + k], w[(size_t)j * n_in + k], chain);
                exact += (double)x[(size_t)r * n_in + k] * (double)w[(size_t)j * n_in + k];
            }
            float got = y[(size_t)r * n_out + j];
            ck_assert_msg(got == chain, "%s %dx%dx%d: y[%d][%d] = %.9g, fmaf chain %.9g", chv_gemm_kernel(), n_rows,
                          n_in, n_out, r, j, got, chain);
            double err = fabs((double)got - exact);
            worst = err > worst ? err : worst;
        }
    }
    ck_assert_double_le(worst, 1e-4);
    free(x);
    free(w);
    free(y);
    free(packed);
    free(scratch);
}
END_TEST

/* Computing the panels in parts, or the rows in other batches, changes
 * no output bit, and columns outside the requested panels are left
 * alone. */
START_TEST(splits_give_identical_results) {
    if (use_kernel(_i, "splits_give_identical_results"))
        return;
    enum { ROWS = 41, IN = 300, OUT = 100 };
    static float x[ROWS * IN], w[OUT * IN], whole[ROWS * OUT], parts[ROWS * OUT], alone[OUT];
    fill(x, ROWS * IN, 5u);
    fill(w, OUT * IN, 6u);
    float *packed = packed_copy(w, OUT, IN);
    float *scratch = scratch_new();
    int n_panels = chv_gemm_panels(OUT);

    chv_gemm(x, ROWS, IN, packed, OUT, 0, n_panels, whole, scratch);

    for (int i = 0; i < ROWS * OUT; i++)
        parts[i] = -7.0f;
    chv_gemm(x, ROWS, IN, packed, OUT, 1, 2, parts, scratch);
    for (int r = 0; r < ROWS; r++) {
        for (int j = 0; j < OUT; j++) {
            float want = j >= CHV_GEMM_PANEL && j < 2 * CHV_GEMM_PANEL ? whole[r * OUT + j] : -7.0f;
            ck_assert_msg(parts[r * OUT + j] == want, "panel 1 only: y[%d][%d] = %g", r, j, parts[r * OUT + j]);
        }
    }
    chv_gemm(x, ROWS, IN, packed, OUT, 0, 1, parts, scratch);
    chv_gemm(x, ROWS, IN, packed, OUT, 2, n_panels, parts, scratch);
    ck_assert_int_eq(memcmp(parts, whole, sizeof whole), 0);

    for (int r = 0; r < ROWS; r++) {
        chv_gemm(x + r * IN, 1, IN, packed, OUT, 0, n_panels, alone, scratch);
        ck_assert_int_eq(memcmp(alone, whole + r * OUT, sizeof alone), 0);
    }
    free(packed);
    free(scratch);
}
END_TEST

/* Packing in row ranges gives the same panels as packing at once, and
 * each original row can be read back. */
START_TEST(pack_in_parts_and_unpack_rows) {
    enum { IN = 70, OUT = 45 };
    static float w[OUT * IN], row[IN];
    fill(w, OUT * IN, 3u);
    float *once = packed_copy(w, OUT, IN);
    size_t n = chv_gemm_packed_floats(OUT, IN);
    ck_assert_uint_eq(n, (size_t)2 * CHV_GEMM_PANEL * IN);
    float *parts = malloc(n * sizeof(float));
    chv_gemm_pack_rows(w, OUT, IN, 0, 20, parts);
    chv_gemm_pack_rows(w, OUT, IN, 20, OUT, parts);
    ck_assert_int_eq(memcmp(once, parts, n * sizeof(float)), 0);

    for (int j = 0; j < OUT; j++) {
        chv_gemm_unpack_row(once, IN, j, row);
        ck_assert_int_eq(memcmp(row, w + j * IN, sizeof row), 0);
    }
    /* The padding columns of the last panel are zero. */
    for (int k = 0; k < IN; k++) {
        for (int c = OUT % CHV_GEMM_PANEL; c < CHV_GEMM_PANEL; c++)
            ck_assert_float_eq(once[((size_t)1 * IN + k) * CHV_GEMM_PANEL + c], 0.0f);
    }
    free(once);
    free(parts);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, matches_fmaf_chain, 0, N_LEVELS * N_SHAPES);
    tcase_add_loop_test(tc, splits_give_identical_results, 0, N_LEVELS);
    tcase_add_test(tc, pack_in_parts_and_unpack_rows);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
