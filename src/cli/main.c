/* cheval: evaluate language models the way lm-evaluation-harness does. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "evaluate a model on benchmarks and write results"},
    {"score", cmd_score, "score JSON-lines log-likelihood requests from stdin"},
    {"tokenize", cmd_tokenize, "print the token ids of text"},
    {"info", cmd_info, "describe a model folder"},
    {"report", cmd_report, "rebuild reports from a run folder"},
    {"compare", cmd_compare, "compare two runs with paired statistics"},
    {"version", cmd_version, "print the version"},
};

static void print_usage(FILE *out) {
    fprintf(out, "usage: cheval COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'cheval COMMAND --help' for the options of one command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return CHV_EXIT_USAGE;
    }

    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return CHV_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        return cmd_version(argc - 1, argv + 1);

    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }

    fprintf(stderr, "cheval: unknown command '%s'\n\n", name);
    print_usage(stderr);
    return CHV_EXIT_USAGE;
}
