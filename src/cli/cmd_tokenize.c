/* cheval tokenize: print the token ids of text, for checking a tokenizer
 * against Hugging Face's or for feeding ids to other tools.
 *
 *   cheval tokenize --model DIR --text "Once upon a time"
 *   printf '"a"\n" b"\n' | cheval tokenize --model DIR --add-special-tokens
 *
 * Each result is one JSON array of ids on its own line of stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "tokenizer/tokenizer.h"
#include "util/jsonl.h"

static const char HINT[] = "Run 'cheval tokenize --help' for the options.\n";

static const char USAGE[] =
    "usage: cheval tokenize --model DIR [--add-special-tokens] [--text STRING]\n"
    "\n"
    "Print the token ids of text as a JSON array, one array per line.\n"
    "\n"
    "options:\n"
    "  -m, --model DIR          tokenizer to use: a Hugging Face model folder, a\n"
    "                           folder holding tokenizer.json (and optionally\n"
    "                           tokenizer_config.json), or a tokenizer.json file\n"
    "  -s, --add-special-tokens add the special tokens of the tokenizer's\n"
    "                           post-processor (BOS for Llama-2; none for GPT-2),\n"
    "                           as Hugging Face's encode(add_special_tokens=True)\n"
    "  -t, --text STRING        encode STRING (taken as UTF-8 bytes) and exit\n"
    "  -h, --help               print this help and exit\n"
    "\n"
    "Without --text, each line of stdin holds one JSON string, such as\n"
    "\"Hello world\" or \" \\u00e9t\\u00e9\\n\"; blank lines are skipped, and the\n"
    "ids of each string are printed as one line.\n"
    "\n"
    "exit status: 0 success, 1 failure (tokenizer cannot be loaded, invalid\n"
    "input line), 2 usage error\n";

/* Prints ids as a compact JSON array and a newline. */
static void print_ids(const int32_t *ids, size_t n_ids) {
    putchar('[');
    for (size_t i = 0; i < n_ids; i++)
        printf(i == 0 ? "%d" : ",%d", ids[i]);
    fputs("]\n", stdout);
}

/* Encodes one text and prints its ids. `where` names the input in errors
 * and warnings. Returns 0 or -1 after printing the error. */
static int tokenize_and_print(chv_tokenizer *tok, const char *text, size_t len, int add_special, const char *where) {
    int32_t *ids = NULL;
    size_t n_ids = 0;
    int replaced = 0;
    chv_error err;
    if (chv_tokenizer_encode(tok, text, len, add_special, &ids, &n_ids, &replaced, &err) != 0) {
        fprintf(stderr, "cheval tokenize: %s: %s\n", where, err.message);
        return -1;
    }

    if (replaced)
        fprintf(stderr, "cheval tokenize: warning: %s is not valid UTF-8; invalid bytes were encoded as U+FFFD\n",
                where);
    print_ids(ids, n_ids);
    free(ids);
    return 0;
}

static int is_blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
            return 0;
    }
    return 1;
}

/* Reads one JSON string per line of stdin and prints its ids. Stops at the
 * first invalid line. Returns 0 or -1 after printing the error. */
static int tokenize_stdin(chv_tokenizer *tok, int add_special) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long number = 0;
    int rc = 0;

    while ((len = getline(&line, &cap, stdin)) >= 0) {
        number++;
        if (is_blank(line, (size_t)len))
            continue;

        char where[64];
        snprintf(where, sizeof where, "stdin:%ld", number);
        chv_error err;
        cJSON *item = chv_json_parse(line, (size_t)len, where, &err);
        if (item == NULL) {
            fprintf(stderr, "cheval tokenize: %s; each line must be one JSON string\n", err.message);
            rc = -1;
            break;
        }
        if (!cJSON_IsString(item)) {
            fprintf(stderr, "cheval tokenize: %s: expected a JSON string such as \"Hello\"\n", where);
            cJSON_Delete(item);
            rc = -1;
            break;
        }

        /* NOTE: cJSON stores strings NUL-terminated, so a "\u0000" escape
         * ends the text there. */
        const char *text = item->valuestring;
        rc = tokenize_and_print(tok, text, strlen(text), add_special, where);
        cJSON_Delete(item);
        if (rc != 0)
            break;

        /* Flushing each line lets another program drive this command line
         * by line through a pipe. */
        fflush(stdout);
    }

    if (rc == 0 && ferror(stdin)) {
        fprintf(stderr, "cheval tokenize: reading stdin failed after line %ld\n", number);
        rc = -1;
    }
    free(line);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},
        {"add-special-tokens", no_argument, NULL, 's'},
        {"text", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model = NULL;
    const char *text = NULL;
    int add_special = 0;

    /* getopt_long keeps its state in globals. optind = 0 restarts it, and
     * opterr = 0 lets this command word its own messages. */
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":m:st:h", options, NULL)) != -1) {
        switch (opt) {
        case 'm':
            model = optarg;
            break;
        case 's':
            add_special = 1;
            break;
        case 't':
            text = optarg;
            break;
        case 'h':
            fputs(USAGE, stdout);
            return CHV_EXIT_OK;
        case ':':
            fprintf(stderr, "cheval tokenize: option '%s' requires an argument\n%s", argv[optind - 1], HINT);
            return CHV_EXIT_USAGE;
        default:
            fprintf(stderr, "cheval tokenize: unknown option '%s'\n%s", argv[optind - 1], HINT);
            return CHV_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cheval tokenize: unexpected argument '%s'; pass text with --text or on stdin\n%s",
                argv[optind], HINT);
        return CHV_EXIT_USAGE;
    }
    if (model == NULL) {
        fprintf(stderr, "cheval tokenize: missing --model DIR\n%s", HINT);
        return CHV_EXIT_USAGE;
    }

    chv_error err;
    chv_tokenizer *tok = chv_tokenizer_load(model, &err);
    if (tok == NULL) {
        fprintf(stderr, "cheval tokenize: %s\n", err.message);
        return CHV_EXIT_FAILURE;
    }

    int rc = text != NULL ? tokenize_and_print(tok, text, strlen(text), add_special, "--text")
                          : tokenize_stdin(tok, add_special);
    chv_tokenizer_free(tok);

    if (fflush(stdout) != 0) {
        fprintf(stderr, "cheval tokenize: writing stdout failed\n");
        return CHV_EXIT_FAILURE;
    }
    return rc == 0 ? CHV_EXIT_OK : CHV_EXIT_FAILURE;
}
