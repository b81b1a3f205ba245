/* Definitions shared by the files of src/model/: the model and KV cache
 * structs, the hyperparameters read from config.json, the list of tensors
 * an architecture expects, and the packed batch of one forward call.
 * Nothing outside src/model/ includes this header.
 */
#ifndef CHEVAL_MODEL_INTERNAL_H
#define CHEVAL_MODEL_INTERNAL_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "model/arch.h"
#include "model/model.h"
#include "model/pool.h"
#include "model/safetensors.h"

/* Hyperparameters, resolved from config.json with the architecture's
 * defaults. Fields an architecture does not use stay 0. */
typedef struct chv_hparams {
    int vocab_size;
    int hidden_size;
    int intermediate_size;
    int n_layers;
    int n_heads;
    int n_kv_heads;
    int head_dim;
    float norm_eps;

    /* Rotary embeddings: the first rotary_dim dimensions of each head are
     * rotated in half-split pairs (i, i + rotary_dim/2). */
    int rotary_dim;
    double rope_theta;
    int rope_llama3; /* 1: Llama 3 frequency scaling with the fields below */
    double rope_factor;
    double rope_low_freq_factor;
    double rope_high_freq_factor;
    double rope_original_max_position;

    int tied_embeddings;
    int qkv_bias; /* q_proj, k_proj, v_proj have biases */
    int o_bias;   /* o_proj has a bias */
    int mlp_bias; /* gate_proj, up_proj, down_proj have biases */

    long max_position_embeddings; /* 0: none given */
    long sliding_window;          /* 0: attention is not windowed */
} chv_hparams;

/* One tensor an architecture expects, and where the loader stores the
 * float32 pointer to its data. */
typedef struct chv_tensor_spec {
    char name[128];
    int n_dims;
    int64_t shape[2];
    const float **dest;
    int ignored; /* may be present, is not used (a tied lm_head.weight) */
    int matrix;  /* a projection that chv_linear multiplies by (packed for chv_gemm) */
} chv_tensor_spec;

typedef struct chv_tensor_list {
    chv_tensor_spec *items;
    int n;
    int capacity;
} chv_tensor_list;

/* Appends a spec of n_dims (1 or 2) dimensions. Returns 0, or -1 when out
 * of memory. */
