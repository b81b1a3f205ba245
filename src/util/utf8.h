/* UTF-8 helpers built on utf8proc. */
#ifndef CHEVAL_UTIL_UTF8_H
#define CHEVAL_UTIL_UTF8_H

#include <stddef.h>

/* Returns 1 when s[0..len) is valid UTF-8. Otherwise returns 0 and, when
 * bad_offset is not NULL, stores the byte offset of the first invalid
 * sequence. */
int chv_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Returns the number of Unicode code points in valid UTF-8 s[0..len), the
 * way Python's len() counts a str. */
size_t chv_utf8_codepoints(const char *s, size_t len);

/* Returns a newly allocated copy of s[0..len) in which each invalid byte
 * sequence is replaced with U+FFFD, following Python's
 * bytes.decode("utf-8", errors="replace") (one U+FFFD per maximal invalid
 * subpart). The caller frees it. Stores the new length in *out_len. */
char *chv_utf8_replace_invalid(const char *s, size_t len, size_t *out_len);

#endif
