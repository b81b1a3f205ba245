/* Splitting text around added tokens, as HF's AddedVocabulary does.
 *
 * HF matches all added tokens at once with a leftmost-longest Aho-Corasick
 * automaton: scanning left to right, the first position where some token
 * matches wins, and the longest token there is taken. Added tokens are few
 * (tens to a few thousand), so a table of candidates per first byte gives
 * the same matches without building an automaton.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

static const tok_added_token *sort_tokens; /* qsort has no context argument */

static int compare_candidates(const void *a, const void *b) {
    const tok_added_token *x = &sort_tokens[*(const size_t *)a];
    const tok_added_token *y = &sort_tokens[*(const size_t *)b];
    unsigned char bx = (unsigned char)x->pattern[0], by = (unsigned char)y->pattern[0];
    if (bx != by)
        return bx < by ? -1 : 1;
    if (x->pattern_len != y->pattern_len)
        return x->pattern_len > y->pattern_len ? -1 : 1;
    /* Equal patterns: the lower index (earlier token) first. */
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int tok_added_matcher_init(tok_added_matcher *m, const tok_added_token *tokens, size_t n_tokens,
                           int normalized) {
    memset(m, 0, sizeof *m);
    m->tokens = tokens;
    m->order = malloc((n_tokens ? n_tokens : 1) * sizeof *m->order);
    if (m->order == NULL)
        return -1;
    for (size_t i = 0; i < n_tokens; i++) {
        if (!tokens[i].normalized == !normalized && tokens[i].pattern_len > 0)
            m->order[m->n++] = i;
    }
    sort_tokens = tokens;
    qsort(m->order, m->n, sizeof *m->order, compare_candidates);

    /* bucket[b] is the first candidate whose pattern starts with a byte >= b. */
    size_t k = 0;
    for (int b = 0; b <= 256; b++) {
        while (k < m->n && (unsigned char)tokens[m->order[k]].pattern[0] < b)
            k++;
        m->bucket[b] = k;
    }
    return 0;
}

void tok_added_matcher_free(tok_added_matcher *m) {
    free(m->order);
    memset(m, 0, sizeof *m);
}

/* Returns the index of the longest token matching at s[pos..], or -1. */
static long longest_at(const tok_added_matcher *m, const char *s, size_t len, size_t pos) {
    unsigned char b = (unsigned char)s[pos];
    for (size_t k = m->bucket[b]; k < m->bucket[b + 1]; k++) {
        const tok_added_token *t = &m->tokens[m->order[k]];
        if (t->pattern_len <= len - pos && memcmp(s + pos, t->pattern, t->pattern_len) == 0)
            return (long)m->order[k];
    }
    return -1;
}

/* The code point that ends at s[end) (end > 0). */
static int32_t last_char(const char *s, size_t end) {
    size_t b = end - 1;
    while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
        b--;
    int32_t cp;
    tok_utf8_decode(s + b, end - b, &cp);
    return cp;
}

static int push_segment(tok_segment **segs, size_t *n, size_t *cap, size_t start, size_t end,
                        int32_t id) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        tok_segment *p = realloc(*segs, *cap * sizeof *p);
        if (p == NULL)
            return -1;
        *segs = p;
    }
    (*segs)[(*n)++] = (tok_segment){start, end, id};
    return 0;
}

long tok_added_split(const tok_added_matcher *m, const char *s, size_t len,
                     tok_segment **segments) {
    tok_segment *segs = NULL;
    size_t n = 0, cap = 0;
    size_t start_offset = 0; /* end of the last emitted token */
    size_t pos = 0;          /* where the matcher resumes */

    while (m->n > 0 && pos < len) {
        long k = longest_at(m, s, len, pos);
        if (k < 0) {
            pos++;
            continue;
        }
        const tok_added_token *t = &m->tokens[k];
        size_t start = pos, stop = pos + t->pattern_len;
        pos = stop;

        /* single_word: a match that touches a word character on either side
         * is dropped. Matching still resumes after it, as in HF. */
        if (t->single_word) {
            int32_t cp;
            int start_space = start == 0 || !tok_is_word_char(last_char(s, start));
            int stop_space = stop == len;
            if (!stop_space) {
                tok_utf8_decode(s + stop, len - stop, &cp);
                stop_space = !tok_is_word_char(cp);
            }
            if (!start_space || !stop_space)
                continue;
        }
        /* lstrip and rstrip take the whitespace next to the token, but not
         * whitespace that an earlier token already took. */
        if (t->lstrip) {
            size_t new_start = start;
            while (new_start > 0 && tok_is_whitespace(last_char(s, new_start))) {
                size_t b = new_start - 1;
                while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
                    b--;
                new_start = b;
            }
            start = new_start > start_offset ? new_start : start_offset;
        }
        if (t->rstrip) {
            while (stop < len) {
                int32_t cp;
                size_t c = tok_utf8_decode(s + stop, len - stop, &cp);
                if (!tok_is_whitespace(cp))
                    break;
                stop += c;
            }
        }

        /* Matching resumes at the end of the token itself, as in HF, so the
         * next token may start inside the whitespace that rstrip took. The
         * spans then overlap, but each token still gives its id once. */
        if (start_offset < start && push_segment(&segs, &n, &cap, start_offset, start, -1) < 0)
            goto oom;
        if (push_segment(&segs, &n, &cap, start, stop, t->id) < 0)
            goto oom;
        if (stop > start_offset)
            start_offset = stop;
    }
    if (start_offset < len && push_segment(&segs, &n, &cap, start_offset, len, -1) < 0)
        goto oom;
    *segments = segs;
    return (long)n;

oom:
    free(segs);
    return -1;
}
