/* fetch_json.h — small jansson helpers shared by the provider parsers (private). */
#ifndef AF_FETCH_JSON_H
#define AF_FETCH_JSON_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch_providers.h"

/* A copy of the string member, or NULL when absent, null or not a string. */
static inline char *fj_strdup(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) && json_string_length(v) > 0 ? strdup(json_string_value(v)) : NULL;
}

/* A member that may be a number or a numeric string; fallback when neither. */
static inline double fj_number(json_t *obj, const char *key, double fallback)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);
        return end != json_string_value(v) ? d : fallback;
    }
    return fallback;
}

/* The id member as text, whether a string or an integer. */
static inline void fj_id(json_t *obj, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else
        buf[0] = '\0';
}

/* Appends one empty candidate; NULL when out of memory. */
static inline struct af_fetch_candidate *fj_add(struct af_fetch_results *out)
{
    struct af_fetch_candidate *grown = realloc(out->items, (size_t)(out->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    out->items = grown;
    struct af_fetch_candidate *c = &out->items[out->n++];
    memset(c, 0, sizeof *c);
    return c;
}

static inline json_t *fj_load(const char *body, size_t len, af_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root)
        af_err_set(err, "response is not JSON: %s (line %d)", jerr.text, jerr.line);
    else if (!json_is_object(root)) {
        json_decref(root);
        root = NULL;
        af_err_set(err, "response is not a JSON object");
    }
    return root;
}

#endif
