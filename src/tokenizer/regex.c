/* PCRE2 patterns that match the way HF `tokenizers` matches with Oniguruma.
 *
 * HF compiles Split, Replace and ByteLevel patterns with Oniguruma in its
 * default Ruby syntax. There, ^ and $ are line anchors, \s, \d, \w and
 * \p{..} follow Unicode, and "." does not match LF. PCRE2 with UTF, UCP
 * and MULTILINE and an LF newline behaves the same for the patterns that
 * tokenizers use.
 *
 * Some escapes mean different things in the two engines and are rewritten
 * before compiling. Oniguruma's \s is Unicode White_Space, while PCRE2's
 * also takes U+180E. Oniguruma's \w is an Alphabetic character (letters,
 * letter numbers such as U+216B and some symbols such as U+24B6), a mark,
 * a decimal digit or connector punctuation. Outside brackets, its Latin-1
 * table also marks U+00B2, U+00B3, U+00B9 and U+00BC..U+00BE as word
 * characters. PCRE2's \w
 * is letters and all numbers, such as U+2460. Oniguruma's \h is a hex
 * digit, and PCRE2's is horizontal space. In brackets, [:alpha:] is
 * Alphabetic and [:alnum:] adds decimal digits in Oniguruma, while PCRE2
 * reads them as letters and as letters or numbers.
 * NOTE: PCRE2 10.42 lacks some Alphabetic marks of newer Unicode (such as
 * U+0363..U+036F), so [:alpha:] and [:alnum:] miss them.
 *
 * Oniguruma's Unicode tables are also newer than those of PCRE2 10.42
 * (Unicode 14.0), so \p{..} of a general category, \w and \d get the code
 * points that Oniguruma assigns and Unicode 14.0 does not
 * (tok_unicode14_additions).
 *
 * NOTE: \b and \B still use PCRE2's notion of a word character, and \W,
 * \S or \H inside a character class is left as PCRE2 reads it.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

struct tok_regex {
    pcre2_code *code;
    pcre2_match_data *match;
    pcre2_match_context *context;
    pcre2_jit_stack *jit_stack;
};

#define ONIG_WORD_IN_CLASS "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}"
#define ONIG_WORD ONIG_WORD_IN_CLASS "\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}"
#define ONIG_HEX "0-9a-fA-F"
#define ONIG_SPACE                                                                              \
    "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"           \
    "\\x{205F}\\x{3000}"

/* Appends, as class items, the code points of tok_unicode14_additions in
 * the categories that start with prefix. */
static int append_additions(tok_buf *out, const char *prefix) {
    size_t n = strlen(prefix);
    for (size_t i = 0; i < tok_unicode14_additions_len; i++) {
        const tok_category_ranges *c = &tok_unicode14_additions[i];
        if (strncmp(c->category, prefix, n) != 0)
            continue;
        for (size_t k = 0; k < c->len; k++) {
            char item[40];
            snprintf(item, sizeof item, "\\x{%X}-\\x{%X}", (unsigned)c->ranges[k].first,
                     (unsigned)c->ranges[k].last);
            if (tok_buf_append(out, item, strlen(item)) < 0)
                return -1;
        }
    }
    return 0;
}

/* Appends a class for Oniguruma's \w, \d or \p{category}: `items` plus
 * the added code points of each category in `categories` (a list of
 * prefixes separated by spaces). Inside a class only the items are written;
 * outside, they are wrapped in [...] or, when negated, [^...]. */
