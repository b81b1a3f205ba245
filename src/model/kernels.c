#include "model/kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void chv_linear(const float *x, int n_rows, int n_in, const float *w, const float *bias, int n_out, float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_rows, n_out, n_in, 1.0f, x, n_in, w, n_in, 0.0f, y,
                n_out);
    if (bias == NULL)
        return;
    for (int r = 0; r < n_rows; r++) {
        float *row = y + (size_t)r * (size_t)n_out;
        for (int j = 0; j < n_out; j++)
            row[j] += bias[j];
    }
}

/* Rows per pool task for the row-wise kernels. Below this much work the
 * kernel runs on the calling thread only. */
#define ROWS_PER_TASK 16
#define MIN_PARALLEL_VALUES 32768

typedef struct rmsnorm_job {
    float *out;
    const float *x;
    int n_rows;
    int width;
    const float *weight;
    float eps;
} rmsnorm_job;

static void rmsnorm_row(float *out, const float *x, int width, const float *weight, float eps) {
    double sum_sq = 0.0;
    for (int i = 0; i < width; i++)
        sum_sq += (double)x[i] * (double)x[i];
    float inv_rms = (float)(1.0 / sqrt(sum_sq / width + (double)eps));
    for (int i = 0; i < width; i++)
        out[i] = weight[i] * (x[i] * inv_rms);
}

static void rmsnorm_task(void *p, int task, int thread) {
    (void)thread;
    const rmsnorm_job *job = p;
    int end = (task + 1) * ROWS_PER_TASK < job->n_rows ? (task + 1) * ROWS_PER_TASK : job->n_rows;
    for (int r = task * ROWS_PER_TASK; r < end; r++) {
        size_t at = (size_t)r * (size_t)job->width;
        rmsnorm_row(job->out + at, job->x + at, job->width, job->weight, job->eps);
    }
}

