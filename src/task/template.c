#include "task/template.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task/strbuf.h"

static int is_index(const char *s) {
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return 0;
    }
    return 1;
}

/* Follows path (dot-separated, already split at `seg`) from value. */
static cJSON *follow(const cJSON *value, char *seg) {
    if (seg == NULL)
        return cJSON_Duplicate(value, 1);

    char *dot = strchr(seg, '.');
    char *rest = NULL;
    if (dot != NULL) {
        *dot = '\0';
        rest = dot + 1;
    }

    cJSON *out = NULL;
    if (cJSON_IsObject(value)) {
        const cJSON *child = cJSON_GetObjectItemCaseSensitive(value, seg);
        if (child != NULL)
            out = follow(child, rest);
    } else if (cJSON_IsArray(value) && is_index(seg)) {
        const cJSON *child = cJSON_GetArrayItem(value, atoi(seg));
        if (child != NULL)
            out = follow(child, rest);
    } else if (cJSON_IsArray(value)) {
        /* Map the rest of the path, this segment included, over the elements. */
        if (dot != NULL)
            *dot = '.';
        out = cJSON_CreateArray();
        const cJSON *element;
        cJSON_ArrayForEach(element, value) {
            char *copy = strdup(seg);
            cJSON *mapped = copy ? follow(element, copy) : NULL;
            free(copy);
            if (mapped == NULL) {
                cJSON_Delete(out);
                return NULL;
            }
            cJSON_AddItemToArray(out, mapped);
        }
        return out;
    }

    if (dot != NULL)
        *dot = '.';
    return out;
}

cJSON *chv_template_lookup(const cJSON *record, const char *path) {
    char *copy = strdup(path);
    if (copy == NULL)
        return NULL;
    cJSON *out = follow(record, copy);
    free(copy);
    return out;
}

char *chv_json_scalar_text(const cJSON *value) {
    if (cJSON_IsString(value))
        return strdup(value->valuestring);
    if (cJSON_IsBool(value))
        return strdup(cJSON_IsTrue(value) ? "true" : "false");
    if (cJSON_IsNumber(value)) {
        char buf[64];
        double x = value->valuedouble;
        if (x == floor(x) && fabs(x) < 9007199254740992.0)
            snprintf(buf, sizeof buf, "%.0f", x);
        else
            snprintf(buf, sizeof buf, "%.17g", x);
        return strdup(buf);
    }
    return NULL;
}

int chv_template_check(const char *tmpl, chv_error *err) {
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] == '{') {
            p++;
        } else if (p[0] == '}' && p[1] == '}') {
            p++;
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close == NULL || close == p + 1)
                return chv_error_set(err, "template \"%s\": unclosed or empty placeholder", tmpl);
            p = close;
        } else if (*p == '}') {
            return chv_error_set(err, "template \"%s\": unmatched '}' (write '}}' for a brace)",
                                 tmpl);
        }
    }
    return 0;
}

char *chv_template_render(const char *tmpl, const cJSON *record, const char *where,
                          chv_error *err) {
    chv_strbuf out = {0};
    chv_strbuf_append(&out, "", 0);

    for (const char *p = tmpl; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            chv_strbuf_putc(&out, *p);
            p++;
            continue;
        }
        if (*p != '{') {
            chv_strbuf_putc(&out, *p);
            continue;
        }

        const char *close = strchr(p, '}');
        if (close == NULL) {
            chv_strbuf_free(&out);
            chv_error_set(err, "%s: template \"%s\" has an unclosed placeholder", where, tmpl);
            return NULL;
        }
        char path[256];
        size_t len = (size_t)(close - p - 1);
        if (len == 0 || len >= sizeof path) {
            chv_strbuf_free(&out);
            chv_error_set(err, "%s: template \"%s\" has an invalid placeholder", where, tmpl);
            return NULL;
        }
        memcpy(path, p + 1, len);
        path[len] = '\0';

        cJSON *value = chv_template_lookup(record, path);
        char *text = value ? chv_json_scalar_text(value) : NULL;
        if (text == NULL) {
            chv_error_set(err, "%s: field \"%s\" is %s", where, path,
                          value == NULL ? "missing" : "not a string, number or boolean");
            cJSON_Delete(value);
            chv_strbuf_free(&out);
            return NULL;
        }
        chv_strbuf_puts(&out, text);
        free(text);
        cJSON_Delete(value);
        p = close;
    }

    char *s = chv_strbuf_take(&out);
    if (s == NULL)
        chv_error_set(err, "%s: out of memory rendering a template", where);
    return s;
}

void chv_string_list_free(char **items, size_t n) {
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* Returns the path when tmpl is exactly "{path}", else NULL. */
static char *sole_placeholder(const char *tmpl) {
    size_t len = strlen(tmpl);
    if (len < 3 || tmpl[0] != '{' || tmpl[1] == '{' || tmpl[len - 1] != '}')
        return NULL;
    if (memchr(tmpl + 1, '{', len - 2) != NULL || memchr(tmpl + 1, '}', len - 2) != NULL)
        return NULL;
    return strndup(tmpl + 1, len - 2);
}

int chv_template_render_list(const cJSON *tmpl, const cJSON *record, const char *where,
                             char ***items, size_t *n, chv_error *err) {
    *items = NULL;
    *n = 0;

    if (cJSON_IsArray(tmpl)) {
        size_t count = (size_t)cJSON_GetArraySize(tmpl);
        char **out = calloc(count ? count : 1, sizeof *out);
        if (out == NULL)
            return chv_error_set(err, "%s: out of memory", where);
        size_t i = 0;
        const cJSON *element;
        cJSON_ArrayForEach(element, tmpl) {
            out[i] = chv_template_render(element->valuestring, record, where, err);
            if (out[i] == NULL) {
                chv_string_list_free(out, i);
                return -1;
            }
            i++;
        }
        *items = out;
        *n = count;
        return 0;
    }

    char *path = cJSON_IsString(tmpl) ? sole_placeholder(tmpl->valuestring) : NULL;
    if (path == NULL)
        return chv_error_set(err, "%s: a list template must be \"{field}\" or an array", where);

    cJSON *value = chv_template_lookup(record, path);
    if (!cJSON_IsArray(value)) {
        chv_error_set(err, "%s: field \"%s\" is %s", where, path,
                      value == NULL ? "missing" : "not a list");
        cJSON_Delete(value);
        free(path);
        return -1;
    }

    size_t count = (size_t)cJSON_GetArraySize(value);
    char **out = calloc(count ? count : 1, sizeof *out);
    if (out == NULL) {
        cJSON_Delete(value);
        free(path);
        return chv_error_set(err, "%s: out of memory", where);
    }
    size_t i = 0;
    const cJSON *element;
    cJSON_ArrayForEach(element, value) {
        out[i] = chv_json_scalar_text(element);
        if (out[i] == NULL) {
            chv_error_set(err, "%s: field \"%s\" item %zu is not a string, number or boolean",
                          where, path, i);
            chv_string_list_free(out, i);
            cJSON_Delete(value);
            free(path);
            return -1;
        }
        i++;
    }
    cJSON_Delete(value);
    free(path);
    *items = out;
    *n = count;
    return 0;
}
