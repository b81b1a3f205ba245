/* Llama-style decoders: LlamaForCausalLM, MistralForCausalLM and
 * Qwen2ForCausalLM, as Hugging Face transformers defines them.
 *
 * Each block is pre-norm:
 *   h = x + o_proj(attention(rope(q_proj(n)), rope(k_proj(n)), v_proj(n)))  with n = rmsnorm(x)
 *   x' = h + down_proj(silu(gate_proj(m)) * up_proj(m))                      with m = rmsnorm(h)
 * The three differ only in their config fields and biases: Qwen2 always
 * has q/k/v biases, Llama has them (and an o_proj bias) when
 * attention_bias is set and MLP biases when mlp_bias is set, and Mistral
 * and Qwen2 may declare a sliding attention window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/internal.h"
#include "model/kernels.h"

typedef struct llama_layer {
    const float *attn_norm;
    const float *wq, *wk, *wv, *wo;
    const float *bq, *bk, *bv, *bo;
    const float *ffn_norm;
    const float *w_gate, *w_up, *w_down;
    const float *b_gate, *b_up, *b_down;
} llama_layer;

typedef struct llama_weights {
    const float *embed; /* [vocab][hidden] */
    const float *final_norm;
    const float *lm_head; /* unused when tied */
    llama_layer *layers;
} llama_weights;

enum { LLAMA, MISTRAL, QWEN2 };

static int family_of(const char *class_name) {
    if (strcmp(class_name, "MistralForCausalLM") == 0)
        return MISTRAL;
    if (strcmp(class_name, "Qwen2ForCausalLM") == 0)
        return QWEN2;
    return LLAMA;
}

/* Reads rope_scaling. Absent, null or type "default" means no scaling, and
 * "llama3" needs its four fields. Every other type is rejected, because it
 * changes the rotary angles in a way this code does not implement. */
static int read_rope_scaling(const cJSON *config, const char *path, chv_hparams *hp, chv_error *err) {
    const cJSON *scaling = chv_config_get(config, "rope_scaling");
    if (scaling == NULL)
        return 0;
    if (!cJSON_IsObject(scaling))
        return chv_error_set(err, "%s: field \"rope_scaling\" must be an object or null", path);

    const cJSON *type = chv_config_get(scaling, "rope_type");
    if (type == NULL)
        type = chv_config_get(scaling, "type");
    if (!cJSON_IsString(type))
        return chv_error_set(err, "%s: field \"rope_scaling\" has no \"rope_type\" string", path);
    if (strcmp(type->valuestring, "default") == 0)
        return 0;
    if (strcmp(type->valuestring, "llama3") != 0)
        return chv_error_set(err,
                             "%s: rope_scaling type \"%s\" is not supported (supported: \"llama3\", or no "
                             "rope_scaling)",
                             path, type->valuestring);

    char field_path[1024];
    snprintf(field_path, sizeof field_path, "%s: rope_scaling", path);
    hp->rope_llama3 = 1;
    if (chv_config_number(scaling, field_path, "factor", 1, 0, 1, &hp->rope_factor, err) != 0 ||
        chv_config_number(scaling, field_path, "low_freq_factor", 1, 0, 1, &hp->rope_low_freq_factor, err) != 0 ||
        chv_config_number(scaling, field_path, "high_freq_factor", 1, 0, 1, &hp->rope_high_freq_factor, err) != 0 ||
        chv_config_number(scaling, field_path, "original_max_position_embeddings", 1, 0, 1,
                          &hp->rope_original_max_position, err) != 0)
        return -1;
    if (!(hp->rope_high_freq_factor > hp->rope_low_freq_factor))
        return chv_error_set(err, "%s: rope_scaling: high_freq_factor (%g) must be larger than low_freq_factor (%g)",
                             path, hp->rope_high_freq_factor, hp->rope_low_freq_factor);
    return 0;
}

/* Mistral windows attention whenever sliding_window is set (unless
 * use_sliding_window is false); Qwen2 only when use_sliding_window is true,
 * which is its default of false otherwise. */
static int read_sliding_window(const cJSON *config, const char *path, int family, chv_hparams *hp, chv_error *err) {
    if (family == LLAMA)
        return 0;
    int use_window;
    if (chv_config_bool(config, path, "use_sliding_window", family == MISTRAL, &use_window, err) != 0)
        return -1;
    long window;
    if (chv_config_int(config, path, "sliding_window", 0, 0, 1, 1L << 40, &window, err) != 0)
        return -1;
    hp->sliding_window = use_window ? window : 0;
    return 0;
}

