/* Tests for tools/make-demo-model and scripts/demo.sh. The tool must write
 * a valid Hugging Face Llama checkpoint with a byte-level BPE tokenizer and
 * small finite weights, and the same bytes on every run. demo.sh must pass
 * the documented options to `cheval run`. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/testutil.h"
#include "util/fileio.h"
#include "util/jsonl.h"
#include "util/lines.h"

enum { HIDDEN = 64, INTERMEDIATE = 128, LAYERS = 2, HEADS = 4, KV_HEADS = 2, HEAD_DIM = 16 };

static const char *const MODEL_FILES[] = {"config.json", "model.safetensors", "tokenizer.json",
                                          "tokenizer_config.json", "README.md"};
#define N_MODEL_FILES (sizeof MODEL_FILES / sizeof MODEL_FILES[0])

/* Path of the generator: $CHEVAL_DEMO_TOOL (set by `make test`), else the
 * default build folder. */
static const char *demo_tool(void) {
    const char *tool = getenv("CHEVAL_DEMO_TOOL");
    return (tool != NULL && tool[0] != '\0') ? tool : "build/tools/make-demo-model";
}

/* SHA-256 of the files the generator writes. They change only when the
 * generator changes on purpose, so a difference on another machine means
 * that the output depends on the platform. */
static const char *const PINNED_SHA256[][2] = {
    {"model.safetensors", "55e8e67e20ef2236f5e7e649d32990df3464617bab7b4ff9732d314a6516aa63"},
    {"tokenizer.json", "eb2c619e0fc2c00840acc133147501cac9d7ca6573408e99a719dff577edf4d9"},
    {"config.json", "4511e2bfa3681d716bfa709730c6846e9aaf1a71c598c8dd367f4442eb1719a1"},
};

/* Removes the temporary folder around a generated model folder. */
static void remove_model(char *model_dir) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf \"$(dirname '%s')\"", model_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(model_dir);
}

/* Runs the generator into a fresh folder and returns that folder. */
static char *generate_model(void) {
    char *dir = test_make_temp_dir("cheval-demo-model");
    char *out = chv_path_join(dir, "model");
    free(dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s'", demo_tool(), out);
    test_output result;
    ck_assert_int_eq(test_run(cmd, NULL, &result), 0);
    ck_assert_msg(result.status == 0, "%s exited with %d: %s", cmd, result.status, result.err);
    test_output_free(&result);
    return out;
}

static cJSON *read_json(const char *dir, const char *name) {
    char *path = chv_path_join(dir, name);
    chv_error err;
    size_t len;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    cJSON *json = chv_json_parse(text, len, path, &err);
    ck_assert_msg(json != NULL, "%s", err.message);
    free(text);
    free(path);
    return json;
}

static int int_field(const cJSON *object, const char *name) {
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(object, name);
    ck_assert_msg(cJSON_IsNumber(field), "'%s' is not a number", name);
    return field->valueint;
}

START_TEST(generator_output_is_reproducible) {
    char *first = generate_model();
    char *second = generate_model();
    for (size_t i = 0; i < N_MODEL_FILES; i++) {
        char *a = chv_path_join(first, MODEL_FILES[i]);
        char *b = chv_path_join(second, MODEL_FILES[i]);
        char hex_a[65], hex_b[65];
        chv_error err;
        ck_assert_msg(chv_sha256_file(a, hex_a, &err) == 0, "%s", err.message);
        ck_assert_msg(chv_sha256_file(b, hex_b, &err) == 0, "%s", err.message);
        ck_assert_msg(strcmp(hex_a, hex_b) == 0, "%s differs between two runs", MODEL_FILES[i]);
        free(a);
        free(b);
    }
    for (size_t i = 0; i < sizeof PINNED_SHA256 / sizeof PINNED_SHA256[0]; i++) {
        char *path = chv_path_join(first, PINNED_SHA256[i][0]);
        char hex[65];
        chv_error err;
        ck_assert_msg(chv_sha256_file(path, hex, &err) == 0, "%s", err.message);
        ck_assert_msg(strcmp(hex, PINNED_SHA256[i][1]) == 0, "%s has sha256 %s, expected %s",
                      PINNED_SHA256[i][0], hex, PINNED_SHA256[i][1]);
        free(path);
    }
    remove_model(first);
    remove_model(second);
}
END_TEST

START_TEST(generator_rejects_missing_argument) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s'", demo_tool());
    test_output result;
    ck_assert_int_eq(test_run(cmd, NULL, &result), 0);
    ck_assert_int_eq(result.status, 2);
    ck_assert_msg(strstr(result.err, "usage: make-demo-model OUTPUT_DIR") != NULL, "stderr: %s",
                  result.err);
    test_output_free(&result);
}
END_TEST

