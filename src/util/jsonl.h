/* JSON Lines reading: one cJSON value per non-blank line, from `.jsonl` or
 * `.jsonl.gz`.
 *
 * Every error names the file and the 1-based line: invalid JSON, invalid
 * UTF-8, or a line over CHV_LINE_MAX bytes. Blank lines (empty or only
 * whitespace) are skipped. A missing final newline is fine.
 */
#ifndef CHEVAL_UTIL_JSONL_H
#define CHEVAL_UTIL_JSONL_H

#include <cjson/cJSON.h>

#include "util/error.h"

typedef struct chv_jsonl chv_jsonl;

/* Opens path. Returns NULL and fills err when it cannot be opened. */
chv_jsonl *chv_jsonl_open(const char *path, chv_error *err);

/* Parses the next non-blank line into *item, which the caller frees with
 * cJSON_Delete. Returns 1 for an item, 0 at end of file and -1 on error. */
int chv_jsonl_next(chv_jsonl *reader, cJSON **item, chv_error *err);

/* Returns the 1-based line number of the item last returned. */
long chv_jsonl_line(const chv_jsonl *reader);

const char *chv_jsonl_path(const chv_jsonl *reader);

void chv_jsonl_close(chv_jsonl *reader);

/* Parses one JSON text of len bytes that must be valid UTF-8. `where`
 * names the source in errors (for example "file.jsonl:12" or "stdin:3").
 * Returns NULL and fills err on failure. */
cJSON *chv_json_parse(const char *text, size_t len, const char *where, chv_error *err);

#endif
