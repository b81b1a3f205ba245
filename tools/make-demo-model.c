/* make-demo-model: write the tiny random-weight model that `make demo`
 * evaluates, as a Hugging Face checkpoint folder.
 *
 *   make-demo-model OUTPUT_DIR
 *
 * The folder holds config.json (LlamaForCausalLM), model.safetensors (F32),
 * tokenizer.json (GPT-2-style byte-level BPE), tokenizer_config.json and a
 * README.md. The weights are untrained, so the model scores at chance. It
 * exists to run `cheval run` end to end on a machine with no network and
 * no Python.
 *
 * Every run writes the same bytes, and the output is built to be the same on
 * any IEEE-754 machine: the weights come from SplitMix64 with a fixed seed,
 * the normal-like values are sums of uniform integers (no libm calls whose
 * last bit could differ between C libraries), and nothing depends on time,
 * locale or the host's byte order. tests/test_data_demo_model.c pins the
 * SHA-256 of the output.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fileio.h"

/* ------------------------------------------------------------------------
 * Model shape */

enum {
    HIDDEN_SIZE = 64,
    INTERMEDIATE_SIZE = 128,
    N_LAYERS = 2,
    N_HEADS = 4,
    N_KV_HEADS = 2,
    HEAD_DIM = HIDDEN_SIZE / N_HEADS,
    MAX_POSITIONS = 512,
    N_BYTE_TOKENS = 256,
};

/* Standard deviation of every projection and embedding weight, as in
 * Hugging Face's initializer_range default. RMSNorm weights are 1. */
#define WEIGHT_STD 0.02

/* SplitMix64 seed: the ASCII bytes of "cheval". */
#define DEMO_SEED 0x63686576616cULL

#define EOT_TOKEN "<|endoftext|>"

/* BPE merges in rank order, written as raw bytes. tokenizer.json stores
 * them through GPT-2's byte-to-unicode mapping, so " t" becomes "\u0120t".
 * Each side is a byte or the result of an earlier merge. A few common
 * English merges make the demo exercise multi-byte tokens. */
static const char *const MERGES[][2] = {
    {" ", "t"}, {"h", "e"}, {" ", "a"}, {"i", "n"}, {" t", "he"}, {"e", "r"},  {"o", "n"},
    {" ", "s"}, {"r", "e"}, {" ", "w"}, {"a", "t"}, {"e", "n"},   {" ", "o"},  {"n", "d"},
    {" ", "c"}, {"i", "s"}, {"o", "r"}, {"e", "s"}, {" ", "b"},   {"in", "g"}, {" ", "f"},
    {" ", "p"}, {"e", "d"}, {" a", "nd"}, {" o", "f"}, {" ", "i"}, {"a", "n"}, {"a", "r"},
    {"o", "u"}, {" ", "="}, {" ", "@"}, {" t", "o"},
};
#define N_MERGES ((int)(sizeof MERGES / sizeof MERGES[0]))

/* Ids: 0..255 byte tokens, then one id per merge, then <|endoftext|>. */
#define EOT_ID (N_BYTE_TOKENS + N_MERGES)
#define VOCAB_SIZE (EOT_ID + 1)

/* ------------------------------------------------------------------------
 * Growing text buffer */

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static void text_reserve(text *t, size_t extra) {
    if (t->len + extra + 1 <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + extra + 1)
        cap *= 2;
    char *data = realloc(t->data, cap);
    if (data == NULL) {
        fprintf(stderr, "make-demo-model: out of memory\n");
        exit(1);
    }
    t->data = data;
    t->cap = cap;
}

