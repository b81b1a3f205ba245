/* Option parsing shared by the subcommands. */
#ifndef CHEVAL_CLI_COMMON_H
#define CHEVAL_CLI_COMMON_H

#include "score/scorer.h"

/* Parses "auto", "yes" or "no" for --add-bos. Returns 0, or -1 after
 * printing a usage error that names the command. */
int cli_parse_bos(const char *command, const char *value, chv_bos_rule *rule);

/* Parses a positive integer option. Returns 0, or -1 after printing a
 * usage error naming the command and the flag. */
int cli_parse_positive(const char *command, const char *flag, const char *value, long *out);

/* The largest --threads value. More threads than this is a typing error,
 * not a machine. */
#define CLI_MAX_THREADS 1024

/* Parses a non-negative integer option (0 allowed). */
int cli_parse_nonnegative(const char *command, const char *flag, const char *value, long *out);

#endif
