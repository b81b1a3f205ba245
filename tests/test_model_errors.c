/* Bad model folders. Each case copies a tiny fixture into a temp folder and
 * breaks one thing (the safetensors header, the data, config.json). Loading
 * must then fail with a message that names the file and the tensor or
 * field, both through chv_model_load and through `cheval info` (exit
 * status 1). */
#include <check.h>
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "support/testutil.h"
#include "util/fileio.h"

#define FIXTURES "tests/fixtures/model/"

/* A safetensors file split into its parsed header and its data section. */
typedef struct st_blob {
    cJSON *header;
    unsigned char *data;
    size_t data_len;
} st_blob;

static unsigned char *read_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc(*len + 1);
    ck_assert_uint_eq(fread(bytes, 1, *len, f), *len);
    fclose(f);
    return bytes;
}

static void write_bytes(const char *path, const void *bytes, size_t len) {
    ck_assert_int_eq(test_write_file(path, bytes, len), 0);
}

static st_blob st_read(const char *path) {
    size_t len;
    unsigned char *bytes = read_bytes(path, &len);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--)
        header_len = header_len << 8 | bytes[i];
    st_blob blob;
    blob.header = cJSON_ParseWithLength((const char *)bytes + 8, (size_t)header_len);
    ck_assert_ptr_nonnull(blob.header);
    blob.data_len = len - 8 - (size_t)header_len;
    blob.data = malloc(blob.data_len + 1);
    memcpy(blob.data, bytes + 8 + header_len, blob.data_len);
    free(bytes);
    return blob;
}

/* Writes the blob back with its header padded to a multiple of 8 bytes. */
static void st_write(const char *path, st_blob *blob) {
    char *text = cJSON_PrintUnformatted(blob->header);
    size_t text_len = strlen(text);
    size_t padded = (text_len + 7) / 8 * 8;
    size_t total = 8 + padded + blob->data_len;
    unsigned char *bytes = malloc(total);
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(bytes + 8, text, text_len);
    memset(bytes + 8 + text_len, ' ', padded - text_len);
    memcpy(bytes + 8 + padded, blob->data, blob->data_len);
    write_bytes(path, bytes, total);
    free(bytes);
    free(text);
    cJSON_Delete(blob->header);
    free(blob->data);
}

static cJSON *st_entry(st_blob *blob, const char *name) {
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(blob->header, name);
    ck_assert_msg(entry != NULL, "no tensor %s in the fixture", name);
    return entry;
}

static void set_offsets(cJSON *entry, double begin, double end) {
    cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    cJSON_SetNumberValue(cJSON_GetArrayItem(offsets, 0), begin);
    cJSON_SetNumberValue(cJSON_GetArrayItem(offsets, 1), end);
}

static double offset_of(cJSON *entry, int which) {
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(entry, "data_offsets"), which)->valuedouble;
}

static void edit_config(const char *dir, void (*edit)(cJSON *config)) {
    char *path = chv_path_join(dir, "config.json");
    size_t len;
    char *text = (char *)read_bytes(path, &len);
    text[len] = '\0';
    cJSON *config = cJSON_Parse(text);
    ck_assert_ptr_nonnull(config);
    edit(config);
    char *out = cJSON_Print(config);
    write_bytes(path, out, strlen(out));
    cJSON_free(out);
    cJSON_Delete(config);
    free(text);
    free(path);
}

/* ---- the corruptions; each gets the folder and its safetensors path ---- */

#define Q0 "model.layers.0.self_attn.q_proj.weight"
#define K1 "model.layers.1.self_attn.k_proj.weight"

static void truncate_file(const char *dir, const char *st) {
    (void)dir;
    size_t len;
    unsigned char *bytes = read_bytes(st, &len);
    write_bytes(st, bytes, len - 100);
    free(bytes);
}

static void truncate_to_header(const char *dir, const char *st) {
    (void)dir;
    size_t len;
    unsigned char *bytes = read_bytes(st, &len);
    write_bytes(st, bytes, 5);
    free(bytes);
}