START_TEST(config_describes_tied_llama) {
    char *dir = generate_model();
    cJSON *config = read_json(dir, "config.json");
    const cJSON *architectures = cJSON_GetObjectItemCaseSensitive(config, "architectures");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(architectures, 0)), "LlamaForCausalLM");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "model_type")), "llama");
    ck_assert_int_eq(int_field(config, "hidden_size"), HIDDEN);
    ck_assert_int_eq(int_field(config, "intermediate_size"), INTERMEDIATE);
    ck_assert_int_eq(int_field(config, "num_hidden_layers"), LAYERS);
    ck_assert_int_eq(int_field(config, "num_attention_heads"), HEADS);
    ck_assert_int_eq(int_field(config, "num_key_value_heads"), KV_HEADS);
    ck_assert_int_eq(int_field(config, "max_position_embeddings"), 512);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "tie_word_embeddings")));

    /* The model's vocabulary is the tokenizer's, and BOS/EOS point at
     * <|endoftext|>, the last id. */
    cJSON *tokenizer = read_json(dir, "tokenizer.json");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tokenizer, "model"), "vocab");
    int vocab_size = int_field(config, "vocab_size");
    ck_assert_int_eq(cJSON_GetArraySize(vocab), vocab_size);
    ck_assert_int_eq(int_field(config, "bos_token_id"), vocab_size - 1);
    ck_assert_int_eq(int_field(config, "eos_token_id"), vocab_size - 1);
    cJSON_Delete(tokenizer);
    cJSON_Delete(config);
    remove_model(dir);
}
END_TEST

/* Reads a little-endian float from the file bytes. */
static float f32_at(const unsigned char *p) {
    uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Checks one tensor's header entry and returns its element count. */
static long check_tensor_entry(const cJSON *header, const char *name, long rows, long cols,
                               long *expected_begin) {
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(header, name);
    ck_assert_msg(cJSON_IsObject(entry), "tensor %s is missing", name);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "dtype")), "F32");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    ck_assert_int_eq(cJSON_GetArraySize(shape), cols ? 2 : 1);
    ck_assert_int_eq((long)cJSON_GetArrayItem(shape, 0)->valuedouble, rows);
    if (cols)
        ck_assert_int_eq((long)cJSON_GetArrayItem(shape, 1)->valuedouble, cols);
    long numel = cols ? rows * cols : rows;
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    long begin = (long)cJSON_GetArrayItem(offsets, 0)->valuedouble;
    long end = (long)cJSON_GetArrayItem(offsets, 1)->valuedouble;
    ck_assert_msg(begin == *expected_begin, "%s starts at %ld, expected %ld", name, begin, *expected_begin);
    ck_assert_int_eq(end - begin, numel * 4);
    *expected_begin = end;
    return numel;
}

START_TEST(safetensors_weights_are_sane) {
    char *dir = generate_model();
    char *path = chv_path_join(dir, "model.safetensors");
    chv_error err;
    size_t len;
    unsigned char *file = (unsigned char *)chv_read_file(path, &len, &err);
    ck_assert_msg(file != NULL, "%s", err.message);

    uint64_t header_len = 0;
    for (int i = 0; i < 8; i++)
        header_len |= (uint64_t)file[i] << (8 * i);
    ck_assert_int_eq(header_len % 8, 0);
    ck_assert_uint_lt(8 + header_len, len);
    cJSON *header = chv_json_parse((const char *)file + 8, header_len, path, &err);
    ck_assert_msg(header != NULL, "%s", err.message);

    /* Tensors are stored in name order, back to back from offset 0. */
    cJSON *tokenizer_json = read_json(dir, "tokenizer.json");
    long vocab = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tokenizer_json, "model"), "vocab"));
    cJSON_Delete(tokenizer_json);
    long offset = 0;
    check_tensor_entry(header, "model.embed_tokens.weight", vocab, HIDDEN, &offset);
    for (int l = 0; l < LAYERS; l++) {
        char name[96];
#define ENTRY(suffix, rows, cols)                                                  \
    snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix);                  \
    check_tensor_entry(header, name, rows, cols, &offset)
        ENTRY("input_layernorm.weight", HIDDEN, 0);
        ENTRY("mlp.down_proj.weight", HIDDEN, INTERMEDIATE);
        ENTRY("mlp.gate_proj.weight", INTERMEDIATE, HIDDEN);
        ENTRY("mlp.up_proj.weight", INTERMEDIATE, HIDDEN);
        ENTRY("post_attention_layernorm.weight", HIDDEN, 0);
        ENTRY("self_attn.k_proj.weight", KV_HEADS * HEAD_DIM, HIDDEN);
        ENTRY("self_attn.o_proj.weight", HIDDEN, HEADS * HEAD_DIM);
        ENTRY("self_attn.q_proj.weight", HEADS * HEAD_DIM, HIDDEN);
        ENTRY("self_attn.v_proj.weight", KV_HEADS * HEAD_DIM, HIDDEN);
