/*
 * model_describe.h — the one line that says which stored model a program used
 * ("model 5 'rock-v2' (the default model)"), so that af-similar, af-cluster and
 * af-report, which default to the default model like af-predict, say what they
 * resolved "default" (or an id, a name, "latest") to.
 */
#ifndef AF_TRAIN_MODEL_DESCRIBE_H
#define AF_TRAIN_MODEL_DESCRIBE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct af_model_identity {
    long long id;
    char name[128]; /* "" when unnamed */
    bool is_default;
};

/* Reads the model's name and whether it is the default. */
int af_model_identity(PGconn *conn, long long model_id, struct af_model_identity *out,
                      af_err *err);

/* "model 5 'name' (the default model)" into buf. */
void af_model_identity_text(const struct af_model_identity *m, char *buf, size_t len);

#endif
