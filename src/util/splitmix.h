/* splitmix64 (Steele, Lea and Flood 2014), the seeded generator behind
 * document sampling and the bootstrap: a 64-bit state advanced by
 * 0x9e3779b97f4a7c15 and mixed by two multiply-xorshift rounds. It gives
 * the same stream on every machine for a given seed. */
#ifndef CHEVAL_UTIL_SPLITMIX_H
#define CHEVAL_UTIL_SPLITMIX_H

#include <stddef.h>
#include <stdint.h>

typedef struct chv_splitmix64 {
    uint64_t state;
} chv_splitmix64;

/* Advances rng and returns its next output. */
uint64_t chv_splitmix64_next(chv_splitmix64 *rng);

/* Returns a uniform integer in [0, n) for n >= 1, drawn from the top 53
 * bits of the next output (bias below 2^-53 * n, negligible here). */
size_t chv_splitmix64_below(chv_splitmix64 *rng, size_t n);

#endif
