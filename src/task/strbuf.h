/* A growable NUL-terminated byte string for building prompts and files.
 *
 * The buffer owns its bytes. A failed allocation sets `failed` and makes
 * every later append a no-op, so callers check once at the end. */
#ifndef CHEVAL_TASK_STRBUF_H
#define CHEVAL_TASK_STRBUF_H

#include <stddef.h>

typedef struct chv_strbuf {
    char *data; /* NUL-terminated once anything was appended; may be NULL before */
    size_t len;
    size_t cap;
    int failed;
} chv_strbuf;

void chv_strbuf_append(chv_strbuf *b, const char *s, size_t len);
void chv_strbuf_puts(chv_strbuf *b, const char *s);
void chv_strbuf_putc(chv_strbuf *b, char c);
void chv_strbuf_printf(chv_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the string (never NULL unless allocation failed) and hands
 * ownership to the caller; b is reset to empty. */
char *chv_strbuf_take(chv_strbuf *b);
void chv_strbuf_free(chv_strbuf *b);

#endif
