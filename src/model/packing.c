/* Packing the projection matrices for chv_gemm (gemm.h), once per model,
 * at its first forward call, so that loading a model for `cheval info`
 * stays a matter of milliseconds.
 *
 * The packed copies replace the float32 sources instead of adding to them.
 * A converted F16/BF16 copy is freed, and the pages of a mapped F32 tensor
 * are dropped from the process, so the resident size stays about the size
 * of the weights.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/gemm.h"
#include "model/internal.h"
#include "util/log.h"
#include "util/progress.h"

int chv_model_choose_matmul(chv_model *model, chv_error *err) {
    const char *choice = getenv("CHEVAL_GEMM");
    if (choice == NULL || choice[0] == '\0' || strcmp(choice, "auto") == 0) {
        model->use_packed = chv_gemm_supported();
        return 0;
    }
    if (strcmp(choice, "openblas") == 0) {
        model->use_packed = 0;
        return 0;
    }
    return chv_error_set(err,
                         "CHEVAL_GEMM is \"%s\", expected \"openblas\" (multiply with OpenBLAS) or \"auto\" "
                         "(cheval's packed kernel where the CPU has AVX-512 or AVX2); unset it for auto",
                         choice);
}

const char *chv_model_matmul(const chv_model *model) {
    return model->use_packed ? "packed" : "openblas";
}

typedef struct pack_job {
    chv_model *model;
    float **copies;
} pack_job;

/* Releases the float32 source of a packed matrix. A converted copy is
 * freed. Mapped pages are dropped from the process, which is safe because
 * the mapping is private and read-only: a later read of a page shared with
 * a neighbouring tensor faults it in again from the file. */
static void release_source(chv_model *model, int matrix, const float *source, size_t n_floats) {
    int converted = model->matrices[matrix].converted;
    if (converted >= 0) {
        free(model->converted[converted]);
        model->converted[converted] = NULL;
        return;
    }
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)source + page - 1) / page * page;
    uintptr_t end = ((uintptr_t)(source + n_floats)) / page * page;
    if (end > start)
        madvise((void *)start, end - start, MADV_DONTNEED);
}

/* Packs one matrix and releases its source at once, so that the process
 * never holds both forms of more than one matrix per thread. */
static void pack_task(void *p, int task, int thread) {
    (void)thread;
    const pack_job *job = p;
    const chv_matrix_slot *slot = &job->model->matrices[task];
    const float *source = *slot->dest;
    chv_gemm_pack_rows(source, slot->n_out, slot->n_in, 0, slot->n_out, job->copies[task]);
    *slot->dest = job->copies[task];
    release_source(job->model, task, source, (size_t)slot->n_out * (size_t)slot->n_in);
}

static int ensure_gemm_scratch(chv_model *model, chv_error *err) {
    for (int t = 0; t < model->n_threads; t++) {
        chv_workspace *ws = &model->workspaces[t];
        if (ws->gemm_scratch != NULL)
            continue;
        ws->gemm_scratch = aligned_alloc(64, CHV_GEMM_SCRATCH_FLOATS * sizeof(float));
        if (ws->gemm_scratch == NULL)
            return chv_error_set(err, "out of memory allocating the matrix-product scratch");
    }
    return 0;
}

int chv_model_pack(chv_model *model, chv_error *err) {
    if (model->packed)
        return ensure_gemm_scratch(model, err);
    if (model->n_matrices == 0 || !model->use_packed)
        return 0;

    float **copies = model->packed_copies;
    for (int i = 0; i < model->n_matrices; i++) {
        const chv_matrix_slot *slot = &model->matrices[i];
        size_t bytes = chv_gemm_packed_floats(slot->n_out, slot->n_in) * sizeof(float);
        copies[i] = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (copies[i] == NULL) {
            for (int j = 0; j <= i; j++) {
                free(copies[j]);
                copies[j] = NULL;
            }
            return chv_error_set(err, "out of memory packing the weights (%zu MB for one matrix)", bytes >> 20);
        }
    }
    if (ensure_gemm_scratch(model, err) != 0)
        return -1;

    /* Which matrices are converted copies, found before the tasks start
     * freeing them. */
    for (int i = 0; i < model->n_matrices; i++) {
        chv_matrix_slot *slot = &model->matrices[i];
        slot->converted = -1;
        for (int c = 0; c < model->n_converted; c++) {
            if (model->converted[c] == *slot->dest)
                slot->converted = c;
        }
    }

    size_t total = 0;
    for (int i = 0; i < model->n_matrices; i++)
        total += chv_gemm_packed_floats(model->matrices[i].n_out, model->matrices[i].n_in) * sizeof(float);
    double start = chv_now();
    pack_job job = {model, copies};
    chv_pool_run(model->pool, model->n_matrices, pack_task, &job);
    chv_log_debug("packed %d weight matrices (%zu MB) in %.2f s for the %s kernel", model->n_matrices, total >> 20,
                  chv_now() - start, chv_gemm_kernel());

    model->output = *model->output_slot;
    model->packed = 1;
    return 0;
}

void chv_embedding_row(const chv_model *model, const float *table, int row, float *out) {
    int hidden = model->hp.hidden_size;
    if (model->packed && table == model->output) {
        chv_gemm_unpack_row(table, hidden, row, out);
        return;
    }
    memcpy(out, table + (size_t)row * (size_t)hidden, (size_t)hidden * sizeof(float));
}