void chv_rmsnorm_rows(chv_model *model, float *out, const float *x, int n_rows, int width, const float *weight,
                      float eps) {
    rmsnorm_job job = {out, x, n_rows, width, weight, eps};
    int n_tasks = (n_rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    if ((size_t)n_rows * (size_t)width < MIN_PARALLEL_VALUES) {
        for (int t = 0; t < n_tasks; t++)
            rmsnorm_task(&job, t, 0);
        return;
    }
    chv_pool_run(model->pool, n_tasks, rmsnorm_task, &job);
}

/* The inverse frequency of rotary pair i, in float32 as Hugging Face
 * computes it: 1 / theta^(2i / rotary_dim), then the Llama 3 rescaling. */
static float rope_inv_freq(const chv_hparams *hp, int i) {
    float exponent = (float)(2 * i) / (float)hp->rotary_dim;
    float inv_freq = 1.0f / powf((float)hp->rope_theta, exponent);
    if (!hp->rope_llama3)
        return inv_freq;

    /* Llama 3: keep high frequencies, divide low ones by factor, and blend
     * linearly in wavelength between the two cutoffs. */
    double wavelen = 2.0 * M_PI / inv_freq;
    double old_len = hp->rope_original_max_position;
    double low_freq_wavelen = old_len / hp->rope_low_freq_factor;
    double high_freq_wavelen = old_len / hp->rope_high_freq_factor;
    if (wavelen < high_freq_wavelen)
        return inv_freq;
    if (wavelen > low_freq_wavelen)
        return (float)(inv_freq / hp->rope_factor);
    double smooth = (old_len / wavelen - hp->rope_low_freq_factor) /
                    (hp->rope_high_freq_factor - hp->rope_low_freq_factor);
    return (float)((1.0 - smooth) * inv_freq / hp->rope_factor + smooth * inv_freq);
}

void chv_rope_tables(const chv_hparams *hp, const int *positions, int n_rows, float *cos_table, float *sin_table) {
    int half = hp->rotary_dim / 2;
    float inv_freq[half > 0 ? half : 1];
    for (int i = 0; i < half; i++)
        inv_freq[i] = rope_inv_freq(hp, i);

    for (int r = 0; r < n_rows; r++) {
        for (int i = 0; i < half; i++) {
            /* The angle is rounded to float32 before cos/sin, as in HF. */
            float angle = (float)positions[r] * inv_freq[i];
            cos_table[(size_t)r * half + i] = (float)cos((double)angle);
            sin_table[(size_t)r * half + i] = (float)sin((double)angle);
        }
    }
}

void chv_rope_apply(float *x, int n_rows, int n_heads, int head_dim, int rotary_dim, const float *cos_table,
                    const float *sin_table) {
    int half = rotary_dim / 2;
    for (int r = 0; r < n_rows; r++) {
        const float *c = cos_table + (size_t)r * half;
        const float *s = sin_table + (size_t)r * half;
        for (int h = 0; h < n_heads; h++) {
            float *head = x + ((size_t)r * n_heads + h) * head_dim;
            for (int i = 0; i < half; i++) {
                float a = head[i], b = head[i + half];
                head[i] = a * c[i] - b * s[i];
                head[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

void chv_swiglu(float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void chv_add(float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] += y[i];
}

void chv_kv_store(chv_batch *batch, int layer, const float *k, const float *v, int kv_dim) {
    size_t bytes = (size_t)kv_dim * sizeof(float);
    for (int r = 0; r < batch->n_rows; r++) {
        chv_kv *kv = batch->seqs[batch->row_seq[r]].kv;
        if (kv == NULL)
            continue;
        memcpy(chv_kv_keys(kv, layer, batch->positions[r]), k + (size_t)r * kv_dim, bytes);
        memcpy(chv_kv_values(kv, layer, batch->positions[r]), v + (size_t)r * kv_dim, bytes);
    }
}

/* Query rows per attention block. A block's scores take ATTENTION_BLOCK x
 * (keys) floats of per-thread scratch. */
#define ATTENTION_BLOCK 64

typedef struct attention_job {
    chv_batch *batch;
    int layer;
    const float *q, *k, *v;
    float *out;
    int n_heads, n_kv_heads, head_dim;
    int n_blocks_max; /* query blocks per (sequence, head) task group */
    float *scores;    /* [n_threads][ATTENTION_BLOCK * max_keys] */
    size_t scores_stride;
} attention_job;

/* Turns each row of scores into attention weights: row r may see its first
 * n_visible[r] = first_visible + r keys, the rest of the row (width
 * columns) is set to 0 so that it drops out of the weighted sum. */
static void causal_softmax(float *scores, int n_rows, int width, int first_visible) {
    for (int r = 0; r < n_rows; r++) {
        float *row = scores + (size_t)r * width;
        int n_visible = first_visible + r;

        float max_score = row[0];
        for (int j = 1; j < n_visible; j++)
            max_score = row[j] > max_score ? row[j] : max_score;
        float sum = 0.0f;
        for (int j = 0; j < n_visible; j++) {
            row[j] = expf(row[j] - max_score);
            sum += row[j];
        }
        float inv_sum = 1.0f / sum;
        for (int j = 0; j < n_visible; j++)
            row[j] *= inv_sum;
        for (int j = n_visible; j < width; j++)
            row[j] = 0.0f;
    }
}

/* One task: a block of up to ATTENTION_BLOCK new rows of one sequence for
 * one query head. With P prefix positions and the block covering new rows
 * t0..t1-1, the scores are [block][P + t1]: the prefix keys come from the
 * prefix cache, the new keys from the packed k rows, and row t attends to keys
 * 0..P+t. Both products are sgemm calls with strided operands. */
static void attention_task(void *p, int task, int thread) {
    const attention_job *job = p;
    int block = task % job->n_blocks_max;
    int head = task / job->n_blocks_max % job->n_heads;
    int seq_index = task / job->n_blocks_max / job->n_heads;
    const chv_seq *seq = &job->batch->seqs[seq_index];

    int t0 = block * ATTENTION_BLOCK;
    if (t0 >= seq->n_tokens)
        return; /* this sequence has fewer blocks than the longest one */
    int t1 = t0 + ATTENTION_BLOCK < seq->n_tokens ? t0 + ATTENTION_BLOCK : seq->n_tokens;
    int n_rows = t1 - t0;
    int n_prefix = seq->prefix_len;
    int width = n_prefix + t1;

    int hd = job->head_dim;
    int q_dim = job->n_heads * hd;
    int kv_dim = job->n_kv_heads * hd;
    int kv_offset = head / (job->n_heads / job->n_kv_heads) * hd;
    int first_row = job->batch->seq_first_row[seq_index];
    float scale = 1.0f / sqrtf((float)hd);

    const float *query = job->q + (size_t)(first_row + t0) * q_dim + (size_t)head * hd;
    const float *new_keys = job->k + (size_t)first_row * kv_dim + kv_offset;
    const float *new_values = job->v + (size_t)first_row * kv_dim + kv_offset;
    float *out = job->out + (size_t)(first_row + t0) * q_dim + (size_t)head * hd;
    float *scores = job->scores + (size_t)thread * job->scores_stride;

    /* scores = scale * query · keys^T */
    if (n_prefix > 0) {
        const float *prefix_keys = chv_kv_keys(seq->prefix, job->layer, 0) + kv_offset;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_rows, n_prefix, hd, scale, query, q_dim, prefix_keys,
                    kv_dim, 0.0f, scores, width);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_rows, t1, hd, scale, query, q_dim, new_keys, kv_dim, 0.0f,
                scores + n_prefix, width);

    causal_softmax(scores, n_rows, width, n_prefix + t0 + 1);

    /* out = weights · values */
    float beta = 0.0f;
    if (n_prefix > 0) {
        const float *prefix_values = chv_kv_values(seq->prefix, job->layer, 0) + kv_offset;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_rows, hd, n_prefix, 1.0f, scores, width,
                    prefix_values, kv_dim, 0.0f, out, q_dim);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_rows, hd, t1, 1.0f, scores + n_prefix, width, new_values,
                kv_dim, beta, out, q_dim);
}

int chv_attention(chv_model *model, chv_batch *batch, int layer, const float *q, const float *k, const float *v,
                  int n_heads, int n_kv_heads, int head_dim, float *out, chv_error *err) {
    size_t max_keys = 1;
    int max_tokens = 1;
    for (int s = 0; s < batch->n_seqs; s++) {
        size_t n_keys = (size_t)batch->seqs[s].prefix_len + (size_t)batch->seqs[s].n_tokens;
        max_keys = n_keys > max_keys ? n_keys : max_keys;
        max_tokens = batch->seqs[s].n_tokens > max_tokens ? batch->seqs[s].n_tokens : max_tokens;
    }
    int n_threads = chv_pool_threads(model->pool);
    size_t stride = ATTENTION_BLOCK * max_keys;
    float *scores = chv_model_scratch(model, CHV_SCRATCH_SCORES, stride * (size_t)n_threads, err);
    if (scores == NULL)
        return -1;

    attention_job job = {batch, layer, q, k, v, out, n_heads, n_kv_heads, head_dim,
                         (max_tokens + ATTENTION_BLOCK - 1) / ATTENTION_BLOCK, scores, stride};
    int n_tasks = batch->n_seqs * n_heads * job.n_blocks_max;

    /* The pool threads each call sgemm on small blocks; OpenBLAS must not
     * start its own threads inside them, so it runs single-threaded until
     * the pool is done. */
    if (n_threads > 1)
        openblas_set_num_threads(1);
    chv_pool_run(model->pool, n_tasks, attention_task, &job);
    if (n_threads > 1)
        openblas_set_num_threads(n_threads);
    return 0;
}
