/* Vector kernels: each public function picks the AVX2+FMA body when the CPU
 * has it and the portable body otherwise (the softmax exp and the attention
 * scores also have an AVX-512 body). The bodies must stay in step:
 * the same lanes (element i belongs to lane i % 8), the same fused
 * multiply-adds, the same order of the final additions.
 */
#include "model/vecmath.h"

#include <math.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define CHV_HAVE_X86 1
#include <immintrin.h>
#endif

#define LANES 8

static int max_level = CHV_VEC_AVX512;

void chv_vec_limit(int level) {
    max_level = level;
}

/* Cephes expf: exp(x) = 2^n exp(r) with n = floor(x log2(e) + 1/2) and
 * r = x - n ln2, ln2 split in two so that n * LN2_HI is exact. exp(r) is
 * 1 + r + r^2 P(r). */
#define EXP_LO (-87.33654f) /* below: the result is subnormal, returned as 0 */
#define EXP_HI 88.0f        /* above: clamped, so that 2^n stays finite */
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

float chv_expf(float x) {
    float clamped = x > EXP_HI ? EXP_HI : x;
    float n = floorf(fmaf(clamped, LOG2E, 0.5f));
    float r = fmaf(n, -LN2_HI, clamped);
    r = fmaf(n, -LN2_LO, r);

    float p = fmaf(P0, r, P1);
    p = fmaf(p, r, P2);
    p = fmaf(p, r, P3);
    p = fmaf(p, r, P4);
    p = fmaf(p, r, P5);
    float y = fmaf(p, r * r, r) + 1.0f;

    /* 2^n from its exponent bits; n is in [-126, 127] here. */
    union {
        unsigned u;
        float f;
    } scale = {(unsigned)((int)n + 127) << 23};
    return x < EXP_LO ? 0.0f : y * scale.f;
}

/* ---------------------------------------------------------------- portable */

static float max_portable(const float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

static float exp_sum_portable(float *x, int n, float shift) {
    float acc[LANES] = {0};
    for (int i = 0; i < n; i++) {
        x[i] = chv_expf(x[i] - shift);
        acc[i % LANES] += x[i];
    }
    float sum = acc[0];
    for (int l = 1; l < LANES; l++)
        sum += acc[l];
    return sum;
}

static double sum_exp_portable(const float *x, int n, float shift) {
    double acc[LANES] = {0};
    for (int i = 0; i < n; i++)
        acc[i % LANES] += (double)chv_expf(x[i] - shift);
    double sum = acc[0];
    for (int l = 1; l < LANES; l++)
        sum += acc[l];
    return sum;
}

static void dot_keys_portable(float *scores, const float *query, const float *keys_t, int head_dim, size_t stride,
                              int n) {
    for (int j = 0; j < n; j++) {
        float s = 0.0f;
        for (int d = 0; d < head_dim; d++)
            s = fmaf(query[d], keys_t[(size_t)d * stride + (size_t)j], s);
        scores[j] = s;
    }
}

/* Four chains of fused multiply-adds, chain c taking j = c, c + 4, ...,
 * so that consecutive j do not wait on each other. */
#define CHAINS 4

static void weighted_sum_portable(float *out, const float *weights, const float *values, int n, int head_dim) {
    for (int d = 0; d < head_dim; d++) {
        float acc[CHAINS] = {0};
        for (int j = 0; j < n; j++)
            acc[j % CHAINS] = fmaf(weights[j], values[(size_t)j * (size_t)head_dim + (size_t)d], acc[j % CHAINS]);
        out[d] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

static void swiglu_portable(float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + chv_expf(-g)) * up[i];
    }
}

/* ---------------------------------------------------------------- AVX2 */

#ifdef CHV_HAVE_X86
#define AVX2 __attribute__((target("avx2,fma")))

static int have_avx2(void) {
    return max_level >= CHV_VEC_AVX2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int have_avx512(void) {
    return max_level >= CHV_VEC_AVX512 && have_avx2() && __builtin_cpu_supports("avx512f");
}

/* A mask whose first n lanes are set, 0 <= n <= 8. */
AVX2 static inline __attribute__((always_inline)) __m256i first_lanes(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static inline __attribute__((always_inline)) __m256 exp8(__m256 x) {
    __m256 clamped = _mm256_min_ps(x, _mm256_set1_ps(EXP_HI));
    __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(clamped, _mm256_set1_ps(LOG2E), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_HI), clamped);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_LO), r);

    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(P0), r, _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));

    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 result = _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
    __m256 in_range = _mm256_cmp_ps(x, _mm256_set1_ps(EXP_LO), _CMP_GE_OQ);
    return _mm256_and_ps(result, in_range);
}

