/* Post-processors: TemplateProcessing, BertProcessing, RobertaProcessing,
 * ByteLevel and Sequence. For a single sequence each of them reduces to
 * special-token ids put before and after the encoded text. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

void tok_post_free(tok_post *post) {
    free(post->prefix.data);
    free(post->suffix.data);
    memset(post, 0, sizeof *post);
}

/* Appends the ids of special token `name` from the template's
 * "special_tokens" table. */
static int template_special(const cJSON *specials, const char *name, tok_ids *out,
                            const char *file, chv_error *err) {
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(specials, name);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(entry, "ids");
    if (!cJSON_IsArray(ids))
        return chv_error_set(err,
                             "%s: TemplateProcessing post_processor uses special token \"%s\", "
                             "which has no \"ids\" in \"special_tokens\"",
                             file, name);
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > TOK_MAX_ID)
            return chv_error_set(err,
                                 "%s: TemplateProcessing special token \"%s\" has an id out of "
                                 "range (ids must be integers from 0 to %d)",
                                 file, name, TOK_MAX_ID);
        if (tok_ids_push(out, (int32_t)id->valuedouble) < 0)
            return chv_error_set(err, "out of memory");
    }
    return 0;
}

static int parse_template(const cJSON *json, const char *file, tok_post *post, chv_error *err) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(json, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(json, "special_tokens");
    if (!cJSON_IsArray(single))
        return chv_error_set(err, "%s: TemplateProcessing post_processor has no \"single\" list",
                             file);

    int seen_sequence = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, single) {
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
        const cJSON *sequence = cJSON_GetObjectItemCaseSensitive(item, "Sequence");
        if (special != NULL) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(special, "id");
            if (!cJSON_IsString(id))
                return chv_error_set(err, "%s: TemplateProcessing SpecialToken has no \"id\"", file);
            if (template_special(specials, id->valuestring,
                                 seen_sequence ? &post->suffix : &post->prefix, file, err) < 0)
                return -1;
        } else if (sequence != NULL) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(sequence, "id");
            if (!cJSON_IsString(id) || strcmp(id->valuestring, "A") != 0 || seen_sequence)
                return chv_error_set(err,
                                     "%s: TemplateProcessing \"single\" template must contain "
                                     "the sequence $A exactly once",
                                     file);
            seen_sequence = 1;
        } else {
            return chv_error_set(err,
                                 "%s: TemplateProcessing template items must be SpecialToken or "
                                 "Sequence",
                                 file);
        }
    }
    if (!seen_sequence)
        return chv_error_set(err, "%s: TemplateProcessing \"single\" template has no $A", file);
    return 0;
}

/* Reads ["token", id] as BertProcessing and RobertaProcessing store cls and
 * sep. */
static int parse_token_pair(const cJSON *json, const char *field, const char *type,
                            int32_t *id, const char *file, chv_error *err) {
    const cJSON *pair = cJSON_GetObjectItemCaseSensitive(json, field);
    const cJSON *value = cJSON_GetArrayItem(pair, 1);
    if (!cJSON_IsArray(pair) || !cJSON_IsNumber(value) || value->valuedouble < 0 ||
        value->valuedouble > TOK_MAX_ID)
        return chv_error_set(err, "%s: %s post_processor needs \"%s\": [token, id]", file, type,
                             field);
    *id = (int32_t)value->valuedouble;
    return 0;
}

int tok_post_parse(const cJSON *json, const char *file, tok_post *post, chv_error *err) {
    int bad = 0;
    const char *type = cJSON_IsObject(json) ? tok_json_string(json, "type", &bad) : NULL;
    if (type == NULL)
        return chv_error_set(err, "%s: post_processor has no \"type\"", file);

    if (strcmp(type, "ByteLevel") == 0)
        return 0; /* it only trims offsets */
    if (strcmp(type, "TemplateProcessing") == 0)
        return parse_template(json, file, post, err);
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        /* Both give [CLS] $A [SEP] (<s> $A </s> for RoBERTa). */
        int32_t cls, sep;
        if (parse_token_pair(json, "cls", type, &cls, file, err) < 0 ||
            parse_token_pair(json, "sep", type, &sep, file, err) < 0)
            return -1;
        if (tok_ids_push(&post->prefix, cls) < 0 || tok_ids_push(&post->suffix, sep) < 0)
            return chv_error_set(err, "out of memory");
        return 0;
    }
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "processors");
        if (!cJSON_IsArray(list))
            return chv_error_set(err, "%s: Sequence post_processor has no \"processors\" list",
                                 file);
        /* Each processor wraps the output of the previous one. */
        const cJSON *child;
        cJSON_ArrayForEach(child, list) {
            tok_post inner = {0};
            if (tok_post_parse(child, file, &inner, err) < 0) {
                tok_post_free(&inner);
                return -1;
            }
            int rc = tok_ids_extend(&inner.prefix, post->prefix.data, post->prefix.len);
            rc |= tok_ids_extend(&post->suffix, inner.suffix.data, inner.suffix.len);
            free(post->prefix.data);
            post->prefix = inner.prefix;
            free(inner.suffix.data);
            if (rc < 0)
                return chv_error_set(err, "out of memory");
        }
        return 0;
    }
    return chv_error_set(err, "%s: unsupported post_processor type \"%s\"", file, type);
}
