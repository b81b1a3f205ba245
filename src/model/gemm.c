#include "model/gemm.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define CHV_HAVE_X86 1
#include <immintrin.h>
#endif

/* Rows of a tile, which is TILE_ROWS x CHV_GEMM_PANEL outputs. The AVX-512
 * kernel keeps a tile in 16 accumulators of 16 floats, which leaves
 * registers for the weights and the broadcast inputs. The AVX2 kernel,
 * with half as many and half as wide registers, takes a tile in four
 * quarters of 4 rows by 16 columns. */
#define TILE_ROWS 8

/* Blocking. One step of the outer loop handles up to ROW_BLOCK rows and
 * K_BLOCK input indices, and each panel's K_BLOCK x 32 weights (at most
 * 256 KiB) stay in L2 while every tile of the row block passes over them.
 * The inputs are read in place: each tile broadcasts from its 8 rows,
 * which the hardware prefetchers follow. Blocking the inputs for L1 (256
 * indices) measured slower on the 91M model's shapes, because the outputs
 * then go through the cache once per block. Results are the same for any
 * blocking, because a tile continues its chain from the values it stored
 * after the previous input block. */
#define ROW_BLOCK 256
#define K_BLOCK 2048

static int max_level = CHV_GEMM_AVX512;

void chv_gemm_limit(int level) {
    max_level = level;
}

