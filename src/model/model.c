/* Loading a model folder: config.json, the safetensors files, and the
 * check of every tensor against what the architecture expects. Also the
 * small accessors of model.h (info, threads, KV caches). The forward pass
 * is in forward.c.
 */
#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/config.h"
#include "model/internal.h"
#include "util/fileio.h"

static chv_tensor_spec *add_spec(chv_tensor_list *list, const float **dest, int n_dims, int64_t d0, int64_t d1,
                                 const char *fmt, va_list ap) {
    if (list->n == list->capacity) {
        int capacity = list->capacity ? 2 * list->capacity : 64;
        chv_tensor_spec *items = realloc(list->items, (size_t)capacity * sizeof *items);
        if (items == NULL)
            return NULL;
        list->items = items;
        list->capacity = capacity;
    }
    chv_tensor_spec *spec = &list->items[list->n++];
    memset(spec, 0, sizeof *spec);
    vsnprintf(spec->name, sizeof spec->name, fmt, ap);
    spec->n_dims = n_dims;
    spec->shape[0] = d0;
    spec->shape[1] = d1;
    spec->dest = dest;
    return spec;
}

int chv_tensor_list_add(chv_tensor_list *list, const float **dest, int n_dims, int64_t d0, int64_t d1,
                        const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    chv_tensor_spec *spec = add_spec(list, dest, n_dims, d0, d1, fmt, ap);
    va_end(ap);
    return spec != NULL ? 0 : -1;
}

int chv_tensor_list_add_matrix(chv_tensor_list *list, const float **dest, int64_t n_out, int64_t n_in,
                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    chv_tensor_spec *spec = add_spec(list, dest, 2, n_out, n_in, fmt, ap);
    va_end(ap);
    if (spec == NULL)
        return -1;
    spec->matrix = 1;
    return 0;
}

float *chv_scratch(chv_workspace *ws, int slot, size_t n, chv_error *err) {
    if (n == 0)
        n = 1;
    if (ws->size[slot] < n) {
        free(ws->scratch[slot]);
        ws->scratch[slot] = malloc(n * sizeof(float));
        ws->size[slot] = ws->scratch[slot] != NULL ? n : 0;
        if (ws->scratch[slot] == NULL) {
            chv_error_set(err, "out of memory allocating %zu MB of forward-pass scratch", n * sizeof(float) >> 20);
            return NULL;
        }
    }
    return ws->scratch[slot];
}

static void free_workspaces(chv_model *model) {
    for (int t = 0; model->workspaces != NULL && t < model->n_threads; t++) {
        for (int s = 0; s < CHV_SCRATCH_COUNT; s++)
            free(model->workspaces[t].scratch[s]);
        free(model->workspaces[t].gemm_scratch);
    }
    free(model->workspaces);
    model->workspaces = NULL;
}