#undef ENTRY
    }
    check_tensor_entry(header, "model.norm.weight", HIDDEN, 0, &offset);
    ck_assert_msg(cJSON_GetObjectItemCaseSensitive(header, "lm_head.weight") == NULL,
                  "tied models store no lm_head.weight");
    ck_assert_int_eq((long)(len - 8 - header_len), offset);

    /* Norm weights are exactly 1. Every other value is finite, within the
     * generator's bound of 6 standard deviations (6 * 0.02), and the spread
     * of each tensor is near 0.02. */
    const unsigned char *data = file + 8 + header_len;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, header) {
        if (strcmp(entry->string, "__metadata__") == 0)
            continue;
        const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
        long begin = (long)cJSON_GetArrayItem(offsets, 0)->valuedouble;
        long end = (long)cJSON_GetArrayItem(offsets, 1)->valuedouble;
        int is_norm = strstr(entry->string, "norm") != NULL;
        double sum = 0, sum_sq = 0;
        long n = (end - begin) / 4;
        for (long j = 0; j < n; j++) {
            float value = f32_at(data + begin + 4 * j);
            ck_assert_msg(isfinite(value), "%s[%ld] is not finite", entry->string, j);
            if (is_norm) {
                ck_assert_msg(value == 1.0f, "%s[%ld] = %g, expected 1", entry->string, j, value);
            } else {
                ck_assert_msg(fabsf(value) <= 0.12f, "%s[%ld] = %g", entry->string, j, value);
                sum += value;
                sum_sq += (double)value * value;
            }
        }
        if (!is_norm) {
            double mean = sum / n, std = sqrt(sum_sq / n - mean * mean);
            ck_assert_msg(fabs(mean) < 0.005, "%s mean %g", entry->string, mean);
            ck_assert_msg(std > 0.017 && std < 0.023, "%s standard deviation %g", entry->string, std);
        }
    }
    cJSON_Delete(header);
    free(file);
    free(path);
    remove_model(dir);
}
END_TEST

/* Appends the UTF-8 encoding of code point cp (below U+0800) to out. */
static void utf8_of(unsigned cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = '\0';
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = '\0';
    }
}

START_TEST(tokenizer_is_gpt2_byte_level) {
    char *dir = generate_model();
    cJSON *tokenizer = read_json(dir, "tokenizer.json");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tokenizer, "model");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "type")), "BPE");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(tokenizer, "pre_tokenizer");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pre, "type")), "ByteLevel");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pre, "use_regex")));
    const cJSON *decoder = cJSON_GetObjectItemCaseSensitive(tokenizer, "decoder");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(decoder, "type")), "ByteLevel");

    /* GPT-2's byte-to-unicode order: printable bytes keep their code point
     * and come first, in byte order. The other 68 bytes follow as U+0100
     * onward. So "!" is id 0, "~" id 93, "\u0100" (byte 0) id 188 and
     * "\u0120" (the space byte) id 220. */
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    int id = 0;
    unsigned next_shifted = 0x100;
    char token[4];
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned b = 0; b < 256; b++) {
            int kept = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            if (kept != (pass == 0))
                continue;
            utf8_of(kept ? b : next_shifted++, token);
            const cJSON *entry = cJSON_GetObjectItemCaseSensitive(vocab, token);
            ck_assert_msg(cJSON_IsNumber(entry), "byte %u: token '%s' missing", b, token);
            ck_assert_msg(entry->valueint == id, "byte %u: id %d, expected %d", b, entry->valueint, id);
            id++;
        }
    }
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(vocab, "\xc4\xa0")->valueint, 220);

    /* Each merge joins two existing tokens into a token with a higher id. */
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    ck_assert_int_gt(cJSON_GetArraySize(merges), 0);
    const cJSON *merge;
    cJSON_ArrayForEach(merge, merges) {
        char left[64], right[64], joined[128];
        ck_assert_int_eq(sscanf(merge->valuestring, "%63s %63s", left, right), 2);
        snprintf(joined, sizeof joined, "%s%s", left, right);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(vocab, left);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(vocab, right);
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(vocab, joined);
        ck_assert_msg(l && r && j, "merge '%s' names a token not in the vocabulary", merge->valuestring);
        ck_assert_int_gt(j->valueint, l->valueint);
        ck_assert_int_gt(j->valueint, r->valueint);
    }

    /* <|endoftext|> is the last id, in the vocabulary and as a special
     * added token. */
    int eot = cJSON_GetArraySize(vocab) - 1;
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(vocab, "<|endoftext|>")->valueint, eot);
    const cJSON *added = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tokenizer, "added_tokens"), 0);
    ck_assert_int_eq(int_field(added, "id"), eot);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(added, "content")), "<|endoftext|>");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(added, "special")));

    cJSON *config = read_json(dir, "tokenizer_config.json");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "bos_token")), "<|endoftext|>");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "eos_token")), "<|endoftext|>");
    ck_assert_int_eq(int_field(config, "model_max_length"), 512);
    cJSON_Delete(config);
    cJSON_Delete(tokenizer);
    remove_model(dir);
}
END_TEST

