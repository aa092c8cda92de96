/*
 * predictor.h — a stored model made ready for audio files (af-predict, af-similar,
 * af-serve): resolved ("latest", an id), loaded, deserialised, and refused when the
 * feature code that runs here would not compute the numbers it was trained on: its
 * stored feature-set parameters (definition name, number of values) must equal this
 * program's for the same window, hop and excerpt, and its input width must be
 * AF_N_FEATURES.  params receives the analysis parameters to use.
 */
#ifndef AF_TRAIN_PREDICTOR_H
#define AF_TRAIN_PREDICTOR_H

#include <libpq-fe.h>

#include "analysis.h"
#include "error.h"
#include "mlp.h"
#include "model_store.h"
#include "scaler.h"

int af_model_load_checked(PGconn *db, const char *spec, af_stored_model *stored, af_mlp **mlp,
                          af_scaler *scaler, struct af_feature_params *params, af_err *err);

#endif
