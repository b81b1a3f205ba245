/* Pre-tokenizers: ByteLevel, Split, Metaspace, Digits, Whitespace,
 * WhitespaceSplit, Punctuation, BertPreTokenizer and Sequence, with the
 * splitting rules of HF `tokenizers` (NormalizedString::split). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/internal.h"

/* The pattern GPT-2 used to split text into words, numbers, punctuation
 * and whitespace before byte-level BPE. */
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* Whitespace's \w+|[^\w\s]+ with the Rust regex crate's Unicode \w
 * (Alphabetic, marks, decimal digits, connector punctuation, joiners). */
static const char whitespace_pattern[] =
    "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]+"
    "|[^\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}\\s]+";

typedef enum {
    PRE_SEQUENCE,
    PRE_BYTE_LEVEL,
    PRE_SPLIT,
    PRE_METASPACE,
    PRE_DIGITS,
    PRE_WHITESPACE,
    PRE_WHITESPACE_SPLIT,
    PRE_PUNCTUATION,
    PRE_BERT,
} pre_type;

/* SplitDelimiterBehavior. */
typedef enum {
    SPLIT_REMOVED,
    SPLIT_ISOLATED,
    SPLIT_MERGED_WITH_PREVIOUS,
    SPLIT_MERGED_WITH_NEXT,
    SPLIT_CONTIGUOUS,
} split_behavior;

typedef enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER } prepend_scheme;

struct tok_pretokenizer {
    pre_type type;
    tok_pretokenizer **children; /* Sequence */
    size_t n_children;
    tok_regex *regex;            /* ByteLevel (when use_regex), Split, Whitespace */
    split_behavior behavior;     /* Split, Punctuation */
    int invert;                  /* Split */
    int add_prefix_space;        /* ByteLevel */
    int32_t replacement;         /* Metaspace */
    prepend_scheme prepend;      /* Metaspace */
    int split;                   /* Metaspace */
    int individual_digits;       /* Digits */
};

/* ---- Splitting ---------------------------------------------------------- */

/* A stretch of a piece: a pattern match or the text between matches. */
typedef struct part {
    size_t start, end;
    int is_match;
} part;

typedef struct parts {
    part *items;
    size_t len, cap;
} parts;

static int parts_push(parts *p, size_t start, size_t end, int is_match) {
    if (p->len == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        part *items = realloc(p->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        p->items = items;
        p->cap = cap;
    }
    p->items[p->len++] = (part){start, end, is_match};
    return 0;
}

/* Turns regex matches into parts covering the whole text (HF's
 * Pattern::find_matches for a regex). */
static int regex_parts(tok_regex *re, const char *text, size_t len, int invert, parts *out,
                       chv_error *err) {
    tok_span *spans = NULL;
    long n = tok_regex_find_all(re, text, len, &spans, err);
    if (n < 0)
        return -1;
    size_t prev = 0;
    int rc = 0;
    for (long i = 0; i < n; i++) {
        if (prev != spans[i].start)
            rc |= parts_push(out, prev, spans[i].start, invert);
        rc |= parts_push(out, spans[i].start, spans[i].end, !invert);
        prev = spans[i].end;
    }
    if (prev != len)
        rc |= parts_push(out, prev, len, invert);
    free(spans);
    return rc < 0 ? chv_error_set(err, "out of memory") : 0;
}

typedef int (*char_predicate)(int32_t cp, const tok_pretokenizer *pre);

/* Each code point that satisfies pred is a match of its own (HF's
 * Pattern::find_matches for a char predicate). */
static int char_parts(char_predicate pred, const tok_pretokenizer *pre, const char *text,
                      size_t len, parts *out) {
    size_t last = 0, i = 0;
    while (i < len) {
        int32_t cp;
        size_t n = tok_utf8_decode(text + i, len - i, &cp);
        if (pred(cp, pre)) {
            if (last < i && parts_push(out, last, i, 0) < 0)
                return -1;
            if (parts_push(out, i, i + n, 1) < 0)
                return -1;
            last = i + n;
        }
        i += n;
    }
    if (last < len && parts_push(out, last, len, 0) < 0)
        return -1;
    return 0;
}

/* Applies a SplitDelimiterBehavior to the parts of one piece and appends the
 * resulting pieces to out. */
static int split_by_behavior(const tok_piece *piece, parts *p, split_behavior behavior,
                             tok_pieces *out) {
    size_t n = 0; /* p->items[0..n) are the merged spans, reusing the array */
    int previous_match = 0;

    switch (behavior) {
    case SPLIT_REMOVED:
    case SPLIT_ISOLATED:
        n = p->len;
        break;
    case SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < p->len; i++) {
            part cur = p->items[i];
            if (n > 0 && cur.is_match == previous_match)
                p->items[n - 1].end = cur.end;
            else
                p->items[n++] = (part){cur.start, cur.end, 0};
            previous_match = cur.is_match;
        }
        break;
    case SPLIT_MERGED_WITH_PREVIOUS:
        for (size_t i = 0; i < p->len; i++) {
            part cur = p->items[i];
            if (n > 0 && cur.is_match && !previous_match)
                p->items[n - 1].end = cur.end;
            else
                p->items[n++] = (part){cur.start, cur.end, 0};
            previous_match = cur.is_match;
        }
        break;
    case SPLIT_MERGED_WITH_NEXT: {
        /* Walk backwards so that a match joins the part after it, then put
         * the merged spans back in order. */
        part *merged = malloc((p->len ? p->len : 1) * sizeof *merged);
        if (merged == NULL)
            return -1;
        for (size_t k = p->len; k-- > 0;) {
            part cur = p->items[k];
            if (n > 0 && cur.is_match && !previous_match)
                merged[n - 1].start = cur.start;
            else
                merged[n++] = (part){cur.start, cur.end, 0};
            previous_match = cur.is_match;
        }
        for (size_t k = 0; k < n; k++)
            p->items[k] = merged[n - 1 - k];
        free(merged);
        break;
    }
    }

    for (size_t i = 0; i < n; i++) {
        part cur = p->items[i];
        if (behavior == SPLIT_REMOVED && cur.is_match)
            continue;
        if (tok_pieces_push(out, piece->text + cur.start, cur.end - cur.start,
                            piece->at_start && cur.start == 0) < 0)
            return -1;
    }
    return 0;
}

