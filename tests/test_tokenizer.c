/* Unit tests for src/tokenizer: each component on a tiny tokenizer.json
 * written by the test, the error messages for bad files, and the real
 * tokenizers under $CHEVAL_MODELS_DIR when it is set.
 *
 * The expected ids of the tiny tokenizers were checked against Hugging
 * Face's Rust `tokenizers` 0.23.2 (npm package `tokenizers`).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"
#include "util/fileio.h"
#include "util/lines.h"

/* ---- Helpers ------------------------------------------------------------ */

/* Inline JSON is written with ' for " so that it stays readable in C. */
static char *unquote(const char *json) {
    char *s = strdup(json);
    for (char *p = s; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    return s;
}

/* Writes a folder holding tokenizer.json (and tokenizer_config.json when
 * config is not NULL) and returns the folder path. */
static char *write_tokenizer_dir(const char *json, const char *config) {
    char *dir = test_make_temp_dir("cheval-tok");
    char *path = chv_path_join(dir, "tokenizer.json");
    char *text = unquote(json);
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    free(text);
    free(path);
    if (config != NULL) {
        path = chv_path_join(dir, "tokenizer_config.json");
        text = unquote(config);
        ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
        free(text);
        free(path);
    }
    return dir;
}

/* Removes what write_tokenizer_dir made, and frees dir. */
static void remove_tokenizer_dir(char *dir) {
    const char *names[] = {"tokenizer.json", "tokenizer_config.json"};
    for (size_t i = 0; i < 2; i++) {
        char *path = chv_path_join(dir, names[i]);
        remove(path);
        free(path);
    }
    remove(dir);
    free(dir);
}

static chv_tokenizer *load_with_config(const char *json, const char *config) {
    char *dir = write_tokenizer_dir(json, config);
    chv_error err;
    chv_tokenizer *tok = chv_tokenizer_load(dir, &err);
    ck_assert_msg(tok != NULL, "load failed: %s", err.message);
    remove_tokenizer_dir(dir);
    return tok;
}

static chv_tokenizer *load(const char *json) {
    return load_with_config(json, NULL);
}

/* Loads json and returns the error message (static buffer). */
static const char *load_error(const char *json) {
    static chv_error err;
    char *dir = write_tokenizer_dir(json, NULL);
    chv_tokenizer *tok = chv_tokenizer_load(dir, &err);
    ck_assert_msg(tok == NULL, "load of a bad file succeeded");
    remove_tokenizer_dir(dir);
    return err.message;
}

static void check_ids(chv_tokenizer *tok, const char *text, int special, const int32_t *expected,
                      size_t n_expected) {
    int32_t *ids;
    size_t n;
    int replaced;
    chv_error err;
    ck_assert_msg(chv_tokenizer_encode(tok, text, strlen(text), special, &ids, &n, &replaced,
                                       &err) == 0,
                  "encode failed: %s", err.message);

    char got[1024] = "", want[1024] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), " %d", ids[i]);
    for (size_t i = 0; i < n_expected; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), " %d", expected[i]);
    ck_assert_msg(strcmp(got, want) == 0, "encode(\"%s\", special=%d): got [%s ], want [%s ]",
                  text, special, got, want);
    free(ids);
}

#define EXPECT_IDS(tok, text, special, ...)                                                  \
    do {                                                                                     \
        const int32_t expected_[] = {__VA_ARGS__};                                           \
        check_ids(tok, text, special, expected_, sizeof expected_ / sizeof expected_[0]);   \
    } while (0)
#define EXPECT_NO_IDS(tok, text, special) check_ids(tok, text, special, NULL, 0)

/* Runs one pre-tokenizer (JSON) on text and returns the pieces joined with
 * '|'. The caller frees the result. */
static char *pretokenize(const char *pre_json, const char *text) {
    char *json = unquote(pre_json);
    cJSON *parsed = cJSON_Parse(json);
    free(json);
    ck_assert_ptr_nonnull(parsed);
    chv_error err;
    tok_pretokenizer *pre = tok_pretokenizer_parse(parsed, "test.json", &err);
    cJSON_Delete(parsed);
    ck_assert_msg(pre != NULL, "parse failed: %s", err.message);

    tok_pieces pieces = {0};
    ck_assert_int_eq(tok_pieces_push(&pieces, text, strlen(text), 1), 0);
    ck_assert_msg(tok_pretokenizer_apply(pre, &pieces, &err) == 0, "apply failed: %s",
                  err.message);
    tok_buf out = {0};
    for (size_t i = 0; i < pieces.len; i++) {
        if (i > 0)
            tok_buf_append(&out, "|", 1);
        tok_buf_append(&out, pieces.items[i].text, pieces.items[i].len);
    }
    tok_pieces_free(&pieces);
    tok_pretokenizer_free(pre);
    return tok_buf_finish(&out);
}

#define EXPECT_PIECES(pre_json, text, expected)                                                \
    do {                                                                                       \
        char *got_ = pretokenize(pre_json, text);                                              \
        ck_assert_msg(strcmp(got_, expected) == 0, "pre-tokenize \"%s\": got \"%s\", want \"%s\"", \
                      text, got_, expected);                                                   \
        free(got_);                                                                            \
    } while (0)

/* Normalizes text with one normalizer (JSON); the caller frees the result. */
static char *normalize(const char *norm_json, const char *text) {
    char *json = unquote(norm_json);
    cJSON *parsed = cJSON_Parse(json);
    free(json);
    ck_assert_ptr_nonnull(parsed);
    chv_error err;
    tok_normalizer *norm = tok_normalizer_parse(parsed, "test.json", &err);
    cJSON_Delete(parsed);
    ck_assert_msg(norm != NULL, "parse failed: %s", err.message);
    char *out;
    size_t out_len;
    ck_assert_int_eq(tok_normalizer_apply(norm, text, strlen(text), &out, &out_len, &err), 0);
    tok_normalizer_free(norm);
    return out;
}

#define EXPECT_NORMALIZED(norm_json, text, expected)                                           \
    do {                                                                                       \
        char *got_ = normalize(norm_json, text);                                               \
        ck_assert_msg(strcmp(got_, expected) == 0, "normalize \"%s\": got \"%s\", want \"%s\"", \
                      text, got_, expected);                                                   \
        free(got_);                                                                            \
    } while (0)

/* A tiny character-level BPE: ids 0..2 are special, 3.. are characters. */
#define CHAR_VOCAB                                                                   \
    "{'<unk>':0,'<s>':1,'</s>':2,'a':3,'b':4,'c':5,'d':6,' ':7,'ab':8,'bc':9,'abc':10," \
    "'cd':11,'\u2581':12,'\u2581a':13,'x':14,'y':15}"