static void huge_header_length(const char *dir, const char *st) {
    (void)dir;
    size_t len;
    unsigned char *bytes = read_bytes(st, &len);
    memset(bytes, 0, 8);
    bytes[3] = 0x10; /* 256 MB */
    write_bytes(st, bytes, len);
    free(bytes);
}

static void invalid_header_json(const char *dir, const char *st) {
    (void)dir;
    size_t len;
    unsigned char *bytes = read_bytes(st, &len);
    bytes[8] = 'x'; /* the header's opening brace */
    write_bytes(st, bytes, len);
    free(bytes);
}

static void shape_changed(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    /* Same element count, so the byte range still fits: [16, 16] -> [8, 32]. */
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(st_entry(&blob, Q0), "shape");
    cJSON_SetNumberValue(cJSON_GetArrayItem(shape, 0), 8);
    cJSON_SetNumberValue(cJSON_GetArrayItem(shape, 1), 32);
    st_write(st, &blob);
}

static void shape_disagrees_with_bytes(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(st_entry(&blob, Q0), "shape");
    cJSON_SetNumberValue(cJSON_GetArrayItem(shape, 0), 15);
    st_write(st, &blob);
}

static void offset_past_end(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON *entry = st_entry(&blob, Q0);
    double size = offset_of(entry, 1) - offset_of(entry, 0);
    set_offsets(entry, (double)blob.data_len, (double)blob.data_len + size);
    st_write(st, &blob);
}

static void dtype_i8(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(st_entry(&blob, Q0), "dtype"), "I8");
    st_write(st, &blob);
}

static void dtype_f64(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(st_entry(&blob, K1), "dtype"), "F64");
    st_write(st, &blob);
}

static void overlapping_ranges(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    /* q_proj of layer 0 and of layer 1 have the same shape. */
    cJSON *a = st_entry(&blob, Q0);
    cJSON *b = st_entry(&blob, "model.layers.1.self_attn.q_proj.weight");
    set_offsets(b, offset_of(a, 0), offset_of(a, 1));
    st_write(st, &blob);
}

static void misaligned_range(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON *entry = st_entry(&blob, Q0);
    set_offsets(entry, offset_of(entry, 0) + 2, offset_of(entry, 1) + 2);
    st_write(st, &blob);
}

static void tensor_removed(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON_DeleteItemFromObjectCaseSensitive(blob.header, K1);
    st_write(st, &blob);
}

static void lm_head_removed(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    cJSON_DeleteItemFromObjectCaseSensitive(blob.header, "lm_head.weight");
    st_write(st, &blob);
}

static void tensor_added(const char *dir, const char *st) {
    (void)dir;
    st_blob blob = st_read(st);
    /* A third layer's norm, with its 16 floats appended to the data. */
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "dtype", "F32");
    cJSON *shape = cJSON_AddArrayToObject(entry, "shape");
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(16));
    cJSON *offsets = cJSON_AddArrayToObject(entry, "data_offsets");
    cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)blob.data_len));
    cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)blob.data_len + 64));
    cJSON_AddItemToObject(blob.header, "model.layers.2.input_layernorm.weight", entry);
    blob.data = realloc(blob.data, blob.data_len + 64);
    memset(blob.data + blob.data_len, 0, 64);
    blob.data_len += 64;
    st_write(st, &blob);
}

static void drop_hidden_size(cJSON *config) { cJSON_DeleteItemFromObjectCaseSensitive(config, "hidden_size"); }

static void config_field_removed(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, drop_hidden_size);
}

static void bad_kv_heads(cJSON *config) {
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(config, "num_key_value_heads"), 3);
}

static void config_kv_heads_not_divisor(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, bad_kv_heads);
}

static void negative_layers(cJSON *config) {
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(config, "num_hidden_layers"), -2);
}

static void config_field_out_of_range(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, negative_layers);
}

static void linear_rope(cJSON *config) {
    cJSON *scaling = cJSON_CreateObject();
    cJSON_AddStringToObject(scaling, "type", "linear");
    cJSON_AddNumberToObject(scaling, "factor", 2.0);
    cJSON_AddItemToObject(config, "rope_scaling", scaling);
}

static void config_rope_linear(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, linear_rope);
}