/* ---- Predicates ------------------------------------------------------- */

static int pred_whitespace(int32_t cp, const tok_pretokenizer *pre) {
    (void)pre;
    return tok_is_whitespace(cp);
}

static int pred_numeric(int32_t cp, const tok_pretokenizer *pre) {
    (void)pre;
    return tok_is_numeric(cp);
}

static int pred_replacement(int32_t cp, const tok_pretokenizer *pre) {
    return cp == pre->replacement;
}

/* HF's is_punctuation: ASCII punctuation or a Unicode P* category. */
static int pred_punctuation(int32_t cp, const tok_pretokenizer *pre) {
    (void)pre;
    if (cp < 0x80)
        return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
               (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

/* ---- Byte-level alphabet -------------------------------------------- */

static int byte_level_map(const char *text, size_t len, tok_buf *out) {
    const tok_byte_alphabet *alphabet = tok_byte_alphabet_get();
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)text[i];
        if (tok_buf_append(out, alphabet->utf8[b], alphabet->utf8_len[b]) < 0)
            return -1;
    }
    return 0;
}

/* ---- Applying one pre-tokenizer to one piece ---------------------------- */

static int apply_byte_level(const tok_pretokenizer *pre, const tok_piece *piece,
                            tok_pieces *out, chv_error *err) {
    tok_piece cur = *piece;
    char *prefixed = NULL;
    if (pre->add_prefix_space && cur.text[0] != ' ') {
        prefixed = malloc(cur.len + 2);
        if (prefixed == NULL)
            return chv_error_set(err, "out of memory");
        prefixed[0] = ' ';
        memcpy(prefixed + 1, cur.text, cur.len + 1);
        cur.text = prefixed;
        cur.len++;
    }

    tok_pieces split = {0};
    int rc = 0;
    if (pre->regex != NULL) {
        parts p = {0};
        rc = regex_parts(pre->regex, cur.text, cur.len, 0, &p, err);
        if (rc == 0 && split_by_behavior(&cur, &p, SPLIT_ISOLATED, &split) < 0)
            rc = chv_error_set(err, "out of memory");
        free(p.items);
    } else if (tok_pieces_push(&split, cur.text, cur.len, cur.at_start) < 0) {
        rc = chv_error_set(err, "out of memory");
    }

    for (size_t i = 0; i < split.len && rc == 0; i++) {
        tok_buf mapped = {0};
        if (byte_level_map(split.items[i].text, split.items[i].len, &mapped) < 0 ||
            tok_pieces_push(out, mapped.data, mapped.len, split.items[i].at_start) < 0)
            rc = chv_error_set(err, "out of memory");
        free(mapped.data);
    }
    tok_pieces_free(&split);
    free(prefixed);
    return rc;
}

