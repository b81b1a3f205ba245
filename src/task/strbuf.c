#include "task/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(chv_strbuf *b, size_t extra) {
    if (b->failed)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;

    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void chv_strbuf_append(chv_strbuf *b, const char *s, size_t len) {
    if (reserve(b, len) != 0)
        return;
    if (len > 0)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void chv_strbuf_puts(chv_strbuf *b, const char *s) { chv_strbuf_append(b, s, strlen(s)); }

void chv_strbuf_putc(chv_strbuf *b, char c) { chv_strbuf_append(b, &c, 1); }

void chv_strbuf_printf(chv_strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;

    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *chv_strbuf_take(chv_strbuf *b) {
    if (b->failed) {
        chv_strbuf_free(b);
        return NULL;
    }
    if (reserve(b, 0) != 0)
        return NULL;
    char *s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void chv_strbuf_free(chv_strbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