static void yarn_rope(cJSON *config) {
    cJSON *scaling = cJSON_CreateObject();
    cJSON_AddStringToObject(scaling, "rope_type", "yarn");
    cJSON_AddNumberToObject(scaling, "factor", 4.0);
    cJSON_AddItemToObject(config, "rope_scaling", scaling);
}

static void config_rope_yarn(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, yarn_rope);
}

static void gelu_act(cJSON *config) {
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(config, "hidden_act"), "gelu");
}

static void config_gelu(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, gelu_act);
}

static void gpt2_arch(cJSON *config) {
    cJSON_ReplaceItemInObjectCaseSensitive(config, "architectures",
                                           cJSON_CreateStringArray((const char *[]){"GPT2LMHeadModel"}, 1));
}

static void config_unknown_arch(const char *dir, const char *st) {
    (void)st;
    edit_config(dir, gpt2_arch);
}

static void config_invalid_json(const char *dir, const char *st) {
    (void)st;
    char *path = chv_path_join(dir, "config.json");
    write_bytes(path, "{\"hidden_size\": 16,", 19);
    free(path);
}

static void weights_removed(const char *dir, const char *st) {
    (void)dir;
    ck_assert_int_eq(unlink(st), 0);
}

static void config_removed(const char *dir, const char *st) {
    (void)st;
    char *path = chv_path_join(dir, "config.json");
    ck_assert_int_eq(unlink(path), 0);
    free(path);
}

static void shard_map_wrong(const char *dir, const char *st) {
    (void)st;
    char *path = chv_path_join(dir, "model.safetensors.index.json");
    size_t len;
    char *text = (char *)read_bytes(path, &len);
    text[len] = '\0';
    cJSON *index = cJSON_Parse(text);
    cJSON *map = cJSON_GetObjectItemCaseSensitive(index, "weight_map");
    /* Point one tensor at the shard that does not hold it. */
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(map, "lm_head.weight");
    const char *other = strcmp(entry->valuestring, "model-00001-of-00002.safetensors") == 0
                            ? "model-00002-of-00002.safetensors"
                            : "model-00001-of-00002.safetensors";
    cJSON_SetValuestring(entry, other);
    char *out = cJSON_Print(index);
    write_bytes(path, out, strlen(out));
    cJSON_free(out);
    cJSON_Delete(index);
    free(text);
    free(path);
}

static void shard_truncated(const char *dir, const char *st) {
    (void)st;
    char *path = chv_path_join(dir, "model-00002-of-00002.safetensors");
    truncate_file(dir, path);
    free(path);
}

typedef struct bad_case {
    const char *name;
    const char *fixture;
    void (*corrupt)(const char *dir, const char *safetensors_path);
    const char *expected[3]; /* substrings of the message; NULL ends the list */
} bad_case;