static int llama_read_config(const cJSON *config, const char *path, const char *class_name, chv_hparams *hp,
                             chv_error *err) {
    int family = family_of(class_name);
    long hidden, intermediate, layers, heads, kv_heads, vocab, head_dim, max_pos;

    if (chv_config_int(config, path, "hidden_size", 1, 0, 1, 1L << 20, &hidden, err) != 0 ||
        chv_config_int(config, path, "intermediate_size", 1, 0, 1, 1L << 22, &intermediate, err) != 0 ||
        chv_config_int(config, path, "num_hidden_layers", 1, 0, 1, 4096, &layers, err) != 0 ||
        chv_config_int(config, path, "num_attention_heads", 1, 0, 1, 4096, &heads, err) != 0 ||
        chv_config_int(config, path, "vocab_size", 1, 0, 1, 1L << 24, &vocab, err) != 0)
        return -1;
    if (chv_config_int(config, path, "num_key_value_heads", 0, heads, 1, heads, &kv_heads, err) != 0)
        return -1;
    if (heads % kv_heads != 0)
        return chv_error_set(err,
                             "%s: field \"num_attention_heads\" (%ld) is not a multiple of "
                             "\"num_key_value_heads\" (%ld)",
                             path, heads, kv_heads);

    if (chv_config_get(config, "head_dim") == NULL && hidden % heads != 0)
        return chv_error_set(err,
                             "%s: field \"hidden_size\" (%ld) is not a multiple of \"num_attention_heads\" "
                             "(%ld), and there is no \"head_dim\"",
                             path, hidden, heads);
    if (chv_config_int(config, path, "head_dim", 0, hidden / heads, 1, 1 << 16, &head_dim, err) != 0)
        return -1;
    if (chv_config_int(config, path, "max_position_embeddings", 0, 0, 0, 1L << 40, &max_pos, err) != 0)
        return -1;

    double eps, theta, partial;
    if (chv_config_number(config, path, "rms_norm_eps", 0, 1e-6, 1, &eps, err) != 0 ||
        chv_config_number(config, path, "rope_theta", 0, 10000.0, 1, &theta, err) != 0 ||
        chv_config_number(config, path, "partial_rotary_factor", 0, 1.0, 1, &partial, err) != 0)
        return -1;
    if (partial > 1.0)
        return chv_error_set(err, "%s: field \"partial_rotary_factor\" is %g, expected a number in (0, 1]", path,
                             partial);
    int rotary_dim = (int)(head_dim * partial);
    if (rotary_dim < 2 || rotary_dim % 2 != 0)
        return chv_error_set(err,
                             "%s: head_dim %ld times partial_rotary_factor %g gives %d rotary dimensions, "
                             "expected an even number of at least 2",
                             path, head_dim, partial, rotary_dim);

    /* transformers maps both names to the same SiLU function. */
    const cJSON *act = chv_config_get(config, "hidden_act");
    int is_silu = cJSON_IsString(act) &&
                  (strcmp(act->valuestring, "silu") == 0 || strcmp(act->valuestring, "swish") == 0);
    if (act != NULL && !is_silu)
        return chv_error_set(err, "%s: field \"hidden_act\" is %s, but only \"silu\" (or \"swish\") is supported",
                             path, cJSON_IsString(act) ? act->valuestring : "not a string");

    int attention_bias = 0, mlp_bias = 0;
    if (family == LLAMA && (chv_config_bool(config, path, "attention_bias", 0, &attention_bias, err) != 0 ||
                            chv_config_bool(config, path, "mlp_bias", 0, &mlp_bias, err) != 0))
        return -1;

    /* All three default to untied embeddings in transformers. */
    int tied;
    if (chv_config_bool(config, path, "tie_word_embeddings", 0, &tied, err) != 0)
        return -1;

    hp->vocab_size = (int)vocab;
    hp->hidden_size = (int)hidden;
    hp->intermediate_size = (int)intermediate;
    hp->n_layers = (int)layers;
    hp->n_heads = (int)heads;
    hp->n_kv_heads = (int)kv_heads;
    hp->head_dim = (int)head_dim;
    hp->norm_eps = (float)eps;
    hp->rotary_dim = rotary_dim;
    hp->rope_theta = theta;
    hp->tied_embeddings = tied;
    hp->qkv_bias = family == QWEN2 || attention_bias;
    hp->o_bias = attention_bias;
    hp->mlp_bias = mlp_bias;
    hp->max_position_embeddings = max_pos;

    if (read_rope_scaling(config, path, hp, err) != 0)
        return -1;
    return read_sliding_window(config, path, family, hp, err);
}

static void llama_free_weights(void *p) {
    llama_weights *w = p;
    if (w == NULL)
        return;
    free(w->layers);
    free(w);
}

