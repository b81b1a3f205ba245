/* Internal pieces of the tokenizer, shared by the files of src/tokenizer/.
 * Nothing here is part of the public API (see tokenizer.h).
 *
 * The encoding pipeline follows Hugging Face `tokenizers`:
 *
 *   text -> added-token split (raw) -> normalizer -> added-token split
 *        (normalized) -> pre-tokenizer -> BPE per pre-token -> post-processor
 *
 * Each stage works on plain UTF-8 strings. Unlike the Rust crate, no
 * alignment between normalized and original text is kept, because only the
 * ids are needed. The one place where HF consults alignments, Metaspace's
 * prepend_scheme "first", uses the `at_start` flag of a piece instead.
 */
#ifndef CHEVAL_TOKENIZER_INTERNAL_H
#define CHEVAL_TOKENIZER_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Largest token id accepted in a tokenizer.json (ids are 0..TOK_MAX_ID). */
#define TOK_MAX_ID ((1 << 24) - 1)

/* ---- Growable arrays ------------------------------------------------ */

typedef struct tok_buf {
    char *data; /* NUL-terminated when len > 0 or after tok_buf_finish */
    size_t len, cap;
} tok_buf;

int tok_buf_append(tok_buf *buf, const char *s, size_t n);
int tok_buf_append_cp(tok_buf *buf, int32_t cp);
/* Returns data as a NUL-terminated malloc'd string (never NULL unless out
 * of memory) and resets buf. */
char *tok_buf_finish(tok_buf *buf);

typedef struct tok_ids {
    int32_t *data;
    size_t len, cap;
} tok_ids;

int tok_ids_push(tok_ids *ids, int32_t id);
int tok_ids_extend(tok_ids *ids, const int32_t *src, size_t n);

/* A pre-token: a malloc'd string and whether it starts at offset 0 of the
 * original input (what HF checks as `offsets_original().0 == 0`). */
typedef struct tok_piece {
    char *text;
    size_t len;
    int at_start;
} tok_piece;

typedef struct tok_pieces {
    tok_piece *items;
    size_t len, cap;
} tok_pieces;

/* Appends a copy of text[0..len); empty strings are dropped, as HF drops
 * empty splits. */
int tok_pieces_push(tok_pieces *pieces, const char *text, size_t len, int at_start);
void tok_pieces_free(tok_pieces *pieces);

/* ---- Hash maps ------------------------------------------------------ */

/* String -> int32 map with owned keys (open addressing). */
typedef struct tok_strmap_entry {
    char *key;
    uint32_t key_len;
    uint32_t hash;
    int32_t value;
} tok_strmap_entry;

typedef struct tok_strmap {
    tok_strmap_entry *entries;
    size_t cap, count; /* cap is 0 or a power of two */
} tok_strmap;

/* Inserts or overwrites key. Returns 0, or -1 when out of memory. */
int tok_strmap_put(tok_strmap *map, const char *key, size_t key_len, int32_t value);
/* Returns 1 and stores the value when key is present, else 0. */
int tok_strmap_get(const tok_strmap *map, const char *key, size_t key_len, int32_t *value);
void tok_strmap_free(tok_strmap *map);

uint32_t tok_hash_bytes(const char *s, size_t len);

/* ---- UTF-8 and Unicode helpers -------------------------------------- */

/* Decodes the code point at s[0..len) (valid UTF-8) and returns its length
 * in bytes (1 for an invalid byte, whose value is stored as is). */
size_t tok_utf8_decode(const char *s, size_t len, int32_t *cp);
size_t tok_utf8_encode(int32_t cp, char out[4]);
/* Unicode White_Space, which is Rust's char::is_whitespace. */
int tok_is_whitespace(int32_t cp);
/* Rust's char::is_numeric: general category Nd, Nl or No. */
int tok_is_numeric(int32_t cp);
/* A word character as the Rust regex crate's \w: a letter, letter number,
 * mark, decimal digit, connector punctuation or joiner (U+200C, U+200D). */
int tok_is_word_char(int32_t cp);

/* GPT-2's byte-level alphabet: printable Latin-1 bytes stand for
 * themselves, the other 68 bytes map to U+0100..U+0143 in byte order. */
typedef struct tok_byte_alphabet {
    int32_t char_of[256];         /* byte -> code point */
    char utf8[256][2];            /* byte -> UTF-8 of its code point */
    unsigned char utf8_len[256];
    int16_t byte_of[0x144];       /* code point -> byte, or -1 */
} tok_byte_alphabet;

