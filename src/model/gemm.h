/* Matrix products against pre-packed weights, for CPUs with AVX-512 or
 * AVX2 with FMA.
 *
 * A projection computes y = x · wᵀ with w in Hugging Face's Linear layout
 * [n_out][n_in]. The weights never change, so they are rearranged once into
 * panels of CHV_GEMM_PANEL output columns: panel p holds, for each input
 * index k in order, the CHV_GEMM_PANEL weights w[p * CHV_GEMM_PANEL + c][k].
 * A panel is read front to back by the kernel, and no call re-packs it.
 * The last panel is padded with zero columns.
 *
 * Each output y[r][j] is one chain of fused multiply-adds over k = 0, 1,
 * ..., n_in - 1, starting from 0. The chain does not depend on the other
 * rows, on which columns a caller asks for, or on how a caller splits the
 * work, so a row's result is the same in any batch and with any thread
 * count.
 */
#ifndef CHEVAL_MODEL_GEMM_H
#define CHEVAL_MODEL_GEMM_H

#include <stddef.h>

#define CHV_GEMM_PANEL 32

/* Floats of the scratch that chv_gemm needs for the inputs of a partial
 * tile of rows. */
#define CHV_GEMM_SCRATCH_FLOATS (8 * 2048)

/* 1 when this CPU has a fast kernel for chv_gemm (AVX-512F, or AVX2 with
 * FMA), else 0. */
int chv_gemm_supported(void);

/* The kernel chv_gemm uses on this CPU: "AVX-512", "AVX2" or "portable"
 * (plain C, slow). All compute the same chains, so they give bit-identical
 * results. */
const char *chv_gemm_kernel(void);

/* Tests only: limits the kernels chv_gemm may pick to level and below.
 * CHV_GEMM_AVX512, the default, allows all, and CHV_GEMM_NONE leaves only
 * the portable one. Not thread-safe. */
enum { CHV_GEMM_NONE, CHV_GEMM_AVX2, CHV_GEMM_AVX512 };
void chv_gemm_limit(int level);

/* The number of panels, and of floats, of a packed [n_out][n_in] matrix. */
int chv_gemm_panels(int n_out);
size_t chv_gemm_packed_floats(int n_out, int n_in);

/* Packs rows row0 to row1 (exclusive) of w [n_out][n_in] into packed,
 * which has room for chv_gemm_packed_floats(n_out, n_in) floats, so that a
 * caller can pack one matrix in parts. The call that packs the last row
 * also zeroes the padding columns. */
void chv_gemm_pack_rows(const float *w, int n_out, int n_in, int row0, int row1, float *packed);

/* Copies row `row` of the original [n_out][n_in] matrix out of its packed
 * form into out[n_in]. */
void chv_gemm_unpack_row(const float *packed, int n_in, int row, float *out);

/* y[r][j] = sum over k of x[r][k] * w[j][k], for r < n_rows and for the
 * columns j of panels panel0 to panel1 (exclusive). x is [n_rows][n_in] and
 * y is [n_rows][n_out], both row-major; other columns of y are not
 * touched. scratch has room for CHV_GEMM_SCRATCH_FLOATS floats and is
 * aligned to 64 bytes. Without a fast kernel (chv_gemm_supported() is 0) it still gives
 * the same results, through the portable kernel. */
void chv_gemm(const float *x, int n_rows, int n_in, const float *packed, int n_out, int panel0, int panel1, float *y,
              float *scratch);

#endif
