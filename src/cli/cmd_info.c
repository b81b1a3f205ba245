/* cheval info: load a model folder (validating every tensor) and describe
 * it, as text or as one JSON object. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "model/model.h"
#include "util/fileio.h"

static void print_help(void) {
    printf("usage: cheval info --model DIR [--json]\n"
           "\n"
           "Loads the Hugging Face model folder DIR (config.json plus model.safetensors\n"
           "or a sharded model.safetensors.index.json), checks every tensor against\n"
           "config.json, and describes the model.\n"
           "\n"
           "options:\n"
           "  --model DIR   the model folder\n"
           "  --json        print one JSON object instead of text, with the keys:\n"
           "                model_dir, architecture, model_type, n_params, dtype,\n"
           "                max_position_embeddings, model_max_length, bos_token_id,\n"
           "                eos_token_id, n_layers, n_heads, n_kv_heads, head_dim,\n"
           "                hidden_size, intermediate_size, vocab_size, tied_embeddings,\n"
           "                matmul, sliding_window (absent values are null)\n"
           "  -h, --help    print this help\n"
           "\n"
           "exit status: 0 success, 1 the model cannot be loaded, 2 usage error\n");
}

/* Reads model_max_length from DIR/tokenizer_config.json. Returns 1 and sets
 * *out when the file gives a real limit. transformers writes int(1e30) when
 * a tokenizer has no limit, so values of 1e18 or more count as none. */
static int read_model_max_length(const char *dir, long *out) {
    char *path = chv_path_join(dir, "tokenizer_config.json");
    FILE *f = fopen(path, "rb");
    int found = 0;
    if (f != NULL) {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        char buf[4096];
        size_t n;
        while (mem != NULL && (n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, mem);
        if (mem != NULL)
            fclose(mem);
        fclose(f);

        cJSON *json = text != NULL ? cJSON_Parse(text) : NULL;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(json, "model_max_length");
        if (text != NULL && json == NULL)
            fprintf(stderr, "cheval info: warning: %s: invalid JSON; model_max_length not shown\n", path);
        if (cJSON_IsNumber(value) && value->valuedouble > 0 && value->valuedouble < 1e18) {
            *out = (long)value->valuedouble;
            found = 1;
        }
        cJSON_Delete(json);
        free(text);
    }
    free(path);
    return found;
}

/* "1,234,567" */
static void format_count(int64_t n, char *buf, size_t size) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)n);
    size_t used = 0;
    for (int i = 0; i < len && used + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[used++] = ',';
        buf[used++] = digits[i];
    }
    buf[used] = '\0';
}

static void print_text(const char *dir, const chv_model_info *info, int has_max_length, long model_max_length,
                       const char *matmul) {
    char params[48];
    format_count(info->n_params, params, sizeof params);

    printf("model folder       %s\n", dir);
    printf("architecture       %s (model_type %s)\n", info->architecture,
           info->model_type[0] ? info->model_type : "not given");
    printf("parameters         %s\n", params);
    printf("dtype              %s (computed in float32)\n", info->dtype);
    printf("matrix products    %s\n", strcmp(matmul, "packed") == 0
                                           ? "packed (the weights are packed at the first forward pass)"
                                           : "openblas");
    if (info->max_position_embeddings > 0)
        printf("max length         %ld (max_position_embeddings)\n", info->max_position_embeddings);
    else
        printf("max length         not given (max_position_embeddings)\n");
    if (has_max_length)
        printf("                   %ld (tokenizer model_max_length)\n", model_max_length);
    if (info->bos_token_id >= 0)
        printf("bos token id       %d\n", info->bos_token_id);
    else
        printf("bos token id       none\n");
    if (info->eos_token_id >= 0)
        printf("eos token id       %d\n", info->eos_token_id);
    else
        printf("eos token id       none\n");
    printf("layers             %d\n", info->n_layers);
    printf("attention heads    %d (kv heads %d, head_dim %d)\n", info->n_heads, info->n_kv_heads, info->head_dim);
    printf("hidden size        %d\n", info->hidden_size);
    printf("intermediate size  %d\n", info->intermediate_size);
    printf("vocab size         %d\n", info->vocab_size);
    printf("tied embeddings    %s\n", info->tied_embeddings ? "yes" : "no");
    if (info->sliding_window > 0)
        printf("sliding window     %ld\n", info->sliding_window);
}

