/* Compute kernels shared by the architectures: projections (one product over
 * all packed rows), RMSNorm, rotary embeddings, SwiGLU, the KV store and
 * causal attention. All work in float32 on row-major [rows][width] arrays.
 * A row's result depends only on that row (and, for attention, on its own
 * sequence), never on the other rows of the batch.
 */
#ifndef CHEVAL_MODEL_KERNELS_H
#define CHEVAL_MODEL_KERNELS_H

#include "model/internal.h"

/* y[n_rows][n_out] = x[n_rows][n_in] · w[n_out][n_in]^T (+ bias[n_out] when
 * bias is not NULL). Once the model is packed, w is a packed matrix (see
 * gemm.h) and the pool's threads each take a part of its panels when the
 * batch is threaded. Otherwise w is in Hugging Face's Linear layout, with
 * one OpenBLAS sgemm per block of 256 rows, the blocks spread over the
 * pool when the batch is threaded. */
void chv_linear(const chv_batch *batch, const float *x, int n_rows, int n_in, const float *w, const float *bias,
                int n_out, float *y);

/* out[r] = weight * x[r] / sqrt(mean(x[r]^2) + eps) for each row; out may
 * equal x. Uses the model's pool when the batch is threaded. */
void chv_rmsnorm_rows(const chv_batch *batch, float *out, const float *x, int n_rows, int width, const float *weight,
                      float eps);

/* Fills cos and sin, each [n_rows][rotary_dim/2], with the rotary angles of
 * positions[r], computed in float32 the way Hugging Face's rotary
 * embedding does (including Llama 3 frequency scaling). */
void chv_rope_tables(const chv_hparams *hp, const int *positions, int n_rows, float *cos_table, float *sin_table);

/* Rotates the first rotary_dim dimensions of each head of each row:
 * (x[i], x[i + half]) -> (x[i] cos - x[i + half] sin, x[i + half] cos + x[i] sin)
 * for i < half = rotary_dim/2, as Hugging Face's rotate_half does. */
void chv_rope_apply(float *x, int n_rows, int n_heads, int head_dim, int rotary_dim, const float *cos_table,
                    const float *sin_table);

/* gate[i] = silu(gate[i]) * up[i] for n values. */
void chv_swiglu(float *gate, const float *up, size_t n);

/* x[i] += y[i] for n values. */
void chv_add(float *x, const float *y, size_t n);

/* Stores the keys and values of each row in its sequence's KV cache (when
 * the sequence has one) at the row's position in layer `layer`. */
void chv_kv_store(chv_batch *batch, int layer, const float *k, const float *v, int kv_dim);

/* Causal attention for each sequence and head: the queries of the new
 * rows attend to the sequence's prefix (read from its prefix cache) and to
 * the new rows up to their own. Query head h uses key/value head
 * h / (n_heads / n_kv_heads). out is [n_rows][n_heads * head_dim]. Returns
 * -1 with err filled when the scratch cannot be allocated. */
int chv_attention(chv_batch *batch, int layer, const float *q, const float *k, const float *v,
                  int n_heads, int n_kv_heads, int head_dim, float *out, chv_error *err);

#endif
