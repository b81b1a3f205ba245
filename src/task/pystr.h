/* Python str semantics that task preprocessing depends on, on UTF-8.
 *
 * lm-eval builds its prompts with Python string methods and `re`; these
 * helpers reproduce the exact behaviour of the few that tasks use, so
 * prompts come out byte-identical. Every function returns a newly
 * allocated string that the caller frees, or NULL when out of memory.
 * Inputs must be valid UTF-8. */
#ifndef CHEVAL_TASK_PYSTR_H
#define CHEVAL_TASK_PYSTR_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 for the code points Python's str.isspace() accepts, which are
 * also what `\s` matches in a str regex. */
int chv_py_isspace(uint32_t cp);

/* str.strip(), str.lstrip() and str.rstrip() with no argument. */
char *chv_py_strip(const char *s);
char *chv_py_lstrip(const char *s);
char *chv_py_rstrip(const char *s);

/* str.replace(old, new): every non-overlapping occurrence, left to right,
 * in one pass (so replacing "  " with " " turns three spaces into two). */
char *chv_py_replace(const char *s, const char *old, const char *replacement);

/* str.capitalize(): the first code point in title case, every other code
 * point in lower case, with Python's final sigma and the multi-character
 * mappings of U+0130 and of a leading "ß" or Latin ligature.
 * NOTE: other multi-character title mappings (rare letters such as U+0149)
 * fall back to utf8proc's one-to-one mapping and can differ from Python. */
char *chv_py_capitalize(const char *s);

/* len(re.split(r"\s+", s)): the number of pieces, counting empty pieces
 * at either end. */
long chv_py_split_whitespace_count(const char *s);

/* Decodes the code point at s[*i] and advances *i past it. s must be valid
 * UTF-8 and *i a code point boundary. */
uint32_t chv_utf8_next(const char *s, size_t *i);

#endif
