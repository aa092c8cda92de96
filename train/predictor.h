/*
 * predictor.h — a stored model (an ensemble, ensemble.h) made ready for audio files
 * (af-predict, af-similar, af-serve, report_use.c): resolved ("default", "latest", an
 * id or a name: af_model_resolve), loaded, deserialised, and refused when the
 * feature code that runs here would not compute the numbers it was trained on: its
 * stored feature-set parameters (definition name, number of values) must equal this
 * program's for the same window, hop and excerpt, and its input width must be
 * AF_N_FEATURES.  params receives the analysis parameters to use; *mean_log whether
 * the model aggregates a file's windows by the mean of the logarithms of their
 * probabilities (hyperparameter "aggregation" = "mean_log") rather than their mean.
 * net is freed with af_ensemble_free, also after a failure.
 */
#ifndef AF_TRAIN_PREDICTOR_H
#define AF_TRAIN_PREDICTOR_H

#include <libpq-fe.h>

#include "analysis.h"
#include "error.h"
#include <stdbool.h>
#include <stddef.h>

#include "ensemble.h"
#include "model_store.h"

int af_model_load_checked(PGconn *db, const char *spec, af_stored_model *stored,
                          af_ensemble *net, bool *mean_log, struct af_feature_params *params,
                          af_err *err);

/* A file's class probabilities (k) from its windows' (rows x k), as af-train
 * evaluated the model (evaluation.c): the mean, or with mean_log the
 * renormalised mean of their logarithms. */
void af_predict_aggregate(const float *probs, size_t rows, int k, bool mean_log, float *out);

#endif
