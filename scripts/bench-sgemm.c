/* The machine's sgemm rate, as the benchmark's yardstick.
 *
 *   cc -O2 bench-sgemm.c $(pkg-config --cflags --libs openblas) -o bench-sgemm
 *   bench-sgemm THREADS [M K N]...
 *
 * For each shape it times C[M][N] = A[M][K] * B[N][K]^T (row-major, B
 * transposed, as a linear layer multiplies activations by a weight stored
 * [out][in]) through OpenBLAS's cblas_sgemm, and prints one line:
 *
 *   sgemm M K N threads GFLOPS
 *
 * after a first line naming OpenBLAS's build and the kernel it picked:
 *
 *   openblas CONFIG core NAME
 *
 * GFLOPS is 2*M*K*N divided by the best time of repeated calls over about
 * half a second, after one warm-up call. Best-of, because other programs
 * share the machine and only slow a run down. With no shape given it
 * measures 2048x640x1792, the MLP projection of the 91M model on a batch of
 * 2048 tokens. */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
char *openblas_get_config(void);

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float *random_matrix(size_t n, unsigned *state) {
    float *m = malloc(n * sizeof *m);
    if (m == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u; /* LCG: values need not be good, only finite */
        m[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
    }
    return m;
}

static int measure(int m, int k, int n, int threads) {
    unsigned state = 12345;
    float *a = random_matrix((size_t)m * k, &state);
    float *b = random_matrix((size_t)n * k, &state);
    float *c = malloc((size_t)m * n * sizeof *c);
    if (a == NULL || b == NULL || c == NULL) {
        fprintf(stderr, "bench-sgemm: out of memory for %dx%dx%d\n", m, k, n);
        return -1;
    }

    /* Warm-up: OpenBLAS starts its threads and the pages get touched. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);

    double best = 1e30, spent = 0;
    int reps = 0;
    while (spent < 0.5 || reps < 3) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c,
                    n);
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        spent += dt;
        reps++;
    }

    double flop = 2.0 * m * k * n;
    printf("sgemm %d %d %d %d %.1f\n", m, k, n, threads, flop / best * 1e-9);
    free(a);
    free(b);
    free(c);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || (argc - 2) % 3 != 0) {
        fprintf(stderr, "usage: bench-sgemm THREADS [M K N]...\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    openblas_set_num_threads(threads);
    printf("openblas %s core %s\n", openblas_get_config(), openblas_get_corename());

    if (argc == 2)
        return measure(2048, 640, 1792, threads) == 0 ? 0 : 1;
    for (int i = 2; i + 2 < argc; i += 3)
        if (measure(atoi(argv[i]), atoi(argv[i + 1]), atoi(argv[i + 2]), threads) != 0)
            return 1;
    return 0;
}
