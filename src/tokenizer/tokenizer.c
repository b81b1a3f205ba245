/* Loading tokenizer.json and tokenizer_config.json, and the encoding
 * pipeline (see internal.h for the stages). */
#include "tokenizer/tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"
#include "util/fileio.h"
#include "util/lines.h"
#include "util/log.h"
#include "util/utf8.h"

struct chv_tokenizer {
    char *path; /* tokenizer.json, for messages */
    tok_bpe *bpe;
    tok_normalizer *normalizer;     /* NULL when the file has none */
    tok_pretokenizer *pretokenizer; /* NULL when the file has none */
    tok_decoder *decoder;           /* NULL when the file has none */
    tok_post post;

    tok_added_token *added;
    size_t n_added;
    tok_strmap added_ids; /* content -> index in added */
    tok_added_matcher raw_matcher, normalized_matcher;

    const char **id_to_token; /* [vocab_size], borrowed */
    size_t vocab_size;

    int32_t bos_id, eos_id;
    long model_max_length;
};

/* ---- Files ---------------------------------------------------------------- */

/* Returns 1 when text ends inside a string, object or array, which is what
 * a truncated file looks like. */
static int json_ends_early(const char *text, size_t len) {
    long depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return in_string || depth > 0;
}

/* Parses a JSON file. On a syntax error the message gives line and column. */
static cJSON *parse_json_file(const char *path, chv_error *err) {
    size_t len;
    char *text = chv_read_file(path, &len, err);
    if (text == NULL)
        return NULL;

    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (json == NULL) {
        size_t offset = end != NULL && end >= text ? (size_t)(end - text) : len;
        if (offset > len)
            offset = len;
        long line = 1, column = 1;
        for (size_t i = 0; i < offset; i++) {
            if (text[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        chv_error_set(err, "%s: invalid JSON at line %ld, column %ld%s", path, line, column,
                      json_ends_early(text, len)
                          ? " (the file ends inside an object or string; is it truncated?)"
                          : "");
    }
    free(text);
    return json;
}

/* Reads a special token from tokenizer_config.json: a string or an object
 * with "content". Returns NULL when absent. */
static const char *config_token(const cJSON *config, const char *field) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(config, field);
    if (cJSON_IsString(item))
        return item->valuestring;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
    if (cJSON_IsObject(item) && cJSON_IsString(content))
        return content->valuestring;
    return NULL;
}

/* ---- Added tokens ------------------------------------------------------- */

static int added_bool(const cJSON *item, const char *field, int fallback, int *out,
                      const char *file, chv_error *err) {
    return tok_json_bool(item, field, fallback, out, file, "added_tokens entry", err);
}

/* Adds the "added_tokens" list. Ids are assigned as HF's
 * AddedVocabulary::add_tokens does, not read from the file: a token already
 * in the vocabulary keeps its id and a new one gets the next id after the
 * model vocabulary. A file whose ids disagree gets a warning, as in HF. */
static int load_added_tokens(chv_tokenizer *tok, const cJSON *list, chv_error *err) {
    if (list == NULL || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list))
        return chv_error_set(err, "%s: \"added_tokens\" must be a list", tok->path);

    size_t n = (size_t)cJSON_GetArraySize(list);
    tok->added = calloc(n ? n : 1, sizeof *tok->added);
    if (tok->added == NULL)
        return chv_error_set(err, "out of memory");

    int32_t next_id = (int32_t)tok_bpe_vocab_len(tok->bpe);
    size_t index = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        int bad = 0;
        const char *content = tok_json_string(item, "content", &bad);
        const cJSON *given = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (content == NULL || !cJSON_IsNumber(given))
            return chv_error_set(err, "%s: added_tokens entry %zu needs \"id\" and \"content\"",
                                 tok->path, index);
        if (given->valuedouble < 0 || given->valuedouble > TOK_MAX_ID)
            return chv_error_set(err,
                                 "%s: added token \"%s\" has id %.0f, which is out of range (ids "
                                 "must be integers from 0 to %d)",
                                 tok->path, content, given->valuedouble, TOK_MAX_ID);
        index++;
        if (content[0] == '\0')
            continue; /* HF ignores empty added tokens */

        tok_added_token t = {0};
        if (added_bool(item, "special", 0, &t.special, tok->path, err) < 0 ||
            added_bool(item, "lstrip", 0, &t.lstrip, tok->path, err) < 0 ||
            added_bool(item, "rstrip", 0, &t.rstrip, tok->path, err) < 0 ||
            added_bool(item, "single_word", 0, &t.single_word, tok->path, err) < 0 ||
            added_bool(item, "normalized", !t.special, &t.normalized, tok->path, err) < 0)
            return -1;

        int32_t slot, id;
        if (tok_strmap_get(&tok->added_ids, content, strlen(content), &slot)) {
            /* A repeated token replaces the earlier entry's flags. */
            id = tok->added[slot].id;
        } else {
            id = tok_bpe_token_to_id(tok->bpe, content, strlen(content));
            if (id < 0) {
                if (next_id > TOK_MAX_ID)
                    return chv_error_set(err, "%s: too many added tokens", tok->path);
                id = next_id++;
            }
            slot = (int32_t)tok->n_added++;
            if (tok_strmap_put(&tok->added_ids, content, strlen(content), slot) < 0)
                return chv_error_set(err, "out of memory");
        }
        if ((int32_t)given->valuedouble != id)
            chv_log_warn("%s: added token \"%s\" has id %d in the file but gets id %d (the "
                         "id of the same token in the vocabulary, or the next free id)",
                         tok->path, content, (int)given->valuedouble, (int)id);

        tok_added_token *dst = &tok->added[slot];
        free(dst->content);
        free(dst->pattern);
        *dst = t;
        dst->id = id;
        dst->content = strdup(content);
        if (dst->content == NULL)
            return chv_error_set(err, "out of memory");

        /* Tokens with normalized=true are matched on normalized text, so
         * their pattern is the normalized content. */
        if (dst->normalized && tok->normalizer != NULL) {
            if (tok_normalizer_apply(tok->normalizer, content, strlen(content), &dst->pattern,
                                     &dst->pattern_len, err) < 0)
                return chv_error_prefix(err, "%s: added token \"%s\"", tok->path, content);
        } else {
            dst->pattern = strdup(content);
            dst->pattern_len = strlen(content);
            if (dst->pattern == NULL)
                return chv_error_set(err, "out of memory");
        }
    }

    if (tok_added_matcher_init(&tok->raw_matcher, tok->added, tok->n_added, 0) < 0 ||
        tok_added_matcher_init(&tok->normalized_matcher, tok->added, tok->n_added, 1) < 0)
        return chv_error_set(err, "out of memory");
    return 0;
}

