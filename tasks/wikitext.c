/* WikiText-2 as lm-eval's `wikitext` task scores it: the raw test file
 * split into document-level pages, each page detokenized and scored with
 * rolling log-likelihood. Words and bytes are counted on the original
 * page, not on the detokenized text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "task/pystr.h"
#include "task/strbuf.h"
#include "util/lines.h"

/* Replaces each "open ... close" span (close being the next close byte
 * after open) with open + the span stripped of whitespace + close. This is
 * `re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", s)` and its siblings for [],
 * {}, double and single quotes. */
static char *trim_inside(const char *s, char open, char close) {
    chv_strbuf out = {0};
    chv_strbuf_append(&out, "", 0);
    size_t i = 0;
    while (s[i] != '\0') {
        if (s[i] != open) {
            chv_strbuf_putc(&out, s[i++]);
            continue;
        }
        const char *end = strchr(s + i + 1, close);
        if (end == NULL) {
            chv_strbuf_putc(&out, s[i++]);
            continue;
        }

        size_t inner_len = (size_t)(end - (s + i + 1));
        char *inner = strndup(s + i + 1, inner_len);
        char *stripped = inner ? chv_py_strip(inner) : NULL;
        chv_strbuf_putc(&out, open);
        chv_strbuf_puts(&out, stripped ? stripped : "");
        chv_strbuf_putc(&out, close);
        free(inner);
        free(stripped);
        i = (size_t)(end - s) + 1;
    }
    return chv_strbuf_take(&out);
}

/* `re.sub(r"/' [0-9]/", r"/'[0-9]/", s)`: the pattern is literal apart from
 * the digit class, so it only rewrites text such as "/' 7/". */
static char *fix_slash_quote_digit(const char *s) {
    chv_strbuf out = {0};
    chv_strbuf_append(&out, "", 0);
    for (size_t i = 0; s[i] != '\0';) {
        if (strncmp(s + i, "/' ", 3) == 0 && s[i + 3] >= '0' && s[i + 3] <= '9' &&
            s[i + 4] == '/') {
            chv_strbuf_puts(&out, "/'[0-9]/");
            i += 5;
        } else {
            chv_strbuf_putc(&out, s[i++]);
        }
    }
    return chv_strbuf_take(&out);
}

/* Replaces s with f(s), freeing the old string. */
#define APPLY(s, expr)                                                                             \
    do {                                                                                           \
        char *next_ = (s) ? (expr) : NULL;                                                         \
        free(s);                                                                                   \
        (s) = next_;                                                                               \
    } while (0)

char *chv_wikitext_detokenize(const char *page) {
    static const char *const replacements[][2] = {
        /* number separators */
        {" @-@ ", "-"},
        {" @,@ ", ","},
        {" @.@ ", "."},
        /* punctuation */
        {" : ", ": "},
        {" ; ", "; "},
        {" . ", ". "},
        {" ! ", "! "},
        {" ? ", "? "},
        {" , ", ", "},
    };
    static const char *const brackets[] = {"()", "[]", "{}", "\"\"", "''"};
    static const char *const tail[][2] = {
        {"= = = =", "===="},
        {"= = =", "==="},
        {"= =", "=="},
        {" \xC2\xB0 ", "\xC2\xB0"}, /* U+00B0 DEGREE SIGN */
        {" \n", "\n"},
        {"\n ", "\n"},
        {" N ", " 1 "},
        {" 's", "'s"},
    };

    char *s = chv_py_replace(page, "s '", "s'"); /* contractions */
    APPLY(s, fix_slash_quote_digit(s));
    for (size_t i = 0; i < sizeof replacements / sizeof replacements[0]; i++)
        APPLY(s, chv_py_replace(s, replacements[i][0], replacements[i][1]));
    for (size_t i = 0; i < sizeof brackets / sizeof brackets[0]; i++)
        APPLY(s, trim_inside(s, brackets[i][0], brackets[i][1]));
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        APPLY(s, chv_py_replace(s, tail[i][0], tail[i][1]));
    return s;
}

static int is_blank(const char *s) {
    size_t i = 0, len = strlen(s);
    while (i < len) {
        if (!chv_py_isspace(chv_utf8_next(s, &i)))
            return 0;
    }
    return 1;
}

