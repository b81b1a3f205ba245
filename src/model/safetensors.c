#include "model/safetensors.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The header is JSON text, so a length above this is a corrupt file, not a
 * real header (the safetensors format itself caps it at 100 MB). */
#define MAX_HEADER_BYTES (100u * 1024 * 1024)

const char *chv_dtype_name(chv_dtype dtype) {
    switch (dtype) {
    case CHV_DTYPE_F32:
        return "F32";
    case CHV_DTYPE_F16:
        return "F16";
    case CHV_DTYPE_BF16:
        return "BF16";
    }
    return "?";
}

size_t chv_dtype_size(chv_dtype dtype) {
    return dtype == CHV_DTYPE_F32 ? 4 : 2;
}

static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;

    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13); /* inf or NaN */
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13); /* normal: rebias 15 -> 127 */
    } else if (mantissa == 0) {
        bits = sign; /* signed zero */
    } else {
        /* Subnormal: shift the mantissa up until its leading 1 is implicit. */
        exponent = 113;
        while ((mantissa & 0x400) == 0) {
            mantissa <<= 1;
            exponent--;
        }
        bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
    }

    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void chv_dtype_to_f32(chv_dtype dtype, const void *src, float *dst, size_t n) {
    const uint8_t *bytes = src;
    for (size_t i = 0; i < n; i++) {
        if (dtype == CHV_DTYPE_F32) {
            uint32_t bits = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 |
                            (uint32_t)bytes[4 * i + 2] << 16 | (uint32_t)bytes[4 * i + 3] << 24;
            memcpy(&dst[i], &bits, sizeof bits);
        } else {
            uint16_t half = (uint16_t)(bytes[2 * i] | bytes[2 * i + 1] << 8);
            if (dtype == CHV_DTYPE_F16) {
                dst[i] = f16_to_f32(half);
            } else {
                /* BF16 is the top half of an F32. */
                uint32_t bits = (uint32_t)half << 16;
                memcpy(&dst[i], &bits, sizeof bits);
            }
        }
    }
}

/* Maps a safetensors dtype name to chv_dtype. Returns -1 for a dtype that
 * the format defines but cheval does not compute with. */
static int parse_dtype(const char *name, chv_dtype *dtype) {
    if (strcmp(name, "F32") == 0)
        *dtype = CHV_DTYPE_F32;
    else if (strcmp(name, "F16") == 0)
        *dtype = CHV_DTYPE_F16;
    else if (strcmp(name, "BF16") == 0)
        *dtype = CHV_DTYPE_BF16;
    else
        return -1;
    return 0;
}

static int read_u64_le(const uint8_t *p, uint64_t *out) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    *out = v;
    return 0;
}

