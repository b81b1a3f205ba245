/* Reading safetensors files: an 8-byte little-endian header length, a JSON
 * header that maps tensor names to dtype, shape and data_offsets, then the
 * raw tensor data. The file is mmapped read-only, and every entry is checked
 * before it is used: a supported dtype, a byte range inside the data
 * section that matches the shape, aligned to the element size and not
 * overlapping another tensor. The "__metadata__" entry is ignored.
 */
#ifndef CHEVAL_MODEL_SAFETENSORS_H
#define CHEVAL_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum { CHV_DTYPE_F32 = 0, CHV_DTYPE_F16, CHV_DTYPE_BF16 } chv_dtype;

#define CHV_ST_MAX_DIMS 8

typedef struct chv_st_tensor {
    char *name;
    chv_dtype dtype;
    int n_dims;
    int64_t shape[CHV_ST_MAX_DIMS];
    int64_t n_elements;
    const uint8_t *data; /* inside the mapping; n_bytes long */
    size_t n_bytes;
    const char *path; /* the file it lives in (owned by its chv_st_file) */
} chv_st_tensor;

typedef struct chv_st_file {
    char *path;
    void *map;
    size_t map_size;
    chv_st_tensor *tensors; /* in header order */
    int n_tensors;
} chv_st_file;

/* Maps and validates the file at path into file. Returns 0, or -1 with err
 * naming the file and the tensor at fault; file is then left empty. */
int chv_st_open(chv_st_file *file, const char *path, chv_error *err);

/* Unmaps the file and frees its table. Safe on an empty or failed file. */
void chv_st_close(chv_st_file *file);

/* Returns the tensor named name, or NULL. */
const chv_st_tensor *chv_st_find(const chv_st_file *file, const char *name);

/* "F32", "F16" or "BF16". */
const char *chv_dtype_name(chv_dtype dtype);

/* Bytes per element. */
size_t chv_dtype_size(chv_dtype dtype);

/* Converts n elements from src (stored as dtype, little-endian) to float. */
void chv_dtype_to_f32(chv_dtype dtype, const void *src, float *dst, size_t n);

#endif
