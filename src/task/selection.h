/* Document selection: every document, the first N (--limit, as lm-eval
 * does), or a seeded random subset (--seed S --sample N).
 *
 * The random subset is the same on every machine. splitmix64 (Steele,
 * Lea and Flood, "Fast splittable pseudorandom number generators", 2014)
 * seeded with S drives a partial Fisher-Yates shuffle of 0..n-1. The first
 * N positions are taken and sorted, so documents are still scored in file
 * order. Each index is the high half of a 64x64->128-bit product (Lemire's
 * method without rejection), whose bias is below n / 2^64.
 */
#ifndef CHEVAL_TASK_SELECTION_H
#define CHEVAL_TASK_SELECTION_H

#include <stddef.h>
#include <stdint.h>

#include "util/splitmix.h"

/* Returns a uniform index in [0, bound) from the generator. */
size_t chv_random_index(chv_splitmix64 *rng, size_t bound);

typedef struct chv_selection_rule {
    long limit;  /* > 0: the first limit documents */
    long sample; /* > 0: a seeded random subset of this size */
    uint64_t seed;
} chv_selection_rule;

/* Fills a new array *ids (ascending) with the documents of a file of n
 * documents that rule selects, and stores their count in *n_ids. Returns 0,
 * or -1 when out of memory. */
int chv_select_documents(size_t n, const chv_selection_rule *rule, size_t **ids, size_t *n_ids);

#endif
