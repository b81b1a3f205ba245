/* Subcommands of the cheval binary. Each takes the arguments after its own
 * name (argv[0] is the subcommand name) and returns the exit status. */
#ifndef CHEVAL_CLI_COMMANDS_H
#define CHEVAL_CLI_COMMANDS_H

enum {
    CHV_EXIT_OK = 0,      /* success */
    CHV_EXIT_FAILURE = 1, /* evaluation failure: bad input file, bad model, I/O */
    CHV_EXIT_USAGE = 2    /* usage error: unknown flag, missing argument */
};

int cmd_tokenize(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Version string ("0.1.0") and git hash of the build ("unknown" outside a
 * git checkout). */
const char *chv_version(void);
const char *chv_git_hash(void);

#endif
