/* Tasks: benchmark definitions, their documents and the requests built
 * from them.
 *
 * A task is described by a declarative spec (a JSON file, see
 * tasks/README.md) compiled into a chv_task_spec. A spec may name a C hook
 * (tasks/<name>.c) for preprocessing that templates cannot express. A spec
 * with "subtasks" expands into one task per subtask plus a group (BLiMP).
 *
 * Loading a task's file yields one chv_doc per document. Each
 * multiple-choice document carries one (context, continuation) request per
 * choice, exactly as lm-evaluation-harness builds them, and the gold index.
 * Each rolling document (WikiText) carries the original page, the text to
 * score, and its word and byte counts.
 */
#ifndef CHEVAL_TASK_TASK_H
#define CHEVAL_TASK_TASK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/error.h"

typedef enum { CHV_OUTPUT_MULTIPLE_CHOICE = 0, CHV_OUTPUT_ROLLING } chv_output_type;

typedef enum {
    CHV_GOLD_NONE = 0,
    CHV_GOLD_VALUE,    /* "gold": "{label}": an index, or a string found in the choices */
    CHV_GOLD_INDEX_OF, /* "gold": {"index_of": "{answerKey}", "in": "{choices.label}"} */
    CHV_GOLD_MAP       /* "gold": {"map": {"1": 0, "2": 1}, "of": "{answer}"} */
} chv_gold_kind;

/* A compiled task spec. Strings are owned by the spec. */
typedef struct chv_task_spec {
    char *name;    /* task name, or the group name when subtasks is set */
    char *version; /* reported in "versions" */
    char *file;    /* data file relative to the data folder; "{subtask}" is substituted */
    char **alt_files; /* tried in order when file is missing */
    size_t n_alt_files;
    chv_output_type output_type;

    char *context;          /* template; NULL when a hook builds the context */
    cJSON *choices;         /* a template string, or an array of templates; may be NULL */
    char *target_delimiter; /* put before each choice; lm-eval's default is " " */
    chv_gold_kind gold_kind;
    char *gold_of;   /* template of the gold value */
    char *gold_in;   /* CHV_GOLD_INDEX_OF: template of the label list */
    int gold_lstrip; /* CHV_GOLD_INDEX_OF: left-strip the value first */
    cJSON *gold_map; /* CHV_GOLD_MAP: object from value to index */

    int report_acc_norm; /* "metrics" lists acc_norm */
    char *hook;          /* C hook name, or NULL */

    char **subtasks; /* subtask ids; each becomes task "<subtask_prefix><id>" */
    size_t n_subtasks;
    char *subtask_prefix;
    char *subtask_version;

    char *source; /* where the spec came from, for messages */
    int builtin;  /* compiled into cheval */
} chv_task_spec;

typedef struct chv_task_def chv_task_def;
typedef struct chv_doc chv_doc;
typedef struct chv_doc_list chv_doc_list;

/* Code for what a spec cannot express. Either function may be NULL. */
typedef struct chv_task_hooks {
    const char *name;
    /* Reads the whole file at path into docs, replacing the JSON Lines
     * reader (HellaSwag's text format, PIQA's labels file, WikiText's
     * pages). When keep_records is set, doc->record is filled too. */
    int (*load)(const chv_task_def *task, const char *path, int keep_records, chv_doc_list *docs,
                chv_error *err);
    /* Completes one document after the spec's templates ran and before the
     * gold is resolved. where is "file:line" for messages. */
    int (*build)(const chv_task_def *task, const cJSON *record, chv_doc *doc, const char *where,
                 chv_error *err);
} chv_task_hooks;

/* One runnable task: a spec, or one subtask of a group spec. */
struct chv_task_def {
    char *name;  /* "arc_easy", "blimp_adjunct_island" */
    char *file;  /* default data file, relative to the data folder */
    char *group; /* "blimp" for a subtask, else NULL */
    char *version;
    const chv_task_spec *spec;
    const chv_task_hooks *hooks; /* NULL when the spec names no hook */
};

