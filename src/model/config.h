/* Typed reads of config.json fields with range checks. Each failure names
 * the file, the field and the value found. A field that is absent or JSON
 * null takes the default (or is an error when required).
 */
#ifndef CHEVAL_MODEL_CONFIG_H
#define CHEVAL_MODEL_CONFIG_H

#include <cJSON.h>
#include <stdint.h>

#include "util/error.h"

/* Returns the field, or NULL when it is absent or null. */
const cJSON *chv_config_get(const cJSON *config, const char *field);

/* Reads an integer field into *out, in [min, max]. */
int chv_config_int(const cJSON *config, const char *path, const char *field, int required, long fallback, long min,
                   long max, long *out, chv_error *err);

/* Reads a number field into *out; it must be > 0 when positive is set. */
int chv_config_number(const cJSON *config, const char *path, const char *field, int required, double fallback,
                      int positive, double *out, chv_error *err);

/* Reads a boolean field into *out (0 or 1). */
int chv_config_bool(const cJSON *config, const char *path, const char *field, int fallback, int *out,
                    chv_error *err);

/* Reads a token id field: an integer, or a list whose first integer is
 * used (eos_token_id may be a list). *out is -1 when absent. */
int chv_config_token_id(const cJSON *config, const char *path, const char *field, int32_t *out, chv_error *err);

#endif