/* ---- BPE model ------------------------------------------------------------ */

START_TEST(bpe_merge_rank_order) {
    /* "b c" has the better rank, so abc = a + bc, never ab + c. */
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB
                              ",'merges':['b c','a b','a bc']}}");
    EXPECT_IDS(tok, "abc", 0, 10);
    EXPECT_IDS(tok, "ab", 0, 8);
    EXPECT_IDS(tok, "abd", 0, 8, 6);
    chv_tokenizer_free(tok);

    tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['a b','b c']}}");
    EXPECT_IDS(tok, "abc", 0, 8, 5);
    EXPECT_IDS(tok, "bcab", 0, 9, 8);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_merges_as_pairs) {
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB
                              ",'merges':[['b','c'],['a','b'],['a','bc']]}}");
    EXPECT_IDS(tok, "abc", 0, 10);
    EXPECT_IDS(tok, "cabc", 0, 5, 10);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_leftmost_pair_first) {
    /* Equal ranks merge from the left, so "aaa" is aa + a, not a + aa. */
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':{'a':0,'aa':1},'merges':['a a']}}");
    EXPECT_IDS(tok, "aaa", 0, 1, 0);
    EXPECT_IDS(tok, "aaaaa", 0, 1, 1, 0);
    chv_tokenizer_free(tok);

    /* With only "c d", both pairs in "cdcd" merge and "ccd" keeps its first c. */
    tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['c d']}}");
    EXPECT_IDS(tok, "cdcd", 0, 11, 11);
    EXPECT_IDS(tok, "ccd", 0, 5, 11);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_ignore_merges) {
    /* "abc" is in the vocab but no merge makes it from a + bc. */
    const char *model = "'vocab':" CHAR_VOCAB ",'merges':['a b']";
    char json[1024];
    snprintf(json, sizeof json, "{'model':{'type':'BPE',%s,'ignore_merges':true}}", model);
    chv_tokenizer *tok = load(json);
    EXPECT_IDS(tok, "abc", 0, 10);
    EXPECT_IDS(tok, "abcd", 0, 8, 5, 6);
    chv_tokenizer_free(tok);

    snprintf(json, sizeof json, "{'model':{'type':'BPE',%s,'ignore_merges':false}}", model);
    tok = load(json);
    EXPECT_IDS(tok, "abc", 0, 8, 5);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_unknown_and_fuse) {
    /* z and q are not in the vocab. */
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB
                              ",'merges':[],'unk_token':'<unk>','fuse_unk':true}}");
    EXPECT_IDS(tok, "azqb", 0, 3, 0, 4);
    chv_tokenizer_free(tok);

    tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB
               ",'merges':[],'unk_token':'<unk>','fuse_unk':false}}");
    EXPECT_IDS(tok, "azqb", 0, 3, 0, 0, 4);
    chv_tokenizer_free(tok);

    /* Without unk_token, unknown characters are dropped, as in HF. */
    tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[],'unk_token':null}}");
    EXPECT_IDS(tok, "azqb", 0, 3, 4);
    EXPECT_NO_IDS(tok, "zq", 0);
    EXPECT_NO_IDS(tok, "zq", 0); /* the second time from the cache */
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_unk_token_missing_from_vocab) {
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':" CHAR_VOCAB
                              ",'merges':[],'unk_token':'[UNK]'}}");
    int32_t *ids;
    size_t n;
    chv_error err;
    ck_assert_int_eq(chv_tokenizer_encode(tok, "az", 2, 0, &ids, &n, NULL, &err), -1);
    ck_assert_msg(strstr(err.message, "unk_token \"[UNK]\" is not in the vocab") != NULL,
                  "message: %s", err.message);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_byte_fallback) {
    /* é is C3 A9: both bytes are in the vocab. ü (C3 BC) lacks BC, so it
     * becomes <unk>. */
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':{'<unk>':0,'a':1,'<0xC3>':2,"
                              "'<0xA9>':3,'<0x0A>':4},'merges':[],'unk_token':'<unk>',"
                              "'fuse_unk':true,'byte_fallback':true}}");
    EXPECT_IDS(tok, "a\xC3\xA9", 0, 1, 2, 3);
    EXPECT_IDS(tok, "\n", 0, 4);
    EXPECT_IDS(tok, "\xC3\xBC\xC3\xBC" "a", 0, 0, 1);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_subword_prefix_and_suffix) {
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':{'a':0,'##b':1,'##c':2,'ab':3,"
                              "'abc':4,'b':5},'merges':['a ##b','ab ##c'],"
                              "'continuing_subword_prefix':'##'}}");
    EXPECT_IDS(tok, "abc", 0, 4);
    EXPECT_IDS(tok, "ab", 0, 3);
    EXPECT_IDS(tok, "b", 0, 5);
    chv_tokenizer_free(tok);

    tok = load("{'model':{'type':'BPE','vocab':{'a':0,'b':1,'b</w>':2,'ab</w>':3,'a</w>':4},"
               "'merges':['a b</w>'],'end_of_word_suffix':'</w>'}}");
    EXPECT_IDS(tok, "ab", 0, 3);
    EXPECT_IDS(tok, "ba", 0, 1, 4);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(bpe_long_run_is_fast) {
    /* 20,000 merges on one pre-token: a quadratic merge loop would take
     * seconds here. */
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':{'a':0,'aa':1,'aaaa':2},"
                              "'merges':['a a','aa aa']}}");
    size_t len = 40000;
    char *text = malloc(len + 1);
    memset(text, 'a', len);
    text[len] = '\0';
    int32_t *ids;
    size_t n;
    chv_error err;
    ck_assert_int_eq(chv_tokenizer_encode(tok, text, len, 0, &ids, &n, NULL, &err), 0);
    ck_assert_uint_eq(n, len / 4);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ids[i], 2);
    free(ids);
    free(text);
    chv_tokenizer_free(tok);
}
END_TEST

/* ---- Normalizers ------------------------------------------------------------ */

