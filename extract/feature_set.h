/*
 * feature_set.h — the feature set af-extract writes: registered once in
 * feature_sets with its parameters and value names, checked on every later run.
 * A set's parameters never change: other parameters need another name, so
 * features already stored stay meaningful and queryable.
 */
#ifndef AF_EXTRACT_FEATURE_SET_H
#define AF_EXTRACT_FEATURE_SET_H

#include <libpq-fe.h>

#include "error.h"
#include "featureset/feature_vectors.h"

/* Finds or creates the set named params->name (creating its analyst views) and
 * returns its id; fails (AF_EXIT_USAGE) when a set of that name exists with other
 * parameters or other value names. */
int af_feature_set_register(PGconn *conn, const struct af_feature_params *params,
                            int *feature_set_id, af_err *err);

#endif
