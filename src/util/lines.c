#include "util/lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct chv_lines {
    gzFile file;
    char *path;
    char *buf;
    size_t cap;
    long number;
};

chv_lines *chv_lines_open(const char *path, chv_error *err) {
    gzFile file = gzopen(path, "rb");
    if (file == NULL) {
        chv_error_set(err, "cannot open %s: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(file, 1 << 17);

    chv_lines *reader = calloc(1, sizeof *reader);
    if (reader == NULL || (reader->path = strdup(path)) == NULL) {
        gzclose(file);
        free(reader);
        chv_error_set(err, "out of memory opening %s", path);
        return NULL;
    }
    reader->file = file;
    return reader;
}

int chv_lines_next(chv_lines *reader, const char **line, size_t *len, chv_error *err) {
    size_t used = 0;
    int saw_any = 0;

    for (;;) {
        if (reader->cap - used < 2) {
            size_t cap = reader->cap ? reader->cap * 2 : 4096;
            char *buf = realloc(reader->buf, cap);
            if (buf == NULL)
                return chv_error_set(err, "%s:%ld: out of memory reading a line", reader->path,
                                     reader->number + 1);
            reader->buf = buf;
            reader->cap = cap;
        }

        if (gzgets(reader->file, reader->buf + used, (int)(reader->cap - used)) == NULL) {
            int zerr = 0;
            const char *msg = gzerror(reader->file, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return chv_error_set(err, "%s:%ld: read failed: %s (is the .gz file truncated?)",
                                     reader->path, reader->number + 1, msg);
            if (!saw_any)
                return 0;
            break;
        }
        saw_any = 1;
        used += strlen(reader->buf + used);

        if (used > CHV_LINE_MAX)
            return chv_error_set(err, "%s:%ld: line is longer than the limit of %u bytes",
                                 reader->path, reader->number + 1, CHV_LINE_MAX);
        if (used > 0 && reader->buf[used - 1] == '\n')
            break;
        if (gzeof(reader->file))
            break;
    }

    reader->number++;
    if (used > 0 && reader->buf[used - 1] == '\n')
        reader->buf[--used] = '\0';
    if (used > 0 && reader->buf[used - 1] == '\r')
        reader->buf[--used] = '\0';

    *line = reader->buf;
    *len = used;
    return 1;
}

long chv_lines_number(const chv_lines *reader) { return reader->number; }

const char *chv_lines_path(const chv_lines *reader) { return reader->path; }

void chv_lines_close(chv_lines *reader) {
    if (reader == NULL)
        return;
    gzclose(reader->file);
    free(reader->buf);
    free(reader->path);
    free(reader);
}

char *chv_read_file(const char *path, size_t *len, chv_error *err) {
    gzFile file = gzopen(path, "rb");
    if (file == NULL) {
        chv_error_set(err, "cannot open %s: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }

    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            gzclose(file);
            chv_error_set(err, "out of memory reading %s", path);
            return NULL;
        }
        if (cap - used < (1 << 15)) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL)
                free(buf);
            buf = grown;
            continue;
        }
        int n = gzread(file, buf + used, (unsigned)(cap - used - 1));
        if (n < 0) {
            int zerr = 0;
            chv_error_set(err, "read of %s failed: %s", path, gzerror(file, &zerr));
            free(buf);
            gzclose(file);
            return NULL;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    gzclose(file);

    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    return buf;
}