int chv_tensor_list_add(chv_tensor_list *list, const float **dest, int n_dims, int64_t d0, int64_t d1,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Appends the spec of a projection matrix [n_out][n_in] in Hugging Face's
 * Linear layout, which the model passes to chv_linear. Returns 0, or -1
 * when out of memory. */
int chv_tensor_list_add_matrix(chv_tensor_list *list, const float **dest, int64_t n_out, int64_t n_in,
                               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Grow-only scratch buffers, reused across forward calls. */
enum {
    CHV_SCRATCH_X,
    CHV_SCRATCH_NORMED,
    CHV_SCRATCH_Q,
    CHV_SCRATCH_K,
    CHV_SCRATCH_V,
    CHV_SCRATCH_ATTN,
    CHV_SCRATCH_PROJ,
    CHV_SCRATCH_GATE,
    CHV_SCRATCH_UP,
    CHV_SCRATCH_ROPE_COS,
    CHV_SCRATCH_ROPE_SIN,
    CHV_SCRATCH_ATTENTION, /* per-thread attention keys and scores */
    CHV_SCRATCH_GATHER,    /* hidden states of the scored rows */
    CHV_SCRATCH_LOGITS,
    CHV_SCRATCH_COUNT
};

/* The scratch of one slice of a forward call. The model keeps one per
 * thread, so that slices can run side by side. */
typedef struct chv_workspace {
    float *scratch[CHV_SCRATCH_COUNT];
    size_t size[CHV_SCRATCH_COUNT]; /* in floats */
    float *gemm_scratch;            /* CHV_GEMM_SCRATCH_FLOATS, once the weights are packed */
} chv_workspace;

/* Returns scratch buffer slot of ws with room for n floats, or NULL with
 * err filled when out of memory. Contents are not preserved when it
 * grows. */
float *chv_scratch(chv_workspace *ws, int slot, size_t n, chv_error *err);

/* The packed rows of one slice of a forward call: whole sequences, run
 * through the model together. Row r belongs to sequence row_seq[r] and sits
 * at position positions[r] of it. */
typedef struct chv_batch {
    chv_model *model;
    chv_seq *seqs;
    int n_seqs;
    int n_rows;
    int *seq_first_row; /* [n_seqs] */
    int *row_seq;       /* [n_rows] */
    int *positions;     /* [n_rows] */
    float *x;           /* [n_rows][hidden_size], the residual stream */

    chv_workspace *ws;  /* this slice's scratch */
    int threaded;       /* 1: kernels may use the model's pool */
} chv_batch;

/* A projection matrix of the weight struct, [n_out][n_in]. */
typedef struct chv_matrix_slot {
    const float **dest;
    int n_out;
    int n_in;
    int converted; /* index of its float32 copy in model->converted, or -1 when mapped */
} chv_matrix_slot;

/* Sets model->use_packed from CHEVAL_GEMM: unset, empty or "auto" packs
 * when the CPU runs chv_gemm, and "openblas" keeps OpenBLAS. Returns 0, or
 * -1 with err naming any other value. */
int chv_model_choose_matmul(chv_model *model, chv_error *err);

/* Packs every projection matrix for chv_gemm, once, when use_packed is
 * set. Later calls only make sure each thread has its chv_gemm scratch.
 * Returns 0, or -1 with err filled when out of memory, leaving the weights
 * as they were. */
int chv_model_pack(chv_model *model, chv_error *err);

/* Copies row `row` of the embedding table into out[hidden_size], whether
 * or not the table is packed (it is when the embeddings are tied). */
void chv_embedding_row(const chv_model *model, const float *table, int row, float *out);

struct chv_kv {
    int n_layers;
    int capacity;
    int kv_dim; /* n_kv_heads * head_dim */
    int length;
    float *k; /* [n_layers][capacity][kv_dim], keys after rotary */
    float *v; /* [n_layers][capacity][kv_dim] */
};

static inline float *chv_kv_keys(const chv_kv *kv, int layer, int pos) {
    return kv->k + ((size_t)layer * (size_t)kv->capacity + (size_t)pos) * (size_t)kv->kv_dim;
}

static inline float *chv_kv_values(const chv_kv *kv, int layer, int pos) {
    return kv->v + ((size_t)layer * (size_t)kv->capacity + (size_t)pos) * (size_t)kv->kv_dim;
}

struct chv_model {
    char *dir;
    chv_model_info info;
    chv_hparams hp;
    const chv_arch *arch;
    void *weights;       /* the architecture's own struct of weight pointers */
    const float *output; /* lm_head [vocab_size][hidden_size] */
    const float **output_slot; /* where the weight struct keeps it */

    chv_st_file *files;
    int n_files;
    float **converted; /* float32 copies of F16/BF16 (or misaligned) tensors */
    int n_converted;

    /* The projection matrices. When use_packed is set they are packed at
     * the first forward call. Each pointer in the weight struct then points
     * at its packed copy (owned in packed_copies), and the float32 source
     * is released. */
    chv_matrix_slot *matrices;
    int n_matrices;
    int use_packed; /* 1: pack at the first forward call (chv_model_choose_matmul) */
    int packed;     /* 1: the matrices are packed */
    float **packed_copies; /* [n_matrices] */

    chv_pool *pool;
    int n_threads;

    chv_workspace *workspaces; /* [n_threads] */

    /* Batch bookkeeping, grown like the scratch. */
    int *row_ints;
    size_t row_ints_size;
    chv_batch *slices; /* the slices of the current forward call */
    int n_slices_max;
};

#endif