static void add_optional_number(cJSON *obj, const char *key, int present, double value) {
    if (present)
        cJSON_AddNumberToObject(obj, key, value);
    else
        cJSON_AddNullToObject(obj, key);
}

static int print_json(const char *dir, const chv_model_info *info, int has_max_length, long model_max_length,
                      const char *matmul) {
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "model_dir", dir);
    cJSON_AddStringToObject(obj, "architecture", info->architecture);
    if (info->model_type[0])
        cJSON_AddStringToObject(obj, "model_type", info->model_type);
    else
        cJSON_AddNullToObject(obj, "model_type");
    cJSON_AddNumberToObject(obj, "n_params", (double)info->n_params);
    cJSON_AddStringToObject(obj, "dtype", info->dtype);
    add_optional_number(obj, "max_position_embeddings", info->max_position_embeddings > 0,
                        (double)info->max_position_embeddings);
    add_optional_number(obj, "model_max_length", has_max_length, (double)model_max_length);
    add_optional_number(obj, "bos_token_id", info->bos_token_id >= 0, info->bos_token_id);
    add_optional_number(obj, "eos_token_id", info->eos_token_id >= 0, info->eos_token_id);
    cJSON_AddNumberToObject(obj, "n_layers", info->n_layers);
    cJSON_AddNumberToObject(obj, "n_heads", info->n_heads);
    cJSON_AddNumberToObject(obj, "n_kv_heads", info->n_kv_heads);
    cJSON_AddNumberToObject(obj, "head_dim", info->head_dim);
    cJSON_AddNumberToObject(obj, "hidden_size", info->hidden_size);
    cJSON_AddNumberToObject(obj, "intermediate_size", info->intermediate_size);
    cJSON_AddNumberToObject(obj, "vocab_size", info->vocab_size);
    cJSON_AddBoolToObject(obj, "tied_embeddings", info->tied_embeddings);
    cJSON_AddStringToObject(obj, "matmul", matmul);
    add_optional_number(obj, "sliding_window", info->sliding_window > 0, (double)info->sliding_window);

    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (text == NULL) {
        fprintf(stderr, "cheval info: out of memory\n");
        return CHV_EXIT_FAILURE;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return CHV_EXIT_OK;
}

int cmd_info(int argc, char **argv) {
    const char *dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_help();
            return CHV_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--model") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "cheval info: --model needs a folder\n");
                return CHV_EXIT_USAGE;
            }
            dir = argv[++i];
        } else if (strncmp(argv[i], "--model=", 8) == 0) {
            dir = argv[i] + 8;
        } else {
            fprintf(stderr, "cheval info: unknown argument '%s' (see cheval info --help)\n", argv[i]);
            return CHV_EXIT_USAGE;
        }
    }
    if (dir == NULL || dir[0] == '\0') {
        fprintf(stderr, "cheval info: --model DIR is required (see cheval info --help)\n");
        return CHV_EXIT_USAGE;
    }

    chv_error err;
    chv_model *model = chv_model_load(dir, &err);
    if (model == NULL) {
        fprintf(stderr, "cheval info: %s\n", err.message);
        return CHV_EXIT_FAILURE;
    }

    long model_max_length = 0;
    int has_max_length = read_model_max_length(dir, &model_max_length);
    const chv_model_info *info = chv_model_get_info(model);
    int status = CHV_EXIT_OK;
    if (json)
        status = print_json(dir, info, has_max_length, model_max_length, chv_model_matmul(model));
    else
        print_text(dir, info, has_max_length, model_max_length, chv_model_matmul(model));
    chv_model_free(model);
    return status;
}
