#include "util/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int chv_utf8_valid(const char *s, size_t len, size_t *bad_offset) {
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            if (bad_offset != NULL)
                *bad_offset = i;
            return 0;
        }
        i += (size_t)n;
    }
    return 1;
}

size_t chv_utf8_codepoints(const char *s, size_t len) {
    size_t count = 0;
    for (size_t i = 0; i < len; i++) {
        /* Count every byte that is not a continuation byte 10xxxxxx. */
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    }
    return count;
}

/* Returns the length of the longest prefix of s[0..len) that starts a
 * well-formed sequence (the "maximal subpart" of Unicode §3.9), at least 1. */
static size_t invalid_subpart_length(const unsigned char *s, size_t len) {
    unsigned char b = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;

    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0)
            lo = 0xA0;
        if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0)
            lo = 0x90;
        if (b == 0xF4)
            hi = 0x8F;
    } else {
        return 1;
    }

    size_t i = 1;
    while (i <= need && i < len) {
        unsigned char c = s[i];
        unsigned char min = (i == 1) ? lo : 0x80;
        unsigned char max = (i == 1) ? hi : 0xBF;
        if (c < min || c > max)
            break;
        i++;
    }
    return i;
}

char *chv_utf8_replace_invalid(const char *s, size_t len, size_t *out_len) {
    /* Each invalid byte becomes at most 3 bytes (EF BF BD). */
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;

    size_t i = 0, o = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0) {
            memcpy(out + o, s + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
            continue;
        }
        i += invalid_subpart_length((const unsigned char *)s + i, len - i);
        out[o++] = (char)0xEF;
        out[o++] = (char)0xBF;
        out[o++] = (char)0xBD;
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return out;
}
