/* cheval run: evaluate a model on benchmarks and write results. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "model/model.h"
#include "report/report.h"
#include "score/scorer.h"
#include "task/registry.h"
#include "task/results.h"
#include "task/runner.h"
#include "tokenizer/tokenizer.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/progress.h"

static void print_usage(FILE *out) {
    fprintf(out,
            "usage: cheval run --model DIR --tasks LIST [OPTIONS]\n"
            "\n"
            "Evaluates a model zero-shot the way lm-evaluation-harness does and writes\n"
            "results.json, results.md, report.md, report.html and results.csv (and, with\n"
            "--log-samples, one samples_<task>.jsonl per task) to the output folder. The\n"
            "results table is also printed on stdout.\n"
            "\n"
            "options:\n"
            "  --model DIR          Hugging Face checkpoint folder (config.json, safetensors,\n"
            "                       tokenizer.json)\n"
            "  --tasks LIST         comma-separated task names, groups (blimp) and presets\n"
            "                       (card and its synonym all: every built-in task)\n"
            "  --data-dir DIR       folder holding the benchmark files (default: data, where\n"
            "                       scripts/fetch-data.sh puts them; data/samples holds the\n"
            "                       bundled sample documents, which are not the benchmarks)\n"
            "  --task-file T=PATH   read task T from PATH instead of its default file\n"
            "                       (repeatable)\n"
            "  --task-spec FILE     add the task described by a JSON spec file (repeatable)\n"
            "  --tasks-dir DIR      add every .json task spec in DIR\n"
            "  --list-tasks         print every task name and its default file, then exit\n"
            "  --limit N            evaluate the first N documents of each task\n"
            "  --seed S --sample N  evaluate a random subset of N documents per task, the\n"
            "                       same on every machine for a given seed\n"
            "  --output-dir DIR     output folder (default: reports/<model folder name>)\n"
            "  --log-samples        write one samples_<task>.jsonl per task\n"
            "  --threads N          threads for the forward pass, 1 to 1024 (default: all\n"
            "                       cores)\n"
            "  --add-bos RULE       auto (the tokenizer decides), yes or no (default: auto)\n"
            "  --max-length N       maximum tokens per forward pass (default: the model's\n"
            "                       max_position_embeddings, else the tokenizer's\n"
            "                       model_max_length, else 2048)\n"
            "  --wikitext-double-bos  put BOS twice before each WikiText page, as\n"
            "                       lm-evaluation-harness does for tokenizers that add BOS\n"
            "  -q, --quiet          no progress or log lines\n"
            "  -v, --verbose        debug log lines\n"
            "  -h, --help           print this help\n"
            "\n"
            "environment:\n"
            "  CHEVAL_GEMM=openblas  multiply with OpenBLAS instead of cheval's packed\n"
            "                       kernel (log-probs then differ in the last bits)\n"
            "\n"
            "When a task fails, the tasks that finished are still written, results.json\n"
            "lists the failed ones under \"failed\", and the exit status is 1.\n"
            "\n"
            "Exit status: 0 on success, 1 when the evaluation fails, 2 for a usage error.\n");
}


typedef struct run_args {
    const char *model;
    const char *tasks;
    const char *data_dir;
    const char *output_dir;
    const char *tasks_dir;
    chv_task_file *task_files;
    size_t n_task_files;
    const char **specs;
    size_t n_specs;
    long limit;
    long sample;
    int have_seed;
    unsigned long long seed;
    int log_samples;
    int threads;
    chv_bos_rule add_bos;
    long max_length;
    int double_bos;
    int list_tasks;
} run_args;

static int parse_long(const char *option, const char *text, long min, long *out) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min) {
        fprintf(stderr, "cheval run: %s takes an integer >= %ld, not '%s'\n", option, min, text);
        return -1;
    }
    *out = value;
    return 0;
}

static int add_task_file(run_args *a, char *arg) {
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || eq[1] == '\0') {
        fprintf(stderr, "cheval run: --task-file takes TASK=PATH, not '%s'\n", arg);
        return -1;
    }
    *eq = '\0';
    chv_task_file *grown = realloc(a->task_files, (a->n_task_files + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    a->task_files = grown;
    a->task_files[a->n_task_files].task = arg;
    a->task_files[a->n_task_files].path = eq + 1;
    a->n_task_files++;
    return 0;
}

/* Parses argv into a. Returns 0, 1 when --help was printed, or -1 on a
 * usage error (already reported). */
