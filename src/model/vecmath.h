/* Vector kernels of the forward pass over float32 arrays: exp, max, sums
 * of exponentials, the dot products and weighted sums of attention, and
 * SwiGLU.
 *
 * Each function has an AVX2+FMA implementation, chosen at run time when the
 * CPU has both, and a portable C one. chv_exp_sum and chv_dot_keys also
 * have an AVX-512 one. They perform the same float operations in the same
 * order, the portable one through fmaf(), so they return bit-identical
 * results: output depends neither on the CPU's vector width nor on how a
 * caller splits its work.
 *
 * The exp is a Cephes-style range reduction (x = n ln2 + r, |r| <= ln2/2)
 * with a degree-7 polynomial; its error is within 2 ulp of the correctly
 * rounded value. Arguments below -87.33 give 0 (the exact values there are
 * float32 subnormals) and arguments above 88 are taken as 88.
 */
#ifndef CHEVAL_MODEL_VECMATH_H
#define CHEVAL_MODEL_VECMATH_H

#include <stddef.h>

/* exp(x), as the vector kernels compute it. */
float chv_expf(float x);

/* The largest of x[0..n-1], n >= 1. */
float chv_max(const float *x, int n);

/* Replaces x[i] by exp(x[i] - shift) for i < n and returns their sum. The
 * sum is taken over 8 interleaved float partial sums (x[i] goes to partial
 * i % 8) that are then added in lane order. */
float chv_exp_sum(float *x, int n, float shift);

/* Returns the sum of exp(x[i] - shift) for i < n, accumulated in double
 * (8 interleaved double partial sums, added in lane order); x is not
 * changed. */
double chv_sum_exp(const float *x, int n, float shift);

/* scores[j] = sum over d < head_dim of query[d] * keys_t[d * stride + j],
 * for j < n: one query against n keys stored transposed (dimension-major).
 * Each score is a chain of fused multiply-adds in order of d. */
void chv_dot_keys(float *scores, const float *query, const float *keys_t, int head_dim, size_t stride, int n);

/* out[d] = sum over j < n of weights[j] * values[j * head_dim + d], for
 * d < head_dim. The products are summed in four chains of fused
 * multiply-adds (chain c takes j = c, c + 4, ...), added as
 * (chain 0 + chain 1) + (chain 2 + chain 3). */
void chv_weighted_sum(float *out, const float *weights, const float *values, int n, int head_dim);

/* gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for n values (SwiGLU). */
void chv_swiglu_values(float *gate, const float *up, size_t n);

/* Tests only: limits the bodies the functions may pick to level and below
 * (CHV_VEC_AVX512, the default, allows all). Not thread-safe. */
enum { CHV_VEC_PORTABLE, CHV_VEC_AVX2, CHV_VEC_AVX512 };
void chv_vec_limit(int level);

#endif