static void text_append(text *t, const void *bytes, size_t n) {
    text_reserve(t, n);
    memcpy(t->data + t->len, bytes, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void text_printf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    text_reserve(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Appends s as a JSON string literal. Non-ASCII UTF-8 is kept as is, as
 * Hugging Face's tokenizer.json files do. */
static void text_json_string(text *t, const char *s) {
    text_append(t, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            text_append(t, esc, 2);
        } else if (c < 0x20) {
            text_printf(t, "\\u%04x", c);
        } else {
            text_append(t, s, 1);
        }
    }
    text_append(t, "\"", 1);
}

/* ------------------------------------------------------------------------
 * Deterministic random numbers */

static uint64_t rng_state = DEMO_SEED;

/* SplitMix64 (Steele, Lea and Flood, 2014). */
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Returns a value with mean 0 and standard deviation std, from the
 * Irwin-Hall approximation of a normal: the sum of 12 uniforms on [0, 1)
 * minus 6. The sum is taken over 32-bit integers, so it is exact, and the
 * result lies in [-6 std, 6 std). */
static float normal_like(double std) {
    int64_t sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (int64_t)(rng_next() >> 32);
    int64_t centered = sum - ((int64_t)6 << 32); /* |centered| < 2^36: exact in a double */
    return (float)((double)centered * 0x1p-32 * std);
}

/* ------------------------------------------------------------------------
 * Byte-level vocabulary (GPT-2's bytes-to-unicode table) */

/* byte_of_id[i] is the byte of byte token i, and char_of_byte[b] is the
 * code point that stands for byte b in tokenizer.json. GPT-2 keeps the
 * printable Latin-1 bytes as themselves and maps the other 68 bytes to
 * U+0100 onward, both in byte order. The ids follow the same order, so id 0
 * is "!" and the space byte is id 220, "\u0120". */
static unsigned char byte_of_id[N_BYTE_TOKENS];
static unsigned int char_of_byte[N_BYTE_TOKENS];

static int is_kept_byte(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static void build_byte_table(void) {
    int id = 0;
    for (int b = 0; b < N_BYTE_TOKENS; b++) {
        if (is_kept_byte(b)) {
            byte_of_id[id++] = (unsigned char)b;
            char_of_byte[b] = (unsigned int)b;
        }
    }
    unsigned int next = 0x100;
    for (int b = 0; b < N_BYTE_TOKENS; b++) {
        if (!is_kept_byte(b)) {
            byte_of_id[id++] = (unsigned char)b;
            char_of_byte[b] = next++;
        }
    }
}

/* Writes the tokenizer.json form of the raw bytes s into out as UTF-8.
 * Each byte becomes one code point below U+0800, so 2 output bytes at most. */
static void byte_level_string(const char *s, char *out, size_t out_size) {
    size_t n = 0;
    for (; *s; s++) {
        unsigned int cp = char_of_byte[(unsigned char)*s];
        if (n + 3 > out_size)
            break;
        if (cp < 0x80) {
            out[n++] = (char)cp;
        } else {
            out[n++] = (char)(0xC0 | (cp >> 6));
            out[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    out[n] = '\0';
}

/* ------------------------------------------------------------------------
 * Output files */

static int write_text(const char *dir, const char *name, const text *t, chv_error *err) {
    char *path = chv_path_join(dir, name);
    int rc = chv_write_file_atomic(path, t->data, t->len, err);
    free(path);
    return rc;
}

static int write_config(const char *dir, chv_error *err) {
    text t = {0};
    text_printf(&t,
                "{\n"
                "  \"architectures\": [\"LlamaForCausalLM\"],\n"
                "  \"model_type\": \"llama\",\n"
                "  \"hidden_size\": %d,\n"
                "  \"intermediate_size\": %d,\n"
                "  \"num_hidden_layers\": %d,\n"
                "  \"num_attention_heads\": %d,\n"
                "  \"num_key_value_heads\": %d,\n"
                "  \"head_dim\": %d,\n"
                "  \"hidden_act\": \"silu\",\n"
                "  \"max_position_embeddings\": %d,\n"
                "  \"rms_norm_eps\": 1e-05,\n"
                "  \"rope_theta\": 10000.0,\n"
                "  \"attention_bias\": false,\n"
                "  \"mlp_bias\": false,\n"
                "  \"tie_word_embeddings\": true,\n"
                "  \"vocab_size\": %d,\n"
                "  \"bos_token_id\": %d,\n"
                "  \"eos_token_id\": %d,\n"
                "  \"initializer_range\": %.2f,\n"
                "  \"torch_dtype\": \"float32\"\n"
                "}\n",
                HIDDEN_SIZE, INTERMEDIATE_SIZE, N_LAYERS, N_HEADS, N_KV_HEADS, HEAD_DIM, MAX_POSITIONS,
                VOCAB_SIZE, EOT_ID, EOT_ID, WEIGHT_STD);
    int rc = write_text(dir, "config.json", &t, err);
    free(t.data);
    return rc;
}

static int write_tokenizer(const char *dir, chv_error *err) {
    text t = {0};
    char piece[64], left[64], right[64];

    text_printf(&t, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n");
    text_printf(&t, "  \"added_tokens\": [\n    {\"id\": %d, \"content\": ", EOT_ID);
    text_json_string(&t, EOT_TOKEN);
    text_printf(&t, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                    "\"normalized\": false, \"special\": true}\n  ],\n");
    text_printf(&t, "  \"normalizer\": null,\n");
    text_printf(&t, "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                    "\"trim_offsets\": true, \"use_regex\": true},\n");
    text_printf(&t, "  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                    "\"trim_offsets\": false, \"use_regex\": true},\n");
    text_printf(&t, "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                    "\"trim_offsets\": true, \"use_regex\": true},\n");
    text_printf(&t, "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
                    "    \"unk_token\": null,\n    \"continuing_subword_prefix\": \"\",\n"
                    "    \"end_of_word_suffix\": \"\",\n    \"fuse_unk\": false,\n"
                    "    \"byte_fallback\": false,\n    \"vocab\": {\n");

    for (int id = 0; id < N_BYTE_TOKENS; id++) {
        char raw[2] = {(char)byte_of_id[id], '\0'};
        if (raw[0] == '\0')
            snprintf(piece, sizeof piece, "\xc4\x80"); /* byte 0 is U+0100 */
        else
            byte_level_string(raw, piece, sizeof piece);
        text_printf(&t, "      ");
        text_json_string(&t, piece);
        text_printf(&t, ": %d,\n", id);
    }
    for (int m = 0; m < N_MERGES; m++) {
        char raw[32];
        snprintf(raw, sizeof raw, "%s%s", MERGES[m][0], MERGES[m][1]);
        byte_level_string(raw, piece, sizeof piece);
        text_printf(&t, "      ");
        text_json_string(&t, piece);
        text_printf(&t, ": %d,\n", N_BYTE_TOKENS + m);
    }
    text_printf(&t, "      ");
    text_json_string(&t, EOT_TOKEN);
    text_printf(&t, ": %d\n    },\n    \"merges\": [\n", EOT_ID);

    for (int m = 0; m < N_MERGES; m++) {
        byte_level_string(MERGES[m][0], left, sizeof left);
        byte_level_string(MERGES[m][1], right, sizeof right);
        snprintf(piece, sizeof piece, "%s %s", left, right);
        text_printf(&t, "      ");
        text_json_string(&t, piece);
        text_printf(&t, "%s\n", m + 1 < N_MERGES ? "," : "");
    }
    text_printf(&t, "    ]\n  }\n}\n");

    int rc = write_text(dir, "tokenizer.json", &t, err);
    free(t.data);
    return rc;
}

static int write_tokenizer_config(const char *dir, chv_error *err) {
    text t = {0};
    text_printf(&t,
                "{\n"
                "  \"tokenizer_class\": \"GPT2Tokenizer\",\n"
                "  \"bos_token\": \"" EOT_TOKEN "\",\n"
                "  \"eos_token\": \"" EOT_TOKEN "\",\n"
                "  \"unk_token\": \"" EOT_TOKEN "\",\n"
                "  \"add_bos_token\": false,\n"
                "  \"add_prefix_space\": false,\n"
                "  \"model_max_length\": %d\n"
                "}\n",
                MAX_POSITIONS);
    int rc = write_text(dir, "tokenizer_config.json", &t, err);
    free(t.data);
    return rc;
}

static int write_readme(const char *dir, chv_error *err) {
    text t = {0};
    text_printf(&t,
                "# cheval demo model\n\n"
                "A Llama-architecture model with random, untrained weights, written by\n"
                "tools/make-demo-model.c for `make demo`. It scores at chance on every task;\n"
                "its only use is to run the evaluation pipeline end to end.\n\n"
                "- %d layers, hidden size %d, %d attention heads (%d key/value heads),\n"
                "  MLP size %d, tied input and output embeddings, F32 weights\n"
                "- byte-level BPE tokenizer: 256 byte tokens, %d merges and %s\n"
                "- weights: SplitMix64 seed 0x%llx, Irwin-Hall normal with standard\n"
                "  deviation %.2f, RMSNorm weights 1\n",
                N_LAYERS, HIDDEN_SIZE, N_HEADS, N_KV_HEADS, INTERMEDIATE_SIZE, N_MERGES, EOT_TOKEN,
                (unsigned long long)DEMO_SEED, WEIGHT_STD);
    int rc = write_text(dir, "README.md", &t, err);
    free(t.data);
    return rc;
}

/* ------------------------------------------------------------------------
 * safetensors */

typedef struct tensor {
    char name[64];
    int64_t shape[2];
    int rank;
    int is_norm; /* RMSNorm weight: all ones instead of random */
} tensor;

static int n_tensors;
static tensor tensors[64];

static void add_tensor(const char *name, int rank, int64_t rows, int64_t cols, int is_norm) {
    tensor *t = &tensors[n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->is_norm = is_norm;
}

static int64_t tensor_numel(const tensor *t) {
    return t->rank == 1 ? t->shape[0] : t->shape[0] * t->shape[1];
}

static int compare_tensor_names(const void *a, const void *b) {
    return strcmp(((const tensor *)a)->name, ((const tensor *)b)->name);
}

/* Lists the tensors of a Hugging Face LlamaForCausalLM with tied embeddings
 * (no lm_head.weight), sorted by name. The file stores them in this order,
 * and their values are drawn in this order. */
static void list_tensors(void) {
    char name[64];
    const int q_rows = N_HEADS * HEAD_DIM, kv_rows = N_KV_HEADS * HEAD_DIM;

    add_tensor("model.embed_tokens.weight", 2, VOCAB_SIZE, HIDDEN_SIZE, 0);
    add_tensor("model.norm.weight", 1, HIDDEN_SIZE, 0, 1);
    for (int l = 0; l < N_LAYERS; l++) {
#define LAYER_TENSOR(suffix, rank, rows, cols, is_norm)                          \
    do {                                                                         \
        snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix);            \
        add_tensor(name, rank, rows, cols, is_norm);                             \
    } while (0)
        LAYER_TENSOR("input_layernorm.weight", 1, HIDDEN_SIZE, 0, 1);
        LAYER_TENSOR("post_attention_layernorm.weight", 1, HIDDEN_SIZE, 0, 1);
        LAYER_TENSOR("self_attn.q_proj.weight", 2, q_rows, HIDDEN_SIZE, 0);
        LAYER_TENSOR("self_attn.k_proj.weight", 2, kv_rows, HIDDEN_SIZE, 0);
        LAYER_TENSOR("self_attn.v_proj.weight", 2, kv_rows, HIDDEN_SIZE, 0);
        LAYER_TENSOR("self_attn.o_proj.weight", 2, HIDDEN_SIZE, q_rows, 0);
        LAYER_TENSOR("mlp.gate_proj.weight", 2, INTERMEDIATE_SIZE, HIDDEN_SIZE, 0);
        LAYER_TENSOR("mlp.up_proj.weight", 2, INTERMEDIATE_SIZE, HIDDEN_SIZE, 0);
        LAYER_TENSOR("mlp.down_proj.weight", 2, HIDDEN_SIZE, INTERMEDIATE_SIZE, 0);
#undef LAYER_TENSOR
    }
    qsort(tensors, (size_t)n_tensors, sizeof tensors[0], compare_tensor_names);
}

static void put_f32_le(unsigned char *out, float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    out[0] = (unsigned char)bits;
    out[1] = (unsigned char)(bits >> 8);
    out[2] = (unsigned char)(bits >> 16);
    out[3] = (unsigned char)(bits >> 24);
}

/* Writes model.safetensors: an 8-byte little-endian header length, a JSON
 * header padded with spaces to a multiple of 8 bytes, then the tensors'
 * F32 little-endian data back to back in header order. */
static int write_safetensors(const char *dir, chv_error *err) {
    text header = {0};
    int64_t offset = 0;

    text_printf(&header, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n_tensors; i++) {
        const tensor *t = &tensors[i];
        int64_t nbytes = tensor_numel(t) * 4;
        text_printf(&header, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[", t->name);
        if (t->rank == 1)
            text_printf(&header, "%lld", (long long)t->shape[0]);
        else
            text_printf(&header, "%lld,%lld", (long long)t->shape[0], (long long)t->shape[1]);
        text_printf(&header, "],\"data_offsets\":[%lld,%lld]}", (long long)offset,
                    (long long)(offset + nbytes));
        offset += nbytes;
    }
    text_printf(&header, "}");
    while (header.len % 8 != 0)
        text_append(&header, " ", 1);

    size_t data_bytes = (size_t)offset;
    size_t total = 8 + header.len + data_bytes;
    unsigned char *file = malloc(total);
    if (file == NULL) {
        free(header.data);
        return chv_error_set(err, "out of memory for a %zu-byte safetensors file", total);
    }
    uint64_t header_len = header.len;
    for (int i = 0; i < 8; i++)
        file[i] = (unsigned char)(header_len >> (8 * i));
    memcpy(file + 8, header.data, header.len);

    unsigned char *out = file + 8 + header.len;
    for (int i = 0; i < n_tensors; i++) {
        const tensor *t = &tensors[i];
        for (int64_t j = 0; j < tensor_numel(t); j++) {
            float value = t->is_norm ? 1.0f : normal_like(WEIGHT_STD);
            put_f32_le(out, value);
            out += 4;
        }
    }

    char *path = chv_path_join(dir, "model.safetensors");
    int rc = chv_write_file_atomic(path, (const char *)file, total, err);
    free(path);
    free(file);
    free(header.data);
    return rc;
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: make-demo-model OUTPUT_DIR\n"
                        "Writes a tiny random-weight Llama model folder (config.json,\n"
                        "model.safetensors, tokenizer.json, tokenizer_config.json) to OUTPUT_DIR.\n");
        return (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) ? 0 : 2;
    }
    const char *dir = argv[1];
    chv_error err;

    build_byte_table();
    list_tensors();

    if (chv_mkdir_p(dir, &err) != 0 || write_config(dir, &err) != 0 ||
        write_tokenizer(dir, &err) != 0 || write_tokenizer_config(dir, &err) != 0 ||
        write_safetensors(dir, &err) != 0 || write_readme(dir, &err) != 0) {
        fprintf(stderr, "make-demo-model: %s\n", err.message);
        return 1;
    }
    return 0;
}