/* Sums the 8 lanes in lane order, as the portable loops do. */
AVX2 static float lane_sum(__m256 v) {
    float lane[LANES];
    _mm256_storeu_ps(lane, v);
    float sum = lane[0];
    for (int l = 1; l < LANES; l++)
        sum += lane[l];
    return sum;
}

AVX2 static float max_avx2(const float *x, int n) {
    int i = 0;
    __m256 m = _mm256_set1_ps(x[0]);
    for (; i + LANES <= n; i += LANES)
        m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float lane[LANES];
    _mm256_storeu_ps(lane, m);
    float result = lane[0];
    for (int l = 1; l < LANES; l++)
        result = lane[l] > result ? lane[l] : result;
    for (; i < n; i++)
        result = x[i] > result ? x[i] : result;
    return result;
}

AVX2 static float exp_sum_avx2(float *x, int n, float shift) {
    __m256 s = _mm256_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    if (i < n) {
        __m256i mask = first_lanes(n - i);
        __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), s));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
        _mm256_maskstore_ps(x + i, mask, e);
        acc = _mm256_add_ps(acc, e);
    }
    return lane_sum(acc);
}

AVX2 static double sum_exp_avx2(const float *x, int n, float shift) {
    __m256 s = _mm256_set1_ps(shift);
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    int i = 0;
    for (; i < n; i += LANES) {
        __m256 e;
        if (i + LANES <= n) {
            e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        } else {
            __m256i mask = first_lanes(n - i);
            e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), s));
            e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
        }
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double lane[LANES];
    _mm256_storeu_pd(lane, lo);
    _mm256_storeu_pd(lane + 4, hi);
    double sum = lane[0];
    for (int l = 1; l < LANES; l++)
        sum += lane[l];
    return sum;
}

AVX2 static void dot_keys_avx2(float *scores, const float *query, const float *keys_t, int head_dim, size_t stride,
                               int n) {
    int j = 0;
    /* Four vectors of keys at a time: independent chains overlap. */
    for (; j + 4 * LANES <= n; j += 4 * LANES) {
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int d = 0; d < head_dim; d++) {
            const float *row = keys_t + (size_t)d * stride + (size_t)j;
            __m256 qd = _mm256_set1_ps(query[d]);
            s0 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row), s0);
            s1 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + LANES), s1);
            s2 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 2 * LANES), s2);
            s3 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 3 * LANES), s3);
        }
        _mm256_storeu_ps(scores + j, s0);
        _mm256_storeu_ps(scores + j + LANES, s1);
        _mm256_storeu_ps(scores + j + 2 * LANES, s2);
        _mm256_storeu_ps(scores + j + 3 * LANES, s3);
    }
    for (; j < n; j += LANES) {
        __m256i mask = first_lanes(n - j < LANES ? n - j : LANES);
        __m256 s = _mm256_setzero_ps();
        for (int d = 0; d < head_dim; d++) {
            const float *row = keys_t + (size_t)d * stride + (size_t)j;
            s = _mm256_fmadd_ps(_mm256_set1_ps(query[d]), _mm256_maskload_ps(row, mask), s);
        }
        _mm256_maskstore_ps(scores + j, mask, s);
    }
}

AVX2 static void weighted_sum_avx2(float *out, const float *weights, const float *values, int n, int head_dim) {
    size_t row = (size_t)head_dim;
    for (int d = 0; d < head_dim; d += LANES) {
        __m256i mask = first_lanes(head_dim - d < LANES ? head_dim - d : LANES);
        const float *v = values + d;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j + CHAINS <= n; j += CHAINS, v += CHAINS * row) {
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j]), _mm256_maskload_ps(v, mask), a0);
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j + 1]), _mm256_maskload_ps(v + row, mask), a1);
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j + 2]), _mm256_maskload_ps(v + 2 * row, mask), a2);
            a3 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j + 3]), _mm256_maskload_ps(v + 3 * row, mask), a3);
        }
        /* The last n % 4 values continue chains 0, 1, 2. */
        if (j < n)
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j]), _mm256_maskload_ps(v, mask), a0);
        if (j + 1 < n)
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j + 1]), _mm256_maskload_ps(v + row, mask), a1);
        if (j + 2 < n)
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(weights[j + 2]), _mm256_maskload_ps(v + 2 * row, mask), a2);
        __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        _mm256_maskstore_ps(out + d, mask, sum);
    }
}

AVX2 static void swiglu_avx2(float *gate, const float *up, size_t n) {
    size_t i = 0;
    __m256 one = _mm256_set1_ps(1.0f);
    for (; i + LANES <= n; i += LANES) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    swiglu_portable(gate + i, up + i, n - i);
}

/* ---------------------------------------------------------------- AVX-512 */

