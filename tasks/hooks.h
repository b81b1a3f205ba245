/* C hooks of the built-in tasks: the preprocessing that a spec template
 * cannot express. Each hook is registered by name in tasks/hooks.c and
 * selected by a spec's "hook" field. The helpers below are exposed for the
 * tests. */
#ifndef CHEVAL_TASKS_HOOKS_H
#define CHEVAL_TASKS_HOOKS_H

#include <stddef.h>

#include "task/task.h"

extern const chv_task_hooks chv_hooks_hellaswag;
extern const chv_task_hooks chv_hooks_winogrande;
extern const chv_task_hooks chv_hooks_piqa;
extern const chv_task_hooks chv_hooks_wikitext;

/* lm-eval's HellaSwag preprocess(): strip, " [title]" to ". ", drop every
 * shortest "[...]" span within a line, then "  " to " " in one pass.
 * Returns a new string, or NULL when out of memory. */
char *chv_hellaswag_preprocess(const char *text);

/* lm-eval's wikitext_detokenizer(), rule by rule. Returns a new string. */
char *chv_wikitext_detokenize(const char *page);

/* Splits a raw WikiText file into document-level pages the way the
 * EleutherAI/wikitext_document_level dataset does: a new page starts at
 * each level-1 heading line (" = Title = "), pages keep their lines joined
 * by "\n", and a page that is only whitespace is dropped (except the
 * last). Stores a new array of new strings. Returns 0, or -1 when out of
 * memory. */
int chv_wikitext_split_pages(const char *raw, char ***pages, size_t *n_pages);

#endif
