/* Atomic file writes, directory creation and file hashing.
 *
 * Outputs are written to "<path>.tmp.<pid>" in the same folder, flushed
 * with fsync and renamed over <path>, so a reader sees the old file or the
 * new one and never a partial file, even if cheval is killed mid-write.
 */
#ifndef CHEVAL_UTIL_FILEIO_H
#define CHEVAL_UTIL_FILEIO_H

#include <stdio.h>

#include "util/error.h"

typedef struct chv_atomic_file {
    FILE *fp;       /* write here between open and commit */
    char *path;     /* final path */
    char *tmp_path; /* temporary path in the same folder */
} chv_atomic_file;

/* Opens a temporary file next to path. Returns 0, or -1 with err filled. */
int chv_atomic_open(chv_atomic_file *file, const char *path, chv_error *err);

/* Flushes, syncs and renames the temporary file over the final path, then
 * releases file. Returns 0, or -1 with err filled (the temporary file is
 * removed and the old file left in place). */
int chv_atomic_commit(chv_atomic_file *file, chv_error *err);

/* Removes the temporary file and releases file. Safe after a failed open. */
void chv_atomic_abort(chv_atomic_file *file);

/* Writes data to path atomically. Returns 0, or -1 with err filled. */
int chv_write_file_atomic(const char *path, const char *data, size_t len, chv_error *err);

/* Creates path and its missing parents (like mkdir -p). Returns 0, or -1
 * with err filled. */
int chv_mkdir_p(const char *path, chv_error *err);

/* Returns 1 when path names an existing regular file (following links). */
int chv_file_exists(const char *path);

/* Returns 1 when path names an existing folder. */
int chv_dir_exists(const char *path);

/* Computes the SHA-256 of the file's bytes as 64 lowercase hex digits plus
 * NUL in hex[65]. Returns 0, or -1 with err filled. */
int chv_sha256_file(const char *path, char hex[65], chv_error *err);

/* Computes the SHA-256 of data[0..len) as hex, as above. */
void chv_sha256_hex(const void *data, size_t len, char hex[65]);

/* Returns a newly allocated "dir/name" (or just name when dir is empty). */
char *chv_path_join(const char *dir, const char *name);

#endif
