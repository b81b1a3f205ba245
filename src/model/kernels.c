#include "model/kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "model/gemm.h"
#include "model/vecmath.h"

/* Rows per sgemm call on the OpenBLAS path. Longer inputs (a single
 * sequence of more rows than a slice) are cut into blocks of this many
 * rows, which the pool can run side by side. The cut does not depend on
 * the thread count, and OpenBLAS always runs single-threaded, so each row
 * gets the same sgemm call with 1 or N threads. */
#define LINEAR_ROWS 256

typedef struct linear_job {
    const chv_model *model;
    const float *x;
    int n_rows, n_in;
    const float *w, *bias;
    int n_out;
    float *y;
    int n_parts; /* packed path: the output panels are cut into this many parts */
} linear_job;

static void add_bias(float *y, int n_rows, int n_out, const float *bias, int col0, int col1) {
    for (int r = 0; r < n_rows; r++) {
        float *row = y + (size_t)r * (size_t)n_out;
        for (int j = col0; j < col1; j++)
            row[j] += bias[j];
    }
}

static void linear_task(void *p, int task, int thread) {
    (void)thread;
    const linear_job *job = p;
    int r0 = task * LINEAR_ROWS;
    int n = job->n_rows - r0 < LINEAR_ROWS ? job->n_rows - r0 : LINEAR_ROWS;
    const float *x = job->x + (size_t)r0 * (size_t)job->n_in;
    float *y = job->y + (size_t)r0 * (size_t)job->n_out;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, job->n_out, job->n_in, 1.0f, x, job->n_in, job->w,
                job->n_in, 0.0f, y, job->n_out);
    if (job->bias != NULL)
        add_bias(y, n, job->n_out, job->bias, 0, job->n_out);
}

/* Packed path: task t computes every row for the t-th part of the output
 * panels. chv_gemm gives each output the same value however the panels
 * are cut, so the part count may follow the thread count. */
static void packed_task(void *p, int task, int thread) {
    const linear_job *job = p;
    int n_panels = chv_gemm_panels(job->n_out);
    int panel0 = (int)((long)n_panels * task / job->n_parts);
    int panel1 = (int)((long)n_panels * (task + 1) / job->n_parts);
    if (panel0 == panel1)
        return;

    chv_gemm(job->x, job->n_rows, job->n_in, job->w, job->n_out, panel0, panel1, job->y,
             job->model->workspaces[thread].gemm_scratch);
    if (job->bias == NULL)
        return;
    int col1 = panel1 * CHV_GEMM_PANEL < job->n_out ? panel1 * CHV_GEMM_PANEL : job->n_out;
    add_bias(job->y, job->n_rows, job->n_out, job->bias, panel0 * CHV_GEMM_PANEL, col1);
}