static char *read_text_file(const char *path, chv_error *err) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        chv_error_set(err, "%s: cannot open: %m", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    while (text != NULL) {
        len += fread(text + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        cap *= 2;
        char *bigger = realloc(text, cap);
        if (bigger == NULL) {
            free(text);
            text = NULL;
        } else {
            text = bigger;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (text == NULL || failed) {
        free(text);
        chv_error_set(err, "%s: read failed", path);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

/* Parses a JSON file. Returns NULL with err naming the file on failure. */
static cJSON *read_json_file(const char *path, chv_error *err) {
    char *text = read_text_file(path, err);
    if (text == NULL)
        return NULL;
    cJSON *json = cJSON_Parse(text);
    if (json == NULL) {
        const char *at = cJSON_GetErrorPtr();
        long offset = at != NULL && at >= text ? (long)(at - text) : 0;
        chv_error_set(err, "%s: invalid JSON near byte %ld", path, offset);
    }
    free(text);
    return json;
}

/* Opens model.safetensors, or the shards named by
 * model.safetensors.index.json. *source is the file to name when a tensor
 * is missing. */
static int open_weight_files(chv_model *model, char **source, chv_error *err) {
    char *single = chv_path_join(model->dir, "model.safetensors");
    if (chv_file_exists(single)) {
        model->files = calloc(1, sizeof *model->files);
        if (model->files == NULL) {
            free(single);
            return chv_error_set(err, "out of memory");
        }
        *source = single;
        if (chv_st_open(&model->files[0], single, err) != 0)
            return -1;
        model->n_files = 1;
        return 0;
    }
    free(single);

    char *index_path = chv_path_join(model->dir, "model.safetensors.index.json");
    *source = index_path;
    if (!chv_file_exists(index_path))
        return chv_error_set(err,
                             "%s: no model.safetensors or model.safetensors.index.json in this folder "
                             "(only safetensors checkpoints can be loaded)",
                             model->dir);
    cJSON *index = read_json_file(index_path, err);
    if (index == NULL)
        return -1;

    int rc = 0;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(index, "weight_map");
    int n_entries = cJSON_IsObject(map) ? cJSON_GetArraySize(map) : 0;
    if (!cJSON_IsObject(map)) {
        rc = chv_error_set(err, "%s: missing \"weight_map\" object", index_path);
        goto done;
    }
    model->files = calloc((size_t)(n_entries > 0 ? n_entries : 1), sizeof *model->files);
    if (model->files == NULL) {
        rc = chv_error_set(err, "out of memory");
        goto done;
    }

    /* Open each distinct shard once, then check that every tensor the map
     * lists is in the shard it names. */
    const cJSON *entry;
    cJSON_ArrayForEach(entry, map) {
        if (!cJSON_IsString(entry) || strchr(entry->valuestring, '/') != NULL) {
            rc = chv_error_set(err, "%s: weight_map entry for tensor '%s' is not a file name in this folder",
                               index_path, entry->string);
            goto done;
        }
        char *shard = chv_path_join(model->dir, entry->valuestring);
        int found = -1;
        for (int f = 0; f < model->n_files; f++) {
            if (strcmp(model->files[f].path, shard) == 0)
                found = f;
        }
        if (found < 0) {
            found = model->n_files;
            rc = chv_st_open(&model->files[found], shard, err);
            if (rc == 0)
                model->n_files++;
        }
        free(shard);
        if (rc != 0)
            goto done;
        if (chv_st_find(&model->files[found], entry->string) == NULL) {
            rc = chv_error_set(err, "%s: weight_map puts tensor '%s' in %s, but that file does not contain it",
                               index_path, entry->string, entry->valuestring);
            goto done;
        }
    }

done:
    cJSON_Delete(index);
    return rc;
}

static void format_shape(int n_dims, const int64_t *shape, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < n_dims && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Points *spec->dest at the tensor's float32 data: the mapping itself for
 * aligned F32 data, otherwise a converted copy that the model owns. */
static int bind_tensor(chv_model *model, const chv_tensor_spec *spec, const chv_st_tensor *t, chv_error *err) {
    if (t->dtype == CHV_DTYPE_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
        *spec->dest = (const float *)(const void *)t->data;
        return 0;
    }
    float *copy = malloc((size_t)(t->n_elements > 0 ? t->n_elements : 1) * sizeof(float));
    if (copy == NULL)
        return chv_error_set(err, "%s: out of memory converting tensor '%s' to float32", t->path, t->name);
    chv_dtype_to_f32(t->dtype, t->data, copy, (size_t)t->n_elements);
    model->converted[model->n_converted++] = copy;
    *spec->dest = copy;
    return 0;
}

static const chv_st_tensor *find_tensor(const chv_model *model, const char *name) {
    for (int f = 0; f < model->n_files; f++) {
        const chv_st_tensor *t = chv_st_find(&model->files[f], name);
        if (t != NULL)
            return t;
    }
    return NULL;
}

static const chv_tensor_spec *find_spec(const chv_tensor_list *expected, const char *name) {
    for (int i = 0; i < expected->n; i++) {
        if (strcmp(expected->items[i].name, name) == 0)
            return &expected->items[i];
    }
    return NULL;
}

/* Older checkpoints store the rotary inverse frequencies as a buffer;
 * they are recomputed from the config, so those tensors are skipped. */
static int is_ignored_buffer(const char *name) {
    const char *suffix = "rotary_emb.inv_freq";
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

/* Records the projection matrices for packing: the specs marked as
 * matrices, and the output matrix (the embedding table when tied). */
static int list_matrices(chv_model *model, const chv_tensor_list *expected, chv_error *err) {
    model->matrices = calloc((size_t)expected->n, sizeof *model->matrices);
    model->packed_copies = calloc((size_t)expected->n, sizeof *model->packed_copies);
    if (model->matrices == NULL || model->packed_copies == NULL)
        return chv_error_set(err, "out of memory");
    for (int i = 0; i < expected->n; i++) {
        const chv_tensor_spec *spec = &expected->items[i];
        if (spec->ignored || !(spec->matrix || spec->dest == model->output_slot))
            continue;
        chv_matrix_slot *slot = &model->matrices[model->n_matrices++];
        slot->dest = spec->dest;
        slot->n_out = (int)spec->shape[0];
        slot->n_in = (int)spec->shape[1];
    }
    return 0;
}

/* Checks every stored tensor against the expected list (names, shapes,
 * no duplicates across shards) and binds the expected ones. */
static int bind_tensors(chv_model *model, const chv_tensor_list *expected, const char *source,
                        const char *class_name, chv_error *err) {
    int total = 0;
    for (int f = 0; f < model->n_files; f++)
        total += model->files[f].n_tensors;
    model->converted = calloc((size_t)(total > 0 ? total : 1), sizeof *model->converted);
    if (model->converted == NULL)
        return chv_error_set(err, "out of memory");

    int64_t dtype_elements[3] = {0, 0, 0};
    for (int f = 0; f < model->n_files; f++) {
        const chv_st_file *file = &model->files[f];
        for (int i = 0; i < file->n_tensors; i++) {
            const chv_st_tensor *t = &file->tensors[i];
            if (find_tensor(model, t->name) != t)
                return chv_error_set(err, "%s: tensor '%s' is also stored in %s", t->path, t->name,
                                     find_tensor(model, t->name)->path);
            if (is_ignored_buffer(t->name))
                continue;
            const chv_tensor_spec *spec = find_spec(expected, t->name);
            if (spec == NULL)
                return chv_error_set(err,
                                     "%s: unexpected tensor '%s': %s with this config.json has no such weight "
                                     "(check num_hidden_layers and the bias settings)",
                                     t->path, t->name, class_name);

            int same = t->n_dims == spec->n_dims;
            for (int d = 0; same && d < spec->n_dims; d++)
                same = t->shape[d] == spec->shape[d];
            if (!same) {
                char want[64], got[128];
                format_shape(spec->n_dims, spec->shape, want, sizeof want);
                format_shape(t->n_dims, t->shape, got, sizeof got);
                return chv_error_set(err, "%s: tensor '%s' has shape %s, expected %s from config.json", t->path,
                                     t->name, got, want);
            }
            if (spec->ignored)
                continue;
            if (bind_tensor(model, spec, t, err) != 0)
                return -1;
            model->info.n_params += t->n_elements;
            dtype_elements[t->dtype] += t->n_elements;
        }
    }

    for (int i = 0; i < expected->n; i++) {
        const chv_tensor_spec *spec = &expected->items[i];
        if (spec->ignored || *spec->dest != NULL)
            continue;
        char want[64];
        format_shape(spec->n_dims, spec->shape, want, sizeof want);
        if (strcmp(spec->name, "lm_head.weight") == 0)
            return chv_error_set(err,
                                 "%s: missing tensor 'lm_head.weight' (expected shape %s); config.json has "
                                 "tie_word_embeddings false (the default), so the output matrix must be stored",
                                 source, want);
        return chv_error_set(err, "%s: missing tensor '%s' (expected shape %s)", source, spec->name, want);
    }

    chv_dtype common = CHV_DTYPE_F32;
    for (int d = 1; d < 3; d++) {
        if (dtype_elements[d] > dtype_elements[common])
            common = (chv_dtype)d;
    }
    snprintf(model->info.dtype, sizeof model->info.dtype, "%s", chv_dtype_name(common));
    return list_matrices(model, expected, err);
}

static int read_model_config(chv_model *model, const char **class_name_out, chv_error *err) {
    char *path = chv_path_join(model->dir, "config.json");
    cJSON *config = read_json_file(path, err);
    int rc = -1;
    if (config == NULL)
        goto done;

    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(config, "architectures");
    const cJSON *first = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
    if (!cJSON_IsString(first)) {
        chv_error_set(err, "%s: required field \"architectures\" is missing or not a list of class names", path);
        goto done;
    }
    model->arch = chv_arch_find(first->valuestring);
    if (model->arch == NULL) {
        char known[512];
        chv_arch_list(known, sizeof known);
        chv_error_set(err, "%s: architecture \"%s\" is not supported (supported: %s)", path, first->valuestring,
                      known);
        goto done;
    }
    snprintf(model->info.architecture, sizeof model->info.architecture, "%s", first->valuestring);
    *class_name_out = model->arch->class_names[0];
    for (const char *const *name = model->arch->class_names; *name != NULL; name++) {
        if (strcmp(*name, first->valuestring) == 0)
            *class_name_out = *name;
    }

    const cJSON *model_type = cJSON_GetObjectItemCaseSensitive(config, "model_type");
    if (cJSON_IsString(model_type))
        snprintf(model->info.model_type, sizeof model->info.model_type, "%s", model_type->valuestring);

    if (model->arch->read_config(config, path, *class_name_out, &model->hp, err) != 0)
        goto done;
    if (chv_config_token_id(config, path, "bos_token_id", &model->info.bos_token_id, err) != 0 ||
        chv_config_token_id(config, path, "eos_token_id", &model->info.eos_token_id, err) != 0)
        goto done;
    rc = 0;

done:
    cJSON_Delete(config);
    free(path);
    return rc;
}

static void fill_info(chv_model *model) {
    const chv_hparams *hp = &model->hp;
    chv_model_info *info = &model->info;
    info->vocab_size = hp->vocab_size;
    info->hidden_size = hp->hidden_size;
    info->intermediate_size = hp->intermediate_size;
    info->n_layers = hp->n_layers;
    info->n_heads = hp->n_heads;
    info->n_kv_heads = hp->n_kv_heads;
    info->head_dim = hp->head_dim;
    info->max_position_embeddings = hp->max_position_embeddings;
    info->sliding_window = hp->sliding_window;
    info->tied_embeddings = hp->tied_embeddings;
}

chv_model *chv_model_load(const char *dir, chv_error *err) {
    chv_model *model = calloc(1, sizeof *model);
    if (model == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    model->dir = strdup(dir);
    model->info.bos_token_id = -1;
    model->info.eos_token_id = -1;
    if (model->dir == NULL) {
        chv_error_set(err, "out of memory");
        goto fail;
    }
    if (chv_file_exists(dir)) {
        /* A common slip: passing model.safetensors instead of its folder. */
        chv_error_set(err, "%s is a file, not a model folder: --model takes the folder that holds "
                      "config.json and the .safetensors files", dir);
        goto fail;
    }
    if (!chv_dir_exists(dir)) {
        chv_error_set(err, "%s: model folder not found", dir);
        goto fail;
    }
    char *config_path = chv_path_join(dir, "config.json");
    int has_config = config_path != NULL && chv_file_exists(config_path);
    free(config_path);
    if (!has_config) {
        /* For example a tokenizer-only folder. */
        chv_error_set(err, "%s is not a Hugging Face model folder: config.json is missing (a model "
                      "folder holds config.json and model.safetensors or "
                      "model.safetensors.index.json)", dir);
        goto fail;
    }

    const char *class_name = NULL;
    if (chv_model_choose_matmul(model, err) != 0 || read_model_config(model, &class_name, err) != 0)
        goto fail;
    fill_info(model);

    chv_tensor_list expected = {0};
    const float **output = NULL;
    char *source = NULL;
    model->weights = model->arch->new_weights(&model->hp, &expected, &output, err);
    model->output_slot = output;
    int rc = model->weights == NULL ? -1 : open_weight_files(model, &source, err);
    if (rc == 0)
        rc = bind_tensors(model, &expected, source, class_name, err);
    free(expected.items);
    free(source);
    if (rc != 0)
        goto fail;
    model->output = *output;

    chv_model_set_threads(model, 0);
    if (model->pool == NULL) {
        chv_error_set(err, "cannot start the forward-pass threads");
        goto fail;
    }
    return model;

fail:
    chv_model_free(model);
    return NULL;
}

void chv_model_free(chv_model *model) {
    if (model == NULL)
        return;
    chv_pool_free(model->pool);
    if (model->arch != NULL && model->weights != NULL)
        model->arch->free_weights(model->weights);
    for (int i = 0; i < model->n_converted; i++)
        free(model->converted[i]);
    free(model->converted);
    for (int i = 0; i < model->n_matrices; i++)
        free(model->packed_copies[i]);
    free(model->packed_copies);
    free(model->matrices);
    for (int f = 0; f < model->n_files; f++)
        chv_st_close(&model->files[f]);
    free(model->files);
    free_workspaces(model);
    free(model->row_ints);
    free(model->slices);
    free(model->dir);
    free(model);
}

const chv_model_info *chv_model_get_info(const chv_model *model) {
    return &model->info;
}

void chv_model_set_threads(chv_model *model, int n) {
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    if (model->pool != NULL && n == model->n_threads)
        return;
    chv_pool_free(model->pool);
    free_workspaces(model);
    model->pool = chv_pool_new(n);
    if (model->pool == NULL) {
        /* A pool of one thread starts no threads, so only memory can fail. */
        n = 1;
        model->pool = chv_pool_new(1);
    }
    model->workspaces = calloc((size_t)n, sizeof *model->workspaces);
    if (model->workspaces == NULL) {
        chv_pool_free(model->pool);
        model->pool = NULL;
    }
    model->n_threads = model->pool != NULL ? n : 0;
    /* The pool does all the threading; OpenBLAS runs single-threaded inside
     * its tasks, so that an sgemm call gives the same result whatever the
     * thread count. (The setting is global to the process.) */
    openblas_set_num_threads(1);
}

chv_kv *chv_kv_new(const chv_model *model, int capacity, chv_error *err) {
    if (capacity <= 0) {
        chv_error_set(err, "KV cache capacity must be positive (got %d)", capacity);
        return NULL;
    }
    chv_kv *kv = calloc(1, sizeof *kv);
    if (kv == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    kv->n_layers = model->hp.n_layers;
    kv->capacity = capacity;
    kv->kv_dim = model->hp.n_kv_heads * model->hp.head_dim;
    size_t n = (size_t)kv->n_layers * (size_t)capacity * (size_t)kv->kv_dim;
    kv->k = malloc(n * sizeof(float));
    kv->v = malloc(n * sizeof(float));
    if (kv->k == NULL || kv->v == NULL) {
        chv_kv_free(kv);
        chv_error_set(err, "out of memory allocating a KV cache of %d positions (%zu MB)", capacity,
                      2 * n * sizeof(float) >> 20);
        return NULL;
    }
    return kv;
}

void chv_kv_free(chv_kv *kv) {
    if (kv == NULL)
        return;
    free(kv->k);
    free(kv->v);
    free(kv);
}

int chv_kv_length(const chv_kv *kv) {
    return kv->length;
}

int chv_kv_capacity(const chv_kv *kv) {
    return kv->capacity;
}

void chv_kv_truncate(chv_kv *kv, int length) {
    if (length >= 0 && length < kv->length)
        kv->length = length;
}