/* ---- Loading ------------------------------------------------------------ */

static int load_model(chv_tokenizer *tok, const cJSON *model, chv_error *err) {
    if (!cJSON_IsObject(model))
        return chv_error_set(err, "%s: missing \"model\" object", tok->path);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (type != NULL && !cJSON_IsString(type))
        return chv_error_set(err, "%s: model \"type\" must be a string", tok->path);
    /* Files written by old versions of tokenizers omit the type; a model
     * with merges is BPE then. */
    int is_bpe = type != NULL ? strcmp(type->valuestring, "BPE") == 0
                              : cJSON_GetObjectItemCaseSensitive(model, "merges") != NULL;
    if (!is_bpe)
        return chv_error_set(err, "%s: unsupported model type \"%s\" (only BPE is supported)",
                             tok->path, type != NULL ? type->valuestring : "(none)");
    tok->bpe = tok_bpe_parse(model, tok->path, err);
    return tok->bpe == NULL ? -1 : 0;
}

static int load_components(chv_tokenizer *tok, const cJSON *root, chv_error *err) {
    if (!cJSON_IsObject(root))
        return chv_error_set(err, "%s: the top level must be a JSON object", tok->path);
    if (load_model(tok, cJSON_GetObjectItemCaseSensitive(root, "model"), err) < 0)
        return -1;

    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (item != NULL && !cJSON_IsNull(item) &&
        (tok->normalizer = tok_normalizer_parse(item, tok->path, err)) == NULL)
        return -1;
    item = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (item != NULL && !cJSON_IsNull(item) &&
        (tok->pretokenizer = tok_pretokenizer_parse(item, tok->path, err)) == NULL)
        return -1;
    item = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    if (item != NULL && !cJSON_IsNull(item) && tok_post_parse(item, tok->path, &tok->post, err) < 0)
        return -1;
    item = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (item != NULL && !cJSON_IsNull(item)) {
        const char *unsupported = NULL;
        if ((tok->decoder = tok_decoder_parse(item, tok->path, &unsupported, err)) == NULL)
            return -1;
        if (unsupported != NULL)
            chv_log_warn("%s: decoder type \"%s\" is not supported; decoded text (for display "
                         "only) joins the token strings instead",
                         tok->path, unsupported);
    }

    return load_added_tokens(tok, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), err);
}

