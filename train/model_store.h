/*
 * model_store.h — trained models in the database (models, training_epochs,
 * evaluations): storing one with its history and scores in one transaction,
 * listing, showing, and loading one back for af-predict and af-report.
 *
 * models.hyperparameters is the JSON af-train builds, plus two keys added
 * here from feature_sets: "feature_set" (its name) and "feature_params" (its
 * parameters JSON), so a model says exactly which feature code it needs.
 */
#ifndef AF_TRAIN_MODEL_STORE_H
#define AF_TRAIN_MODEL_STORE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "evaluation.h"
#include "trainer.h"

typedef struct af_model_record {
    int feature_set_id;
    int split_scheme_id;  /* 0: none (CSV data) */
    int taxonomy_version; /* 0: none */
    char *const *genres;
    int n_genres;
    const char *hyperparameters; /* a JSON object */
    const uint8_t *weights;
    size_t weights_len;
    long long run_id;     /* 0: none */
    /* per-epoch history, possibly of several folds */
    size_t n_epoch_rows;
    const int *epoch_fold, *epoch_number;
    const af_epoch_record *epochs;
    /* evaluations; fold -1 = the test split */
    int n_evals;
    const af_eval *evals;
} af_model_record;

/* Inserts everything; the caller owns the transaction. */
int af_model_store(PGconn *conn, const af_model_record *rec, long long *model_id, af_err *err);

/* "latest" or a model id -> the id; fails (AF_EXIT_FAILURE) naming an unknown
 * id, or saying that no model exists. */
int af_model_resolve(PGconn *conn, const char *spec, long long *model_id, af_err *err);

int af_model_list(PGconn *conn, FILE *out, af_err *err);
int af_model_show(PGconn *conn, long long model_id, FILE *out, af_err *err);

typedef struct af_stored_model {
    long long id;
    char created[40];
    char feature_set[64];
    int n_genres;
    char **genres;
    uint8_t *weights;
    size_t weights_len;
    char *hyperparameters;  /* JSON text */
    char *feature_params;   /* JSON text, NULL if absent */
} af_stored_model;

int af_model_load(PGconn *conn, long long model_id, af_stored_model *m, af_err *err);
void af_stored_model_free(af_stored_model *m);

#endif
