#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

#ifndef CHEVAL_VERSION
#define CHEVAL_VERSION "0.0.0"
#endif
#ifndef CHEVAL_GIT_HASH
#define CHEVAL_GIT_HASH "unknown"
#endif

const char *chv_version(void) { return CHEVAL_VERSION; }

const char *chv_git_hash(void) { return CHEVAL_GIT_HASH; }

int cmd_version(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: cheval version\n\nPrints the cheval version and the git commit it was built from.\n");
        return CHV_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "cheval version: unexpected argument '%s'\n", argv[1]);
        return CHV_EXIT_USAGE;
    }
    printf("cheval %s (git %s)\n", chv_version(), chv_git_hash());
    return CHV_EXIT_OK;
}