void chv_linear(const chv_batch *batch, const float *x, int n_rows, int n_in, const float *w, const float *bias,
                int n_out, float *y) {
    chv_model *model = batch->model;
    linear_job job = {model, x, n_rows, n_in, w, bias, n_out, y, 1};

    if (model->packed) {
        /* An unthreaded batch runs on one pool thread beside other slices,
         * so it uses that thread's scratch. */
        if (!batch->threaded) {
            chv_gemm(x, n_rows, n_in, w, n_out, 0, chv_gemm_panels(n_out), y, batch->ws->gemm_scratch);
            if (bias != NULL)
                add_bias(y, n_rows, n_out, bias, 0, n_out);
            return;
        }
        job.n_parts = model->n_threads;
        chv_pool_run(model->pool, job.n_parts, packed_task, &job);
        return;
    }

    int n_tasks = (n_rows + LINEAR_ROWS - 1) / LINEAR_ROWS;
    if (!batch->threaded) {
        for (int t = 0; t < n_tasks; t++)
            linear_task(&job, t, 0);
        return;
    }
    chv_pool_run(model->pool, n_tasks, linear_task, &job);
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

void chv_rmsnorm_rows(const chv_batch *batch, float *out, const float *x, int n_rows, int width, const float *weight,
                      float eps) {
    rmsnorm_job job = {out, x, n_rows, width, weight, eps};
    int n_tasks = (n_rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    if (!batch->threaded || (size_t)n_rows * (size_t)width < MIN_PARALLEL_VALUES) {
        for (int t = 0; t < n_tasks; t++)
            rmsnorm_task(&job, t, 0);
        return;
    }
    chv_pool_run(batch->model->pool, n_tasks, rmsnorm_task, &job);
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
    chv_swiglu_values(gate, up, n);
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

/* Query rows per attention task. A task also copies the keys it reads
 * into its scratch once, so larger blocks amortize that copy. */
#define ATTENTION_BLOCK 64

typedef struct attention_job {
    chv_batch *batch;
    int layer;
    const float *q, *k, *v;
    float *out;
    int n_heads, n_kv_heads, head_dim;
    int n_blocks_max;  /* query blocks per (sequence, key/value head) */
    float *scratch;    /* [n_threads][scratch_stride] */
    size_t scratch_stride;
    size_t max_keys;
} attention_job;

/* One task: the rows t0..t1-1 of one sequence, for every query head that
 * shares key/value head kv_head. With P prefix positions, row t attends to
 * keys 0..P+t: the first P from the prefix cache, the others from the packed
 * k rows of this call.
 *
 * The keys are first copied transposed, keys_t[d][j], so that the scores of
 * one query are a vector loop over j, and the values side by side,
 * values[j][d], so that the weighted sum is one loop over j. Each row then takes its scores, their
 * softmax (max shift, exp, sum) and the weighted sum of the values, and
 * divides by the sum at the end. Every row is computed the same way
 * whatever block or thread it falls in. */
static void attention_task(void *p, int task, int thread) {
    const attention_job *job = p;
    int block = task % job->n_blocks_max;
    int kv_head = task / job->n_blocks_max % job->n_kv_heads;
    int seq_index = task / job->n_blocks_max / job->n_kv_heads;
    const chv_seq *seq = &job->batch->seqs[seq_index];

    int t0 = block * ATTENTION_BLOCK;
    if (t0 >= seq->n_tokens)
        return; /* this sequence has fewer blocks than the longest one */
    int t1 = t0 + ATTENTION_BLOCK < seq->n_tokens ? t0 + ATTENTION_BLOCK : seq->n_tokens;
    int n_prefix = seq->prefix_len;
    int n_keys = n_prefix + t1;

    int hd = job->head_dim;
    int q_dim = job->n_heads * hd;
    int kv_dim = job->n_kv_heads * hd;
    int group = job->n_heads / job->n_kv_heads;
    int kv_offset = kv_head * hd;
    int first_row = job->batch->seq_first_row[seq_index];
    float scale = 1.0f / sqrtf((float)hd);

    const float *new_keys = job->k + (size_t)first_row * kv_dim + kv_offset;
    const float *new_values = job->v + (size_t)first_row * kv_dim + kv_offset;
    const float *prefix_keys = NULL, *prefix_values = NULL;
    if (n_prefix > 0) {
        prefix_keys = chv_kv_keys(seq->prefix, job->layer, 0) + kv_offset;
        prefix_values = chv_kv_values(seq->prefix, job->layer, 0) + kv_offset;
    }

    size_t stride = job->max_keys;
    float *keys_t = job->scratch + (size_t)thread * job->scratch_stride; /* [hd][max_keys] */
    float *values = keys_t + (size_t)hd * stride;                       /* [max_keys][hd] */
    float *scores = values + (size_t)hd * stride;                       /* [max_keys] */
    float *query = scores + stride;                                     /* [hd] */
    for (int j = 0; j < n_keys; j++) {
        int from_prefix = j < n_prefix;
        size_t at = (size_t)(from_prefix ? j : j - n_prefix) * (size_t)kv_dim;
        const float *key = (from_prefix ? prefix_keys : new_keys) + at;
        const float *value = (from_prefix ? prefix_values : new_values) + at;
        for (int d = 0; d < hd; d++)
            keys_t[(size_t)d * stride + j] = key[d];
        memcpy(values + (size_t)j * hd, value, (size_t)hd * sizeof(float));
    }

    for (int t = t0; t < t1; t++) {
        int n_visible = n_prefix + t + 1;
        for (int h = kv_head * group; h < (kv_head + 1) * group; h++) {
            const float *q_row = job->q + (size_t)(first_row + t) * q_dim + (size_t)h * hd;
            float *out = job->out + (size_t)(first_row + t) * q_dim + (size_t)h * hd;
            for (int d = 0; d < hd; d++)
                query[d] = q_row[d] * scale;

            chv_dot_keys(scores, query, keys_t, hd, stride, n_visible);
            float max_score = chv_max(scores, n_visible);
            float sum = chv_exp_sum(scores, n_visible, max_score);

            chv_weighted_sum(out, scores, values, n_visible, hd);
            float inv_sum = 1.0f / sum;
            for (int d = 0; d < hd; d++)
                out[d] *= inv_sum;
        }
    }
}

int chv_attention(chv_batch *batch, int layer, const float *q, const float *k, const float *v, int n_heads,
                  int n_kv_heads, int head_dim, float *out, chv_error *err) {
    size_t max_keys = 1;
    int max_tokens = 1;
    for (int s = 0; s < batch->n_seqs; s++) {
        size_t n_keys = (size_t)batch->seqs[s].prefix_len + (size_t)batch->seqs[s].n_tokens;
        max_keys = n_keys > max_keys ? n_keys : max_keys;
        max_tokens = batch->seqs[s].n_tokens > max_tokens ? batch->seqs[s].n_tokens : max_tokens;
    }
    int n_threads = batch->threaded ? chv_pool_threads(batch->model->pool) : 1;
    size_t stride = (2 * (size_t)head_dim + 1) * max_keys + (size_t)head_dim;
    float *scratch = chv_scratch(batch->ws, CHV_SCRATCH_ATTENTION, stride * (size_t)n_threads, err);
    if (scratch == NULL)
        return -1;

    attention_job job = {batch,    layer, q,     k,         v, out, n_heads, n_kv_heads, head_dim,
                         (max_tokens + ATTENTION_BLOCK - 1) / ATTENTION_BLOCK, scratch, stride, max_keys};
    int n_tasks = batch->n_seqs * n_kv_heads * job.n_blocks_max;
    if (!batch->threaded) {
        for (int task = 0; task < n_tasks; task++)
            attention_task(&job, task, 0);
        return 0;
    }
    chv_pool_run(batch->model->pool, n_tasks, attention_task, &job);
    return 0;
}