START_TEST(normalizer_prepend_and_replace) {
    EXPECT_NORMALIZED("{'type':'Prepend','prepend':'\u2581'}", "hi", "\u2581hi");
    EXPECT_NORMALIZED("{'type':'Prepend','prepend':'\u2581'}", "", "");
    EXPECT_NORMALIZED("{'type':'Replace','pattern':{'String':' '},'content':'\u2581'}", "a b  c",
                      "a\u2581b\u2581\u2581c");
    EXPECT_NORMALIZED("{'type':'Replace','pattern':{'Regex':' {2,}'},'content':' '}", "a  b    c",
                      "a b c");
    EXPECT_NORMALIZED("{'type':'Replace','pattern':{'Regex':'\\\\A +| +\\\\z'},'content':''}",
                      "  a b  ", "a b");
    /* The String pattern is literal: '.' matches only a dot. */
    EXPECT_NORMALIZED("{'type':'Replace','pattern':{'String':'.'},'content':'!'}", "a.b", "a!b");
}
END_TEST

START_TEST(normalizer_strip_and_lowercase) {
    EXPECT_NORMALIZED("{'type':'Strip','strip_left':true,'strip_right':true}",
                      " \t\u3000a b\n\u00a0", "a b");
    EXPECT_NORMALIZED("{'type':'Strip','strip_left':false,'strip_right':true}", "  a  ", "  a");
    EXPECT_NORMALIZED("{'type':'Strip','strip_left':true,'strip_right':false}", "  a  ", "a  ");
    EXPECT_NORMALIZED("{'type':'Lowercase'}", "HeLLo \u0394", "hello \u03b4");
    /* U+0130 lowercases to i + U+0307, as Rust's char::to_lowercase. */
    EXPECT_NORMALIZED("{'type':'Lowercase'}", "\u0130", "i\u0307");
}
END_TEST

START_TEST(normalizer_unicode_forms) {
    EXPECT_NORMALIZED("{'type':'NFC'}", "e\u0301", "\u00e9");
    EXPECT_NORMALIZED("{'type':'NFD'}", "\u00e9", "e\u0301");
    EXPECT_NORMALIZED("{'type':'NFKC'}", "\ufb01 \u2460", "fi 1");
    EXPECT_NORMALIZED("{'type':'NFKD'}", "\u00e9\ufb01", "e\u0301fi");
    EXPECT_NORMALIZED("{'type':'Sequence','normalizers':[{'type':'NFD'},{'type':'StripAccents'}]}",
                      "caf\u00e9 na\u00efve", "cafe naive");
}
END_TEST

START_TEST(normalizer_unicode9_tables) {
    /* U+1DF6 (Unicode 10) is unknown to HF's Unicode 9.0 tables, so NFC
     * leaves it before U+0334 instead of reordering by combining class. */
    EXPECT_NORMALIZED("{'type':'NFC'}", "a\u1DF6\u0334", "a\u1DF6\u0334");
    EXPECT_NORMALIZED("{'type':'NFC'}", "a\u0301\u0334", "\u00E1\u0334");
    /* U+11935 + U+11930 compose only since Unicode 13. */
    EXPECT_NORMALIZED("{'type':'NFC'}", "\U00011935\U00011930", "\U00011935\U00011930");
    /* U+11A7 is not a trailing consonant, so it does not join U+C5B4. */
    EXPECT_NORMALIZED("{'type':'NFC'}", "\uC5B4\u11A7", "\uC5B4\u11A7");
    EXPECT_NORMALIZED("{'type':'NFC'}", "\uAC00\u11A8", "\uAC01");
    /* U+1CF2 was a mark in Unicode 9.0 (now a letter); U+07FD came later. */
    EXPECT_NORMALIZED("{'type':'StripAccents'}", "a\u1CF2\u07FDb", "a\u07FDb");
    /* Rust's newer tables lowercase U+A7CB (Unicode 16). */
    EXPECT_NORMALIZED("{'type':'Lowercase'}", "\uA7CB", "\u0264");
}
END_TEST

START_TEST(normalizer_sequence_in_tokenizer) {
    /* Llama-2 style: prepend U+2581 and turn spaces into U+2581. */
    chv_tokenizer *tok = load(
        "{'normalizer':{'type':'Sequence','normalizers':[{'type':'Prepend','prepend':'\u2581'},"
        "{'type':'Replace','pattern':{'String':' '},'content':'\u2581'}]},"
        "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['\u2581 a']}}");
    EXPECT_IDS(tok, "a", 0, 13);
    EXPECT_IDS(tok, "b a", 0, 12, 4, 13);
    EXPECT_NO_IDS(tok, "", 0);
    chv_tokenizer_free(tok);
}
END_TEST

/* ---- Pre-tokenizers ------------------------------------------------------ */

/* GPT-2's pattern as a Split, so the pieces show the raw text. */
#define GPT2_SPLIT                                                                        \
    "{'type':'Split','pattern':{'Regex':'\\u0027s|\\u0027t|\\u0027re|\\u0027ve|\\u0027m|"  \
    "\\u0027ll|\\u0027d| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|" \
    "\\\\s+'},'behavior':'Isolated','invert':false}"

START_TEST(pretok_gpt2_pattern_whitespace) {
    EXPECT_PIECES(GPT2_SPLIT, "Hello world", "Hello| world");
    /* A run of spaces leaves its last space to the next word. */
    EXPECT_PIECES(GPT2_SPLIT, "a   b", "a|  | b");
    EXPECT_PIECES(GPT2_SPLIT, "a \n b", "a| \n| b");
    EXPECT_PIECES(GPT2_SPLIT, "a\n\nb", "a|\n|\n|b");
    EXPECT_PIECES(GPT2_SPLIT, "a\n\n b", "a|\n\n| b");
    EXPECT_PIECES(GPT2_SPLIT, "a\t\tb", "a|\t|\t|b");
    EXPECT_PIECES(GPT2_SPLIT, "a \t\n", "a| \t\n");
    EXPECT_PIECES(GPT2_SPLIT, "  \n\n  a", "  \n\n | a");
    EXPECT_PIECES(GPT2_SPLIT, "x\u3000\u3000y", "x|\u3000|\u3000|y");
    EXPECT_PIECES(GPT2_SPLIT, "x \xC2\x85y", "x| |\xC2\x85|y");
}
END_TEST

START_TEST(pretok_gpt2_pattern_words) {
    EXPECT_PIECES(GPT2_SPLIT, "I'm he'll they've", "I|'m| he|'ll| they|'ve");
    /* The contractions are case-sensitive in GPT-2's pattern. */
    EXPECT_PIECES(GPT2_SPLIT, "I'M", "I|'|M");
    EXPECT_PIECES(GPT2_SPLIT, "$1,000.50!!", "$|1|,|000|.|50|!!");
    EXPECT_PIECES(GPT2_SPLIT, "caf\u00e9 \u65e5\u672c 12\u00bd", "caf\u00e9| \u65e5\u672c| 12\u00bd");
}
END_TEST

