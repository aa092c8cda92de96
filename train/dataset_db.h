/*
 * dataset_db.h — loading af-train's dataset from PostgreSQL: the window
 * vectors of one feature set for the tracks labelled (and selected) under the
 * newest taxonomy, with their split and fold in a scheme.
 *
 * Streaming: windows come through a cursor in binary chunks straight into
 * the float matrix, which is sized beforehand from a count, so memory is the
 * matrix plus one chunk.  Run it inside a transaction (a cursor needs one;
 * af-train's also holds the split assignment).
 */
#ifndef AF_TRAIN_DATASET_DB_H
#define AF_TRAIN_DATASET_DB_H

#include <libpq-fe.h>

#include <stdbool.h>

#include "dataset.h"
#include "error.h"

typedef struct af_feature_set_info {
    int id;
    char name[64];
    int dim;
    char **names;       /* dim names */
    char *params_json;  /* feature_sets.parameters as text */
} af_feature_set_info;

/* Feature set names become parts of view names (features_<name>_windows): the
 * database holds them to ^[a-z][a-z0-9_]{0,30}$ (sql/004_extract.sql). */
#define AF_FEATURE_SET_NAME_MAX 31
bool af_feature_set_name_ok(const char *name);

/* Fails with AF_EXIT_USAGE for an unknown or malformed name. */
int af_feature_set_lookup(PGconn *conn, const char *name, af_feature_set_info *fs, af_err *err);
void af_feature_set_info_free(af_feature_set_info *fs);

/* The newest taxonomy version, 0 when there is none. */
int af_newest_taxonomy(PGconn *conn, int *version, af_err *err);

/* Loads into ds (initialised here, af_dataset_finish applied).  A window whose
 * vector has another length than the feature set's, or holds a NaN, an
 * infinity or a NULL, fails naming the track.  chunk = rows per FETCH. */
int af_dataset_load_db(PGconn *conn, const af_feature_set_info *fs, int split_scheme_id,
                       int taxonomy_version, int chunk, af_dataset *ds, af_err *err);

#endif