static int apply_metaspace(const tok_pretokenizer *pre, const tok_piece *piece, tok_pieces *out,
                           chv_error *err) {
    char rep[4];
    size_t rep_len = tok_utf8_encode(pre->replacement, rep);
    tok_buf buf = {0};
    int rc = 0;

    /* Spaces become the replacement character. */
    int32_t first;
    tok_utf8_decode(piece->text, piece->len, &first);
    int prepend = 0;
    if (pre->prepend == PREPEND_ALWAYS)
        prepend = first != pre->replacement && first != ' ';
    else if (pre->prepend == PREPEND_FIRST)
        prepend = first != pre->replacement && first != ' ' && piece->at_start;
    if (prepend)
        rc |= tok_buf_append(&buf, rep, rep_len);
    for (size_t i = 0; i < piece->len; i++) {
        if (piece->text[i] == ' ')
            rc |= tok_buf_append(&buf, rep, rep_len);
        else
            rc |= tok_buf_append(&buf, piece->text + i, 1);
    }
    if (rc < 0) {
        free(buf.data);
        return chv_error_set(err, "out of memory");
    }

    tok_piece replaced = {buf.data, buf.len, piece->at_start};
    if (!pre->split) {
        rc = tok_pieces_push(out, replaced.text, replaced.len, replaced.at_start);
    } else {
        parts p = {0};
        rc = char_parts(pred_replacement, pre, replaced.text, replaced.len, &p);
        if (rc == 0)
            rc = split_by_behavior(&replaced, &p, SPLIT_MERGED_WITH_NEXT, out);
        free(p.items);
    }
    free(buf.data);
    return rc < 0 ? chv_error_set(err, "out of memory") : 0;
}

static int apply_char_split(char_predicate pred, split_behavior behavior,
                            const tok_pretokenizer *pre, const tok_piece *piece, tok_pieces *out,
                            chv_error *err) {
    parts p = {0};
    int rc = char_parts(pred, pre, piece->text, piece->len, &p);
    if (rc == 0)
        rc = split_by_behavior(piece, &p, behavior, out);
    free(p.items);
    return rc < 0 ? chv_error_set(err, "out of memory") : 0;
}

static int apply_regex_split(tok_regex *re, int invert, split_behavior behavior,
                             const tok_piece *piece, tok_pieces *out, chv_error *err) {
    parts p = {0};
    int rc = regex_parts(re, piece->text, piece->len, invert, &p, err);
    if (rc == 0 && split_by_behavior(piece, &p, behavior, out) < 0)
        rc = chv_error_set(err, "out of memory");
    free(p.items);
    return rc;
}

static int apply_piece(const tok_pretokenizer *pre, const tok_piece *piece, tok_pieces *out,
                       chv_error *err) {
    switch (pre->type) {
    case PRE_BYTE_LEVEL:
        return apply_byte_level(pre, piece, out, err);
    case PRE_SPLIT:
        return apply_regex_split(pre->regex, pre->invert, pre->behavior, piece, out, err);
    case PRE_METASPACE:
        return apply_metaspace(pre, piece, out, err);
    case PRE_DIGITS:
        return apply_char_split(pred_numeric,
                                pre->individual_digits ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS, pre,
                                piece, out, err);
    case PRE_WHITESPACE:
        return apply_regex_split(pre->regex, 1, SPLIT_REMOVED, piece, out, err);
    case PRE_WHITESPACE_SPLIT:
        return apply_char_split(pred_whitespace, SPLIT_REMOVED, pre, piece, out, err);
    case PRE_PUNCTUATION:
        return apply_char_split(pred_punctuation, pre->behavior, pre, piece, out, err);
    case PRE_BERT: {
        tok_pieces words = {0};
        int rc = apply_char_split(pred_whitespace, SPLIT_REMOVED, pre, piece, &words, err);
        for (size_t i = 0; i < words.len && rc == 0; i++)
            rc = apply_char_split(pred_punctuation, SPLIT_ISOLATED, pre, &words.items[i], out, err);
        tok_pieces_free(&words);
        return rc;
    }
    case PRE_SEQUENCE:
        break;
    }
    return 0;
}