START_TEST(pretok_byte_level) {
    /* Space is U+0120 (Ġ) and LF U+010A (Ċ) in GPT-2's byte alphabet. */
    EXPECT_PIECES("{'type':'ByteLevel','add_prefix_space':false,'use_regex':true}", "a b\n",
                  "a|\u0120b|\u010a");
    EXPECT_PIECES("{'type':'ByteLevel','add_prefix_space':true,'use_regex':true}", "a b",
                  "\u0120a|\u0120b");
    EXPECT_PIECES("{'type':'ByteLevel','add_prefix_space':false,'use_regex':false}", "a b",
                  "a\u0120b");
    /* é is C3 A9, which map to Ã and ©. */
    EXPECT_PIECES("{'type':'ByteLevel','add_prefix_space':false,'use_regex':true}", "\u00e9",
                  "\u00c3\u00a9");
}
END_TEST

START_TEST(pretok_split_behaviors) {
    const char *fmt = "{'type':'Split','pattern':{'String':'-'},'behavior':'%s','invert':%s}";
    char json[256];
    const struct {
        const char *behavior;
        const char *invert;
        const char *expected;
    } cases[] = {
        {"Removed", "false", "a|b|c"},
        {"Isolated", "false", "a|-|b|-|-|c|-"},
        {"MergedWithPrevious", "false", "a-|b-|-|c-"},
        {"MergedWithNext", "false", "a|-b|-|-c|-"},
        {"Contiguous", "false", "a|-|b|--|c|-"},
        /* invert: the text between matches becomes the delimiter. */
        {"Removed", "true", "-|-|-|-"},
        {"Isolated", "true", "a|-|b|-|-|c|-"},
        {"MergedWithPrevious", "true", "a|-b|-|-c|-"},
        {"MergedWithNext", "true", "a-|b-|-|c-"},
        {"Contiguous", "true", "a|-|b|--|c|-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, fmt, cases[i].behavior, cases[i].invert);
        EXPECT_PIECES(json, "a-b--c-", cases[i].expected);
    }
}
END_TEST

START_TEST(pretok_split_regex_anchors) {
    /* ^ and $ are line anchors, as in Oniguruma. */
    EXPECT_PIECES("{'type':'Split','pattern':{'Regex':'^a|b$'},'behavior':'Isolated','invert':false}",
                  "ab\nab", "a|b|\n|a|b");
    /* \p{L} includes letters newer than PCRE2's Unicode 14.0 tables, such
     * as U+11F04 (Unicode 15). */
    EXPECT_PIECES("{'type':'Split','pattern':{'Regex':'\\\\p{L}+'},'behavior':'Isolated','invert':false}",
                  "x\U00011F04'", "x\U00011F04|'");
    /* \w is Oniguruma's: U+2460 is not a word character, U+00BD is. */
    EXPECT_PIECES("{'type':'Split','pattern':{'Regex':'\\\\w+'},'behavior':'Removed','invert':false}",
                  "x\u2460y\u00bd", "\u2460");
    /* It also takes Alphabetic letter numbers such as U+216B, and
     * [:alpha:] is Alphabetic too. */
    EXPECT_PIECES("{'type':'Split','pattern':{'Regex':'\\\\w+'},'behavior':'Removed','invert':false}",
                  "x\u216B.", ".");
    EXPECT_PIECES("{'type':'Split','pattern':{'Regex':'[[:alpha:]]+'},'behavior':'Removed','invert':false}",
                  "x\u216B.1", ".1");
}
END_TEST

START_TEST(pretok_metaspace) {
    EXPECT_PIECES("{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'always','split':true}",
                  "hi  there", "\u2581hi|\u2581|\u2581there");
    EXPECT_PIECES("{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'never','split':true}",
                  "hi there", "hi|\u2581there");
    EXPECT_PIECES("{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'first','split':false}",
                  "hi there", "\u2581hi\u2581there");
    /* Older files: add_prefix_space true means "always". */
    EXPECT_PIECES("{'type':'Metaspace','replacement':'\u2581','add_prefix_space':true}", " a",
                  "\u2581a");
}
END_TEST

START_TEST(pretok_metaspace_first_after_added_token) {
    /* With "first", only text at the very start of the input gets U+2581,
     * not the text after a leading added token. */
    chv_tokenizer *tok = load(
        "{'added_tokens':[{'id':1,'content':'<s>','special':true,'normalized':false,"
        "'lstrip':false,'rstrip':false,'single_word':false}],"
        "'pre_tokenizer':{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'first',"
        "'split':true},'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['\u2581 a']}}");
    EXPECT_IDS(tok, "a", 0, 13);
    EXPECT_IDS(tok, "<s>a", 0, 1, 3);
    EXPECT_IDS(tok, "a<s>a", 0, 13, 1, 3);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(pretok_metaspace_first_after_strip) {
    /* When the normalizer deletes the first characters, HF's alignment no
     * longer starts at offset 0, so "first" does not prepend U+2581. */
    chv_tokenizer *tok = load(
        "{'normalizer':{'type':'Strip','strip_left':true,'strip_right':false},"
        "'pre_tokenizer':{'type':'Metaspace','replacement':'\u2581','prepend_scheme':'first',"
        "'split':true},'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['\u2581 a']}}");
    EXPECT_IDS(tok, "a", 0, 13);
    EXPECT_IDS(tok, " a", 0, 3);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(pretok_digits_and_whitespace) {
    EXPECT_PIECES("{'type':'Digits','individual_digits':true}", "a123b", "a|1|2|3|b");
    EXPECT_PIECES("{'type':'Digits','individual_digits':false}", "a123b4", "a|123|b|4");
    EXPECT_PIECES("{'type':'Whitespace'}", "Hey  man!? ok", "Hey|man|!?|ok");
    EXPECT_PIECES("{'type':'WhitespaceSplit'}", " Hey  man!\tok ", "Hey|man!|ok");
    EXPECT_PIECES("{'type':'Punctuation','behavior':'Isolated'}", "a,b!!", "a|,|b|!|!");
    EXPECT_PIECES("{'type':'BertPreTokenizer'}", "Hi, you!", "Hi|,|you|!");
    EXPECT_PIECES("{'type':'Sequence','pretokenizers':[{'type':'WhitespaceSplit'},"
                  "{'type':'Digits','individual_digits':true}]}",
                  "ab12 c3", "ab|1|2|c|3");
}
END_TEST

/* ---- Added tokens ---------------------------------------------------------- */

#define ADDED_TOKEN(id, content, special, lstrip, rstrip, single_word, normalized)           \
    "{'id':" #id ",'content':'" content "','special':" #special ",'lstrip':" #lstrip           \
    ",'rstrip':" #rstrip ",'single_word':" #single_word ",'normalized':" #normalized "}"

START_TEST(added_tokens_longest_match) {
    chv_tokenizer *tok =
        load("{'added_tokens':[" ADDED_TOKEN(16, "<x>", true, false, false, false, false) ","
             ADDED_TOKEN(17, "<x>y", true, false, false, false, false) "],"
             "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['a b']}}");
    EXPECT_IDS(tok, "ab<x>yab<x>", 0, 8, 17, 8, 16);
    EXPECT_IDS(tok, "<x<x>", 0, 14, 16); /* '<' is not in the vocab */
    ck_assert_uint_eq(chv_tokenizer_vocab_size(tok), 18);
    ck_assert_str_eq(chv_tokenizer_id_to_token(tok, 17), "<x>y");
    ck_assert_int_eq(chv_tokenizer_token_to_id(tok, "<x>"), 16);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(added_tokens_strip_flags) {
    chv_tokenizer *tok =
        load("{'added_tokens':[" ADDED_TOKEN(16, "<l>", true, true, false, false, false) ","
             ADDED_TOKEN(17, "<r>", true, false, true, false, false) ","
             ADDED_TOKEN(18, "xy", false, false, false, true, false) "],"
             "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    /* lstrip takes the spaces before, rstrip the spaces after. */
    EXPECT_IDS(tok, "a  <l> b", 0, 3, 16, 7, 4);
    EXPECT_IDS(tok, "a <r>  b", 0, 3, 7, 17, 4);
    /* single_word: only when no word character touches the token. */
    EXPECT_IDS(tok, "a xy b", 0, 3, 7, 18, 7, 4);
    EXPECT_IDS(tok, "axy", 0, 3, 14, 15);
    EXPECT_IDS(tok, "xyb", 0, 14, 15, 4);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(added_tokens_rstrip_overlap) {
    /* HF resumes matching right after "<r>", so " x" still matches inside
     * the whitespace that rstrip took. */
    chv_tokenizer *tok =
        load("{'added_tokens':[" ADDED_TOKEN(16, "<r>", true, false, true, false, false) ","
             ADDED_TOKEN(17, " x", true, false, false, false, false) "],"
             "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "<r> x", 0, 16, 17);
    EXPECT_IDS(tok, "<r>  xa", 0, 16, 17, 3);
    EXPECT_IDS(tok, "<r>  a", 0, 16, 3);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(added_tokens_normalized) {
    /* "AB" has normalized=true, so it is matched after lowercasing, as
     * "ab". "XY" has normalized=false, so only the raw text matches. */
    chv_tokenizer *tok =
        load("{'added_tokens':[" ADDED_TOKEN(16, "AB", false, false, false, false, true) ","
             ADDED_TOKEN(17, "XY", false, false, false, false, false) "],"
             "'normalizer':{'type':'Lowercase'},"
             "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "cab", 0, 5, 16);
    EXPECT_IDS(tok, "cAb", 0, 5, 16);
    EXPECT_IDS(tok, "XYxY", 0, 17, 14, 15);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(added_tokens_split_before_normalizer) {
    /* The normalizer (Prepend) runs on each stretch between added tokens. */
    chv_tokenizer *tok = load(
        "{'added_tokens':[" ADDED_TOKEN(1, "<s>", true, false, false, false, false) "],"
        "'normalizer':{'type':'Prepend','prepend':'\u2581'},"
        "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':['\u2581 a']}}");
    EXPECT_IDS(tok, "a<s>a", 0, 13, 1, 13);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(added_tokens_ids_follow_hf) {
    /* A token already in the vocab keeps its vocab id; new tokens take the
     * next ids after the model vocabulary, whatever the file says. */
    chv_tokenizer *tok =
        load("{'added_tokens':[" ADDED_TOKEN(1, "<s>", true, false, false, false, false) ","
             ADDED_TOKEN(99, "<new>", true, false, false, false, false) "],"
             "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    ck_assert_int_eq(chv_tokenizer_token_to_id(tok, "<s>"), 1);
    ck_assert_int_eq(chv_tokenizer_token_to_id(tok, "<new>"), 16);
    EXPECT_IDS(tok, "<new>", 0, 16);
    chv_tokenizer_free(tok);
}
END_TEST

/* ---- Post-processors and tokenizer_config.json --------------------------- */

#define TEMPLATE_BOS_EOS "'post_processor':" TEMPLATE_BOS_EOS_OBJECT
#define TEMPLATE_BOS_EOS_OBJECT                                                            \
    "{'type':'TemplateProcessing','single':[{'SpecialToken':{'id':'<s>',"                  \
    "'type_id':0}},{'Sequence':{'id':'A','type_id':0}},{'SpecialToken':{'id':'</s>',"       \
    "'type_id':0}}],'pair':[],'special_tokens':{'<s>':{'id':'<s>','ids':[1],'tokens':['<s>']}," \
    "'</s>':{'id':'</s>','ids':[2],'tokens':['</s>']}}}"

START_TEST(post_template) {
    chv_tokenizer *tok =
        load("{" TEMPLATE_BOS_EOS ",'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "ab", 1, 1, 3, 4, 2);
    EXPECT_IDS(tok, "ab", 0, 3, 4);
    EXPECT_IDS(tok, "", 1, 1, 2);
    ck_assert_int_eq(chv_tokenizer_special_prefix(tok), 1);
    ck_assert_int_eq(chv_tokenizer_special_suffix(tok), 1);
    ck_assert_int_eq(chv_tokenizer_bos_id(tok), 1);
    ck_assert_int_eq(chv_tokenizer_eos_id(tok), 2);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(post_roberta_bert_sequence) {
    chv_tokenizer *tok = load("{'post_processor':{'type':'RobertaProcessing','sep':['</s>',2],"
                              "'cls':['<s>',1],'trim_offsets':true,'add_prefix_space':false},"
                              "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "a", 1, 1, 3, 2);
    chv_tokenizer_free(tok);

    tok = load("{'post_processor':{'type':'BertProcessing','sep':['x',14],'cls':['y',15]},"
               "'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "a", 1, 15, 3, 14);
    chv_tokenizer_free(tok);

    tok = load("{'post_processor':{'type':'Sequence','processors':[{'type':'ByteLevel',"
               "'add_prefix_space':false,'trim_offsets':true,'use_regex':true}," TEMPLATE_BOS_EOS_OBJECT
               "]},'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "a", 1, 1, 3, 2);
    chv_tokenizer_free(tok);

    tok = load("{'post_processor':{'type':'ByteLevel','add_prefix_space':false,"
               "'trim_offsets':true},'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}");
    EXPECT_IDS(tok, "a", 1, 3);
    ck_assert_int_eq(chv_tokenizer_special_prefix(tok), 0);
    ck_assert_int_eq(chv_tokenizer_bos_id(tok), -1);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(config_tokens_and_max_length) {
    chv_tokenizer *tok = load_with_config(
        "{'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}",
        "{'bos_token':{'content':'x','lstrip':false},'eos_token':'y',"
        "'model_max_length':1000000000000000019884624838656}");
    ck_assert_int_eq(chv_tokenizer_bos_id(tok), 14);
    ck_assert_int_eq(chv_tokenizer_eos_id(tok), 15);
    ck_assert_int_eq(chv_tokenizer_model_max_length(tok), 0);
    chv_tokenizer_free(tok);

    tok = load_with_config("{'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}",
                           "{'model_max_length':2048}");
    ck_assert_int_eq(chv_tokenizer_model_max_length(tok), 2048);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(config_llama_rebuilds_post_processor) {
    const char *json =
        "{" TEMPLATE_BOS_EOS ",'model':{'type':'BPE','vocab':" CHAR_VOCAB ",'merges':[]}}";
    /* LlamaTokenizerFast takes BOS/EOS from add_bos_token/add_eos_token. */
    chv_tokenizer *tok = load_with_config(
        json, "{'tokenizer_class':'LlamaTokenizerFast','add_bos_token':false,"
              "'add_eos_token':true,'bos_token':'<s>','eos_token':'</s>'}");
    EXPECT_IDS(tok, "a", 1, 3, 2);
    ck_assert_int_eq(chv_tokenizer_special_prefix(tok), 0);
    ck_assert_int_eq(chv_tokenizer_special_suffix(tok), 1);
    chv_tokenizer_free(tok);

    /* The defaults are add_bos_token=true, add_eos_token=false. */
    tok = load_with_config(json, "{'tokenizer_class':'LlamaTokenizerFast'}");
    EXPECT_IDS(tok, "a", 1, 1, 3);
    chv_tokenizer_free(tok);

    /* A config that names the slow class gets the fast one's behaviour. */
    tok = load_with_config(json, "{'tokenizer_class':'LlamaTokenizer','add_bos_token':false}");
    EXPECT_IDS(tok, "a", 1, 3);
    chv_tokenizer_free(tok);

    /* Other classes keep the file's post-processor. */
    tok = load_with_config(json, "{'tokenizer_class':'PreTrainedTokenizerFast',"
                                 "'add_bos_token':false}");
    EXPECT_IDS(tok, "a", 1, 1, 3, 2);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(config_gpt2_add_prefix_space) {
    /* GPT2TokenizerFast sets the ByteLevel add_prefix_space from the config
     * (default false), whatever tokenizer.json says. */
    const char *json = "{'pre_tokenizer':{'type':'ByteLevel','add_prefix_space':true,"
                       "'trim_offsets':true,'use_regex':true},'model':{'type':'BPE','vocab':"
                       "{'a':0,'\u0120':1,'\u0120a':2},'merges':['\u0120 a']}}";
    chv_tokenizer *tok = load(json);
    EXPECT_IDS(tok, "a", 0, 2);
    chv_tokenizer_free(tok);

    tok = load_with_config(json, "{'tokenizer_class':'GPT2TokenizerFast'}");
    EXPECT_IDS(tok, "a", 0, 0);
    chv_tokenizer_free(tok);

    tok = load_with_config(json, "{'tokenizer_class':'GPT2TokenizerFast','add_prefix_space':true}");
    EXPECT_IDS(tok, "a", 0, 2);
    chv_tokenizer_free(tok);

    tok = load_with_config(json, "{'tokenizer_class':'GPT2Tokenizer'}");
    EXPECT_IDS(tok, "a", 0, 0);
    chv_tokenizer_free(tok);
}
END_TEST

/* ---- Decoding ---------------------------------------------------------------- */

START_TEST(decode_metaspace_sequence) {
    chv_tokenizer *tok = load(
        "{'decoder':{'type':'Sequence','decoders':[{'type':'Replace','pattern':{'String':'\u2581'},"
        "'content':' '},{'type':'ByteFallback'},{'type':'Fuse'},{'type':'Strip','content':' ',"
        "'start':1,'stop':0}]},'model':{'type':'BPE','vocab':{'\u2581a':0,'b':1,'<0xC3>':2,"
        "'<0xA9>':3,'\u2581':4},'merges':[]}}");
    const int32_t ids[] = {0, 1, 4, 2, 3};
    char *text = chv_tokenizer_decode(tok, ids, 5);
    ck_assert_str_eq(text, "ab \u00e9");
    free(text);
    chv_tokenizer_free(tok);
}
END_TEST

/* ---- Invalid input and bad files ------------------------------------------ */

START_TEST(invalid_utf8_replaced) {
    chv_tokenizer *tok = load("{'model':{'type':'BPE','vocab':{'a':0,'\ufffd':1},'merges':[]}}");
    int32_t *ids;
    size_t n;
    int replaced = 0;
    chv_error err;
    ck_assert_int_eq(chv_tokenizer_encode(tok, "a\xff\xfe" "a", 4, 0, &ids, &n, &replaced, &err), 0);
    ck_assert_int_eq(replaced, 1);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(ids[0], 0);
    ck_assert_int_eq(ids[1], 1);
    ck_assert_int_eq(ids[2], 1);
    ck_assert_int_eq(ids[3], 0);
    free(ids);

    ck_assert_int_eq(chv_tokenizer_encode(tok, "aa", 2, 0, &ids, &n, &replaced, &err), 0);
    ck_assert_int_eq(replaced, 0);
    free(ids);
    chv_tokenizer_free(tok);
}
END_TEST

#define EXPECT_LOAD_ERROR(json, ...)                                                          \
    do {                                                                                      \
        const char *msg_ = load_error(json);                                                  \
        const char *parts_[] = {__VA_ARGS__};                                                 \
        for (size_t i_ = 0; i_ < sizeof parts_ / sizeof parts_[0]; i_++)                      \
            ck_assert_msg(strstr(msg_, parts_[i_]) != NULL, "message \"%s\" lacks \"%s\"", msg_, \
                          parts_[i_]);                                                        \
    } while (0)

START_TEST(error_invalid_json) {
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0},'merg", "tokenizer.json",
                      "invalid JSON", "truncated");
    EXPECT_LOAD_ERROR("{'model':\n  {'type':'BPE',,}}", "tokenizer.json", "invalid JSON",
                      "line 2");
}
END_TEST

START_TEST(error_missing_file) {
    chv_error err;
    ck_assert_ptr_null(chv_tokenizer_load("/nonexistent/tokenizer.json", &err));
    ck_assert_msg(strstr(err.message, "/nonexistent/tokenizer.json") != NULL, "message: %s",
                  err.message);
}
END_TEST

START_TEST(error_unsupported_components) {
    EXPECT_LOAD_ERROR("{'model':{'type':'WordPiece','vocab':{'a':0}}}", "tokenizer.json",
                      "unsupported model type \"WordPiece\"");
    EXPECT_LOAD_ERROR("{'model':{'type':'Unigram','vocab':[]}}", "unsupported model type \"Unigram\"");
    EXPECT_LOAD_ERROR("{'normalizer':{'type':'BertNormalizer'},'model':{'type':'BPE','vocab':{},"
                      "'merges':[]}}",
                      "tokenizer.json", "unsupported normalizer type \"BertNormalizer\"");
    EXPECT_LOAD_ERROR("{'pre_tokenizer':{'type':'Sequence','pretokenizers':[{'type':'CharDelimiterSplit',"
                      "'delimiter':'x'}]},'model':{'type':'BPE','vocab':{},'merges':[]}}",
                      "tokenizer.json", "unsupported pre_tokenizer type \"CharDelimiterSplit\"");
    EXPECT_LOAD_ERROR("{'post_processor':{'type':'Fancy'},'model':{'type':'BPE','vocab':{},"
                      "'merges':[]}}",
                      "tokenizer.json", "unsupported post_processor type \"Fancy\"");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{},'merges':[],'dropout':0.1}}",
                      "dropout is not supported");
    EXPECT_LOAD_ERROR("{'pre_tokenizer':{'type':'Split','pattern':{'Regex':'(a'},'behavior':'Isolated',"
                      "'invert':false},'model':{'type':'BPE','vocab':{},'merges':[]}}",
                      "tokenizer.json", "Split pre_tokenizer pattern \"(a\"",
                      "invalid regular expression");
    EXPECT_LOAD_ERROR("{'pre_tokenizer':{'type':'Split','pattern':{'String':'x'},'behavior':'Sideways',"
                      "'invert':false},'model':{'type':'BPE','vocab':{},'merges':[]}}",
                      "unknown \"behavior\" \"Sideways\"");
}
END_TEST

START_TEST(error_bad_merges_and_ids) {
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0,'b':1,'ab':2},'merges':['a b','a c']}}",
                      "tokenizer.json", "merge 1 \"a c\"", "\"c\", which is not in the vocab");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0,'b':1},'merges':['a b']}}",
                      "merge 0 \"a b\" makes \"ab\", which is not in the vocab");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0,'b':1},'merges':['ab']}}",
                      "merge 0 \"ab\" is not two tokens");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0,'b':-1},'merges':[]}}",
                      "tokenizer.json", "vocab id -1 of token \"b\" is out of range");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0,'b':4294967296},'merges':[]}}",
                      "vocab id 4.29497e+09 of token \"b\" is out of range");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':0.5},'merges':[]}}",
                      "vocab id 0.5 of token \"a\" is out of range");
    EXPECT_LOAD_ERROR("{'model':{'type':'BPE','vocab':{'a':'0'},'merges':[]}}",
                      "vocab id of token \"a\" is not a number");
    EXPECT_LOAD_ERROR("{'added_tokens':[{'id':-3,'content':'x'}],'model':{'type':'BPE',"
                      "'vocab':{'a':0},'merges':[]}}",
                      "added token \"x\" has id -3, which is out of range");
}
END_TEST