static const bad_case cases[] = {
    {"truncated file", "llama-gqa", truncate_file, {"model.safetensors", "past the end", "truncated"}},
    {"file shorter than header", "llama-gqa", truncate_to_header, {"model.safetensors", "truncated", NULL}},
    {"header length too large", "llama-gqa", huge_header_length, {"model.safetensors", "header length 268435456", "larger than"}},
    {"invalid header JSON", "llama-gqa", invalid_header_json, {"model.safetensors", "invalid JSON", NULL}},
    {"shape mismatch", "llama-gqa", shape_changed, {"model.safetensors", "'" Q0 "'", "shape [8, 32], expected [16, 16]"}},
    {"shape disagrees with bytes", "llama-gqa", shape_disagrees_with_bytes, {"model.safetensors", "'" Q0 "'", "shape [15, 16]"}},
    {"offset past end", "llama-gqa", offset_past_end, {"model.safetensors", "'" Q0 "'", "past the end"}},
    {"unsupported dtype I8", "llama-gqa", dtype_i8, {"model.safetensors", "'" Q0 "'", "unsupported dtype I8 (supported: F32, F16, BF16)"}},
    {"unsupported dtype F64", "llama-gqa", dtype_f64, {"model.safetensors", "'" K1 "'", "unsupported dtype F64"}},
    {"overlapping ranges", "llama-gqa", overlapping_ranges, {"model.safetensors", "'" Q0 "'", "overlapping"}},
    {"misaligned range", "llama-gqa", misaligned_range, {"model.safetensors", "'" Q0 "'", "not a multiple of the F32 element size"}},
    {"missing tensor", "llama-gqa", tensor_removed, {"model.safetensors", "missing tensor '" K1 "'", "expected shape [8, 16]"}},
    {"missing untied lm_head", "llama-untied", lm_head_removed, {"model.safetensors", "'lm_head.weight'", "tie_word_embeddings"}},
    {"unexpected tensor", "llama-gqa", tensor_added, {"model.safetensors", "unexpected tensor 'model.layers.2.input_layernorm.weight'", NULL}},
    {"config field missing", "llama-gqa", config_field_removed, {"config.json", "\"hidden_size\"", "missing"}},
    {"config kv heads", "llama-gqa", config_kv_heads_not_divisor, {"config.json", "\"num_key_value_heads\" (3)", NULL}},
    {"config field out of range", "llama-gqa", config_field_out_of_range, {"config.json", "\"num_hidden_layers\" is -2", "[1, 4096]"}},
    {"rope_scaling linear", "llama-gqa", config_rope_linear, {"config.json", "rope_scaling type \"linear\" is not supported", NULL}},
    {"rope_scaling yarn", "llama-gqa", config_rope_yarn, {"config.json", "rope_scaling type \"yarn\"", NULL}},
    {"hidden_act gelu", "llama-gqa", config_gelu, {"config.json", "\"hidden_act\" is gelu", NULL}},
    {"unknown architecture", "llama-gqa", config_unknown_arch, {"config.json", "\"GPT2LMHeadModel\" is not supported", "LlamaForCausalLM"}},
    {"invalid config JSON", "llama-gqa", config_invalid_json, {"config.json", "invalid JSON", NULL}},
    {"no config.json", "llama-gqa", config_removed, {"is not a Hugging Face model folder: config.json is missing", NULL, NULL}},
    {"no weights", "llama-gqa", weights_removed, {"no model.safetensors or model.safetensors.index.json", NULL, NULL}},
    {"shard map wrong", "llama-sharded", shard_map_wrong, {"model.safetensors.index.json", "'lm_head.weight'", "does not contain it"}},
    {"shard truncated", "llama-sharded", shard_truncated, {"model-00002-of-00002.safetensors", "past the end", NULL}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

/* Copies the fixture into a fresh temp folder and breaks it. */
static char *make_broken_folder(const bad_case *c) {
    char *dir = test_make_temp_dir("cheval-badmodel");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp " FIXTURES "%s/* '%s'/", c->fixture, dir);
    ck_assert_int_eq(system(cmd), 0);
    char *st = chv_path_join(dir, "model.safetensors");
    c->corrupt(dir, st);
    free(st);
    return dir;
}

static void remove_folder(char *dir) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

static void assert_mentions(const char *message, const bad_case *c, const char *via) {
    for (int i = 0; i < 3 && c->expected[i] != NULL; i++)
        ck_assert_msg(strstr(message, c->expected[i]) != NULL, "%s (%s): message lacks \"%s\": %s", c->name, via,
                      c->expected[i], message);
}

START_TEST(bad_folder_rejected_by_library) {
    const bad_case *c = &cases[_i];
    char *dir = make_broken_folder(c);
    chv_error err;
    chv_error_clear(&err);
    chv_model *model = chv_model_load(dir, &err);
    ck_assert_msg(model == NULL, "%s: the broken folder loaded", c->name);
    assert_mentions(err.message, c, "library");
    printf("%-28s %s\n", c->name, err.message);
    remove_folder(dir);
}
END_TEST

START_TEST(bad_folder_rejected_by_info) {
    const bad_case *c = &cases[_i];
    char *dir = make_broken_folder(c);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s info --model '%s'", test_cheval_bin(), dir);
    test_output out;
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_msg(out.status == 1, "%s: exit status %d", c->name, out.status);
    ck_assert_str_eq(out.out, "");
    assert_mentions(out.err, c, "cheval info");
    test_output_free(&out);
    remove_folder(dir);
}
END_TEST

/* A tied checkpoint that still stores lm_head.weight, and an old-style
 * rotary_emb.inv_freq buffer: both load, neither is used. */
START_TEST(tied_lm_head_and_inv_freq_ignored) {
    char *dir = test_make_temp_dir("cheval-model");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp " FIXTURES "llama-gqa/* '%s'/", dir);
    ck_assert_int_eq(system(cmd), 0);
    char *st = chv_path_join(dir, "model.safetensors");

    chv_error err;
    chv_model *model = chv_model_load(dir, &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    int64_t n_params = chv_model_get_info(model)->n_params;
    chv_model_free(model);

    /* Append an lm_head.weight of zeros and a 2-float inv_freq buffer. */
    st_blob blob = st_read(st);
    size_t lm_head_bytes = 32 * 16 * 4;
    const char *names[2] = {"lm_head.weight", "model.layers.0.self_attn.rotary_emb.inv_freq"};
    size_t sizes[2] = {lm_head_bytes, 8};
    for (int i = 0; i < 2; i++) {
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "dtype", "F32");
        cJSON *shape = cJSON_AddArrayToObject(entry, "shape");
        if (i == 0) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(32));
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(16));
        } else {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(2));
        }
        cJSON *offsets = cJSON_AddArrayToObject(entry, "data_offsets");
        cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)blob.data_len));
        cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)(blob.data_len + sizes[i])));
        cJSON_AddItemToObject(blob.header, names[i], entry);
        blob.data = realloc(blob.data, blob.data_len + sizes[i]);
        memset(blob.data + blob.data_len, 0, sizes[i]);
        blob.data_len += sizes[i];
    }
    st_write(st, &blob);

    model = chv_model_load(dir, &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    ck_assert_int_eq(chv_model_get_info(model)->n_params, n_params);
    ck_assert_int_eq(chv_model_get_info(model)->tied_embeddings, 1);

    /* A zero lm_head would make every log-prob -log(32); the embedding is
     * used instead. */
    int32_t tokens[3] = {1, 5, 9};
    float logprobs[2];
    chv_seq seq = {.tokens = tokens, .n_tokens = 3, .targets = tokens + 1, .n_targets = 2, .logprobs = logprobs};
    ck_assert_int_eq(chv_model_forward(model, &seq, 1, &err), 0);
    ck_assert(fabsf(logprobs[0] + logf(32.0f)) > 1e-3f);
    chv_model_free(model);

    free(st);
    remove_folder(dir);
}
END_TEST

