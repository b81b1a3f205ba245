/* Line-by-line reading of text files, plain or gzip-compressed.
 *
 * zlib's gzread reads plain files unchanged, so one reader serves `x.jsonl`
 * and `x.jsonl.gz`. Lines may be of any length up to CHV_LINE_MAX bytes; a
 * longer line is an error that names the file and line. A final line
 * without a newline is returned like any other. "\r\n" endings lose the
 * "\r".
 */
#ifndef CHEVAL_UTIL_LINES_H
#define CHEVAL_UTIL_LINES_H

#include <stddef.h>

#include "util/error.h"

#define CHV_LINE_MAX (64u * 1024u * 1024u)

typedef struct chv_lines chv_lines;

/* Opens path for reading. Returns NULL and fills err when the file is
 * missing or unreadable. The caller frees the reader with chv_lines_close. */
chv_lines *chv_lines_open(const char *path, chv_error *err);

/* Reads the next line into *line (without its newline, NUL-terminated,
 * owned by the reader and valid until the next call) and its length into
 * *len. Returns 1 for a line, 0 at end of file, -1 on a read error or a
 * line over CHV_LINE_MAX. */
int chv_lines_next(chv_lines *reader, const char **line, size_t *len, chv_error *err);

/* Returns the 1-based number of the line last returned. */
long chv_lines_number(const chv_lines *reader);

const char *chv_lines_path(const chv_lines *reader);

void chv_lines_close(chv_lines *reader);

/* Reads a whole file (plain or gzip) into a NUL-terminated buffer that the
 * caller frees. Returns NULL and fills err on failure. */
char *chv_read_file(const char *path, size_t *len, chv_error *err);

#endif
