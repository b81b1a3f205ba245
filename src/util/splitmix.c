#include "util/splitmix.h"

uint64_t chv_splitmix64_next(chv_splitmix64 *rng) {
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

size_t chv_splitmix64_below(chv_splitmix64 *rng, size_t n) {
    double u = (double)(chv_splitmix64_next(rng) >> 11) * 0x1.0p-53; /* [0, 1) */
    size_t i = (size_t)(u * (double)n);
    return i < n ? i : n - 1;
}
