/* Formatting helpers shared by the report writers. */
#ifndef CHEVAL_REPORT_FORMAT_H
#define CHEVAL_REPORT_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Formats value with 4 decimals into buf, or "N/A" when it is NaN.
 * Returns buf. */
const char *chv_fmt4(char *buf, size_t size, double value);

/* Formats a signed value with 4 decimals ("+0.0123", "-0.0040"), or "N/A". */
const char *chv_fmt_signed4(char *buf, size_t size, double value);

/* Writes s as one Markdown table cell: '|' escaped, line breaks as spaces. */
void chv_md_cell(FILE *out, const char *s);

/* Writes s with &, <, >, " and ' escaped for HTML text and attributes. */
void chv_html_text(FILE *out, const char *s);

/* Writes s as one CSV field (RFC 4180: quoted when it contains a comma,
 * quote or line break). */
void chv_csv_field(FILE *out, const char *s);

/* Writes root as indented JSON and a newline to out, then deletes root.
 * Returns 0, or -1 when out of memory or on a write error. */
int chv_json_write(FILE *out, cJSON *root);

/* A Markdown table padded to column widths, like lm-eval's console table. */
typedef struct chv_md_table chv_md_table;

/* aligns holds one character per column: 'l' or 'r'. */
chv_md_table *chv_md_table_new(const char *const *headers, const char *aligns, size_t columns);

/* Appends a row of `columns` cells (NULL for an empty cell). Returns -1
 * when memory runs out. */
int chv_md_table_add(chv_md_table *table, const char *const *cells);

/* Writes the table and frees it. */
void chv_md_table_write(chv_md_table *table, FILE *out);

#endif
