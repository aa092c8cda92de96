/*
 * ensemble.h — the stored classifier: one or more networks (mlp.h) trained
 * on the same standardised rows with different seeds, whose window
 * probabilities are averaged.  Averaging a few independently trained
 * networks cancels much of the variance a single network picks up from a
 * few hundred tracks; it is what lets the model beat the simple baselines on
 * artists it never saw (config/audiofiler.conf has the figures).
 *
 * af-train builds one per training run (trainer.h) and stores
 * af_ensemble_serialise's buffer in models.weights; af-predict and af-report
 * read it back with af_ensemble_deserialise, which also accepts the plain
 * single-network buffer of mlp.h (models stored before ensembles existed).
 *
 * Serialised ensemble (n >= 2 members; one member is stored as a plain
 * mlp.h buffer), little-endian:
 *   8  magic "AFENS\r\n\x1a"
 *   u32 format version (AF_ENSEMBLE_FORMAT_VERSION), u32 total length
 *   u32 n, then per member: u32 length, that member's mlp.h buffer
 *       (the first carries the standardiser, the others none)
 *   u32 CRC-32 of all preceding bytes
 */
#ifndef AF_TRAIN_ENSEMBLE_H
#define AF_TRAIN_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "mlp.h"
#include "scaler.h"

#define AF_ENSEMBLE_MAX 32
#define AF_ENSEMBLE_FORMAT_VERSION 1u

typedef struct af_ensemble {
    int n;
    af_mlp *members[AF_ENSEMBLE_MAX]; /* owned; same inputs and classes */
    af_scaler scaler;                 /* fitted on the training rows */
} af_ensemble;

/* Mean of the members' probabilities for n standardised rows (n x classes). */
int af_ensemble_forward(af_ensemble *e, const float *x, size_t n, float *probs, af_err *err);
int af_ensemble_n_inputs(const af_ensemble *e);
int af_ensemble_n_classes(const af_ensemble *e);

int af_ensemble_serialise(const af_ensemble *e, uint8_t **buf, size_t *len, af_err *err);
/* Accepts an ensemble buffer or a single network's (mlp.h); rejects members
 * of different shapes. */
int af_ensemble_deserialise(const uint8_t *buf, size_t len, af_ensemble *e, af_err *err);
void af_ensemble_free(af_ensemble *e);

#endif