/* Fills id_to_token for every id of the model and the added tokens. */
static int build_id_table(chv_tokenizer *tok, chv_error *err) {
    int32_t max_id = tok_bpe_max_id(tok->bpe);
    for (size_t i = 0; i < tok->n_added; i++) {
        if (tok->added[i].id > max_id)
            max_id = tok->added[i].id;
    }
    tok->vocab_size = (size_t)(max_id + 1);
    tok->id_to_token = calloc(tok->vocab_size ? tok->vocab_size : 1, sizeof *tok->id_to_token);
    if (tok->id_to_token == NULL)
        return chv_error_set(err, "out of memory");
    for (int32_t id = 0; id <= tok_bpe_max_id(tok->bpe); id++)
        tok->id_to_token[id] = tok_bpe_id_to_token(tok->bpe, id);
    for (size_t i = 0; i < tok->n_added; i++)
        tok->id_to_token[tok->added[i].id] = tok->added[i].content;
    return 0;
}

/* The tokenizer classes whose fast constructor in transformers rebuilds the
 * post-processor from add_bos_token and add_eos_token, with their default
 * BOS and EOS strings. */
static const struct {
    const char *name, *bos, *eos;
} llama_like_classes[] = {
    {"LlamaTokenizer", "<s>", "</s>"},
    {"CodeLlamaTokenizer", "<s>", "</s>"},
    {"GemmaTokenizer", "<bos>", "<eos>"},
};

/* Returns 1 when tokenizer_class names `base` or its fast variant: configs
 * often name the slow class ("LlamaTokenizer"), and AutoTokenizer then
 * loads the fast one ("LlamaTokenizerFast"). */
static int class_is(const cJSON *cls, const char *base) {
    if (!cJSON_IsString(cls))
        return 0;
    size_t n = strlen(base);
    return strncmp(cls->valuestring, base, n) == 0 &&
           (cls->valuestring[n] == '\0' || strcmp(cls->valuestring + n, "Fast") == 0);
}

/* The byte-level tokenizer classes whose fast constructor in transformers
 * sets the ByteLevel pre-tokenizer's add_prefix_space from
 * tokenizer_config.json (default false). */
static const char *const prefix_space_classes[] = {
    "GPT2Tokenizer",  "GPTNeoXTokenizer", "CodeGenTokenizer",
    "BloomTokenizer", "RobertaTokenizer", "BartTokenizer",
};

static int apply_prefix_space(chv_tokenizer *tok, const cJSON *config, const char *config_path,
                              chv_error *err) {
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(config, "tokenizer_class");
    if (tok->pretokenizer == NULL)
        return 0;
    for (size_t k = 0; k < sizeof prefix_space_classes / sizeof prefix_space_classes[0]; k++) {
        if (!class_is(cls, prefix_space_classes[k]))
            continue;
        int add_prefix_space;
        if (tok_json_bool(config, "add_prefix_space", 0, &add_prefix_space, config_path,
                          "tokenizer_config", err) < 0)
            return -1;
        tok_pretokenizer_set_prefix_space(tok->pretokenizer, add_prefix_space);
        return 0;
    }
    return 0;
}

