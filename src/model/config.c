#include "model/config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const cJSON *chv_config_get(const cJSON *config, const char *field) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(config, field);
    if (item == NULL || cJSON_IsNull(item))
        return NULL;
    return item;
}

/* Renders a JSON value for a message, truncated to fit buf. */
static void describe(const cJSON *item, char *buf, size_t size) {
    char *text = cJSON_PrintUnformatted(item);
    snprintf(buf, size, "%s", text != NULL ? text : "?");
    cJSON_free(text);
}

int chv_config_int(const cJSON *config, const char *path, const char *field, int required, long fallback, long min,
                   long max, long *out, chv_error *err) {
    const cJSON *item = chv_config_get(config, field);
    if (item == NULL) {
        if (required)
            return chv_error_set(err, "%s: required field \"%s\" is missing", path, field);
        *out = fallback;
        return 0;
    }

    double value = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!(value >= (double)min && value <= (double)max) || value != floor(value)) {
        char found[64];
        describe(item, found, sizeof found);
        return chv_error_set(err, "%s: field \"%s\" is %s, expected an integer in [%ld, %ld]", path, field, found,
                             min, max);
    }
    *out = (long)value;
    return 0;
}

int chv_config_number(const cJSON *config, const char *path, const char *field, int required, double fallback,
                      int positive, double *out, chv_error *err) {
    const cJSON *item = chv_config_get(config, field);
    if (item == NULL) {
        if (required)
            return chv_error_set(err, "%s: required field \"%s\" is missing", path, field);
        *out = fallback;
        return 0;
    }

    double value = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!isfinite(value) || (positive && !(value > 0))) {
        char found[64];
        describe(item, found, sizeof found);
        return chv_error_set(err, "%s: field \"%s\" is %s, expected a %s number", path, field, found,
                             positive ? "positive" : "finite");
    }
    *out = value;
    return 0;
}

int chv_config_bool(const cJSON *config, const char *path, const char *field, int fallback, int *out,
                    chv_error *err) {
    const cJSON *item = chv_config_get(config, field);
    if (item == NULL) {
        *out = fallback;
        return 0;
    }
    if (!cJSON_IsBool(item)) {
        char found[64];
        describe(item, found, sizeof found);
        return chv_error_set(err, "%s: field \"%s\" is %s, expected true or false", path, field, found);
    }
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return 0;
}

int chv_config_token_id(const cJSON *config, const char *path, const char *field, int32_t *out, chv_error *err) {
    const cJSON *item = chv_config_get(config, field);
    *out = -1;
    if (item == NULL)
        return 0;
    if (cJSON_IsArray(item))
        item = cJSON_GetArrayItem(item, 0);
    if (item == NULL)
        return 0;

    double value = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!(value >= 0 && value <= 2147483647.0) || value != floor(value)) {
        char found[64];
        describe(item, found, sizeof found);
        return chv_error_set(err, "%s: field \"%s\" is %s, expected a token id", path, field, found);
    }
    *out = (int32_t)value;
    return 0;
}
