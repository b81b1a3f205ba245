/* cheval score: log-likelihood requests as JSON lines on stdin. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "util/jsonl.h"
#include "util/lines.h"
#include "util/log.h"
#include "util/progress.h"

static const char usage[] =
    "usage: cheval score --model DIR [OPTIONS] < requests.jsonl\n"
    "\n"
    "Reads one JSON object per line on stdin and writes one JSON object per\n"
    "line on stdout, in input order:\n"
    "  {\"context\": C, \"continuation\": X}  ->  {\"logprob\": ..., \"is_greedy\": ...,\n"
    "                                        \"context_tokens\": [...],\n"
    "                                        \"continuation_tokens\": [...]}\n"
    "  {\"text\": T}                         ->  {\"logprob\": ..., \"tokens\": N}\n"
    "logprob is the summed natural-log probability of the continuation (or of\n"
    "every token of the text, scored in disjoint windows of the max length).\n"
    "\n"
    "options:\n"
    "  --model DIR          Hugging Face model folder (config.json, safetensors,\n"
    "                       tokenizer.json)\n"
    "  --threads N          threads for the forward pass, 1 to 1024 (default: all\n"
    "                       cores)\n"
    "  --add-bos RULE       auto (the tokenizer's post-processor decides), yes or no\n"
    "                       (default: auto)\n"
    "  --max-length N       maximum tokens per forward input (default: the model's\n"
    "                       max_position_embeddings, else the tokenizer's\n"
    "                       model_max_length, else 2048)\n"
    "  --rolling-double-bos for {\"text\"} lines, keep the tokenizer's own BOS after\n"
    "                       the conditioning BOS, as lm-eval does\n"
    "  -q, --quiet          no log lines but warnings and errors\n"
    "  -v, --verbose        debug log lines\n"
    "  -h, --help           show this help\n"
    "\n"
    "environment:\n"
    "  CHEVAL_GEMM=openblas  multiply with OpenBLAS instead of cheval's packed\n"
    "                       kernel (log-probs then differ in the last bits)\n";

typedef struct input_line {
    int rolling;
    char *context;
    char *continuation;
    char *text;
    size_t index; /* position within its kind */
} input_line;

static char *string_field(const cJSON *item, const char *name) {
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(item, name);
    return cJSON_IsString(field) ? strdup(field->valuestring) : NULL;
}

/* Reads every line of stdin. Returns 0, or -1 after printing an error. */
static int read_requests(input_line **lines_out, size_t *n_out) {
    chv_error err;
    chv_lines *in = chv_lines_open("/dev/stdin", &err);
    if (in == NULL) {
        fprintf(stderr, "cheval score: %s\n", err.message);
        return -1;
    }

    input_line *lines = NULL;
    size_t n = 0, cap = 0, n_ll = 0, n_rolling = 0;
    const char *text;
    size_t len;
    int rc;
    while ((rc = chv_lines_next(in, &text, &len, &err)) == 1) {
        size_t k = 0;
        while (k < len && (text[k] == ' ' || text[k] == '\t'))
            k++;
        if (k == len)
            continue;

        char where[64];
        snprintf(where, sizeof where, "stdin:%ld", chv_lines_number(in));
        cJSON *item = chv_json_parse(text, len, where, &err);
        if (item == NULL) {
            rc = -1;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            input_line *grown = realloc(lines, cap * sizeof *lines);
            if (grown == NULL) {
                cJSON_Delete(item);
                chv_error_set(&err, "out of memory reading requests");
                rc = -1;
                break;
            }
            lines = grown;
        }

        input_line *line = &lines[n];
        memset(line, 0, sizeof *line);
        line->text = string_field(item, "text");
        line->context = string_field(item, "context");
        line->continuation = string_field(item, "continuation");
        cJSON_Delete(item);
        n++;

        if (line->text != NULL) {
            line->rolling = 1;
            line->index = n_rolling++;
        } else if (line->continuation != NULL) {
            if (line->context == NULL)
                line->context = strdup("");
            line->index = n_ll++;
        } else {
            chv_error_set(&err,
                          "%s: expected {\"context\": string, \"continuation\": string} or "
                          "{\"text\": string}",
                          where);
            rc = -1;
            break;
        }
    }
    chv_lines_close(in);

    *lines_out = lines;
    *n_out = n;
    if (rc < 0) {
        fprintf(stderr, "cheval score: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void free_requests(input_line *lines, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(lines[i].context);
        free(lines[i].continuation);
        free(lines[i].text);
    }
    free(lines);
}

static void report_progress(void *user, size_t done, size_t total) {
    chv_progress *p = user;
    p->total = total;
    chv_progress_update(p, done);
}

static cJSON *token_array(const int32_t *ids, size_t n) {
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(array, cJSON_CreateNumber(ids[i]));
    return array;
}

static void print_json(cJSON *object) {
    char *text = cJSON_PrintUnformatted(object);
    if (text != NULL) {
        fputs(text, stdout);
        fputc('\n', stdout);
        free(text);
    }
    cJSON_Delete(object);
}

/* Scores the parsed lines and prints the results in input order. */
static int score_lines(chv_scorer *scorer, input_line *lines, size_t n) {
    size_t n_ll = 0, n_rolling = 0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].rolling)
            n_rolling++;
        else
            n_ll++;
    }

    chv_ll_request *requests = calloc(n_ll + 1, sizeof *requests);
    chv_ll_result *results = calloc(n_ll + 1, sizeof *results);
    const char **texts = calloc(n_rolling + 1, sizeof *texts);
    chv_rolling_result *rolling = calloc(n_rolling + 1, sizeof *rolling);
    int status = CHV_EXIT_OK;
    int ll_done = 0;
    chv_error err;
    if (requests == NULL || results == NULL || texts == NULL || rolling == NULL) {
        fprintf(stderr, "cheval score: out of memory\n");
        status = CHV_EXIT_FAILURE;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (lines[i].rolling)
            texts[lines[i].index] = lines[i].text;
        else
            requests[lines[i].index] = (chv_ll_request){lines[i].context, lines[i].continuation};
    }

    chv_progress progress;
    if (n_ll > 0) {
        chv_progress_start(&progress, "score", "requests", n_ll);
        if (chv_scorer_loglikelihood(scorer, requests, n_ll, results, report_progress, &progress,
                                     &err) != 0) {
            fprintf(stderr, "cheval score: %s\n", err.message);
            status = CHV_EXIT_FAILURE;
            goto done;
        }
        ll_done = 1;
        chv_progress_finish(&progress);
    }
    if (n_rolling > 0) {
        chv_progress_start(&progress, "score rolling", "windows", 0);
        if (chv_scorer_rolling(scorer, texts, n_rolling, rolling, report_progress, &progress,
                               &err) != 0) {
            fprintf(stderr, "cheval score: %s\n", err.message);
            status = CHV_EXIT_FAILURE;
            goto done;
        }
        chv_progress_finish(&progress);
    }

    for (size_t i = 0; i < n; i++) {
        cJSON *out = cJSON_CreateObject();
        if (lines[i].rolling) {
            const chv_rolling_result *r = &rolling[lines[i].index];
            cJSON_AddNumberToObject(out, "logprob", r->logprob);
            cJSON_AddNumberToObject(out, "tokens", (double)r->n_tokens);
        } else {
            const chv_ll_result *r = &results[lines[i].index];
            cJSON_AddNumberToObject(out, "logprob", r->logprob);
            cJSON_AddBoolToObject(out, "is_greedy", r->is_greedy);
            cJSON_AddItemToObject(out, "context_tokens",
                                  token_array(r->context_tokens, r->n_context_tokens));
            cJSON_AddItemToObject(out, "continuation_tokens",
                                  token_array(r->continuation_tokens, r->n_continuation_tokens));
        }
        print_json(out);
    }