/* Reads a JSON number that must be a non-negative integer below 2^53. */
static int json_uint(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item))
        return -1;
    double d = item->valuedouble;
    if (d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

static void format_shape(const chv_st_tensor *t, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->n_dims && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Parses one header entry into t, checking it against the data section of
 * data_size bytes. Returns -1 with err filled. */
static int parse_entry(const cJSON *entry, const char *path, const uint8_t *data, uint64_t data_size,
                       chv_st_tensor *t, chv_error *err) {
    const char *name = entry->string;

    if (!cJSON_IsObject(entry))
        return chv_error_set(err, "%s: tensor '%s': header entry is not a JSON object", path, name);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype))
        return chv_error_set(err, "%s: tensor '%s': missing or invalid \"dtype\" in the header", path, name);
    if (!cJSON_IsArray(shape))
        return chv_error_set(err, "%s: tensor '%s': missing or invalid \"shape\" in the header", path, name);
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return chv_error_set(err, "%s: tensor '%s': \"data_offsets\" must be an array of two byte offsets",
                             path, name);

    if (parse_dtype(dtype->valuestring, &t->dtype) != 0)
        return chv_error_set(err,
                             "%s: tensor '%s' has unsupported dtype %s (supported: F32, F16, BF16); "
                             "convert the checkpoint to one of those",
                             path, name, dtype->valuestring);

    int n_dims = cJSON_GetArraySize(shape);
    if (n_dims > CHV_ST_MAX_DIMS)
        return chv_error_set(err, "%s: tensor '%s' has %d dimensions (at most %d are supported)", path, name,
                             n_dims, CHV_ST_MAX_DIMS);
    t->n_dims = n_dims;
    t->n_elements = 1;
    for (int d = 0; d < n_dims; d++) {
        uint64_t dim;
        if (json_uint(cJSON_GetArrayItem(shape, d), &dim) != 0 || dim > (1ull << 40))
            return chv_error_set(err, "%s: tensor '%s': shape entry %d is not a valid dimension", path, name, d);
        t->shape[d] = (int64_t)dim;
        t->n_elements *= (int64_t)dim;
        if (t->n_elements > (int64_t)1 << 40)
            return chv_error_set(err, "%s: tensor '%s': shape is too large", path, name);
    }

    uint64_t begin, end;
    if (json_uint(cJSON_GetArrayItem(offsets, 0), &begin) != 0 ||
        json_uint(cJSON_GetArrayItem(offsets, 1), &end) != 0 || begin > end)
        return chv_error_set(err, "%s: tensor '%s': data_offsets must be two integers with begin <= end", path,
                             name);
    if (end > data_size)
        return chv_error_set(err,
                             "%s: tensor '%s': data_offsets [%llu, %llu] point past the end of the data "
                             "section (%llu bytes); the file is truncated or its header is corrupt",
                             path, name, (unsigned long long)begin, (unsigned long long)end,
                             (unsigned long long)data_size);

    size_t elem = chv_dtype_size(t->dtype);
    uint64_t expected = (uint64_t)t->n_elements * elem;
    if (end - begin != expected) {
        char dims[128];
        format_shape(t, dims, sizeof dims);
        return chv_error_set(err,
                             "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but shape %s "
                             "of %s needs %llu bytes",
                             path, name, (unsigned long long)begin, (unsigned long long)end,
                             (unsigned long long)(end - begin), dims, dtype->valuestring,
                             (unsigned long long)expected);
    }
    if (begin % elem != 0)
        return chv_error_set(err,
                             "%s: tensor '%s': data offset %llu is not a multiple of the %s element size "
                             "(%zu bytes)",
                             path, name, (unsigned long long)begin, dtype->valuestring, elem);

    t->name = strdup(name);
    if (t->name == NULL)
        return chv_error_set(err, "%s: out of memory", path);
    t->data = data + begin;
    t->n_bytes = (size_t)expected;
    t->path = path;
    return 0;
}

static int compare_by_offset(const void *a, const void *b) {
    const chv_st_tensor *x = *(const chv_st_tensor *const *)a;
    const chv_st_tensor *y = *(const chv_st_tensor *const *)b;
    if (x->data != y->data)
        return x->data < y->data ? -1 : 1;
    return x->n_bytes < y->n_bytes ? -1 : x->n_bytes > y->n_bytes;
}

/* Rejects two tensors whose byte ranges share a byte. */
static int check_overlaps(chv_st_file *file, chv_error *err) {
    if (file->n_tensors < 2)
        return 0;
    chv_st_tensor **order = malloc((size_t)file->n_tensors * sizeof *order);
    if (order == NULL)
        return chv_error_set(err, "%s: out of memory", file->path);
    for (int i = 0; i < file->n_tensors; i++)
        order[i] = &file->tensors[i];
    qsort(order, (size_t)file->n_tensors, sizeof *order, compare_by_offset);

    int rc = 0;
    for (int i = 1; i < file->n_tensors; i++) {
        const chv_st_tensor *prev = order[i - 1], *cur = order[i];
        if (prev->n_bytes > 0 && cur->n_bytes > 0 && cur->data < prev->data + prev->n_bytes) {
            rc = chv_error_set(err, "%s: tensors '%s' and '%s' have overlapping byte ranges; the header is corrupt",
                               file->path, prev->name, cur->name);
            break;
        }
    }
    free(order);
    return rc;
}

