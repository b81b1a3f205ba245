#include "util/jsonl.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/lines.h"
#include "util/utf8.h"

struct chv_jsonl {
    chv_lines *lines;
};

chv_jsonl *chv_jsonl_open(const char *path, chv_error *err) {
    chv_lines *lines = chv_lines_open(path, err);
    if (lines == NULL)
        return NULL;

    chv_jsonl *reader = malloc(sizeof *reader);
    if (reader == NULL) {
        chv_lines_close(lines);
        chv_error_set(err, "out of memory opening %s", path);
        return NULL;
    }
    reader->lines = lines;
    return reader;
}

static int is_blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    }
    return 1;
}

cJSON *chv_json_parse(const char *text, size_t len, const char *where, chv_error *err) {
    size_t bad = 0;
    if (!chv_utf8_valid(text, len, &bad)) {
        chv_error_set(err, "%s: invalid UTF-8 at byte %zu", where, bad + 1);
        return NULL;
    }

    const char *end = NULL;
    cJSON *item = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (item == NULL) {
        size_t column = (end != NULL && end >= text) ? (size_t)(end - text) + 1 : 1;
        chv_error_set(err, "%s: invalid JSON near column %zu", where, column);
        return NULL;
    }

    /* Allow trailing whitespace only. */
    if (end != NULL) {
        size_t rest = len - (size_t)(end - text);
        if (!is_blank(end, rest)) {
            cJSON_Delete(item);
            chv_error_set(err, "%s: unexpected text after the JSON value at column %zu", where,
                          (size_t)(end - text) + 1);
            return NULL;
        }
    }
    return item;
}

int chv_jsonl_next(chv_jsonl *reader, cJSON **item, chv_error *err) {
    for (;;) {
        const char *line;
        size_t len;
        int rc = chv_lines_next(reader->lines, &line, &len, err);
        if (rc <= 0)
            return rc;
        if (is_blank(line, len))
            continue;

        char where[1200];
        snprintf(where, sizeof where, "%s:%ld", chv_lines_path(reader->lines),
                 chv_lines_number(reader->lines));
        *item = chv_json_parse(line, len, where, err);
        return *item != NULL ? 1 : -1;
    }
}

long chv_jsonl_line(const chv_jsonl *reader) { return chv_lines_number(reader->lines); }

const char *chv_jsonl_path(const chv_jsonl *reader) { return chv_lines_path(reader->lines); }

void chv_jsonl_close(chv_jsonl *reader) {
    if (reader == NULL)
        return;
    chv_lines_close(reader->lines);
    free(reader);
}
