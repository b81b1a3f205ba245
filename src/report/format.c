#include "report/format.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

const char *chv_fmt4(char *buf, size_t size, double value) {
    if (isnan(value))
        snprintf(buf, size, "N/A");
    else
        snprintf(buf, size, "%.4f", value);
    return buf;
}

const char *chv_fmt_signed4(char *buf, size_t size, double value) {
    if (isnan(value))
        snprintf(buf, size, "N/A");
    else
        snprintf(buf, size, "%+.4f", value);
    return buf;
}

void chv_md_cell(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

void chv_html_text(FILE *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

void chv_csv_field(FILE *out, const char *s) {
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

struct chv_md_table {
    size_t columns;
    char *aligns;
    char **cells; /* rows * columns, row 0 is the header */
    size_t rows;
};

static int table_push(chv_md_table *table, const char *const *cells) {
    char **grown = realloc(table->cells, (table->rows + 1) * table->columns * sizeof *grown);
    if (grown == NULL)
        return -1;
    table->cells = grown;
    for (size_t c = 0; c < table->columns; c++) {
        char *cell = strdup(cells[c] ? cells[c] : "");
        if (cell == NULL)
            return -1;
        /* Escape now so that widths count the escaped text. */
        size_t pipes = 0;
        for (const char *p = cell; *p; p++)
            pipes += *p == '|';
        if (pipes > 0 || strpbrk(cell, "\r\n") != NULL) {
            char *escaped = malloc(strlen(cell) + pipes + 1), *w = escaped;
            if (escaped == NULL) {
                free(cell);
                return -1;
            }
            for (const char *p = cell; *p; p++) {
                if (*p == '|')
                    *w++ = '\\';
                *w++ = (*p == '\n' || *p == '\r') ? ' ' : *p;
            }
            *w = '\0';
            free(cell);
            cell = escaped;
        }
        grown[table->rows * table->columns + c] = cell;
    }
    table->rows++;
    return 0;
}

chv_md_table *chv_md_table_new(const char *const *headers, const char *aligns, size_t columns) {
    chv_md_table *table = calloc(1, sizeof *table);
    if (table == NULL)
        return NULL;
    table->columns = columns;
    table->aligns = strdup(aligns);
    if (table->aligns == NULL || table_push(table, headers) < 0) {
        free(table->aligns);
        free(table);
        return NULL;
    }
    return table;
}

int chv_md_table_add(chv_md_table *table, const char *const *cells) {
    return table_push(table, cells);
}

static size_t display_width(const char *s) { return chv_utf8_codepoints(s, strlen(s)); }

static void write_padded(FILE *out, const char *s, size_t width, char align) {
    size_t len = display_width(s);
    size_t pad = width > len ? width - len : 0;
    size_t left = align == 'r' ? pad : align == 'c' ? pad / 2 : 0;
    fprintf(out, "%*s%s%*s", (int)left, "", s, (int)(pad - left), "");
}

void chv_md_table_write(chv_md_table *table, FILE *out) {
    size_t *widths = calloc(table->columns, sizeof *widths);
    if (widths == NULL)
        return;
    for (size_t r = 0; r < table->rows; r++) {
        for (size_t c = 0; c < table->columns; c++) {
            size_t w = display_width(table->cells[r * table->columns + c]);
            if (w > widths[c])
                widths[c] = w;
        }
    }
    for (size_t c = 0; c < table->columns; c++)
        if (widths[c] < 3)
            widths[c] = 3;

    for (size_t r = 0; r < table->rows; r++) {
        fputc('|', out);
        for (size_t c = 0; c < table->columns; c++) {
            write_padded(out, table->cells[r * table->columns + c], widths[c],
                         r == 0 ? 'c' : table->aligns[c]);
            fputc('|', out);
        }
        fputc('\n', out);

        if (r == 0) {
            fputc('|', out);
            for (size_t c = 0; c < table->columns; c++) {
                for (size_t i = 0; i + 1 < widths[c]; i++)
                    fputc('-', out);
                fputc(table->aligns[c] == 'r' ? ':' : '-', out);
                fputc('|', out);
            }
            fputc('\n', out);
        }
    }

    for (size_t i = 0; i < table->rows * table->columns; i++)
        free(table->cells[i]);
    free(table->cells);
    free(table->aligns);
    free(table);
    free(widths);
}

int chv_json_write(FILE *out, cJSON *root) {
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL)
        return -1;

    fputs(text, out);
    fputc('\n', out);
    free(text);
    return ferror(out) ? -1 : 0;
}