/* ---- Real tokenizers ------------------------------------------------------- */

static chv_tokenizer *load_real(const char *name) {
    const char *models = test_models_dir(name);
    if (models == NULL)
        return NULL;
    char *path = chv_path_join(models, name);
    chv_error err;
    chv_tokenizer *tok = chv_tokenizer_load(path, &err);
    ck_assert_msg(tok != NULL, "load %s: %s", path, err.message);
    free(path);
    return tok;
}

START_TEST(real_gpt2) {
    chv_tokenizer *tok = load_real("gpt2-tokenizer");
    if (tok == NULL)
        return;
    EXPECT_IDS(tok, "Hello world", 0, 15496, 995);
    EXPECT_IDS(tok, "Hello world", 1, 15496, 995);
    EXPECT_IDS(tok, " Hello  world ", 0, 18435, 220, 995, 220);
    EXPECT_IDS(tok, "<|endoftext|>a", 0, 50256, 64);
    ck_assert_int_eq(chv_tokenizer_special_prefix(tok), 0);
    ck_assert_int_eq(chv_tokenizer_bos_id(tok), 50256);
    ck_assert_int_eq(chv_tokenizer_eos_id(tok), 50256);
    ck_assert_int_eq(chv_tokenizer_model_max_length(tok), 1024);
    ck_assert_uint_eq(chv_tokenizer_vocab_size(tok), 50257);

    const int32_t ids[] = {15496, 995, 0};
    char *text = chv_tokenizer_decode(tok, ids, 3);
    ck_assert_str_eq(text, "Hello world!");
    free(text);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(real_neox_space_tokens) {
    chv_tokenizer *tok = load_real("gpt-neox-20b-tokenizer");
    if (tok == NULL)
        return;
    EXPECT_IDS(tok, "Hello world", 0, 12092, 1533);
    /* Runs of spaces are added tokens (ids 50254..50276). */
    EXPECT_IDS(tok, " Hello  world ", 0, 24387, 50276, 10186, 209);
    EXPECT_IDS(tok, "  \n\n  a", 0, 50276, 535, 50276, 66);
    ck_assert_uint_eq(chv_tokenizer_vocab_size(tok), 50281);
    chv_tokenizer_free(tok);
}
END_TEST

START_TEST(real_llama2_and_stories) {
    chv_tokenizer *tok = load_real("llama2-tokenizer-hf");
    if (tok == NULL)
        return;
    EXPECT_IDS(tok, "Hello world", 1, 1, 15043, 3186);
    EXPECT_IDS(tok, " Hello  world ", 0, 29871, 15043, 29871, 3186, 29871);
    EXPECT_IDS(tok, "<s>hi</s> <unk>", 0, 1, 7251, 2, 259, 0);
    ck_assert_int_eq(chv_tokenizer_special_prefix(tok), 1);
    ck_assert_int_eq(chv_tokenizer_special_suffix(tok), 0);
    ck_assert_int_eq(chv_tokenizer_bos_id(tok), 1);
    ck_assert_int_eq(chv_tokenizer_eos_id(tok), 2);
    const int32_t ids[] = {1, 15043, 3186, 29871, 243, 162, 169, 156};
    char *text = chv_tokenizer_decode(tok, ids, 8);
    ck_assert_str_eq(text, "<s> Hello world \xF0\x9F\xA6\x99");
    free(text);
    chv_tokenizer_free(tok);

    tok = load_real("stories260K-hf");
    ck_assert_ptr_nonnull(tok);
    int32_t *out;
    size_t n;
    chv_error err;
    ck_assert_int_eq(chv_tokenizer_encode(tok, "Once upon a time", 16, 1, &out, &n, NULL, &err), 0);
    ck_assert_uint_gt(n, 1);
    ck_assert_int_eq(out[0], 1);
    free(out);
    /* Its normalizer trims the stretch between added tokens to nothing. */
    EXPECT_IDS(tok, "<s>hi</s> <unk>", 0, 1, 270, 417, 2, 0);
    ck_assert_int_eq(chv_tokenizer_model_max_length(tok), 512);
    chv_tokenizer_free(tok);
}
END_TEST

/* Compares with llama.cpp's test vectors: strings separated by
 * "\n__ggml_vocab_test__\n" and one line of ids per string. They hold the
 * ids without special tokens. */
static void check_gguf_vectors(const char *tokenizer, const char *vectors) {
    const char *models = test_models_dir(vectors);
    if (models == NULL)
        return;
    char *dir = chv_path_join(models, tokenizer);
    chv_error err;
    chv_tokenizer *tok = chv_tokenizer_load(dir, &err);
    ck_assert_msg(tok != NULL, "%s", err.message);
    free(dir);

    char name[256];
    snprintf(name, sizeof name, "gguf-vocab/%s.inp", vectors);
    char *inp_path = chv_path_join(models, name);
    snprintf(name, sizeof name, "gguf-vocab/%s.out", vectors);
    char *out_path = chv_path_join(models, name);
    size_t inp_len, out_len;
    char *inp = chv_read_file(inp_path, &inp_len, &err);
    char *out = chv_read_file(out_path, &out_len, &err);
    ck_assert_ptr_nonnull(inp);
    ck_assert_ptr_nonnull(out);

    const char *sep = "\n__ggml_vocab_test__\n";
    char *text = inp, *line = out;
    int checked = 0;
    for (;;) {
        char *end = strstr(text, sep);
        if (end == NULL)
            break;
        char *line_end = strchr(line, '\n');
        ck_assert_ptr_nonnull(line_end);
        *line_end = '\0';

        int32_t *ids;
        size_t n;
        ck_assert_int_eq(chv_tokenizer_encode(tok, text, (size_t)(end - text), 0, &ids, &n, NULL,
                                              &err),
                         0);
        char got[8192] = "";
        for (size_t i = 0; i < n; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " %d", ids[i]);
        ck_assert_msg(strcmp(got, line) == 0, "%s string %d \"%.*s\": got [%s], want [%s]",
                      vectors, checked, (int)(end - text), text, got, line);
        free(ids);
        checked++;
        text = end + strlen(sep);
        line = line_end + 1;
    }
    ck_assert_int_eq(checked, 46);
    free(inp);
    free(out);
    free(inp_path);
    free(out_path);
    chv_tokenizer_free(tok);
}

START_TEST(real_llama_cpp_vectors) {
    check_gguf_vectors("gpt2-tokenizer", "ggml-vocab-gpt-2.gguf");
    check_gguf_vectors("llama2-tokenizer-hf", "ggml-vocab-llama-spm.gguf");
}
END_TEST

int main(void) {
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);

    tcase_add_test(tc, bpe_merge_rank_order);
    tcase_add_test(tc, bpe_merges_as_pairs);
    tcase_add_test(tc, bpe_leftmost_pair_first);
    tcase_add_test(tc, bpe_ignore_merges);
    tcase_add_test(tc, bpe_unknown_and_fuse);
    tcase_add_test(tc, bpe_unk_token_missing_from_vocab);
    tcase_add_test(tc, bpe_byte_fallback);
    tcase_add_test(tc, bpe_subword_prefix_and_suffix);
    tcase_add_test(tc, bpe_long_run_is_fast);

    tcase_add_test(tc, normalizer_prepend_and_replace);
    tcase_add_test(tc, normalizer_strip_and_lowercase);
    tcase_add_test(tc, normalizer_unicode_forms);
    tcase_add_test(tc, normalizer_unicode9_tables);
    tcase_add_test(tc, normalizer_sequence_in_tokenizer);

    tcase_add_test(tc, pretok_gpt2_pattern_whitespace);
    tcase_add_test(tc, pretok_gpt2_pattern_words);
    tcase_add_test(tc, pretok_byte_level);
    tcase_add_test(tc, pretok_split_behaviors);
    tcase_add_test(tc, pretok_split_regex_anchors);
    tcase_add_test(tc, pretok_metaspace);
    tcase_add_test(tc, pretok_metaspace_first_after_added_token);
    tcase_add_test(tc, pretok_metaspace_first_after_strip);
    tcase_add_test(tc, pretok_digits_and_whitespace);

    tcase_add_test(tc, added_tokens_longest_match);
    tcase_add_test(tc, added_tokens_strip_flags);
    tcase_add_test(tc, added_tokens_rstrip_overlap);
    tcase_add_test(tc, added_tokens_normalized);
    tcase_add_test(tc, added_tokens_split_before_normalizer);
    tcase_add_test(tc, added_tokens_ids_follow_hf);

    tcase_add_test(tc, post_template);
    tcase_add_test(tc, post_roberta_bert_sequence);
    tcase_add_test(tc, config_tokens_and_max_length);
    tcase_add_test(tc, config_llama_rebuilds_post_processor);
    tcase_add_test(tc, config_gpt2_add_prefix_space);

    tcase_add_test(tc, decode_metaspace_sequence);

    tcase_add_test(tc, invalid_utf8_replaced);
    tcase_add_test(tc, error_invalid_json);
    tcase_add_test(tc, error_missing_file);
    tcase_add_test(tc, error_unsupported_components);
    tcase_add_test(tc, error_bad_merges_and_ids);

    tcase_add_test(tc, real_gpt2);
    tcase_add_test(tc, real_neox_space_tokens);
    tcase_add_test(tc, real_llama2_and_stories);
    tcase_add_test(tc, real_llama_cpp_vectors);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
