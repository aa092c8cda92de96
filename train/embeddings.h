/*
 * embeddings.h — track embeddings: the mean, over a track's windows, of a model's
 * last hidden layer (af_mlp_embed).  af-train stores one per track and model in
 * track_embeddings (sql/051) right after storing the model; af-predict --embedding
 * and af-similar FILE compute the same for an audio file, so a file and the
 * collection's tracks live in one space, searched with cube's <-> in PostgreSQL.
 *
 * A stored model is an ensemble (ensemble.h) of networks averaged; its embedding is
 * the last hidden layer of its FIRST network (member 0), fed the ensemble's
 * standardised input (the ensemble's scaler).  One network, so that the space is
 * one network's and does not depend on how many members were averaged; a model of
 * one member is unaffected.
 */
#ifndef AF_TRAIN_EMBEDDINGS_H
#define AF_TRAIN_EMBEDDINGS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "ensemble.h"
#include "error.h"
#include "mlp.h"
#include "scaler.h"

#define AF_EMBEDDING_MAX_DIM 100 /* what one cube value holds */

/* The mean embedding of `rows` raw (unstandardised) window vectors x into out
 * (af_mlp_embedding_dim values).  x is left untouched. */
int af_embed_windows(af_mlp *m, const af_scaler *sc, const float *x, size_t rows, float *out,
                     af_err *err);

/* The same for an ensemble: member 0 on the ensemble's scaler (see above); out gets
 * af_ensemble_embedding_dim(e) values. */
int af_ensemble_embedding_dim(const af_ensemble *e);
int af_embed_ensemble_windows(const af_ensemble *e, const float *x, size_t rows, float *out,
                              af_err *err);

/* "(v0, v1, ...)": a cube literal of dim values; malloc'd (NULL when out of memory). */
char *af_cube_literal(const float *v, int dim);

/* Computes the embedding of every track with windows of the feature set and stores
 * them for model_id, replacing what the model had, in one transaction.  A model whose
 * last hidden layer is wider than AF_EMBEDDING_MAX_DIM gets none: *n_tracks = -1.
 * chunk = windows per FETCH. */
int af_embeddings_store(PGconn *db, long long model_id, int feature_set_id, af_mlp *m,
                        const af_scaler *sc, int chunk, long long *n_tracks, af_err *err);

/* af-train's call after storing a model: af_embeddings_store, logged and counted in
 * the run (embeddings), a too wide last layer only warned about. */
struct af_run;
int af_embeddings_after_training(PGconn *db, struct af_run *run, long long model_id,
                                 int feature_set_id, const af_ensemble *net, af_err *err);

#endif
