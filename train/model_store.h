/*
 * model_store.h — trained models in the database (models, training_epochs,
 * evaluations, predictions): storing one with its history, scores and
 * per-track predictions in one transaction, listing, showing, naming,
 * promoting, deleting, and loading one back for af-predict and af-report.
 *
 * The default model (models.is_default, at most one) is the one programs use
 * when the user names none: af_model_resolve_default.  It changes only by
 * af-train --promote, or when the first finished model is stored while no
 * model is the default.  An interrupted or deleted model is never the
 * default (a CHECK constraint says so too).
 *
 * models.hyperparameters is the JSON af-train builds, plus two keys added
 * here from feature_sets: "feature_set" (its name) and "feature_params" (its
 * parameters JSON), so a model says exactly which feature code it needs.
 */
#ifndef AF_TRAIN_MODEL_STORE_H
#define AF_TRAIN_MODEL_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
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
    const af_eval *evals;     /* entries with per_class NULL (not evaluated) are skipped */
    /* dataset track index -> track id and true class, for the predictions rows */
    const int64_t *track_ids;
    const int *track_class;
    const char *name;         /* NULL: none */
    bool interrupted;
} af_model_record;

/* Inserts everything; the caller owns the transaction.  Locks the models
 * table (SHARE ROW EXCLUSIVE) until it ends: concurrent stores queue. */
int af_model_store(PGconn *conn, const af_model_record *rec, long long *model_id, af_err *err);

/* Makes the stored model the default when no model is (and it was not
 * interrupted); *became says whether it did.  Call in the storing transaction,
 * after af_model_store (whose lock makes the check and the update atomic). */
int af_model_default_if_none(PGconn *conn, long long model_id, bool *became, af_err *err);

/* The default model's id.  Fails (AF_EXIT_FAILURE) saying how to promote one
 * when there is none.  af-predict, af-report and any program that uses "the
 * model" without being told which call this. */
int af_model_resolve_default(PGconn *conn, long long *model_id, af_err *err);

/* "default", "latest" (the newest live model), a model id or a model name ->
 * the id.  Fails (AF_EXIT_FAILURE) naming an unknown id or name, a deleted
 * model (with when it was deleted), or saying that no model exists. */
int af_model_resolve(PGconn *conn, const char *spec, long long *model_id, af_err *err);
/* The same, but a deleted model's id or name finds its record (af-train --show:
 * a deleted model's scores stay on record). */
int af_model_resolve_record(PGconn *conn, const char *spec, long long *model_id, af_err *err);

/* af-train --promote / --delete / --name checks.  Promote refuses a deleted
 * or interrupted model; delete drops the weights, keeps the record and, if it
 * was the default, leaves no default (said on stdout). */
int af_model_promote(PGconn *conn, long long model_id, af_err *err);
int af_model_delete(PGconn *conn, long long model_id, FILE *out, af_err *err);
/* Fails (AF_EXIT_USAGE) when a live model already has this name, or the name
 * is empty, all digits, or a reserved word ("default", "latest"). */
int af_model_check_name(PGconn *conn, const char *name, af_err *err);

int af_model_list(PGconn *conn, FILE *out, af_err *err);
int af_model_show(PGconn *conn, long long model_id, FILE *out, af_err *err);
/* The network's and the baselines' mean scores side by side, and the margin. */
int af_model_print_comparison(PGconn *conn, long long model_id, FILE *out, af_err *err);

typedef struct af_stored_model {
    long long id;
    char name[128];         /* "" when unnamed */
    bool is_default;
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