/* Runs scripts/demo.sh with a stand-in cheval binary (a shell script with
 * the given body) and fresh model and run folders. Returns the folder that
 * contains them. The stand-in appends its arguments to <folder>/args. */
static char *run_demo_script(const char *stub_body, test_output *result) {
    char *dir = test_make_temp_dir("cheval-demo-script");
    char *stub = chv_path_join(dir, "cheval");
    char script[1024];
    snprintf(script, sizeof script, "#!/bin/sh\necho \"$@\" >> '%s/args'\n%s\n", dir, stub_body);
    ck_assert_int_eq(test_write_file(stub, script, strlen(script)), 0);
    ck_assert_int_eq(chmod(stub, 0755), 0);

    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "CHEVAL_DEMO_TOOL='%s' CHEVAL_BIN='%s' CHEVAL_DEMO_MODEL='%s/model' "
             "CHEVAL_DEMO_OUTPUT='%s/run' sh scripts/demo.sh",
             demo_tool(), stub, dir, dir);
    ck_assert_int_eq(test_run(cmd, NULL, result), 0);
    free(stub);
    return dir;
}

static char *read_text(const char *dir, const char *name) {
    char *path = chv_path_join(dir, name);
    chv_error err;
    size_t len;
    char *text = chv_read_file(path, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    free(path);
    return text;
}

static void remove_dir(char *dir) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

START_TEST(demo_script_without_runner) {
    /* A build whose `cheval run` is a placeholder fails `run --help`. */
    test_output result;
    char *dir = run_demo_script("exit 1", &result);
    ck_assert_msg(result.status == 0, "exit %d: %s", result.status, result.err);
    ck_assert_msg(strstr(result.out, "does not implement 'cheval run' yet") != NULL, "stdout: %s",
                  result.out);
    char *model = chv_path_join(dir, "model/model.safetensors");
    ck_assert(chv_file_exists(model));
    free(model);
    test_output_free(&result);
    remove_dir(dir);
}
END_TEST

START_TEST(demo_script_runs_card_tasks) {
    test_output result;
    char *dir = run_demo_script("exit 0", &result);
    ck_assert_msg(result.status == 0, "exit %d: %s", result.status, result.err);
    ck_assert_msg(strstr(result.out, "untrained") != NULL && strstr(result.out, "chance") != NULL,
                  "stdout must say the model scores at chance: %s", result.out);

    /* The first call probes `run --help`, and the second runs the evaluation. */
    char *args = read_text(dir, "args");
    char expected[4096];
    snprintf(expected, sizeof expected,
             "run --help\n"
             "run --model %s/model --tasks card --data-dir data/samples --output-dir %s/run "
             "--log-samples\n",
             dir, dir);
    ck_assert_str_eq(args, expected);
    free(args);

    /* The closing message names every file the run writes. */
    static const char *const files[] = {"results.json", "results.md", "report.md", "report.html",
                                        "results.csv", "samples_<task>.jsonl"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        ck_assert_msg(strstr(result.out, files[i]) != NULL, "closing message lacks %s: %s", files[i],
                      result.out);
    test_output_free(&result);
    remove_dir(dir);
}
END_TEST

START_TEST(demo_script_reports_run_failure) {
    /* `run --help` succeeds, but the evaluation itself fails with status 1. */
    test_output result;
    char *dir = run_demo_script("case \"$2\" in --help) exit 0 ;; *) exit 1 ;; esac", &result);
    ck_assert_int_ne(result.status, 0);
    test_output_free(&result);
    remove_dir(dir);
}
END_TEST

int main(void) {
    Suite *s = suite_create("data_demo_model");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, generator_output_is_reproducible);
    tcase_add_test(tc, generator_rejects_missing_argument);
    tcase_add_test(tc, config_describes_tied_llama);
    tcase_add_test(tc, safetensors_weights_are_sane);
    tcase_add_test(tc, tokenizer_is_gpt2_byte_level);
    tcase_add_test(tc, demo_script_without_runner);
    tcase_add_test(tc, demo_script_runs_card_tasks);
    tcase_add_test(tc, demo_script_reports_run_failure);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
