/* The architecture interface. Each architecture (Llama-style models in
 * arch_llama.c) fills one chv_arch and adds one line to the registry in
 * arch_registry.c. The loader and the forward driver (model.c, forward.c)
 * call only these functions, so a new architecture needs no change there
 * or in the scorer.
 *
 * The driver owns what is common to every decoder: the packed batch, the
 * KV caches, gathering the scored rows, the vocabulary projection and the
 * log-softmax. The architecture owns the config, the tensor names, the
 * embedding step, the transformer block and the final norm.
 */
#ifndef CHEVAL_MODEL_ARCH_H
#define CHEVAL_MODEL_ARCH_H

#include <cJSON.h>
#include <stddef.h>

#include "util/error.h"

typedef struct chv_model chv_model;
typedef struct chv_hparams chv_hparams;
typedef struct chv_tensor_list chv_tensor_list;
typedef struct chv_batch chv_batch;

typedef struct chv_arch {
    const char *name;                /* short name, e.g. "llama" */
    const char *const *class_names;  /* config "architectures" values it accepts, NULL-terminated */

    /* Reads config.json (already parsed; path is for messages) into hp,
     * checking every field it uses. Returns 0, or -1 with err naming the
     * field and its value. */
    int (*read_config)(const cJSON *config, const char *path, const char *class_name, chv_hparams *hp,
                       chv_error *err);

    /* Allocates the architecture's weight struct and lists every tensor it
     * expects in `expected`, each with the address of the pointer the loader
     * fills. *output receives the address for the lm_head matrix (the
     * embedding when tied). Returns NULL with err filled on failure. */
    void *(*new_weights)(const chv_hparams *hp, chv_tensor_list *expected, const float ***output,
                         chv_error *err);
    void (*free_weights)(void *weights);

    /* Writes the embeddings of the batch's tokens into batch->x. Scratch
     * comes from batch->ws, which is private to the batch (one slice of a
     * forward call) and may run beside other slices on other threads. */
    int (*embed)(chv_model *model, chv_batch *batch, chv_error *err);

    /* Runs transformer block `layer` over batch->x in place, storing keys
     * and values in the sequences' KV caches. */
    int (*forward_layer)(chv_model *model, chv_batch *batch, int layer, chv_error *err);

    /* Applies the final norm to n_rows rows of hidden states of the batch
     * in place. */
    void (*final_norm)(const chv_batch *batch, float *rows, int n_rows);
} chv_arch;

/* Returns the architecture that accepts class_name, or NULL. */
const chv_arch *chv_arch_find(const char *class_name);

/* Writes the accepted class names, comma-separated, into buf. */
void chv_arch_list(char *buf, size_t size);

#endif
