/*
 * scaler.h — feature standardisation (z-scores) for the genre classifier.
 *
 * Fit on the training rows only (never on validation/test rows: that would
 * leak their statistics into the model), then apply the same transform to
 * every row that goes into the network, at training and at prediction time.
 * The standard deviation is the population one (divide by n, as sklearn's
 * StandardScaler); a constant feature (std 0) gets std 1, so it becomes 0
 * instead of NaN.
 *
 * Storage: the scaler travels inside the model buffer (af_mlp_serialise takes
 * it), so a stored model can never be used with the wrong statistics.  The
 * block is also usable on its own: u32 dim, f32 mean[dim], f32 std[dim], all
 * little-endian.
 */
#ifndef AF_TRAIN_SCALER_H
#define AF_TRAIN_SCALER_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

typedef struct af_scaler {
    int dim;     /* 0 = empty (not fitted) */
    float *mean; /* dim values */
    float *std;  /* dim values, all > 0 */
} af_scaler;

/* Fits on all n_rows rows of x (row-major, n_rows x dim). Fails on n_rows 0
 * or a non-finite value. Any previous content of sc is freed. */
int af_scaler_fit(af_scaler *sc, const float *x, size_t n_rows, int dim, af_err *err);

/* Fits on the rows of x (n_rows x dim) listed in rows[0..n_sel) only, e.g.
 * the training split of a matrix that also holds validation and test rows.
 * Fails on an index >= n_rows. */
int af_scaler_fit_rows(af_scaler *sc, const float *x, size_t n_rows, int dim, const size_t *rows,
                       size_t n_sel, af_err *err);

/* x[i][j] = (x[i][j] - mean[j]) / std[j], in place. */
void af_scaler_apply(const af_scaler *sc, float *x, size_t n_rows);

void af_scaler_free(af_scaler *sc);

/* Serialisation of the block described above. */
size_t af_scaler_serialised_size(const af_scaler *sc);
void af_scaler_write(const af_scaler *sc, af_writer *w);
/* Reads a block; fails (leaving sc empty) on truncation, on dim > max_dim,
 * or on a non-finite mean or a std that is not finite and > 0. */
int af_scaler_read(af_scaler *sc, af_reader *r, int max_dim, af_err *err);

#endif
