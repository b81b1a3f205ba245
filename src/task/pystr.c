#include "task/pystr.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "task/strbuf.h"

int chv_py_isspace(uint32_t cp) {
    /* Python's rule: bidirectional class WS, B or S, or category Zs. */
    if (cp >= 0x09 && cp <= 0x0D)
        return 1;
    if (cp >= 0x1C && cp <= 0x20)
        return 1;
    switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

uint32_t chv_utf8_next(const char *s, size_t *i) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + *i, -1, &cp);
    if (n <= 0) {
        /* Invalid input: step one byte so callers always make progress. */
        *i += 1;
        return 0xFFFD;
    }
    *i += (size_t)n;
    return (uint32_t)cp;
}

/* Finds the byte range [*start, *end) of s without leading and/or
 * trailing whitespace. */
static void strip_bounds(const char *s, int left, int right, size_t *start, size_t *end) {
    size_t len = strlen(s);
    size_t b = 0, e = len;

    if (left) {
        while (b < len) {
            size_t next = b;
            if (!chv_py_isspace(chv_utf8_next(s, &next)))
                break;
            b = next;
        }
    }

    if (right) {
        /* Walk forward and remember where the trailing whitespace run starts. */
        size_t i = b, run = len;
        int in_run = 0;
        while (i < len) {
            size_t at = i;
            int space = chv_py_isspace(chv_utf8_next(s, &i));
            if (space && !in_run) {
                run = at;
                in_run = 1;
            } else if (!space) {
                in_run = 0;
            }
        }
        e = in_run ? run : len;
    }

    *start = b;
    *end = e;
}

static char *copy_range(const char *s, size_t start, size_t end) {
    char *out = malloc(end - start + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, s + start, end - start);
    out[end - start] = '\0';
    return out;
}

char *chv_py_strip(const char *s) {
    size_t b, e;
    strip_bounds(s, 1, 1, &b, &e);
    return copy_range(s, b, e);
}

char *chv_py_lstrip(const char *s) {
    size_t b, e;
    strip_bounds(s, 1, 0, &b, &e);
    return copy_range(s, b, e);
}

char *chv_py_rstrip(const char *s) {
    size_t b, e;
    strip_bounds(s, 0, 1, &b, &e);
    return copy_range(s, b, e);
}

char *chv_py_replace(const char *s, const char *old, const char *replacement) {
    size_t old_len = strlen(old);
    if (old_len == 0)
        return strdup(s); /* no task replaces the empty string */

    chv_strbuf out = {0};
    const char *p = s;
    const char *hit;
    while ((hit = strstr(p, old)) != NULL) {
        chv_strbuf_append(&out, p, (size_t)(hit - p));
        chv_strbuf_puts(&out, replacement);
        p = hit + old_len;
    }
    chv_strbuf_puts(&out, p);
    return chv_strbuf_take(&out);
}

static void append_codepoint(chv_strbuf *b, utf8proc_int32_t cp) {
    utf8proc_uint8_t bytes[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, bytes);
    chv_strbuf_append(b, (const char *)bytes, (size_t)n);
}

/* Python's "cased" and "case-ignorable" properties, close enough for the
 * final-sigma rule: letters with case, and marks, format characters,
 * modifiers and the apostrophe-like word-internal punctuation. */
static int is_cased(utf8proc_int32_t cp) {
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

static int is_case_ignorable(utf8proc_int32_t cp) {
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
           c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK || cp == '\'' || cp == '.' ||
           cp == ':' || cp == 0x2019;
}

/* Lower-cases capital sigma at cps[i] the way Python does: final form when
 * a cased letter precedes it and none follows (skipping case-ignorables). */
static utf8proc_int32_t lower_sigma(const utf8proc_int32_t *cps, size_t n, size_t i) {
    int before = 0, after = 0;
    for (size_t j = i; j-- > 0;) {
        if (is_case_ignorable(cps[j]))
            continue;
        before = is_cased(cps[j]);
        break;
    }
    for (size_t j = i + 1; j < n; j++) {
        if (is_case_ignorable(cps[j]))
            continue;
        after = is_cased(cps[j]);
        break;
    }
    return before && !after ? 0x03C2 : 0x03C3;
}

/* Title case of the first character, with the full (multi-character)
 * mappings of the letters that have one in common text. */
static void append_title(chv_strbuf *b, utf8proc_int32_t cp) {
    switch (cp) {
    case 0x00DF: chv_strbuf_puts(b, "Ss"); return;  /* sharp s */
    case 0xFB00: chv_strbuf_puts(b, "Ff"); return;  /* ligatures */
    case 0xFB01: chv_strbuf_puts(b, "Fi"); return;
    case 0xFB02: chv_strbuf_puts(b, "Fl"); return;
    case 0xFB03: chv_strbuf_puts(b, "Ffi"); return;
    case 0xFB04: chv_strbuf_puts(b, "Ffl"); return;
    case 0xFB05:
    case 0xFB06: chv_strbuf_puts(b, "St"); return;
    default: append_codepoint(b, utf8proc_totitle(cp)); return;
    }
}

char *chv_py_capitalize(const char *s) {
    size_t len = strlen(s);
    utf8proc_int32_t *cps = malloc((len + 1) * sizeof *cps);
    if (cps == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len;)
        cps[n++] = (utf8proc_int32_t)chv_utf8_next(s, &i);

    chv_strbuf out = {0};
    chv_strbuf_append(&out, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i == 0)
            append_title(&out, cps[i]);
        else if (cps[i] == 0x0130) /* capital I with dot: "i" + combining dot */
            chv_strbuf_puts(&out, "i\xCC\x87");
        else if (cps[i] == 0x03A3)
            append_codepoint(&out, lower_sigma(cps, n, i));
        else
            append_codepoint(&out, utf8proc_tolower(cps[i]));
    }
    free(cps);
    return chv_strbuf_take(&out);
}

long chv_py_split_whitespace_count(const char *s) {
    /* re.split yields one more piece than there are separator runs. */
    long runs = 0;
    int in_run = 0;
    size_t i = 0, len = strlen(s);
    while (i < len) {
        int space = chv_py_isspace(chv_utf8_next(s, &i));
        if (space && !in_run)
            runs++;
        in_run = space;
    }
    return runs + 1;
}