/* Reads tokenizer_config.json when it exists.
 * NOTE: tokens listed only in its added_tokens_decoder are not added,
 * while transformers adds them. */
static int load_config(chv_tokenizer *tok, const char *config_path, chv_error *err) {
    tok->bos_id = tok->post.prefix.len > 0 ? tok->post.prefix.data[0] : -1;
    tok->eos_id = tok->post.suffix.len > 0 ? tok->post.suffix.data[tok->post.suffix.len - 1] : -1;
    if (!chv_file_exists(config_path))
        return 0;

    cJSON *config = parse_json_file(config_path, err);
    if (config == NULL)
        return -1;
    int rc = 0;

    const cJSON *max_len = cJSON_GetObjectItemCaseSensitive(config, "model_max_length");
    if (cJSON_IsNumber(max_len) && max_len->valuedouble > 0 && max_len->valuedouble <= 1e9)
        tok->model_max_length = (long)max_len->valuedouble;

    if (apply_prefix_space(tok, config, config_path, err) < 0) {
        cJSON_Delete(config);
        return -1;
    }

    const char *bos = config_token(config, "bos_token");
    const char *eos = config_token(config, "eos_token");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(config, "tokenizer_class");
    for (size_t k = 0; k < sizeof llama_like_classes / sizeof llama_like_classes[0]; k++) {
        if (!class_is(cls, llama_like_classes[k].name))
            continue;
        /* transformers passes these defaults when the config omits them
         * (an explicit null keeps the token unset). */
        if (cJSON_GetObjectItemCaseSensitive(config, "bos_token") == NULL)
            bos = llama_like_classes[k].bos;
        if (cJSON_GetObjectItemCaseSensitive(config, "eos_token") == NULL)
            eos = llama_like_classes[k].eos;

        int add_bos, add_eos;
        if (tok_json_bool(config, "add_bos_token", 1, &add_bos, config_path, "tokenizer_config",
                          err) < 0 ||
            tok_json_bool(config, "add_eos_token", 0, &add_eos, config_path, "tokenizer_config",
                          err) < 0) {
            rc = -1;
            break;
        }
        int32_t bos_id = bos ? chv_tokenizer_token_to_id(tok, bos) : -1;
        int32_t eos_id = eos ? chv_tokenizer_token_to_id(tok, eos) : -1;
        if (add_bos && bos_id < 0) {
            rc = chv_error_set(err, "%s: add_bos_token is true but bos_token \"%s\" is not in the "
                                    "vocab; set bos_token or add_bos_token",
                               config_path, bos ? bos : "null");
            break;
        }
        if (add_eos && eos_id < 0) {
            rc = chv_error_set(err, "%s: add_eos_token is true but eos_token \"%s\" is not in the "
                                    "vocab; set eos_token or add_eos_token",
                               config_path, eos ? eos : "null");
            break;
        }
        tok_post_free(&tok->post);
        if ((add_bos && tok_ids_push(&tok->post.prefix, bos_id) < 0) ||
            (add_eos && tok_ids_push(&tok->post.suffix, eos_id) < 0))
            rc = chv_error_set(err, "out of memory");
        break;
    }

    if (bos != NULL && chv_tokenizer_token_to_id(tok, bos) >= 0)
        tok->bos_id = chv_tokenizer_token_to_id(tok, bos);
    if (eos != NULL && chv_tokenizer_token_to_id(tok, eos) >= 0)
        tok->eos_id = chv_tokenizer_token_to_id(tok, eos);
    cJSON_Delete(config);
    return rc;
}

