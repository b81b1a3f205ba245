#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int chv_atomic_open(chv_atomic_file *file, const char *path, chv_error *err) {
    memset(file, 0, sizeof *file);

    size_t n = strlen(path) + 32;
    file->path = strdup(path);
    file->tmp_path = malloc(n);
    if (file->path == NULL || file->tmp_path == NULL) {
        chv_atomic_abort(file);
        return chv_error_set(err, "out of memory opening %s", path);
    }
    snprintf(file->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());

    file->fp = fopen(file->tmp_path, "wb");
    if (file->fp == NULL) {
        int saved = errno;
        chv_error_set(err, "cannot write %s: %s", file->tmp_path, strerror(saved));
        free(file->tmp_path);
        file->tmp_path = NULL;
        chv_atomic_abort(file);
        return -1;
    }
    return 0;
}

int chv_atomic_commit(chv_atomic_file *file, chv_error *err) {
    int failed = 0;
    int saved = 0;

    if (fflush(file->fp) != 0 || ferror(file->fp)) {
        failed = 1;
        saved = errno;
    } else if (fsync(fileno(file->fp)) != 0) {
        failed = 1;
        saved = errno;
    }
    if (fclose(file->fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    file->fp = NULL;

    if (!failed && rename(file->tmp_path, file->path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        chv_error_set(err, "cannot write %s: %s", file->path, strerror(saved));
        chv_atomic_abort(file);
        return -1;
    }

    free(file->path);
    free(file->tmp_path);
    memset(file, 0, sizeof *file);
    return 0;
}

void chv_atomic_abort(chv_atomic_file *file) {
    if (file->fp != NULL)
        fclose(file->fp);
    if (file->tmp_path != NULL)
        unlink(file->tmp_path);
    free(file->path);
    free(file->tmp_path);
    memset(file, 0, sizeof *file);
}

int chv_write_file_atomic(const char *path, const char *data, size_t len, chv_error *err) {
    chv_atomic_file file;
    if (chv_atomic_open(&file, path, err) != 0)
        return -1;
    if (len > 0 && fwrite(data, 1, len, file.fp) != len) {
        int saved = errno;
        chv_atomic_abort(&file);
        return chv_error_set(err, "cannot write %s: %s", path, strerror(saved));
    }
    return chv_atomic_commit(&file, err);
}

int chv_mkdir_p(const char *path, chv_error *err) {
    char *copy = strdup(path);
    if (copy == NULL)
        return chv_error_set(err, "out of memory creating %s", path);

    for (char *p = copy + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            chv_error_set(err, "cannot create folder %s: %s", copy, strerror(e));
            free(copy);
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);

    if (!chv_dir_exists(path))
        return chv_error_set(err, "cannot create folder %s: a file with that name exists", path);
    return 0;
}

int chv_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int chv_dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void digest_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}

int chv_sha256_file(const char *path, char hex[65], chv_error *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return chv_error_set(err, "cannot open %s: %s", path, strerror(errno));

    struct sha256_ctx ctx;
    sha256_init(&ctx);
    uint8_t buf[1 << 16];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            int e = errno;
            close(fd);
            return chv_error_set(err, "read of %s failed: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        sha256_update(&ctx, (size_t)n, buf);
    }
    close(fd);

    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    digest_to_hex(digest, hex);
    return 0;
}

void chv_sha256_hex(const void *data, size_t len, char hex[65]) {
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    digest_to_hex(digest, hex);
}

char *chv_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *out = malloc(a + b + 2);
    if (out == NULL)
        return NULL;
    if (a == 0) {
        memcpy(out, name, b + 1);
        return out;
    }
    memcpy(out, dir, a);
    size_t o = a;
    if (dir[a - 1] != '/')
        out[o++] = '/';
    memcpy(out + o, name, b + 1);
    return out;
}