/* A level-1 heading line such as " = Robert Boulter = ". Deeper headings
 * (" = = Career = = ") are compacted to "==" first, so they do not match. */
static int is_page_heading(const char *line) {
    char *a = chv_py_replace(line, "= = =", "===");
    char *b = a ? chv_py_replace(a, "= =", "==") : NULL;
    char *r = b ? chv_py_strip(b) : NULL;
    int heading = 0;
    if (r != NULL) {
        size_t len = strlen(r);
        heading = len >= 2 && strncmp(r, "= ", 2) == 0 && len >= 2 && strcmp(r + len - 2, " =") == 0;
    }
    free(a);
    free(b);
    free(r);
    return heading;
}

static int push_page(char ***pages, size_t *n, char *page) {
    char **grown = realloc(*pages, (*n + 1) * sizeof *grown);
    if (grown == NULL) {
        free(page);
        return -1;
    }
    *pages = grown;
    (*pages)[(*n)++] = page;
    return 0;
}

int chv_wikitext_split_pages(const char *raw, char ***pages, size_t *n_pages) {
    *pages = NULL;
    *n_pages = 0;

    /* Python's text mode reads "\r\n" and "\r" as "\n". */
    char *text = chv_py_replace(raw, "\r\n", "\n");
    APPLY(text, chv_py_replace(text, "\r", "\n"));
    if (text == NULL)
        return -1;

    /* Walk text.split("\n"); `page` collects the lines of the current page. */
    chv_strbuf page = {0};
    int page_lines = 0, rc = 0;
    const char *line = text;
    for (;;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, len);
        if (copy == NULL) {
            rc = -1;
            break;
        }

        if (is_page_heading(copy)) {
            chv_strbuf_append(&page, "", 0);
            char *done = chv_strbuf_take(&page);
            if (done == NULL || is_blank(done))
                free(done);
            else if (push_page(pages, n_pages, done) != 0)
                rc = -1;
            page_lines = 0;
        }
        if (page_lines > 0)
            chv_strbuf_putc(&page, '\n');
        chv_strbuf_append(&page, copy, len);
        page_lines++;
        free(copy);

        if (nl == NULL || rc != 0)
            break;
        line = nl + 1;
    }

    /* The last page is kept even when blank, as the dataset script does. */
    chv_strbuf_append(&page, "", 0);
    char *last = chv_strbuf_take(&page);
    if (rc == 0 && (last == NULL || push_page(pages, n_pages, last) != 0))
        rc = -1;
    free(text);
    return rc;
}

static int load(const chv_task_def *task, const char *path, int keep_records, chv_doc_list *docs,
                chv_error *err) {
    (void)task;
    size_t len = 0;
    char *raw = chv_read_file(path, &len, err);
    if (raw == NULL)
        return -1;
    if (strlen(raw) != len) {
        free(raw);
        return chv_error_set(err, "%s: the file contains a NUL byte; expected WikiText raw text",
                             path);
    }

    char **pages = NULL;
    size_t n_pages = 0;
    int rc = chv_wikitext_split_pages(raw, &pages, &n_pages);
    free(raw);
    if (rc != 0)
        return chv_error_set(err, "%s: out of memory splitting pages", path);

    for (size_t i = 0; i < n_pages && rc == 0; i++) {
        chv_doc *doc = chv_doc_list_add(docs);
        if (doc == NULL) {
            rc = chv_error_set(err, "%s: out of memory", path);
            break;
        }
        doc->doc_id = (long)i;
        doc->page = pages[i];
        pages[i] = NULL;
        doc->text = chv_wikitext_detokenize(doc->page);
        doc->words = chv_py_split_whitespace_count(doc->page);
        doc->bytes = (long)strlen(doc->page);
        if (doc->text == NULL)
            rc = chv_error_set(err, "%s: out of memory detokenizing page %zu", path, i);
        if (keep_records) {
            doc->record = cJSON_CreateObject();
            cJSON_AddStringToObject(doc->record, "page", doc->page);
        }
    }
    for (size_t i = 0; i < n_pages; i++)
        free(pages[i]);
    free(pages);
    return rc;
}

const chv_task_hooks chv_hooks_wikitext = {"wikitext", load, NULL};