/* 16 lanes at a time, for the two hottest loops of attention. Each 16-lane
 * vector is two 8-lane halves added to the 8 partial sums one after the
 * other, so the sums match the 8-lane bodies exactly. */
#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define WIDE 16

AVX512 static inline __attribute__((always_inline)) __m512 exp16(__m512 x) {
    __m512 clamped = _mm512_min_ps(x, _mm512_set1_ps(EXP_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_fmadd_ps(clamped, _mm512_set1_ps(LOG2E), _mm512_set1_ps(0.5f)),
                                    _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-LN2_HI), clamped);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-LN2_LO), r);

    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(P0), r, _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));

    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 result = _mm512_mul_ps(y, _mm512_castsi512_ps(bits));
    __mmask16 in_range = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_LO), _CMP_GE_OQ);
    return _mm512_maskz_mov_ps(in_range, result);
}

AVX512 static __mmask16 first_wide_lanes(int n) {
    return n >= WIDE ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

AVX512 static float exp_sum_avx512(float *x, int n, float shift) {
    __m512 s = _mm512_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n; i += WIDE) {
        __mmask16 mask = first_wide_lanes(n - i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + i), s));
        e = _mm512_maskz_mov_ps(mask, e);
        _mm512_mask_storeu_ps(x + i, mask, e);
        acc = _mm256_add_ps(acc, _mm512_castps512_ps256(e));
        acc = _mm256_add_ps(acc, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)));
    }
    return lane_sum(acc);
}

AVX512 static void dot_keys_avx512(float *scores, const float *query, const float *keys_t, int head_dim,
                                   size_t stride, int n) {
    int j = 0;
    for (; j + 2 * WIDE <= n; j += 2 * WIDE) {
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        for (int d = 0; d < head_dim; d++) {
            const float *row = keys_t + (size_t)d * stride + (size_t)j;
            __m512 qd = _mm512_set1_ps(query[d]);
            s0 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(row), s0);
            s1 = _mm512_fmadd_ps(qd, _mm512_loadu_ps(row + WIDE), s1);
        }
        _mm512_storeu_ps(scores + j, s0);
        _mm512_storeu_ps(scores + j + WIDE, s1);
    }
    for (; j < n; j += WIDE) {
        __mmask16 mask = first_wide_lanes(n - j);
        __m512 s = _mm512_setzero_ps();
        for (int d = 0; d < head_dim; d++) {
            const float *row = keys_t + (size_t)d * stride + (size_t)j;
            s = _mm512_fmadd_ps(_mm512_set1_ps(query[d]), _mm512_maskz_loadu_ps(mask, row), s);
        }
        _mm512_mask_storeu_ps(scores + j, mask, s);
    }
}
#endif

/* ---------------------------------------------------------------- dispatch */

#ifdef CHV_HAVE_X86
#define DISPATCH(call_avx2, call_portable) return have_avx2() ? call_avx2 : call_portable
#else
#define DISPATCH(call_avx2, call_portable) return call_portable
#endif

float chv_max(const float *x, int n) {
    DISPATCH(max_avx2(x, n), max_portable(x, n));
}

float chv_exp_sum(float *x, int n, float shift) {
#ifdef CHV_HAVE_X86
    if (have_avx512())
        return exp_sum_avx512(x, n, shift);
#endif
    DISPATCH(exp_sum_avx2(x, n, shift), exp_sum_portable(x, n, shift));
}

double chv_sum_exp(const float *x, int n, float shift) {
    DISPATCH(sum_exp_avx2(x, n, shift), sum_exp_portable(x, n, shift));
}

void chv_dot_keys(float *scores, const float *query, const float *keys_t, int head_dim, size_t stride, int n) {
#ifdef CHV_HAVE_X86
    if (have_avx512()) {
        dot_keys_avx512(scores, query, keys_t, head_dim, stride, n);
        return;
    }
    if (have_avx2()) {
        dot_keys_avx2(scores, query, keys_t, head_dim, stride, n);
        return;
    }
#endif
    dot_keys_portable(scores, query, keys_t, head_dim, stride, n);
}

void chv_weighted_sum(float *out, const float *weights, const float *values, int n, int head_dim) {
#ifdef CHV_HAVE_X86
    if (have_avx2()) {
        weighted_sum_avx2(out, weights, values, n, head_dim);
        return;
    }
#endif
    weighted_sum_portable(out, weights, values, n, head_dim);
}

void chv_swiglu_values(float *gate, const float *up, size_t n) {
#ifdef CHV_HAVE_X86
    if (have_avx2()) {
        swiglu_avx2(gate, up, n);
        return;
    }
#endif
    swiglu_portable(gate, up, n);
}