static int parse_args(int argc, char **argv, run_args *a) {
    enum { OPT_DATA = 1000, OPT_TASK_FILE, OPT_TASK_SPEC, OPT_TASKS_DIR, OPT_LIST, OPT_LIMIT,
           OPT_SEED, OPT_SAMPLE, OPT_OUTPUT, OPT_LOG, OPT_THREADS, OPT_BOS, OPT_MAXLEN,
           OPT_DOUBLE_BOS };
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},
        {"tasks", required_argument, NULL, 't'},
        {"data-dir", required_argument, NULL, OPT_DATA},
        {"task-file", required_argument, NULL, OPT_TASK_FILE},
        {"task-spec", required_argument, NULL, OPT_TASK_SPEC},
        {"tasks-dir", required_argument, NULL, OPT_TASKS_DIR},
        {"list-tasks", no_argument, NULL, OPT_LIST},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"output-dir", required_argument, NULL, OPT_OUTPUT},
        {"log-samples", no_argument, NULL, OPT_LOG},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"add-bos", required_argument, NULL, OPT_BOS},
        {"max-length", required_argument, NULL, OPT_MAXLEN},
        {"wikitext-double-bos", no_argument, NULL, OPT_DOUBLE_BOS},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    a->data_dir = "data";
    optind = 1;
    opterr = 0;
    int c;
    long value;
    while ((c = getopt_long(argc, argv, ":m:t:qvh", options, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 't': a->tasks = optarg; break;
        case OPT_DATA: a->data_dir = optarg; break;
        case OPT_TASK_FILE:
            if (add_task_file(a, optarg) != 0)
                return -1;
            break;
        case OPT_TASK_SPEC: {
            const char **grown = realloc(a->specs, (a->n_specs + 1) * sizeof *grown);
            if (grown == NULL)
                return -1;
            a->specs = grown;
            a->specs[a->n_specs++] = optarg;
            break;
        }
        case OPT_TASKS_DIR: a->tasks_dir = optarg; break;
        case OPT_LIST: a->list_tasks = 1; break;
        case OPT_LIMIT:
            if (parse_long("--limit", optarg, 1, &a->limit) != 0)
                return -1;
            break;
        case OPT_SEED: {
            char *end = NULL;
            errno = 0;
            a->seed = strtoull(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-') {
                fprintf(stderr, "cheval run: --seed takes a non-negative integer, not '%s'\n",
                        optarg);
                return -1;
            }
            a->have_seed = 1;
            break;
        }
        case OPT_SAMPLE:
            if (parse_long("--sample", optarg, 1, &a->sample) != 0)
                return -1;
            break;
        case OPT_OUTPUT: a->output_dir = optarg; break;
        case OPT_LOG: a->log_samples = 1; break;
        case OPT_THREADS:
            if (parse_long("--threads", optarg, 1, &value) != 0)
                return -1;
            if (value > CLI_MAX_THREADS) {
                fprintf(stderr, "cheval run: --threads takes at most %d, not %ld\n", CLI_MAX_THREADS,
                        value);
                return -1;
            }
            a->threads = (int)value;
            break;
        case OPT_BOS:
            if (strcmp(optarg, "auto") == 0)
                a->add_bos = CHV_BOS_AUTO;
            else if (strcmp(optarg, "yes") == 0)
                a->add_bos = CHV_BOS_YES;
            else if (strcmp(optarg, "no") == 0)
                a->add_bos = CHV_BOS_NO;
            else {
                fprintf(stderr, "cheval run: --add-bos takes auto, yes or no, not '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_MAXLEN:
            if (parse_long("--max-length", optarg, 2, &a->max_length) != 0)
                return -1;
            break;
        case OPT_DOUBLE_BOS: a->double_bos = 1; break;
        case 'q': chv_log_set_level(CHV_LOG_WARN); break;
        case 'v': chv_log_set_level(CHV_LOG_DEBUG); break;
        case 'h': print_usage(stdout); return 1;
        case ':':
            fprintf(stderr, "cheval run: option '%s' needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "cheval run: unknown option '%s'\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cheval run: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }

    if (a->list_tasks)
        return 0;
    if (a->model == NULL || a->tasks == NULL) {
        fprintf(stderr, "cheval run: --model and --tasks are required (see cheval run --help)\n");
        return -1;
    }
    if (a->sample > 0 && !a->have_seed) {
        fprintf(stderr, "cheval run: --sample needs --seed, so the subset can be reproduced\n");
        return -1;
    }
    if (a->have_seed && a->sample == 0) {
        fprintf(stderr, "cheval run: --seed only applies with --sample N\n");
        return -1;
    }
    if (a->sample > 0 && a->limit > 0) {
        fprintf(stderr, "cheval run: use either --limit or --seed/--sample, not both\n");
        return -1;
    }
    return 0;
}

static chv_registry *build_registry(const run_args *a, chv_error *err) {
    chv_registry *reg = chv_registry_new(err);
    if (reg == NULL)
        return NULL;
    if (a->tasks_dir != NULL && chv_registry_add_dir(reg, a->tasks_dir, err) != 0) {
        chv_registry_free(reg);
        return NULL;
    }
    for (size_t i = 0; i < a->n_specs; i++) {
        if (chv_registry_add_spec_file(reg, a->specs[i], err) != 0) {
            chv_registry_free(reg);
            return NULL;
        }
    }
    return reg;
}

static void list_tasks(const chv_registry *reg) {
    for (size_t i = 0; i < chv_registry_count(reg); i++) {
        const chv_task_def *task = chv_registry_task(reg, i);
        printf("%-58s %s\n", task->name, task->file);
    }
    printf("\n%-58s %s\n", "blimp", "group: every blimp_* task above");
    printf("%-58s %s\n", "card, all", "presets: every task above");
}

/* The model folder's name, without trailing slashes. */
static char *model_folder_name(const char *model) {
    char *copy = strdup(model);
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    const char *slash = strrchr(copy, '/');
    char *name = strdup(slash ? slash + 1 : copy);
    free(copy);
    return name;
}

/* ---- scorer backend ------------------------------------------------------ */

static int backend_loglikelihood(void *ctx, const chv_ll_request *requests, size_t n,
                                 chv_ll_result *results, chv_progress_fn progress, void *user,
                                 chv_error *err) {
    return chv_scorer_loglikelihood(ctx, requests, n, results, progress, user, err);
}

static int backend_rolling(void *ctx, const char *const *texts, size_t n,
                           chv_rolling_result *results, chv_progress_fn progress, void *user,
                           chv_error *err) {
    return chv_scorer_rolling(ctx, texts, n, results, progress, user, err);
}

static const char *task_file_override(const run_args *a, const char *name) {
    const char *override = NULL;
    for (size_t j = 0; j < a->n_task_files; j++) {
        if (strcmp(a->task_files[j].task, name) == 0)
            override = a->task_files[j].path;
    }
    return override;
}

/* Returns 1 when name is one of the comma-separated entries of list. */
static int listed_by_name(const char *list, const char *name) {
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && last[-1] == ' ')
            last--;
        if ((size_t)(last - p) == len && strncmp(p, name, len) == 0)
            return 1;
        p = end;
    }
    return 0;
}

/* Checks every task's data file before the model is loaded, and keeps in
 * tasks[0..*n) the tasks to run. A subtask selected through its group or a
 * preset (not by its own name) is dropped with a warning when its file is
 * missing, so a folder with only some BLiMP paradigms still runs. The
 * group score is then not reported. Any other missing file is an error. */
static int check_files(const chv_task_def **tasks, size_t *n, const run_args *a, chv_error *err) {
    size_t kept = 0, missing = 0;
    const char *group = NULL;
    chv_error first = {{0}};
    for (size_t i = 0; i < *n; i++) {
        const chv_task_def *task = tasks[i];
        char *path = chv_task_find_file(task, a->data_dir, task_file_override(a, task->name), err);
        if (path != NULL) {
            free(path);
            tasks[kept++] = task;
            continue;
        }
        if (task->group == NULL || listed_by_name(a->tasks, task->name))
            return -1;
        if (missing++ == 0)
            first = *err;
        group = task->group;
    }

    if (missing > 0 && kept == 0)
        return chv_error_set(err, "%s", first.message);
    if (missing > 0) {
        chv_log_warn("%zu selected subtasks of %s have no data file under %s, so they are skipped "
                     "and the %s group score is not reported; the first: %s",
                     missing, group, a->data_dir, group, first.message);
    }
    *n = kept;
    return 0;
}

/* Returns 1 when some task reads its file from a data folder that contains
 * the bundled samples (see CHV_SAMPLES_MARKER), not from --task-file. */
static int uses_sample_data(const run_args *a, const chv_task_def *const *tasks, size_t n) {
    if (!chv_data_dir_is_samples(a->data_dir))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (task_file_override(a, tasks[i]->name) == NULL)
            return 1;
    }
    return 0;
}

static void iso_date(char *out, size_t n) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int evaluate(const run_args *a, const chv_task_def **tasks, size_t n_tasks) {
    chv_error err;
    double start = chv_now();

    for (size_t i = 0; i < a->n_task_files; i++) {
        int known = 0;
        for (size_t t = 0; t < n_tasks; t++)
            known |= strcmp(tasks[t]->name, a->task_files[i].task) == 0;
        if (!known)
            chv_log_warn("--task-file %s: no selected task has that name", a->task_files[i].task);
    }
    if (check_files(tasks, &n_tasks, a, &err) != 0) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        return CHV_EXIT_FAILURE;
    }

    int sample_data = uses_sample_data(a, tasks, n_tasks);
    if (sample_data)
        chv_log_warn("%s contains the project's sample documents, not the benchmarks: their scores "
                     "say nothing about a model. To evaluate on the official files, run "
                     "scripts/fetch-data.sh and leave out --data-dir", a->data_dir);

    char *name = model_folder_name(a->model);
    char *output_dir = NULL;
    if (a->output_dir != NULL) {
        output_dir = strdup(a->output_dir);
    } else {
        output_dir = malloc(strlen(name) + 16);
        sprintf(output_dir, "reports/%s", name);
    }

    int status = CHV_EXIT_FAILURE;
    chv_model *model = NULL;
    chv_tokenizer *tok = NULL;
    chv_scorer *scorer = NULL;
    chv_run_result run = {0};

    model = chv_model_load(a->model, &err);
    if (model != NULL)
        tok = chv_tokenizer_load(a->model, &err);
    chv_scorer_options options = {.add_bos = a->add_bos,
                                  .max_length = a->max_length,
                                  .threads = a->threads,
                                  .rolling_double_bos = a->double_bos};
    if (tok != NULL)
        scorer = chv_scorer_new(model, tok, &options, &err);
    if (scorer == NULL) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        goto done;
    }
    if (chv_mkdir_p(output_dir, &err) != 0) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        goto done;
    }

    const chv_model_info *info = chv_model_get_info(model);
    chv_log_info("model %s: %s, %lld parameters, %s, max length %ld, %s matrix products", name,
                 info->architecture, (long long)info->n_params, info->dtype, chv_scorer_max_length(scorer),
                 chv_model_matmul(model));

    chv_backend backend = {scorer, backend_loglikelihood, backend_rolling, chv_ll_result_free};
    chv_run_options run_options = {
        .data_dir = a->data_dir,
        .task_files = a->task_files,
        .n_task_files = a->n_task_files,
        .selection = {.limit = a->limit, .sample = a->sample, .seed = a->seed},
        .have_seed = a->have_seed,
        .samples_dir = a->log_samples ? output_dir : NULL,
    };
    /* A failed task is logged and skipped; the finished ones are still
     * written below, and the exit status is 1. */
    if (chv_run_tasks(tasks, n_tasks, &run_options, &backend, &run, &err) != 0 &&
        (run.n_failures == 0 || run.n_tasks == 0)) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        goto done;
    }

    char date[32], bos[32];
    iso_date(date, sizeof date);
    if (a->add_bos == CHV_BOS_AUTO)
        snprintf(bos, sizeof bos, "auto: %s", chv_scorer_adds_bos(scorer) ? "adds BOS" : "no BOS");
    else
        snprintf(bos, sizeof bos, "%s", a->add_bos == CHV_BOS_YES ? "yes" : "no");
    chv_run_config config = {
        .model = a->model,
        .model_name = name,
        .model_num_parameters = (long long)info->n_params,
        .model_dtype = info->dtype,
        .max_length = chv_scorer_max_length(scorer),
        .bos = bos,
        .limit = a->limit,
        .have_seed = a->have_seed,
        .seed = a->seed,
        .sample = a->sample,
        .threads = a->threads > 0 ? a->threads : (int)sysconf(_SC_NPROCESSORS_ONLN),
        .matmul = chv_model_matmul(model),
        .wikitext_double_bos = a->double_bos,
        .sample_data = sample_data,
        .cheval_version = chv_version(),
        .git_hash = chv_git_hash(),
        .date = date,
        .seconds = chv_now() - start,
    };
    if (chv_results_write(&run, &config, output_dir, &err) != 0) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        goto done;
    }

    char *table = chv_results_markdown(&run);
    printf("cheval (model=%s), limit: %s", a->model, a->limit > 0 ? "" : "None");
    if (a->limit > 0)
        printf("%ld", a->limit);
    if (a->sample > 0)
        printf(", sample: %ld, seed: %llu", a->sample, a->seed);
    printf(", num_fewshot: 0, batch_size: auto\n%s", table ? table : "");
    fflush(stdout);
    free(table);

    /* report.md, results.csv and report.html are built from the files just
     * written, never from the model. */
    if (chv_report_write_all(output_dir, NULL, &err) != 0) {
        fprintf(stderr,
                "cheval run: %s/results.json and results.md were written, but the reports "
                "failed: %s\n",
                output_dir, err.message);
        goto done;
    }
    chv_log_info("wrote %s/: results.json, results.md, report.md, report.html, results.csv%s",
                 output_dir, a->log_samples ? " and samples_<task>.jsonl per finished task" : "");

    if (run.n_failures > 0) {
        fprintf(stderr, "cheval run: %zu of %zu tasks failed and are missing from the results "
                "(listed under \"failed\" in results.json):\n", run.n_failures,
                run.n_failures + run.n_tasks);
        for (size_t i = 0; i < run.n_failures; i++)
            fprintf(stderr, "  %s\n", run.failures[i].message);
        goto done;
    }
    status = CHV_EXIT_OK;

done:
    chv_run_result_free(&run);
    chv_scorer_free(scorer);
    chv_tokenizer_free(tok);
    chv_model_free(model);
    free(output_dir);
    free(name);
    return status;
}

int cmd_run(int argc, char **argv) {
    run_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.task_files);
        free(a.specs);
        return rc > 0 ? CHV_EXIT_OK : CHV_EXIT_USAGE;
    }

    chv_error err;
    chv_registry *reg = build_registry(&a, &err);
    if (reg == NULL) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        free(a.task_files);
        free(a.specs);
        return CHV_EXIT_USAGE;
    }

    int status;
    const chv_task_def **tasks = NULL;
    size_t n_tasks = 0;
    if (a.list_tasks) {
        list_tasks(reg);
        status = CHV_EXIT_OK;
    } else if (chv_registry_select(reg, a.tasks, &tasks, &n_tasks, &err) != 0) {
        fprintf(stderr, "cheval run: %s\n", err.message);
        status = CHV_EXIT_USAGE;
    } else {
        status = evaluate(&a, tasks, n_tasks);
    }

    free(tasks);
    chv_registry_free(reg);
    free(a.task_files);
    free(a.specs);
    return status;
}
