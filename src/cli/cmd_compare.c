#include <stdio.h>

#include "cli/commands.h"

/* TODO: placeholder until the subcommand is implemented. */
int cmd_compare(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cheval compare: not implemented in this build\n");
    return CHV_EXIT_FAILURE;
}