static int parse_header(chv_st_file *file, const char *text, size_t len, const uint8_t *data,
                        uint64_t data_size, chv_error *err) {
    const char *end = NULL;
    cJSON *header = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (header == NULL) {
        size_t at = cJSON_GetErrorPtr() != NULL && cJSON_GetErrorPtr() >= text ? (size_t)(cJSON_GetErrorPtr() - text)
                                                                                : 0;
        return chv_error_set(err, "%s: invalid JSON in the safetensors header near byte %zu", file->path, 8 + at);
    }
    /* The format allows trailing spaces as padding, and nothing else. */
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\0') {
            cJSON_Delete(header);
            return chv_error_set(err, "%s: invalid JSON in the safetensors header: unexpected text after it",
                                 file->path);
        }
    }
    if (!cJSON_IsObject(header)) {
        cJSON_Delete(header);
        return chv_error_set(err, "%s: the safetensors header is not a JSON object", file->path);
    }

    int n = cJSON_GetArraySize(header);
    file->tensors = calloc((size_t)(n > 0 ? n : 1), sizeof *file->tensors);
    if (file->tensors == NULL) {
        cJSON_Delete(header);
        return chv_error_set(err, "%s: out of memory", file->path);
    }

    int rc = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, header) {
        if (strcmp(entry->string, "__metadata__") == 0)
            continue;
        if (chv_st_find(file, entry->string) != NULL) {
            rc = chv_error_set(err, "%s: tensor '%s' appears twice in the header", file->path, entry->string);
            break;
        }
        rc = parse_entry(entry, file->path, data, data_size, &file->tensors[file->n_tensors], err);
        if (rc != 0)
            break;
        file->n_tensors++;
    }
    cJSON_Delete(header);
    if (rc != 0)
        return rc;
    return check_overlaps(file, err);
}

int chv_st_open(chv_st_file *file, const char *path, chv_error *err) {
    memset(file, 0, sizeof *file);
    file->path = strdup(path);
    if (file->path == NULL)
        return chv_error_set(err, "%s: out of memory", path);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        chv_error_set(err, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        chv_error_set(err, "%s: not a regular file", path);
        close(fd);
        goto fail;
    }
    if (st.st_size < 8) {
        chv_error_set(err, "%s: file is %lld bytes, too short for a safetensors header; it is truncated", path,
                      (long long)st.st_size);
        close(fd);
        goto fail;
    }
    file->map_size = (size_t)st.st_size;
    file->map = mmap(NULL, file->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file->map == MAP_FAILED) {
        file->map = NULL;
        chv_error_set(err, "%s: mmap failed: %s", path, strerror(errno));
        goto fail;
    }

    const uint8_t *bytes = file->map;
    uint64_t header_len;
    read_u64_le(bytes, &header_len);
    if (header_len > file->map_size - 8) {
        chv_error_set(err,
                      "%s: header length %llu is larger than the rest of the file (%zu bytes); the file is "
                      "truncated or not a safetensors file",
                      path, (unsigned long long)header_len, file->map_size - 8);
        goto fail;
    }
    if (header_len > MAX_HEADER_BYTES) {
        chv_error_set(err, "%s: header length %llu is over the 100 MB limit; not a safetensors file", path,
                      (unsigned long long)header_len);
        goto fail;
    }

    const uint8_t *data = bytes + 8 + header_len;
    uint64_t data_size = file->map_size - 8 - header_len;
    if (parse_header(file, (const char *)bytes + 8, (size_t)header_len, data, data_size, err) != 0)
        goto fail;
    return 0;

fail:
    chv_st_close(file);
    return -1;
}

void chv_st_close(chv_st_file *file) {
    if (file->map != NULL)
        munmap(file->map, file->map_size);
    for (int i = 0; i < file->n_tensors; i++)
        free(file->tensors[i].name);
    free(file->tensors);
    free(file->path);
    memset(file, 0, sizeof *file);
}

const chv_st_tensor *chv_st_find(const chv_st_file *file, const char *name) {
    for (int i = 0; i < file->n_tensors; i++) {
        if (strcmp(file->tensors[i].name, name) == 0)
            return &file->tensors[i];
    }
    return NULL;
}
