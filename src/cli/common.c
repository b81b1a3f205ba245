#include "cli/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_bos(const char *command, const char *value, chv_bos_rule *rule) {
    if (strcmp(value, "auto") == 0)
        *rule = CHV_BOS_AUTO;
    else if (strcmp(value, "yes") == 0)
        *rule = CHV_BOS_YES;
    else if (strcmp(value, "no") == 0)
        *rule = CHV_BOS_NO;
    else {
        fprintf(stderr, "cheval %s: invalid --add-bos value '%s' (expected auto, yes or no)\n",
                command, value);
        return -1;
    }
    return 0;
}

static int parse_long(const char *command, const char *flag, const char *value, long min,
                      long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min) {
        fprintf(stderr, "cheval %s: invalid %s value '%s' (expected an integer >= %ld)\n",
                command, flag, value, min);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_positive(const char *command, const char *flag, const char *value, long *out) {
    return parse_long(command, flag, value, 1, out);
}

int cli_parse_nonnegative(const char *command, const char *flag, const char *value, long *out) {
    return parse_long(command, flag, value, 0, out);
}
