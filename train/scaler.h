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
 * Rank-gauss (optional, af_scaler_fit_rankgauss): before the z-scores, each
 * feature goes through its training rows' empirical distribution function
 * and then the inverse normal one, z = Phi^-1(rank / n), piecewise linear
 * between n_knots (x, z) knots taken at evenly spaced ranks (ties share the
 * z of their middle rank; values outside the training range get the end
 * knot's z).  Skewed, heavy-tailed or bimodal features so become Gaussian
 * and bounded (|z| < ~3.5), which is what a small network (and an RBF
 * kernel) wants: on the Emotify dev set it lifts every classifier (figures
 * in config/audiofiler.conf, [train] input_transform).
 *
 * Storage: the scaler travels inside the model buffer (af_mlp_serialise takes
 * it), so a stored model can never be used with the wrong statistics.  The
 * block is also usable on its own, all little-endian:
 *   plain:      u32 dim, f32 mean[dim], f32 std[dim]
 *   rank-gauss: u32 dim | AF_SCALER_RANKGAUSS_FLAG, u32 n_knots, f32 mean[dim],
 *               f32 std[dim], f32 knot_x[dim * n_knots], f32 knot_z[dim * n_knots]
 * (the flag keeps every plain block, and so every older model, readable).
 */
#ifndef AF_TRAIN_SCALER_H
#define AF_TRAIN_SCALER_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define AF_SCALER_RANKGAUSS_FLAG 0x80000000u
#define AF_SCALER_MAX_KNOTS 4096

typedef struct af_scaler {
    int dim;     /* 0 = empty (not fitted) */
    float *mean; /* dim values (of the rank-gauss output if n_knots > 0) */
    float *std;  /* dim values, all > 0 */
    int n_knots; /* 0 = plain z-scores; else 2..AF_SCALER_MAX_KNOTS rank-gauss knots */
    float *knot_x; /* dim x n_knots, row j ascending: feature j's training quantiles */
    float *knot_z; /* dim x n_knots, their normal scores (non-decreasing) */
} af_scaler;

/* Fits on all n_rows rows of x (row-major, n_rows x dim). Fails on n_rows 0
 * or a non-finite value. Any previous content of sc is freed. */
int af_scaler_fit(af_scaler *sc, const float *x, size_t n_rows, int dim, af_err *err);

/* Fits on the rows of x (n_rows x dim) listed in rows[0..n_sel) only, e.g.
 * the training split of a matrix that also holds validation and test rows.
 * Fails on an index >= n_rows. */
int af_scaler_fit_rows(af_scaler *sc, const float *x, size_t n_rows, int dim, const size_t *rows,
                       size_t n_sel, af_err *err);

/* Rank-gauss then z-scores (see above), fitted on the first n_rows rows of x
 * only.  n_knots in 2..AF_SCALER_MAX_KNOTS (fewer if there are fewer rows).
 * Sorts a copy of one column at a time: memory O(n_rows), not O(n_rows * dim). */
int af_scaler_fit_rankgauss(af_scaler *sc, const float *x, size_t n_rows, int dim, int n_knots,
                            af_err *err);

/* Deep copy; any previous content of dst is freed. */
int af_scaler_copy(af_scaler *dst, const af_scaler *src, af_err *err);

/* x[i][j] = (g_j(x[i][j]) - mean[j]) / std[j], in place, where g_j is the
 * rank-gauss map of feature j, or the identity for a plain scaler. */
void af_scaler_apply(const af_scaler *sc, float *x, size_t n_rows);

void af_scaler_free(af_scaler *sc);

/* Serialisation of the block described above. */
size_t af_scaler_serialised_size(const af_scaler *sc);
void af_scaler_write(const af_scaler *sc, af_writer *w);
/* Reads a block; fails (leaving sc empty) on truncation, on dim > max_dim,
 * or on a non-finite mean or a std that is not finite and > 0. */
int af_scaler_read(af_scaler *sc, af_reader *r, int max_dim, af_err *err);

#endif