/* Returns the alphabet, built once (thread-safe). */
const tok_byte_alphabet *tok_byte_alphabet_get(void);

/* ---- Unicode version tables (unicode_tables.c, generated) ------------ */

/* A closed range of code points. */
typedef struct tok_range {
    int32_t first, last;
} tok_range;

typedef struct tok_category_ranges {
    const char *category; /* two-letter general category, e.g. "Lo" */
    const tok_range *ranges;
    size_t len;
} tok_category_ranges;

/* Code points assigned after Unicode 9.0. HF normalizes with Unicode 9.0
 * tables, so these act as unassigned characters in the normalizers. */
extern const tok_range *const tok_after_unicode9;
extern const size_t tok_after_unicode9_len;

/* Code points that Unicode 14.0 (PCRE2 10.42) leaves unassigned but that
 * HF's Oniguruma assigns, by general category. */
extern const tok_category_ranges tok_unicode14_additions[];
extern const size_t tok_unicode14_additions_len;

/* The code points that HF's StripAccents removes: the combining marks of
 * its Unicode 9.0 table. */
extern const tok_range *const tok_hf_combining_marks;
extern const size_t tok_hf_combining_marks_len;

/* A lowercase mapping. */
typedef struct tok_case_pair {
    int32_t from, to;
} tok_case_pair;

/* Lowercase mappings and numeric code points that Rust's char methods (so
 * HF's Lowercase and Digits) know and Unicode 14.0 does not. The mappings
 * are sorted by `from`. */
extern const tok_case_pair *const tok_rust_lowercase_additions;
extern const size_t tok_rust_lowercase_additions_len;
extern const tok_range *const tok_rust_numeric_additions;
extern const size_t tok_rust_numeric_additions_len;

/* Returns 1 when cp lies in one of the sorted ranges. */
int tok_in_ranges(const tok_range *ranges, size_t len, int32_t cp);
/* Returns 1 when cp is one of tok_unicode14_additions in a category that
 * starts with `prefix` ("L" for all letters, "Nd" for decimal digits). */
int tok_is_unicode14_addition(int32_t cp, const char *prefix);

/* ---- Regular expressions --------------------------------------------- */

/* A PCRE2 pattern compiled so that it matches as Oniguruma (Ruby syntax)
 * does: UTF and Unicode properties on, ^ and $ anchored at lines, newline
 * is LF. */
typedef struct tok_regex tok_regex;

typedef struct tok_span {
    size_t start, end;
} tok_span;

/* Compiles pattern, or a literal string when `literal` is set. Returns NULL
 * with err holding PCRE2's message and the offset. */
tok_regex *tok_regex_new(const char *pattern, int literal, chv_error *err);
void tok_regex_free(tok_regex *re);
/* Finds every non-overlapping match in s[0..len) from left to right, the way
 * the Rust onig crate's find_iter does (an empty match right after the
 * previous match is skipped). Stores a malloc'd array in *spans. Returns the
 * number of matches, or -1 with err filled. */
long tok_regex_find_all(tok_regex *re, const char *s, size_t len, tok_span **spans,
                        chv_error *err);

/* A regex or string pattern as tokenizer.json writes it:
 * {"Regex": "..."} or {"String": "..."}. `what` names the component for the
 * error message. */
tok_regex *tok_pattern_parse(const cJSON *pattern, const char *file, const char *what,
                             chv_error *err);

/* ---- JSON helpers ----------------------------------------------------- */

/* Reads an optional boolean field; a missing or null field gives `fallback`.
 * Returns -1 with err filled when the field has another type. */
int tok_json_bool(const cJSON *obj, const char *field, int fallback, int *out, const char *file,
                  const char *what, chv_error *err);
/* Returns the string value of obj[field], NULL when missing or null. Sets
 * *bad when the field has another type. */
const char *tok_json_string(const cJSON *obj, const char *field, int *bad);

/* ---- Normalizers -------------------------------------------------------- */

typedef struct tok_normalizer tok_normalizer;

/* Parses the "normalizer" value (not null). */
tok_normalizer *tok_normalizer_parse(const cJSON *json, const char *file, chv_error *err);
void tok_normalizer_free(tok_normalizer *norm);
/* Normalizes text[0..len) into a malloc'd string (*out, *out_len). */
int tok_normalizer_apply(const tok_normalizer *norm, const char *text, size_t len, char **out,
                         size_t *out_len, chv_error *err);
/* The same, and sets *start_dropped when the normalizer deleted the first
 * character(s), so that the result no longer starts at offset 0 of the
 * text in HF's alignment (Metaspace's prepend_scheme "first" checks it). */
