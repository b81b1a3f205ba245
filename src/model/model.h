/* Causal language models loaded from Hugging Face folders (config.json plus
 * safetensors), and a batched forward pass that returns next-token
 * log-probabilities at the rows a caller asks for.
 *
 * Ownership: chv_model_load returns a model that the caller frees with
 * chv_model_free. Weights are mmapped from the safetensors files and stay
 * mapped until then. A KV cache (chv_kv) belongs to one sequence; the
 * caller creates and frees it and may pass it as the read-only prefix of
 * many later sequences. chv_model_forward may be called from one thread at
 * a time per model; it uses chv_model_set_threads threads internally.
 *
 * Errors: functions that can fail return NULL or -1 and fill err with a
 * message naming the file, the tensor or the config field.
 */
#ifndef CHEVAL_MODEL_MODEL_H
#define CHEVAL_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct chv_model_info {
    char architecture[64]; /* config "architectures"[0], e.g. "LlamaForCausalLM" */
    char model_type[32];   /* config "model_type", e.g. "llama" */
    char dtype[8];         /* stored weight dtype: "F32", "F16" or "BF16" (the most common) */
    int vocab_size;
    int hidden_size;
    int intermediate_size;
    int n_layers;
    int n_heads;
    int n_kv_heads;
    int head_dim;
    long max_position_embeddings; /* 0 when config.json has none */
    int32_t bos_token_id;         /* -1 when config.json has none */
    int32_t eos_token_id;         /* -1 when config.json has none (first id if a list) */
    int tied_embeddings;
    int64_t n_params; /* parameters, counting tied matrices once */
    /* Attention window of Mistral/Qwen2 models, in positions; 0 when
     * attention is not windowed. Windowed attention is not implemented, so
     * chv_model_forward rejects sequences longer than this: a scorer
     * should keep its maximum length at or below it. */
    long sliding_window;
} chv_model_info;

typedef struct chv_model chv_model;
typedef struct chv_kv chv_kv;

/* Loads the model in folder dir after validating every tensor's name, shape,
 * dtype and byte range against config.json. Returns NULL and fills err on
 * failure. */
chv_model *chv_model_load(const char *dir, chv_error *err);

void chv_model_free(chv_model *model);

const chv_model_info *chv_model_get_info(const chv_model *model);

/* Returns how the forward pass multiplies by the weights: "packed" (the
 * weights packed once, cheval's AVX-512 or AVX2 kernel, which give the same
 * results) or "openblas". It is decided at load, from the CPU and
 * CHEVAL_GEMM. The string is static. */
const char *chv_model_matmul(const chv_model *model);

/* Sets the number of threads of the model's own kernels in the forward
 * pass. OpenBLAS runs inside them, single-threaded. n <= 0 means all
 * cores. */
void chv_model_set_threads(chv_model *model, int n);

/* Allocates an empty KV cache for up to capacity positions. */
chv_kv *chv_kv_new(const chv_model *model, int capacity, chv_error *err);
void chv_kv_free(chv_kv *kv);
/* Number of positions stored. */
int chv_kv_length(const chv_kv *kv);
/* Number of positions the cache can hold. */
int chv_kv_capacity(const chv_kv *kv);
/* Forgets positions >= length, so the cache can be reused. */
void chv_kv_truncate(chv_kv *kv, int length);

/* One sequence in a forward batch.
 *
 * The new tokens (at least one) sit at positions prefix_len .. prefix_len +
 * n_tokens - 1.
 * They attend causally to prefix positions 0 .. prefix_len - 1 of `prefix`
 * (when prefix_len > 0) and to each other. When `kv` is not NULL their keys
 * and values are stored in it at those positions; kv may equal prefix, which
 * extends the prefix in place. kv's length becomes prefix_len + n_tokens.
 * Within one call, a cache may be read as a prefix by many sequences, but
 * a sequence may not read positions that another one writes, and two
 * sequences may not write the same cache; chv_model_forward rejects that.
 *
 * Row score_from + j predicts targets[j] for j < n_targets; its
 * log-softmax value of targets[j] goes to logprobs[j] and whether targets[j]
 * is the argmax of that row goes to is_argmax[j]. Ties in the argmax go to
 * the lowest id, as torch.argmax does. */
typedef struct chv_seq {
    const int32_t *tokens;
    int n_tokens;
    const chv_kv *prefix;
    int prefix_len;
    chv_kv *kv;

    int score_from;
    const int32_t *targets;
    int n_targets;

    float *logprobs;    /* n_targets outputs */
    uint8_t *is_argmax; /* n_targets outputs, or NULL */
    int32_t *argmax;    /* n_targets outputs (the argmax id of each row), or NULL */
} chv_seq;

/* Runs all sequences as one packed batch: each projection is one matrix
 * product over the token rows of every sequence, and attention is computed
 * per sequence. The first call packs the weights (with the packed path of
 * chv_model_matmul). How sequences are grouped into calls changes no
 * result on the packed path, and on the OpenBLAS path results only by
 * OpenBLAS rounding (within 1e-5; docs/model.md explains why). Returns 0,
 * or -1 with err filled (an id out of range, a position past the maximum,
 * or out of memory). */
int chv_model_forward(chv_model *model, chv_seq *seqs, int n_seqs, chv_error *err);

#endif
