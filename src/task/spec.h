/* Task spec files: JSON to chv_task_spec.
 *
 * A spec is one JSON object (tasks/README.md documents every field):
 *   {"task": "arc_easy", "version": "1.0", "file": "arc/ARC-Easy-Test.jsonl",
 *    "context": "Question: {question.stem}\nAnswer:",
 *    "choices": "{question.choices.text}",
 *    "gold": {"index_of": "{answerKey}", "in": "{question.choices.label}"},
 *    "target_delimiter": " ", "metrics": ["acc", "acc_norm"]}
 */
#ifndef CHEVAL_TASK_SPEC_H
#define CHEVAL_TASK_SPEC_H

#include "task/task.h"

/* Parses spec text. source names it in messages (a path, or "built-in
 * arc_easy.json"). Returns a new spec, or NULL with err naming the source
 * and the field at fault. */
chv_task_spec *chv_task_spec_parse(const char *text, const char *source, chv_error *err);

void chv_task_spec_free(chv_task_spec *spec);

#endif