static int append_class(tok_buf *out, int in_class, int negated, const char *items,
                        const char *categories) {
    int rc = 0;
    if (!in_class)
        rc |= tok_buf_append(out, negated ? "[^" : "[", negated ? 2 : 1);
    rc |= tok_buf_append(out, items, strlen(items));
    char prefix[8];
    for (const char *p = categories; *p != '\0' && rc == 0;) {
        size_t n = strcspn(p, " ");
        if (n > 0 && n < sizeof prefix) {
            memcpy(prefix, p, n);
            prefix[n] = '\0';
            rc |= append_additions(out, prefix);
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    if (!in_class)
        rc |= tok_buf_append(out, "]", 1);
    return rc;
}

/* Rewrites one escape that Oniguruma and PCRE2 read differently, starting
 * at pattern[i] == '\\'. Returns the number of pattern bytes consumed, 0
 * when the escape is not one of them, or -1 when out of memory. */
static long translate_escape(const char *pattern, size_t i, size_t n, int in_class,
                             tok_buf *out) {
    char d = pattern[i + 1];
    int rc;
    switch (d) {
    case 's':
    case 'S':
        if (d == 'S' && in_class)
            return 0;
        rc = append_class(out, in_class, d == 'S', ONIG_SPACE, "");
        return rc < 0 ? -1 : 2;
    case 'w':
    case 'W':
        if (d == 'W' && in_class)
            return 0;
        rc = append_class(out, in_class, d == 'W', in_class ? ONIG_WORD_IN_CLASS : ONIG_WORD,
                          "L Nl M Nd Pc");
        return rc < 0 ? -1 : 2;
    case 'd':
    case 'D':
        if (d == 'D' && in_class)
            return 0;
        rc = append_class(out, in_class, d == 'D', "\\p{Nd}", "Nd");
        return rc < 0 ? -1 : 2;
    case 'h':
    case 'H':
        if (d == 'H' && in_class)
            return 0;
        rc = append_class(out, in_class, d == 'H', ONIG_HEX, "");
        return rc < 0 ? -1 : 2;
    case 'p':
    case 'P': {
        /* \pL or \p{L}: a general category gets the added code points. */
        char name[8];
        size_t len;
        if (i + 2 < n && pattern[i + 2] == '{') {
            const char *close = memchr(pattern + i + 3, '}', n - (i + 3));
            if (close == NULL)
                return 0;
            len = (size_t)(close - (pattern + i + 3));
            if (len == 0 || len > 2)
                return 0;
            memcpy(name, pattern + i + 3, len);
            name[len] = '\0';
            len += 4; /* \p{ } */
        } else if (i + 2 < n) {
            name[0] = pattern[i + 2];
            name[1] = '\0';
            len = 3;
        } else {
            return 0;
        }
        if (!(name[0] >= 'A' && name[0] <= 'Z') || (d == 'P' && in_class))
            return 0;
        char items[16];
        snprintf(items, sizeof items, "\\p{%s}", name);
        rc = append_class(out, in_class, d == 'P', items, name);
        return rc < 0 ? -1 : (long)len;
    }
    default:
        return 0;
    }
}

/* Writes the POSIX class text[0..len) ("[:alpha:]") as Oniguruma reads it
 * inside a bracket expression. */
static int translate_posix_class(const char *text, size_t len, tok_buf *out) {
    static const struct {
        const char *name, *items, *categories;
    } classes[] = {
        {"[:alpha:]", "\\p{Alphabetic}", "L Nl"},
        {"[:alnum:]", "\\p{Alphabetic}\\p{Nd}", "L Nl Nd"},
        {"[:digit:]", "\\p{Nd}", "Nd"},
        {"[:word:]", ONIG_WORD_IN_CLASS, "L Nl M Nd Pc"},
        {"[:space:]", ONIG_SPACE, ""},
        {"[:xdigit:]", ONIG_HEX, ""},
    };
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        if (strlen(classes[k].name) == len && memcmp(text, classes[k].name, len) == 0)
            return append_class(out, 1, 0, classes[k].items, classes[k].categories);
    }
    return tok_buf_append(out, text, len);
}

/* Rewrites Oniguruma's \s, \w, \d, \h and \p{..} (and their negations
 * outside classes) for PCRE2. Returns a malloc'd pattern or NULL when out
 * of memory. */
static char *translate_oniguruma(const char *pattern) {
    tok_buf out = {0};
    int in_class = 0, rc = 0;
    size_t n = strlen(pattern);

    for (size_t i = 0; i < n && rc == 0; i++) {
        char c = pattern[i];
        if (c == '\\' && i + 1 < n) {
            long used = translate_escape(pattern, i, n, in_class, &out);
            if (used < 0) {
                rc = -1;
                break;
            }
            if (used == 0) {
                rc = tok_buf_append(&out, pattern + i, 2);
                used = 2;
            }
            i += (size_t)used - 1;
            continue;
        }
        if (c == '[' && !in_class) {
            /* A ']' right after '[' or '[^' is a literal, not the end. */
            in_class = 1;
            size_t start = i;
            if (i + 1 < n && pattern[i + 1] == '^')
                i++;
            if (i + 1 < n && pattern[i + 1] == ']')
                i++;
            rc = tok_buf_append(&out, pattern + start, i - start + 1);
            continue;
        }
        if (c == '[' && in_class && i + 1 < n && pattern[i + 1] == ':') {
            /* A POSIX class such as [:alpha:] inside a class. */
            const char *end = strstr(pattern + i + 2, ":]");
            size_t len = end != NULL ? (size_t)(end - (pattern + i)) + 2 : 1;
            rc = translate_posix_class(pattern + i, len, &out);
            i += len - 1;
            continue;
        }
        if (c == ']' && in_class)
            in_class = 0;
        rc = tok_buf_append(&out, &c, 1);
    }
    if (rc < 0) {
        free(out.data);
        return NULL;
    }
    return tok_buf_finish(&out);
}

tok_regex *tok_regex_new(const char *pattern, int literal, chv_error *err) {
    tok_regex *re = calloc(1, sizeof *re);
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (re == NULL || cctx == NULL) {
        free(re);
        pcre2_compile_context_free(cctx);
        chv_error_set(err, "out of memory compiling a pattern");
        return NULL;
    }
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);

    uint32_t options = PCRE2_UTF;
    if (literal)
        options |= PCRE2_LITERAL;
    else
        options |= PCRE2_UCP | PCRE2_MULTILINE;

    char *translated = literal ? NULL : translate_oniguruma(pattern);
    if (!literal && translated == NULL) {
        free(re);
        pcre2_compile_context_free(cctx);
        chv_error_set(err, "out of memory compiling a pattern");
        return NULL;
    }
    int code;
    PCRE2_SIZE offset;
    re->code = pcre2_compile((PCRE2_SPTR)(literal ? pattern : translated), PCRE2_ZERO_TERMINATED,
                             options, &code, &offset, cctx);
    pcre2_compile_context_free(cctx);
    free(translated);
    if (re->code == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        /* The offset is in the rewritten pattern, which differs from the
         * original only where \w or \h was expanded. */
        chv_error_set(err, "invalid regular expression (PCRE2: %s at offset %zu)",
                      (const char *)msg, (size_t)offset);
        free(re);
        return NULL;
    }

    /* JIT speeds up matching several times; without it (an unsupported
     * platform) the interpreter gives the same results. */
    if (pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0) {
        re->jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL);
    }
    re->match = pcre2_match_data_create_from_pattern(re->code, NULL);
    re->context = pcre2_match_context_create(NULL);
    if (re->match == NULL || re->context == NULL) {
        tok_regex_free(re);
        chv_error_set(err, "out of memory compiling a pattern");
        return NULL;
    }
    if (re->jit_stack != NULL)
        pcre2_jit_stack_assign(re->context, NULL, re->jit_stack);
    return re;
}