chv_tokenizer *chv_tokenizer_load(const char *path, chv_error *err) {
    chv_tokenizer *tok = calloc(1, sizeof *tok);
    if (tok == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }

    /* path is the file itself or the folder that contains it. */
    char *config_path = NULL;
    if (chv_dir_exists(path)) {
        tok->path = chv_path_join(path, "tokenizer.json");
        config_path = chv_path_join(path, "tokenizer_config.json");
    } else {
        tok->path = strdup(path);
        const char *slash = strrchr(path, '/');
        if (slash == NULL) {
            config_path = strdup("tokenizer_config.json");
        } else {
            char *dir = strndup(path, (size_t)(slash - path) + 1);
            config_path = dir ? chv_path_join(dir, "tokenizer_config.json") : NULL;
            free(dir);
        }
    }
    if (tok->path == NULL || config_path == NULL) {
        chv_error_set(err, "out of memory");
        goto fail;
    }

    cJSON *root = parse_json_file(tok->path, err);
    if (root == NULL)
        goto fail;
    int rc = load_components(tok, root, err);
    cJSON_Delete(root);
    if (rc < 0 || build_id_table(tok, err) < 0 || load_config(tok, config_path, err) < 0)
        goto fail;
    free(config_path);
    return tok;

fail:
    free(config_path);
    chv_tokenizer_free(tok);
    return NULL;
}

void chv_tokenizer_free(chv_tokenizer *tok) {
    if (tok == NULL)
        return;
    tok_bpe_free(tok->bpe);
    tok_normalizer_free(tok->normalizer);
    tok_pretokenizer_free(tok->pretokenizer);
    tok_decoder_free(tok->decoder);
    tok_post_free(&tok->post);
    for (size_t i = 0; i < tok->n_added; i++) {
        free(tok->added[i].content);
        free(tok->added[i].pattern);
    }
    free(tok->added);
    tok_strmap_free(&tok->added_ids);
    tok_added_matcher_free(&tok->raw_matcher);
    tok_added_matcher_free(&tok->normalized_matcher);
    free(tok->id_to_token);
    free(tok->path);
    free(tok);
}

/* ---- Encoding ------------------------------------------------------------ */

/* Pre-tokenizes and encodes one stretch of normalized text that contains
 * no added token. */
static int encode_plain(chv_tokenizer *tok, const char *text, size_t len, int at_start,
                        tok_ids *out, chv_error *err) {
    tok_pieces pieces = {0};
    if (tok_pieces_push(&pieces, text, len, at_start) < 0)
        return chv_error_set(err, "out of memory");
    int rc = 0;
    if (tok->pretokenizer != NULL)
        rc = tok_pretokenizer_apply(tok->pretokenizer, &pieces, err);
    for (size_t i = 0; i < pieces.len && rc == 0; i++)
        rc = tok_bpe_encode(tok->bpe, pieces.items[i].text, pieces.items[i].len, out, err);
    tok_pieces_free(&pieces);
    return rc;
}

/* Normalizes one stretch of raw text between added tokens, splits out the
 * added tokens that match normalized text, and encodes the rest. */
static int encode_segment(chv_tokenizer *tok, const char *text, size_t len, int at_start,
                          tok_ids *out, chv_error *err) {
    char *norm = NULL;
    size_t norm_len = len;
    int start_dropped = 0;
    if (tok->normalizer != NULL &&
        tok_normalizer_apply_tracked(tok->normalizer, text, len, &norm, &norm_len, &start_dropped,
                                     err) < 0)
        return -1;
    at_start = at_start && !start_dropped;
    const char *s = norm != NULL ? norm : text;

    tok_segment *segs = NULL;
    long n = tok_added_split(&tok->normalized_matcher, s, norm_len, &segs);
    int rc = n < 0 ? chv_error_set(err, "out of memory") : 0;
    for (long i = 0; i < n && rc == 0; i++) {
        if (segs[i].id >= 0)
            rc = tok_ids_push(out, segs[i].id) < 0 ? chv_error_set(err, "out of memory") : 0;
        else
            rc = encode_plain(tok, s + segs[i].start, segs[i].end - segs[i].start,
                              at_start && segs[i].start == 0, out, err);
    }
    free(segs);
    free(norm);
    return rc;
}