static void *llama_new_weights(const chv_hparams *hp, chv_tensor_list *expected, const float ***output,
                               chv_error *err) {
    llama_weights *w = calloc(1, sizeof *w);
    if (w != NULL)
        w->layers = calloc((size_t)hp->n_layers, sizeof *w->layers);
    if (w == NULL || w->layers == NULL) {
        llama_free_weights(w);
        chv_error_set(err, "out of memory");
        return NULL;
    }

    int64_t hidden = hp->hidden_size, inter = hp->intermediate_size, vocab = hp->vocab_size;
    int64_t q_dim = (int64_t)hp->n_heads * hp->head_dim;
    int64_t kv_dim = (int64_t)hp->n_kv_heads * hp->head_dim;
    int rc = 0;

    rc |= chv_tensor_list_add(expected, &w->embed, 2, vocab, hidden, "model.embed_tokens.weight");
    for (int i = 0; i < hp->n_layers; i++) {
        llama_layer *l = &w->layers[i];
        rc |= chv_tensor_list_add(expected, &l->attn_norm, 1, hidden, 0, "model.layers.%d.input_layernorm.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->wq, q_dim, hidden, "model.layers.%d.self_attn.q_proj.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->wk, kv_dim, hidden,
                                         "model.layers.%d.self_attn.k_proj.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->wv, kv_dim, hidden,
                                         "model.layers.%d.self_attn.v_proj.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->wo, hidden, q_dim, "model.layers.%d.self_attn.o_proj.weight", i);
        if (hp->qkv_bias) {
            rc |= chv_tensor_list_add(expected, &l->bq, 1, q_dim, 0, "model.layers.%d.self_attn.q_proj.bias", i);
            rc |= chv_tensor_list_add(expected, &l->bk, 1, kv_dim, 0, "model.layers.%d.self_attn.k_proj.bias", i);
            rc |= chv_tensor_list_add(expected, &l->bv, 1, kv_dim, 0, "model.layers.%d.self_attn.v_proj.bias", i);
        }
        if (hp->o_bias)
            rc |= chv_tensor_list_add(expected, &l->bo, 1, hidden, 0, "model.layers.%d.self_attn.o_proj.bias", i);
        rc |= chv_tensor_list_add(expected, &l->ffn_norm, 1, hidden, 0,
                                  "model.layers.%d.post_attention_layernorm.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->w_gate, inter, hidden,
                                         "model.layers.%d.mlp.gate_proj.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->w_up, inter, hidden, "model.layers.%d.mlp.up_proj.weight", i);
        rc |= chv_tensor_list_add_matrix(expected, &l->w_down, hidden, inter,
                                         "model.layers.%d.mlp.down_proj.weight", i);
        if (hp->mlp_bias) {
            rc |= chv_tensor_list_add(expected, &l->b_gate, 1, inter, 0, "model.layers.%d.mlp.gate_proj.bias", i);
            rc |= chv_tensor_list_add(expected, &l->b_up, 1, inter, 0, "model.layers.%d.mlp.up_proj.bias", i);
            rc |= chv_tensor_list_add(expected, &l->b_down, 1, hidden, 0, "model.layers.%d.mlp.down_proj.bias", i);
        }
    }
    rc |= chv_tensor_list_add(expected, &w->final_norm, 1, hidden, 0, "model.norm.weight");
    rc |= chv_tensor_list_add_matrix(expected, &w->lm_head, vocab, hidden, "lm_head.weight");
    if (rc != 0) {
        llama_free_weights(w);
        chv_error_set(err, "out of memory");
        return NULL;
    }

    /* A tied checkpoint may still store lm_head.weight; transformers then
     * overwrites it with the embedding, so it is accepted and not used. */
    if (hp->tied_embeddings)
        expected->items[expected->n - 1].ignored = 1;
    *output = hp->tied_embeddings ? &w->embed : &w->lm_head;
    return w;
}

static int llama_embed(chv_model *model, chv_batch *batch, chv_error *err) {
    const llama_weights *w = model->weights;
    const chv_hparams *hp = &model->hp;
    size_t hidden = (size_t)hp->hidden_size;

    for (int r = 0; r < batch->n_rows; r++) {
        const chv_seq *seq = &batch->seqs[batch->row_seq[r]];
        int32_t token = seq->tokens[batch->positions[r] - seq->prefix_len];
        chv_embedding_row(model, w->embed, token, batch->x + (size_t)r * hidden);
    }

    /* The rotary angles depend only on the positions, so they are computed
     * once per call and shared by every layer and head. */
    size_t half = (size_t)hp->rotary_dim / 2;
    float *cos_table = chv_scratch(batch->ws, CHV_SCRATCH_ROPE_COS, (size_t)batch->n_rows * half, err);
    float *sin_table = chv_scratch(batch->ws, CHV_SCRATCH_ROPE_SIN, (size_t)batch->n_rows * half, err);
    if (cos_table == NULL || sin_table == NULL)
        return -1;
    chv_rope_tables(hp, batch->positions, batch->n_rows, cos_table, sin_table);
    return 0;
}

static int llama_forward_layer(chv_model *model, chv_batch *batch, int layer, chv_error *err) {
    const chv_hparams *hp = &model->hp;
    const llama_layer *l = &((const llama_weights *)model->weights)->layers[layer];
    int n = batch->n_rows;
    int hidden = hp->hidden_size, inter = hp->intermediate_size;
    int q_dim = hp->n_heads * hp->head_dim;
    int kv_dim = hp->n_kv_heads * hp->head_dim;

    float *normed = chv_scratch(batch->ws, CHV_SCRATCH_NORMED, (size_t)n * hidden, err);
    float *q = chv_scratch(batch->ws, CHV_SCRATCH_Q, (size_t)n * q_dim, err);
    float *k = chv_scratch(batch->ws, CHV_SCRATCH_K, (size_t)n * kv_dim, err);
    float *v = chv_scratch(batch->ws, CHV_SCRATCH_V, (size_t)n * kv_dim, err);
    float *attn = chv_scratch(batch->ws, CHV_SCRATCH_ATTN, (size_t)n * q_dim, err);
    float *proj = chv_scratch(batch->ws, CHV_SCRATCH_PROJ, (size_t)n * hidden, err);
    float *gate = chv_scratch(batch->ws, CHV_SCRATCH_GATE, (size_t)n * inter, err);
    float *up = chv_scratch(batch->ws, CHV_SCRATCH_UP, (size_t)n * inter, err);
    if (!normed || !q || !k || !v || !attn || !proj || !gate || !up)
        return -1;
    const float *cos_table = batch->ws->scratch[CHV_SCRATCH_ROPE_COS];
    const float *sin_table = batch->ws->scratch[CHV_SCRATCH_ROPE_SIN];

    /* Attention. */
    chv_rmsnorm_rows(batch, normed, batch->x, n, hidden, l->attn_norm, hp->norm_eps);
    chv_linear(batch, normed, n, hidden, l->wq, l->bq, q_dim, q);
    chv_linear(batch, normed, n, hidden, l->wk, l->bk, kv_dim, k);
    chv_linear(batch, normed, n, hidden, l->wv, l->bv, kv_dim, v);
    chv_rope_apply(q, n, hp->n_heads, hp->head_dim, hp->rotary_dim, cos_table, sin_table);
    chv_rope_apply(k, n, hp->n_kv_heads, hp->head_dim, hp->rotary_dim, cos_table, sin_table);
    chv_kv_store(batch, layer, k, v, kv_dim);
    if (chv_attention(batch, layer, q, k, v, hp->n_heads, hp->n_kv_heads, hp->head_dim, attn, err) != 0)
        return -1;
    chv_linear(batch, attn, n, q_dim, l->wo, l->bo, hidden, proj);
    chv_add(batch->x, proj, (size_t)n * hidden);

    /* SwiGLU MLP. */
    chv_rmsnorm_rows(batch, normed, batch->x, n, hidden, l->ffn_norm, hp->norm_eps);
    chv_linear(batch, normed, n, hidden, l->w_gate, l->b_gate, inter, gate);
    chv_linear(batch, normed, n, hidden, l->w_up, l->b_up, inter, up);
    chv_swiglu(gate, up, (size_t)n * inter);
    chv_linear(batch, gate, n, inter, l->w_down, l->b_down, hidden, proj);
    chv_add(batch->x, proj, (size_t)n * hidden);
    return 0;
}

static void llama_final_norm(const chv_batch *batch, float *rows, int n_rows) {
    const chv_model *model = batch->model;
    const llama_weights *w = model->weights;
    chv_rmsnorm_rows(batch, rows, rows, n_rows, model->hp.hidden_size, w->final_norm, model->hp.norm_eps);
}

static const char *const llama_class_names[] = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                                                NULL};

const chv_arch chv_arch_llama = {
    .name = "llama",
    .class_names = llama_class_names,
    .read_config = llama_read_config,
    .new_weights = llama_new_weights,
    .free_weights = llama_free_weights,
    .embed = llama_embed,
    .forward_layer = llama_forward_layer,
    .final_norm = llama_final_norm,
};