static int have_avx512(void) {
#ifdef CHV_HAVE_X86
    return max_level >= CHV_GEMM_AVX512 && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static int have_avx2(void) {
#ifdef CHV_HAVE_X86
    return max_level >= CHV_GEMM_AVX2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int chv_gemm_supported(void) {
    return have_avx512() || have_avx2();
}

const char *chv_gemm_kernel(void) {
    return have_avx512() ? "AVX-512" : have_avx2() ? "AVX2" : "portable";
}

int chv_gemm_panels(int n_out) {
    return (n_out + CHV_GEMM_PANEL - 1) / CHV_GEMM_PANEL;
}

size_t chv_gemm_packed_floats(int n_out, int n_in) {
    return (size_t)chv_gemm_panels(n_out) * CHV_GEMM_PANEL * (size_t)n_in;
}

void chv_gemm_pack_rows(const float *w, int n_out, int n_in, int row0, int row1, float *packed) {
    for (int j = row0; j < row1; j++) {
        float *dst = packed + (size_t)(j / CHV_GEMM_PANEL) * CHV_GEMM_PANEL * (size_t)n_in + j % CHV_GEMM_PANEL;
        const float *src = w + (size_t)j * (size_t)n_in;
        for (int k = 0; k < n_in; k++)
            dst[(size_t)k * CHV_GEMM_PANEL] = src[k];
    }

    if (row1 != n_out || n_out % CHV_GEMM_PANEL == 0)
        return;
    float *last = packed + (size_t)(n_out / CHV_GEMM_PANEL) * CHV_GEMM_PANEL * (size_t)n_in;
    int used = n_out % CHV_GEMM_PANEL;
    for (int k = 0; k < n_in; k++)
        memset(last + (size_t)k * CHV_GEMM_PANEL + used, 0, (CHV_GEMM_PANEL - used) * sizeof(float));
}

void chv_gemm_unpack_row(const float *packed, int n_in, int row, float *out) {
    const float *src = packed + (size_t)(row / CHV_GEMM_PANEL) * CHV_GEMM_PANEL * (size_t)n_in + row % CHV_GEMM_PANEL;
    for (int k = 0; k < n_in; k++)
        out[k] = src[(size_t)k * CHV_GEMM_PANEL];
}

/* Continues, or with first set starts, the chain c[r][j] += a[r][k] * b[k][j]
 * over k < kc, for the TILE_ROWS rows r of a and c (lda and ldc floats
 * apart) and the CHV_GEMM_PANEL columns j of b. */
typedef void (*tile_fn)(const float *a, size_t lda, const float *b, float *c, size_t ldc, int kc, int first);

/* The tile in plain C, one fmaf chain per output: the same results as the
 * vector kernels, slowly. It runs on CPUs that have neither. */
static void tile_portable(const float *a, size_t lda, const float *b, float *c, size_t ldc, int kc, int first) {
    for (int r = 0; r < TILE_ROWS; r++) {
        for (int j = 0; j < CHV_GEMM_PANEL; j++) {
            float sum = first ? 0.0f : c[(size_t)r * ldc + (size_t)j];
            for (int k = 0; k < kc; k++)
                sum = fmaf(a[(size_t)r * lda + (size_t)k], b[(size_t)k * CHV_GEMM_PANEL + (size_t)j], sum);
            c[(size_t)r * ldc + (size_t)j] = sum;
        }
    }
}

#ifdef CHV_HAVE_X86
#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))

AVX512 static void tile_avx512(const float *a, size_t lda, const float *b, float *c, size_t ldc, int kc, int first) {
    __m512 c0l, c0h, c1l, c1h, c2l, c2h, c3l, c3h, c4l, c4h, c5l, c5h, c6l, c6h, c7l, c7h;

#define LOAD_ROW(r)                                                                                                    \
    c##r##l = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + (r) * ldc);                                            \
    c##r##h = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + (r) * ldc + 16)
    LOAD_ROW(0);
    LOAD_ROW(1);
    LOAD_ROW(2);
    LOAD_ROW(3);
    LOAD_ROW(4);
    LOAD_ROW(5);
    LOAD_ROW(6);
    LOAD_ROW(7);
#undef LOAD_ROW

    for (int k = 0; k < kc; k++) {
        __m512 bl = _mm512_load_ps(b);
        __m512 bh = _mm512_load_ps(b + 16);
        __m512 ak;
#define FMA_ROW(r)                                                                                                     \
    ak = _mm512_set1_ps(a[(r) * lda]);                                                                                 \
    c##r##l = _mm512_fmadd_ps(ak, bl, c##r##l);                                                                        \
    c##r##h = _mm512_fmadd_ps(ak, bh, c##r##h)
        FMA_ROW(0);
        FMA_ROW(1);
        FMA_ROW(2);
        FMA_ROW(3);
        FMA_ROW(4);
        FMA_ROW(5);
        FMA_ROW(6);
        FMA_ROW(7);
#undef FMA_ROW
        a++;
        b += CHV_GEMM_PANEL;
    }

#define STORE_ROW(r)                                                                                                   \
    _mm512_storeu_ps(c + (r) * ldc, c##r##l);                                                                          \
    _mm512_storeu_ps(c + (r) * ldc + 16, c##r##h)
    STORE_ROW(0);
    STORE_ROW(1);
    STORE_ROW(2);
    STORE_ROW(3);
    STORE_ROW(4);
    STORE_ROW(5);
    STORE_ROW(6);
    STORE_ROW(7);
#undef STORE_ROW
}

/* One quarter of a tile for the AVX2 kernel: 4 rows by 16 columns, in 8
 * accumulators of 8 floats. b points at the quarter's first column of the
 * panel, whose rows are CHV_GEMM_PANEL floats apart. */
AVX2 static void quarter_avx2(const float *a, size_t lda, const float *b, float *c, size_t ldc, int kc, int first) {
    __m256 c0l, c0h, c1l, c1h, c2l, c2h, c3l, c3h;

#define LOAD_ROW(r)                                                                                                    \
    c##r##l = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + (r) * ldc);                                            \
    c##r##h = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + (r) * ldc + 8)
    LOAD_ROW(0);
    LOAD_ROW(1);
    LOAD_ROW(2);
    LOAD_ROW(3);
#undef LOAD_ROW

    for (int k = 0; k < kc; k++) {
        __m256 bl = _mm256_loadu_ps(b);
        __m256 bh = _mm256_loadu_ps(b + 8);
        __m256 ak;
#define FMA_ROW(r)                                                                                                     \
    ak = _mm256_broadcast_ss(a + (r) * lda);                                                                           \
    c##r##l = _mm256_fmadd_ps(ak, bl, c##r##l);                                                                        \
    c##r##h = _mm256_fmadd_ps(ak, bh, c##r##h)
        FMA_ROW(0);
        FMA_ROW(1);
        FMA_ROW(2);
        FMA_ROW(3);
#undef FMA_ROW
        a++;
        b += CHV_GEMM_PANEL;
    }

#define STORE_ROW(r)                                                                                                   \
    _mm256_storeu_ps(c + (r) * ldc, c##r##l);                                                                          \
    _mm256_storeu_ps(c + (r) * ldc + 8, c##r##h)
    STORE_ROW(0);
    STORE_ROW(1);
    STORE_ROW(2);
    STORE_ROW(3);
#undef STORE_ROW
}

/* The AVX2 tile: the same chains as tile_avx512, one quarter at a time. */
static void tile_avx2(const float *a, size_t lda, const float *b, float *c, size_t ldc, int kc, int first) {
    for (int rows = 0; rows < TILE_ROWS; rows += 4) {
        for (int cols = 0; cols < CHV_GEMM_PANEL; cols += 16)
            quarter_avx2(a + (size_t)rows * lda, lda, b + cols, c + (size_t)rows * ldc + cols, ldc, kc, first);
    }
}
#endif

/* A tile at the bottom or right edge of y goes through full-size copies of
 * its inputs (zero past the last row, in scratch) and of its outputs, so
 * that the kernel never reads or writes outside x or y. */
static void edge_tile(tile_fn kernel_tile, const float *a, size_t lda, const float *b, float *y, size_t ldy, int rows,
                      int cols, int kc, int first, float *scratch) {
    memset(scratch, 0, (size_t)TILE_ROWS * (size_t)kc * sizeof(float));
    for (int r = 0; r < rows; r++)
        memcpy(scratch + (size_t)r * (size_t)kc, a + (size_t)r * lda, (size_t)kc * sizeof(float));

    float tile[TILE_ROWS * CHV_GEMM_PANEL] __attribute__((aligned(64)));
    memset(tile, 0, sizeof tile);
    for (int r = 0; r < rows && !first; r++)
        memcpy(tile + r * CHV_GEMM_PANEL, y + (size_t)r * ldy, (size_t)cols * sizeof(float));
    kernel_tile(scratch, (size_t)kc, b, tile, CHV_GEMM_PANEL, kc, first);
    for (int r = 0; r < rows; r++)
        memcpy(y + (size_t)r * ldy, tile + r * CHV_GEMM_PANEL, (size_t)cols * sizeof(float));
}

void chv_gemm(const float *x, int n_rows, int n_in, const float *packed, int n_out, int panel0, int panel1, float *y,
              float *scratch) {
    tile_fn kernel_tile = tile_portable;
#ifdef CHV_HAVE_X86
    if (have_avx512())
        kernel_tile = tile_avx512;
    else if (have_avx2())
        kernel_tile = tile_avx2;
#endif
    for (int r0 = 0; r0 < n_rows; r0 += ROW_BLOCK) {
        int rows = n_rows - r0 < ROW_BLOCK ? n_rows - r0 : ROW_BLOCK;
        int n_tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;

        for (int k0 = 0; k0 < n_in; k0 += K_BLOCK) {
            int kc = n_in - k0 < K_BLOCK ? n_in - k0 : K_BLOCK;

            for (int p = panel0; p < panel1; p++) {
                const float *b = packed + ((size_t)p * (size_t)n_in + (size_t)k0) * CHV_GEMM_PANEL;
                int col = p * CHV_GEMM_PANEL;
                int cols = n_out - col < CHV_GEMM_PANEL ? n_out - col : CHV_GEMM_PANEL;

                for (int t = 0; t < n_tiles; t++) {
                    int r = r0 + t * TILE_ROWS;
                    const float *a = x + (size_t)r * (size_t)n_in + k0;
                    float *c = y + (size_t)r * (size_t)n_out + col;
                    int tile_rows = rows - t * TILE_ROWS < TILE_ROWS ? rows - t * TILE_ROWS : TILE_ROWS;
                    if (tile_rows == TILE_ROWS && cols == CHV_GEMM_PANEL)
                        kernel_tile(a, (size_t)n_in, b, c, (size_t)n_out, kc, k0 == 0);
                    else
                        edge_tile(kernel_tile, a, (size_t)n_in, b, c, (size_t)n_out, tile_rows, cols, kc, k0 == 0,
                                  scratch);
                }
            }
        }
    }
}