int tok_normalizer_apply_tracked(const tok_normalizer *norm, const char *text, size_t len,
                                 char **out, size_t *out_len, int *start_dropped,
                                 chv_error *err);

/* ---- Pre-tokenizers ----------------------------------------------------- */

typedef struct tok_pretokenizer tok_pretokenizer;

tok_pretokenizer *tok_pretokenizer_parse(const cJSON *json, const char *file, chv_error *err);
void tok_pretokenizer_free(tok_pretokenizer *pre);
/* Sets add_prefix_space when pre is a ByteLevel pre-tokenizer (not inside
 * a Sequence). Returns 1 when it was one, else 0. */
int tok_pretokenizer_set_prefix_space(tok_pretokenizer *pre, int add_prefix_space);
/* Splits every piece in *pieces further, replacing its contents. */
int tok_pretokenizer_apply(const tok_pretokenizer *pre, tok_pieces *pieces, chv_error *err);

/* ---- BPE model ---------------------------------------------------------- */

typedef struct tok_bpe tok_bpe;

tok_bpe *tok_bpe_parse(const cJSON *model, const char *file, chv_error *err);
void tok_bpe_free(tok_bpe *bpe);
/* Appends the ids of one pre-token to out. */
int tok_bpe_encode(tok_bpe *bpe, const char *text, size_t len, tok_ids *out, chv_error *err);
/* Model vocabulary lookups (without added tokens). */
int32_t tok_bpe_token_to_id(const tok_bpe *bpe, const char *token, size_t len);
/* Number of entries in the model vocabulary (HF's get_vocab_size). */
size_t tok_bpe_vocab_len(const tok_bpe *bpe);
/* Largest id in the model vocabulary, or -1. */
int32_t tok_bpe_max_id(const tok_bpe *bpe);
/* Token string of a model id, or NULL. */
const char *tok_bpe_id_to_token(const tok_bpe *bpe, int32_t id);

/* ---- Added tokens ------------------------------------------------------- */

typedef struct tok_added_token {
    char *content;
    char *pattern; /* content, or content passed through the normalizer */
    size_t pattern_len;
    int32_t id;
    int special, lstrip, rstrip, single_word, normalized;
} tok_added_token;

/* Leftmost-longest matcher over a set of added tokens. */
typedef struct tok_added_matcher {
    const tok_added_token *tokens; /* not owned */
    size_t *order;                 /* token indices sorted by first byte, longest first */
    size_t n;
    size_t bucket[257];            /* order[bucket[b]..bucket[b+1]) start with byte b */
} tok_added_matcher;

/* One span of a split: an added token (id >= 0) or plain text (id = -1). */
typedef struct tok_segment {
    size_t start, end;
    int32_t id;
} tok_segment;

/* Builds a matcher over the tokens whose `normalized` flag equals
 * `normalized`. Returns 0 or -1 when out of memory. */
int tok_added_matcher_init(tok_added_matcher *m, const tok_added_token *tokens, size_t n_tokens,
                           int normalized);
void tok_added_matcher_free(tok_added_matcher *m);
/* Splits s[0..len) around added tokens as HF's AddedVocabulary does
 * (lstrip, rstrip and single_word included). Stores a malloc'd array in
 * *segments covering all of s. Returns the count or -1. */
long tok_added_split(const tok_added_matcher *m, const char *s, size_t len,
                     tok_segment **segments);

/* ---- Decoders ----------------------------------------------------------- */

typedef struct tok_decoder tok_decoder;

/* Parses the "decoder" value. Unknown types give a decoder that joins the
 * token strings; *unsupported is set to the type name (borrowed). */
tok_decoder *tok_decoder_parse(const cJSON *json, const char *file, const char **unsupported,
                               chv_error *err);
void tok_decoder_free(tok_decoder *dec);
/* Decodes token strings into a malloc'd UTF-8 string. */
char *tok_decoder_apply(const tok_decoder *dec, const char *const *tokens, size_t n_tokens);

/* ---- Post-processor ----------------------------------------------------- */

/* The special tokens a post-processor puts around a single sequence. */
typedef struct tok_post {
    tok_ids prefix, suffix;
} tok_post;

/* Parses the "post_processor" value (not null) into post. The special
 * token ids come from the post-processor itself, as in HF. */
int tok_post_parse(const cJSON *json, const char *file, tok_post *post, chv_error *err);
void tok_post_free(tok_post *post);

#endif