/* One document and its requests. */
struct chv_doc {
    long doc_id; /* 0-based position in the file */
    long line;   /* 1-based line where the document starts */
    cJSON *record; /* the document for the sample log, or NULL */

    /* Multiple choice: n_choices requests, one per choice. choices[] are the
     * strings lm-eval's doc_to_choice returns, which acc_norm and acc_bytes
     * measure (for WinoGrande these are the per-option contexts). */
    size_t n_choices;
    char **choices;
    char **contexts;
    char **continuations;
    int gold;

    /* Rolling. */
    char *page; /* original text: words and bytes are counted here */
    char *text; /* the text scored (detokenized) */
    long words;
    long bytes;
};

struct chv_doc_list {
    chv_doc *docs;
    size_t n;
    size_t cap;
};

/* Appends a zeroed document and returns it, or NULL when out of memory. */
chv_doc *chv_doc_list_add(chv_doc_list *list);
void chv_doc_list_free(chv_doc_list *list);
void chv_doc_free(chv_doc *doc);

/* Allocates doc->choices, contexts and continuations for n choices (all
 * NULL). Returns 0, or -1 with err filled. */
int chv_doc_alloc_choices(chv_doc *doc, size_t n, chv_error *err);

/* Sets every request of doc to (context, target_delimiter + choice), the
 * way lm-eval pairs a shared context with each choice. */
int chv_doc_pair_choices(chv_doc *doc, const char *context, const char *target_delimiter,
                         chv_error *err);

/* Builds one multiple-choice document from a JSON record: the spec's
 * templates, then the hook's build function, then the gold. where is
 * "file:line". Returns 0, or -1 with err naming where and the field. */
int chv_task_build_doc(const chv_task_def *task, const cJSON *record, chv_doc *doc, const char *where,
                       chv_error *err);

/* Resolves the gold of a built document from the spec. Returns 0, or -1
 * with err filled when the gold is missing or out of range. */
int chv_task_resolve_gold(const chv_task_def *task, const cJSON *record, chv_doc *doc,
                          const char *where, chv_error *err);

/* Finds the data file of task: override when given (else
 * data_dir/task->file, then the spec's alternatives), each also tried with
 * ".gz" appended. Returns a newly allocated path, or NULL with err saying
 * which path was expected and how to get the file. */
char *chv_task_find_file(const chv_task_def *task, const char *data_dir, const char *override,
                         chv_error *err);

/* The file that marks a data folder as the bundled sample documents
 * (data/samples/SAMPLES.md). Those documents were written for the project,
 * so their scores do not measure a model. */
#define CHV_SAMPLES_MARKER "SAMPLES.md"

/* Returns 1 when data_dir contains CHV_SAMPLES_MARKER, else 0. */
int chv_data_dir_is_samples(const char *data_dir);

/* Reads every document of the file at path. Returns 0, or -1 with err
 * naming file:line and the field at fault. */
int chv_task_load(const chv_task_def *task, const char *path, int keep_records, chv_doc_list *docs,
                  chv_error *err);

/* Reads the generic way: one JSON record per line through
 * chv_task_build_doc. Hooks call it after their own setup. */
int chv_task_load_jsonl(const chv_task_def *task, const char *path, int keep_records,
                        chv_doc_list *docs, chv_error *err);

/* Called on each record (index counts records from 0) before it is built,
 * so a hook can add fields such as a label read from another file. */
typedef int (*chv_record_fn)(void *user, cJSON *record, size_t index, const char *where,
                             chv_error *err);

/* chv_task_load_jsonl with a record callback (may be NULL). */
int chv_task_load_jsonl_with(const chv_task_def *task, const char *path, int keep_records,
                             chv_doc_list *docs, chv_record_fn prepare, void *user,
                             chv_error *err);

/* Looks up a C hook by name; NULL when unknown. */
const chv_task_hooks *chv_task_hooks_find(const char *name);

#endif