int chv_tokenizer_encode(chv_tokenizer *tok, const char *text, size_t len, int add_special_tokens,
                         int32_t **ids, size_t *n_ids, int *replaced, chv_error *err) {
    *ids = NULL;
    *n_ids = 0;
    if (replaced != NULL)
        *replaced = 0;

    char *clean = NULL;
    if (!chv_utf8_valid(text, len, NULL)) {
        clean = chv_utf8_replace_invalid(text, len, &len);
        if (clean == NULL)
            return chv_error_set(err, "out of memory");
        text = clean;
        if (replaced != NULL)
            *replaced = 1;
    }

    tok_ids out = {0};
    int rc = 0;
    if (add_special_tokens)
        rc = tok_ids_extend(&out, tok->post.prefix.data, tok->post.prefix.len);

    tok_segment *segs = NULL;
    long n = rc < 0 ? -1 : tok_added_split(&tok->raw_matcher, text, len, &segs);
    if (n < 0)
        rc = chv_error_set(err, "out of memory");
    for (long i = 0; i < n && rc == 0; i++) {
        if (segs[i].id >= 0)
            rc = tok_ids_push(&out, segs[i].id) < 0 ? chv_error_set(err, "out of memory") : 0;
        else
            rc = encode_segment(tok, text + segs[i].start, segs[i].end - segs[i].start,
                                segs[i].start == 0, &out, err);
    }
    free(segs);

    if (rc == 0 && add_special_tokens &&
        tok_ids_extend(&out, tok->post.suffix.data, tok->post.suffix.len) < 0)
        rc = chv_error_set(err, "out of memory");
    free(clean);
    if (rc < 0) {
        free(out.data);
        return chv_error_prefix(err, "%s", tok->path);
    }
    if (out.data == NULL)
        out.data = malloc(sizeof(int32_t)); /* a valid pointer even for no ids */
    *ids = out.data;
    *n_ids = out.len;
    return 0;
}

/* ---- Accessors ------------------------------------------------------------ */

size_t chv_tokenizer_vocab_size(const chv_tokenizer *tok) {
    return tok->vocab_size;
}

const char *chv_tokenizer_id_to_token(const chv_tokenizer *tok, int32_t id) {
    if (id < 0 || (size_t)id >= tok->vocab_size)
        return NULL;
    return tok->id_to_token[id];
}

int32_t chv_tokenizer_token_to_id(const chv_tokenizer *tok, const char *token) {
    int32_t slot;
    if (tok_strmap_get(&tok->added_ids, token, strlen(token), &slot))
        return tok->added[slot].id;
    return tok_bpe_token_to_id(tok->bpe, token, strlen(token));
}

int32_t chv_tokenizer_bos_id(const chv_tokenizer *tok) {
    return tok->bos_id;
}

int32_t chv_tokenizer_eos_id(const chv_tokenizer *tok) {
    return tok->eos_id;
}

int chv_tokenizer_special_prefix(const chv_tokenizer *tok) {
    return (int)tok->post.prefix.len;
}

int chv_tokenizer_special_suffix(const chv_tokenizer *tok) {
    return (int)tok->post.suffix.len;
}

long chv_tokenizer_model_max_length(const chv_tokenizer *tok) {
    return tok->model_max_length;
}

char *chv_tokenizer_decode(const chv_tokenizer *tok, const int32_t *ids, size_t n_ids) {
    const char **tokens = malloc((n_ids ? n_ids : 1) * sizeof *tokens);
    if (tokens == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_ids; i++) {
        const char *t = chv_tokenizer_id_to_token(tok, ids[i]);
        if (t != NULL)
            tokens[n++] = t; /* HF skips ids it does not know */
    }
    char *text = tok_decoder_apply(tok->decoder, tokens, n);
    free(tokens);
    return text;
}