void tok_regex_free(tok_regex *re) {
    if (re == NULL)
        return;
    pcre2_match_data_free(re->match);
    pcre2_match_context_free(re->context);
    pcre2_jit_stack_free(re->jit_stack);
    pcre2_code_free(re->code);
    free(re);
}

long tok_regex_find_all(tok_regex *re, const char *s, size_t len, tok_span **spans,
                        chv_error *err) {
    size_t n = 0, cap = 0;
    tok_span *out = NULL;
    size_t pos = 0;
    int have_last = 0;
    size_t last_end = 0;

    while (pos <= len) {
        int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK, re->match,
                             re->context);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            free(out);
            return chv_error_set(err, "regular expression match failed: %s", (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->match);
        size_t start = ov[0], end = ov[1];

        /* Like the onig crate: an empty match where the previous match
         * ended is skipped by moving on one character. */
        if (start == end && have_last && last_end == end) {
            if (pos >= len)
                break;
            int32_t cp;
            pos += tok_utf8_decode(s + pos, len - pos, &cp);
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            tok_span *p = realloc(out, cap * sizeof *out);
            if (p == NULL) {
                free(out);
                return chv_error_set(err, "out of memory matching a pattern");
            }
            out = p;
        }
        out[n++] = (tok_span){start, end};
        have_last = 1;
        last_end = end;
        pos = end;
    }
    *spans = out;
    return (long)n;
}

/* The Rust regex crate's \w, compiled once for tok_is_word_char. */
static pthread_once_t word_once = PTHREAD_ONCE_INIT;
static pcre2_code *word_code;

static void compile_word_class(void) {
    int code;
    PCRE2_SIZE offset;
    word_code = pcre2_compile(
        (PCRE2_SPTR) "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]",
        PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &code, &offset, NULL);
}

int tok_is_word_char(int32_t cp) {
    if (tok_is_unicode14_addition(cp, "L") || tok_is_unicode14_addition(cp, "M") ||
        tok_is_unicode14_addition(cp, "Nd") || tok_is_unicode14_addition(cp, "Nl") ||
        tok_is_unicode14_addition(cp, "Pc"))
        return 1;
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
               cp == '_';

    pthread_once(&word_once, compile_word_class);
    if (word_code == NULL)
        return 0;
    char utf8[4];
    size_t len = tok_utf8_encode(cp, utf8);
    pcre2_match_data *match = pcre2_match_data_create(1, NULL);
    if (match == NULL)
        return 0;
    int rc = pcre2_match(word_code, (PCRE2_SPTR)utf8, len, 0, PCRE2_NO_UTF_CHECK, match, NULL);
    pcre2_match_data_free(match);
    return rc >= 0;
}

tok_regex *tok_pattern_parse(const cJSON *pattern, const char *file, const char *what,
                             chv_error *err) {
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(pattern, "Regex");
    const cJSON *string = cJSON_GetObjectItemCaseSensitive(pattern, "String");
    const cJSON *item = regex != NULL ? regex : string;
    if (!cJSON_IsObject(pattern) || !cJSON_IsString(item)) {
        chv_error_set(err, "%s: %s pattern must be {\"Regex\": \"...\"} or {\"String\": \"...\"}",
                      file, what);
        return NULL;
    }
    tok_regex *re = tok_regex_new(item->valuestring, regex == NULL, err);
    if (re == NULL)
        chv_error_prefix(err, "%s: %s pattern \"%s\"", file, what, item->valuestring);
    return re;
}
