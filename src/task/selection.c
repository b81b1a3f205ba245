#include "task/selection.h"

#include <stdlib.h>

size_t chv_random_index(chv_splitmix64 *rng, size_t bound) {
    unsigned __int128 product = (unsigned __int128)chv_splitmix64_next(rng) * (uint64_t)bound;
    return (size_t)(product >> 64);
}

static int compare_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int chv_select_documents(size_t n, const chv_selection_rule *rule, size_t **ids, size_t *n_ids) {
    size_t *all = malloc((n ? n : 1) * sizeof *all);
    if (all == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        all[i] = i;

    size_t count = n;
    if (rule->sample > 0) {
        count = (size_t)rule->sample < n ? (size_t)rule->sample : n;
        chv_splitmix64 rng = {rule->seed};
        /* Partial Fisher-Yates: position i takes a random pick of i..n-1. */
        for (size_t i = 0; i < count; i++) {
            size_t j = i + chv_random_index(&rng, n - i);
            size_t tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
        }
        qsort(all, count, sizeof *all, compare_size);
    } else if (rule->limit > 0 && (size_t)rule->limit < n) {
        count = (size_t)rule->limit;
    }

    *ids = all;
    *n_ids = count;
    return 0;
}