int tok_pretokenizer_apply(const tok_pretokenizer *pre, tok_pieces *pieces, chv_error *err) {
    if (pre->type == PRE_SEQUENCE) {
        for (size_t i = 0; i < pre->n_children; i++) {
            if (tok_pretokenizer_apply(pre->children[i], pieces, err) < 0)
                return -1;
        }
        return 0;
    }

    tok_pieces out = {0};
    for (size_t i = 0; i < pieces->len; i++) {
        if (apply_piece(pre, &pieces->items[i], &out, err) < 0) {
            tok_pieces_free(&out);
            return -1;
        }
    }
    tok_pieces_free(pieces);
    *pieces = out;
    return 0;
}

int tok_pretokenizer_set_prefix_space(tok_pretokenizer *pre, int add_prefix_space) {
    if (pre->type != PRE_BYTE_LEVEL)
        return 0;
    pre->add_prefix_space = add_prefix_space;
    return 1;
}

/* ---- Parsing ------------------------------------------------------------ */

void tok_pretokenizer_free(tok_pretokenizer *pre) {
    if (pre == NULL)
        return;
    for (size_t i = 0; i < pre->n_children; i++)
        tok_pretokenizer_free(pre->children[i]);
    free(pre->children);
    tok_regex_free(pre->regex);
    free(pre);
}

static const struct {
    const char *name;
    pre_type type;
} pre_names[] = {
    {"Sequence", PRE_SEQUENCE},
    {"ByteLevel", PRE_BYTE_LEVEL},
    {"Split", PRE_SPLIT},
    {"Metaspace", PRE_METASPACE},
    {"Digits", PRE_DIGITS},
    {"Whitespace", PRE_WHITESPACE},
    {"WhitespaceSplit", PRE_WHITESPACE_SPLIT},
    {"Punctuation", PRE_PUNCTUATION},
    {"BertPreTokenizer", PRE_BERT},
};

static const struct {
    const char *name;
    split_behavior behavior;
} behavior_names[] = {
    {"Removed", SPLIT_REMOVED},
    {"Isolated", SPLIT_ISOLATED},
    {"MergedWithPrevious", SPLIT_MERGED_WITH_PREVIOUS},
    {"MergedWithNext", SPLIT_MERGED_WITH_NEXT},
    {"Contiguous", SPLIT_CONTIGUOUS},
};

static int parse_behavior(const cJSON *json, split_behavior fallback, split_behavior *out,
                          const char *file, const char *what, chv_error *err) {
    int bad = 0;
    const char *name = tok_json_string(json, "behavior", &bad);
    if (name == NULL && !bad) {
        *out = fallback;
        return 0;
    }
    for (size_t k = 0; name != NULL && k < sizeof behavior_names / sizeof behavior_names[0]; k++) {
        if (strcmp(name, behavior_names[k].name) == 0) {
            *out = behavior_names[k].behavior;
            return 0;
        }
    }
    return chv_error_set(err,
                         "%s: %s pre_tokenizer has an unknown \"behavior\" %s%s%s (expected "
                         "Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)",
                         file, what, name ? "\"" : "", name ? name : "(not a string)",
                         name ? "\"" : "");
}

static int parse_metaspace(tok_pretokenizer *pre, const cJSON *json, const char *file,
                           chv_error *err) {
    int bad = 0;
    const char *replacement = tok_json_string(json, "replacement", &bad);
    int32_t cp;
    if (replacement == NULL || replacement[0] == '\0' ||
        tok_utf8_decode(replacement, strlen(replacement), &cp) != strlen(replacement))
        return chv_error_set(err, "%s: Metaspace pre_tokenizer needs a one-character \"replacement\"",
                             file);
    pre->replacement = cp;

    const char *scheme = tok_json_string(json, "prepend_scheme", &bad);
    pre->prepend = PREPEND_ALWAYS;
    if (scheme != NULL) {
        if (strcmp(scheme, "always") == 0)
            pre->prepend = PREPEND_ALWAYS;
        else if (strcmp(scheme, "first") == 0)
            pre->prepend = PREPEND_FIRST;
        else if (strcmp(scheme, "never") == 0)
            pre->prepend = PREPEND_NEVER;
        else
            return chv_error_set(err,
                                 "%s: Metaspace pre_tokenizer has an unknown \"prepend_scheme\" "
                                 "\"%s\" (expected first, always or never)",
                                 file, scheme);
    }

    /* Older files have add_prefix_space instead of prepend_scheme. */
    int add_prefix_space;
    if (tok_json_bool(json, "add_prefix_space", 1, &add_prefix_space, file,
                      "Metaspace pre_tokenizer", err) < 0)
        return -1;
    if (!add_prefix_space) {
        if (scheme != NULL && pre->prepend != PREPEND_NEVER)
            return chv_error_set(err,
                                 "%s: Metaspace pre_tokenizer: add_prefix_space false does not "
                                 "match prepend_scheme \"%s\"",
                                 file, scheme);
        pre->prepend = PREPEND_NEVER;
    }
    return tok_json_bool(json, "split", 1, &pre->split, file, "Metaspace pre_tokenizer", err);
}

