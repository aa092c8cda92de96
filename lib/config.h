/*
 * config.h — AudioFiler's configuration: config/audiofiler.conf, parsed with inih.
 *
 * Every key is declared once in config_keys.def with its type, default and range.
 * Loading a file checks every line against that table: an unknown section or key,
 * or a value of the wrong type or out of range, is an error naming file, line and
 * key.  Command-line flags override the file through af_config_set, which checks
 * values the same way.  Secrets are never configuration: they come from the
 * environment (see README.md).
 *
 * Keys are addressed as "section.name", e.g. af_config_int(cfg, "extract.jobs").
 */
#ifndef AF_CONFIG_H
#define AF_CONFIG_H

#include <stdbool.h>

#include "error.h"

struct af_config;

/* Defaults only. */
struct af_config *af_config_new(void);
void af_config_free(struct af_config *cfg);

/* Reads path over the current values. err->code = AF_EXIT_USAGE on any error. */
int af_config_load(struct af_config *cfg, const char *path, af_err *err);

/* The file a program reads when no --config is given: $AUDIOFILER_CONFIG, else the
 * project's config/audiofiler.conf if it exists, else NULL (defaults only). */
const char *af_config_default_path(void);

/* Sets "section.name" from text, validated; origin names where it came from
 * ("--jobs") for the error message. */
int af_config_set(struct af_config *cfg, const char *key, const char *value, const char *origin,
                  af_err *err);

/* Getters abort on an unknown key: that is a programming error, not a user error. */
const char *af_config_str(const struct af_config *cfg, const char *key);
long af_config_int(const struct af_config *cfg, const char *key);
double af_config_double(const struct af_config *cfg, const char *key);
bool af_config_bool(const struct af_config *cfg, const char *key);

/* Iterates over all keys ("section.name"), for tests and --show-config. Returns NULL past the end. */
const char *af_config_key_at(int index);

#endif
