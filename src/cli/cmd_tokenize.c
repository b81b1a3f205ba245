#include <stdio.h>

#include "cli/commands.h"

/* TODO: placeholder until the subcommand is implemented. */
int cmd_tokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cheval tokenize: not implemented in this build\n");
    return CHV_EXIT_FAILURE;
}