tok_pretokenizer *tok_pretokenizer_parse(const cJSON *json, const char *file, chv_error *err) {
    int bad = 0;
    const char *type = cJSON_IsObject(json) ? tok_json_string(json, "type", &bad) : NULL;
    if (type == NULL) {
        chv_error_set(err, "%s: pre_tokenizer has no \"type\"", file);
        return NULL;
    }
    size_t k;
    for (k = 0; k < sizeof pre_names / sizeof pre_names[0]; k++) {
        if (strcmp(type, pre_names[k].name) == 0)
            break;
    }
    if (k == sizeof pre_names / sizeof pre_names[0]) {
        chv_error_set(err, "%s: unsupported pre_tokenizer type \"%s\"", file, type);
        return NULL;
    }

    tok_pretokenizer *pre = calloc(1, sizeof *pre);
    if (pre == NULL) {
        chv_error_set(err, "out of memory");
        return NULL;
    }
    pre->type = pre_names[k].type;

    switch (pre->type) {
    case PRE_SEQUENCE: {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "pretokenizers");
        if (!cJSON_IsArray(list)) {
            chv_error_set(err, "%s: Sequence pre_tokenizer has no \"pretokenizers\" list", file);
            goto fail;
        }
        int n = cJSON_GetArraySize(list);
        pre->children = calloc(n > 0 ? (size_t)n : 1, sizeof *pre->children);
        if (pre->children == NULL) {
            chv_error_set(err, "out of memory");
            goto fail;
        }
        const cJSON *child;
        cJSON_ArrayForEach(child, list) {
            tok_pretokenizer *c = tok_pretokenizer_parse(child, file, err);
            if (c == NULL)
                goto fail;
            pre->children[pre->n_children++] = c;
        }
        break;
    }
    case PRE_BYTE_LEVEL: {
        int use_regex;
        if (tok_json_bool(json, "add_prefix_space", 1, &pre->add_prefix_space, file,
                          "ByteLevel pre_tokenizer", err) < 0 ||
            tok_json_bool(json, "use_regex", 1, &use_regex, file, "ByteLevel pre_tokenizer",
                          err) < 0)
            goto fail;
        if (use_regex && (pre->regex = tok_regex_new(gpt2_pattern, 0, err)) == NULL)
            goto fail;
        break;
    }
    case PRE_SPLIT:
        pre->regex = tok_pattern_parse(cJSON_GetObjectItemCaseSensitive(json, "pattern"), file,
                                       "Split pre_tokenizer", err);
        if (pre->regex == NULL ||
            parse_behavior(json, SPLIT_REMOVED, &pre->behavior, file, "Split", err) < 0 ||
            tok_json_bool(json, "invert", 0, &pre->invert, file, "Split pre_tokenizer", err) < 0)
            goto fail;
        if (cJSON_GetObjectItemCaseSensitive(json, "behavior") == NULL) {
            chv_error_set(err, "%s: Split pre_tokenizer has no \"behavior\"", file);
            goto fail;
        }
        break;
    case PRE_METASPACE:
        if (parse_metaspace(pre, json, file, err) < 0)
            goto fail;
        break;
    case PRE_DIGITS:
        if (tok_json_bool(json, "individual_digits", 0, &pre->individual_digits, file,
                          "Digits pre_tokenizer", err) < 0)
            goto fail;
        break;
    case PRE_WHITESPACE:
        if ((pre->regex = tok_regex_new(whitespace_pattern, 0, err)) == NULL)
            goto fail;
        break;
    case PRE_PUNCTUATION:
        if (parse_behavior(json, SPLIT_ISOLATED, &pre->behavior, file, "Punctuation", err) < 0)
            goto fail;
        break;
    default:
        break;
    }
    return pre;

fail:
    tok_pretokenizer_free(pre);
    return NULL;
}