done:
    if (ll_done) {
        for (size_t i = 0; i < n_ll; i++)
            chv_ll_result_free(&results[i]);
    }
    free(requests);
    free(results);
    free(texts);
    free(rolling);
    return status;
}

int cmd_score(int argc, char **argv) {
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},
        {"add-bos", required_argument, NULL, 'b'},
        {"max-length", required_argument, NULL, 'l'},
        {"rolling-double-bos", no_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    const char *model_dir = NULL;
    chv_scorer_options opts = {0};
    long value;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hqv", options, NULL)) != -1) {
        switch (c) {
        case 'm':
            model_dir = optarg;
            break;
        case 't':
            if (cli_parse_positive("score", "--threads", optarg, &value) != 0)
                return CHV_EXIT_USAGE;
            if (value > CLI_MAX_THREADS) {
                fprintf(stderr, "cheval score: --threads takes at most %d, not %ld\n", CLI_MAX_THREADS, value);
                return CHV_EXIT_USAGE;
            }
            opts.threads = (int)value;
            break;
        case 'b':
            if (cli_parse_bos("score", optarg, &opts.add_bos) != 0)
                return CHV_EXIT_USAGE;
            break;
        case 'l':
            if (cli_parse_positive("score", "--max-length", optarg, &value) != 0)
                return CHV_EXIT_USAGE;
            opts.max_length = value;
            break;
        case 'd':
            opts.rolling_double_bos = 1;
            break;
        case 'q':
            chv_log_set_level(CHV_LOG_WARN);
            break;
        case 'v':
            chv_log_set_level(CHV_LOG_DEBUG);
            break;
        case 'h':
            fputs(usage, stdout);
            return CHV_EXIT_OK;
        default:
            fputs(usage, stderr);
            return CHV_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cheval score: unexpected argument '%s'\n", argv[optind]);
        return CHV_EXIT_USAGE;
    }
    if (model_dir == NULL) {
        fprintf(stderr, "cheval score: --model DIR is required\n\n%s", usage);
        return CHV_EXIT_USAGE;
    }

    chv_error err;
    chv_model *model = chv_model_load(model_dir, &err);
    if (model == NULL) {
        fprintf(stderr, "cheval score: %s\n", err.message);
        return CHV_EXIT_FAILURE;
    }
    chv_tokenizer *tok = chv_tokenizer_load(model_dir, &err);
    if (tok == NULL) {
        fprintf(stderr, "cheval score: %s\n", err.message);
        chv_model_free(model);
        return CHV_EXIT_FAILURE;
    }
    chv_scorer *scorer = chv_scorer_new(model, tok, &opts, &err);
    if (scorer == NULL) {
        fprintf(stderr, "cheval score: %s\n", err.message);
        chv_tokenizer_free(tok);
        chv_model_free(model);
        return CHV_EXIT_FAILURE;
    }

    input_line *lines = NULL;
    size_t n = 0;
    int status = CHV_EXIT_FAILURE;
    if (read_requests(&lines, &n) == 0)
        status = score_lines(scorer, lines, n);
    free_requests(lines, n);

    chv_scorer_free(scorer);
    chv_tokenizer_free(tok);
    chv_model_free(model);
    return status;
}
