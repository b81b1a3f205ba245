/* The template language of task specs.
 *
 * A template is text with placeholders: "Question: {question.stem}\nAnswer:".
 * A placeholder is a dotted path into the JSON record. A path segment that
 * meets an array maps the rest of the path over its elements, so
 * "{question.choices.text}" is the list of every choice's text; a numeric
 * segment indexes an array ("{endings.0}"). "{{" and "}}" stand for literal
 * braces. Scalars render as text: strings as is, integers without a
 * decimal point, true and false as "true" and "false".
 */
#ifndef CHEVAL_TASK_TEMPLATE_H
#define CHEVAL_TASK_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util/error.h"

/* Returns a new cJSON value at path in record (a mapped path returns a new
 * array), or NULL when a segment is missing. The caller deletes it. */
cJSON *chv_template_lookup(const cJSON *record, const char *path);

/* Renders a scalar as text into a new string; NULL for arrays, objects
 * and null. */
char *chv_json_scalar_text(const cJSON *value);

/* Renders template against record. Returns a new string, or NULL with err
 * naming where and the missing or non-scalar field. */
char *chv_template_render(const char *tmpl, const cJSON *record, const char *where,
                          chv_error *err);

/* Renders a list: either a template that is exactly one placeholder whose
 * value is an array (each element rendered as a scalar), or a JSON array of
 * templates. Stores a new array of n new strings in *items. Returns 0, or -1
 * with err filled. */
int chv_template_render_list(const cJSON *tmpl, const cJSON *record, const char *where,
                             char ***items, size_t *n, chv_error *err);

void chv_string_list_free(char **items, size_t n);

/* Checks a template's syntax (balanced braces). Returns 0, or -1 with err
 * filled. */
int chv_template_check(const char *tmpl, chv_error *err);

#endif