static void drop_use_window(cJSON *config) {
    cJSON_DeleteItemFromObjectCaseSensitive(config, "use_sliding_window");
}

static void use_window(cJSON *config) {
    drop_use_window(config);
    cJSON_AddTrueToObject(config, "use_sliding_window");
}

static void no_window(cJSON *config) {
    drop_use_window(config);
    cJSON_AddFalseToObject(config, "use_sliding_window");
}

/* Qwen2 windows attention only with use_sliding_window true; Mistral
 * unless it is false. */
START_TEST(sliding_window_flags) {
    const struct {
        const char *fixture;
        void (*edit)(cJSON *config);
        long expected;
    } flags[] = {
        {"qwen2-bias", NULL, 0},
        {"mistral", NULL, 64},
        {"mistral", no_window, 0},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char *dir = test_make_temp_dir("cheval-model");
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "cp " FIXTURES "%s/* '%s'/", flags[i].fixture, dir);
        ck_assert_int_eq(system(cmd), 0);
        if (flags[i].edit != NULL)
            edit_config(dir, flags[i].edit);
        chv_error err;
        chv_model *model = chv_model_load(dir, &err);
        ck_assert_msg(model != NULL, "%s", err.message);
        ck_assert_msg(chv_model_get_info(model)->sliding_window == flags[i].expected, "case %zu: %ld", i,
                      chv_model_get_info(model)->sliding_window);
        chv_model_free(model);
        remove_folder(dir);
    }

    /* qwen2-bias has use_sliding_window false and sliding_window 8. */
    char *dir = test_make_temp_dir("cheval-model");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp " FIXTURES "qwen2-bias/* '%s'/", dir);
    ck_assert_int_eq(system(cmd), 0);
    edit_config(dir, use_window);
    chv_error err;
    chv_model *model = chv_model_load(dir, &err);
    ck_assert_msg(model != NULL, "%s", err.message);
    ck_assert_int_eq(chv_model_get_info(model)->sliding_window, 8);
    chv_model_free(model);
    remove_folder(dir);
}
END_TEST

START_TEST(info_prints_fixture) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s info --model " FIXTURES "llama-mha", test_cheval_bin());
    test_output out;
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_int_eq(out.status, 0);
    ck_assert_msg(strstr(out.out, "LlamaForCausalLM") != NULL, "%s", out.out);
    ck_assert_msg(strstr(out.out, "parameters         4,944") != NULL, "%s", out.out);
    ck_assert_msg(strstr(out.out, "48 (tokenizer model_max_length)") != NULL, "%s", out.out);
    ck_assert_msg(strstr(out.out, "tied embeddings    yes") != NULL, "%s", out.out);
    test_output_free(&out);
}
END_TEST

START_TEST(info_prints_json) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s info --json --model " FIXTURES "llama-bf16", test_cheval_bin());
    test_output out;
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_int_eq(out.status, 0);
    cJSON *json = cJSON_Parse(out.out);
    ck_assert_msg(json != NULL, "not JSON: %s", out.out);
    ck_assert_str_eq(cJSON_GetObjectItem(json, "architecture")->valuestring, "LlamaForCausalLM");
    ck_assert_str_eq(cJSON_GetObjectItem(json, "dtype")->valuestring, "BF16");
    ck_assert_int_eq(cJSON_GetObjectItem(json, "n_kv_heads")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(json, "max_position_embeddings")->valueint, 64);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(json, "model_max_length")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(json, "sliding_window")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(json, "tied_embeddings")));
    const char *matmul = cJSON_GetStringValue(cJSON_GetObjectItem(json, "matmul"));
    ck_assert_msg(matmul != NULL && (strcmp(matmul, "packed") == 0 || strcmp(matmul, "openblas") == 0), "matmul %s",
                  matmul ? matmul : "missing");
    ck_assert_int_eq(cJSON_GetObjectItem(json, "eos_token_id")->valueint, 2);
    cJSON_Delete(json);
    test_output_free(&out);
}
END_TEST

START_TEST(info_usage_errors) {
    const char *args[] = {"", "--model", "--model x --frobnicate"};
    for (int i = 0; i < 3; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s info %s", test_cheval_bin(), args[i]);
        test_output out;
        ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
        ck_assert_msg(out.status == 2, "'%s': exit status %d", args[i], out.status);
        ck_assert_msg(strstr(out.err, "cheval info") != NULL, "%s", out.err);
        test_output_free(&out);
    }
}
END_TEST

START_TEST(info_missing_folder) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s info --model /nonexistent/model-folder", test_cheval_bin());
    test_output out;
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "/nonexistent/model-folder: model folder not found") != NULL, "%s", out.err);
    test_output_free(&out);
}
END_TEST

/* A safetensors file given where the folder is expected. */
START_TEST(info_model_is_a_file) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s info --model " FIXTURES "llama-gqa/model.safetensors", test_cheval_bin());
    test_output out;
    ck_assert_int_eq(test_run(cmd, NULL, &out), 0);
    ck_assert_int_eq(out.status, 1);
    ck_assert_msg(strstr(out.err, "llama-gqa/model.safetensors is a file, not a model folder: --model takes "
                                  "the folder") != NULL, "%s", out.err);
    ck_assert_msg(strstr(out.err, "not found") == NULL, "%s", out.err);
    test_output_free(&out);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model_errors");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, bad_folder_rejected_by_library, 0, N_CASES);
    tcase_add_loop_test(tc, bad_folder_rejected_by_info, 0, N_CASES);
    tcase_add_test(tc, tied_lm_head_and_inv_freq_ignored);
    tcase_add_test(tc, sliding_window_flags);
    tcase_add_test(tc, info_prints_fixture);
    tcase_add_test(tc, info_prints_json);
    tcase_add_test(tc, info_usage_errors);
    tcase_add_test(tc, info_missing_folder);
    tcase_add_test(tc, info_model_is_a_file);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
