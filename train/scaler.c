/* scaler.c — z-score standardisation fitted on training rows; see scaler.h. */
#include "scaler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int scaler_alloc(af_scaler *sc, int dim, af_err *err)
{
    af_scaler_free(sc);
    sc->mean = malloc((size_t)dim * sizeof *sc->mean);
    sc->std = malloc((size_t)dim * sizeof *sc->std);
    if (!sc->mean || !sc->std) {
        af_scaler_free(sc);
        return af_err_set(err, "scaler: out of memory for %d features", dim);
    }
    sc->dim = dim;
    return 0;
}

/* Two passes in double: mean first, then squared deviations from it.  Unlike
 * sum-of-squares this is exact for constant columns (variance exactly 0). */
static int fit_selected(af_scaler *sc, const float *x, int dim, const size_t *rows, size_t n_sel,
                        af_err *err)
{
    if (dim <= 0)
        return af_err_set(err, "scaler: feature count must be positive (got %d)", dim);
    if (n_sel == 0)
        return af_err_set(err, "scaler: no training rows to fit on");
    double *sum = calloc((size_t)dim, sizeof *sum);
    double *sq = calloc((size_t)dim, sizeof *sq);
    if (!sum || !sq) {
        free(sum);
        free(sq);
        return af_err_set(err, "scaler: out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < n_sel && rc == 0; i++) {
        const float *row = x + (rows ? rows[i] : i) * (size_t)dim;
        for (int j = 0; j < dim; j++) {
            if (!isfinite(row[j])) {
                rc = af_err_set(err, "scaler: feature %d of row %zu is not finite", j,
                                rows ? rows[i] : i);
                break;
            }
            sum[j] += row[j];
        }
    }
    for (int j = 0; j < dim && rc == 0; j++)
        sum[j] /= (double)n_sel; /* sum now holds the mean */
    for (size_t i = 0; i < n_sel && rc == 0; i++) {
        const float *row = x + (rows ? rows[i] : i) * (size_t)dim;
        for (int j = 0; j < dim; j++) {
            double d = row[j] - sum[j];
            sq[j] += d * d;
        }
    }
    if (rc == 0)
        rc = scaler_alloc(sc, dim, err);
    for (int j = 0; j < dim && rc == 0; j++) {
        double sd = sqrt(sq[j] / (double)n_sel);
        sc->mean[j] = (float)sum[j];
        /* Below float resolution the "spread" is rounding noise: treat as constant. */
        sc->std[j] = (float)sd > 0.0f ? (float)sd : 1.0f;
    }
    free(sum);
    free(sq);
    return rc;
}

int af_scaler_fit(af_scaler *sc, const float *x, size_t n_rows, int dim, af_err *err)
{
    return fit_selected(sc, x, dim, NULL, n_rows, err);
}

int af_scaler_fit_rows(af_scaler *sc, const float *x, size_t n_rows, int dim, const size_t *rows,
                       size_t n_sel, af_err *err)
{
    for (size_t i = 0; i < n_sel; i++)
        if (rows[i] >= n_rows)
            return af_err_set(err, "scaler: row index %zu out of range (%zu rows)", rows[i],
                              n_rows);
    return fit_selected(sc, x, dim, rows, n_sel, err);
}

void af_scaler_apply(const af_scaler *sc, float *x, size_t n_rows)
{
    for (size_t i = 0; i < n_rows; i++) {
        float *row = x + i * (size_t)sc->dim;
        for (int j = 0; j < sc->dim; j++)
            row[j] = (row[j] - sc->mean[j]) / sc->std[j];
    }
}

void af_scaler_free(af_scaler *sc)
{
    free(sc->mean);
    free(sc->std);
    sc->mean = sc->std = NULL;
    sc->dim = 0;
}

size_t af_scaler_serialised_size(const af_scaler *sc) { return 4 + 8 * (size_t)sc->dim; }

void af_scaler_write(const af_scaler *sc, af_writer *w)
{
    af_put_u32(w, (uint32_t)sc->dim);
    af_put_f32s(w, sc->mean, (size_t)sc->dim);
    af_put_f32s(w, sc->std, (size_t)sc->dim);
}

static int check_values(const af_scaler *sc, af_err *err)
{
    for (int j = 0; j < sc->dim; j++) {
        if (!isfinite(sc->mean[j]))
            return af_err_set(err, "scaler: mean of feature %d is not finite", j);
        if (!isfinite(sc->std[j]) || !(sc->std[j] > 0.0f))
            return af_err_set(err, "scaler: std of feature %d is not a positive number", j);
    }
    return 0;
}

int af_scaler_read(af_scaler *sc, af_reader *r, int max_dim, af_err *err)
{
    af_scaler_free(sc);
    uint32_t dim = af_get_u32(r);
    if (r->overrun)
        return af_err_set(err, "scaler: block truncated");
    if (dim == 0)
        return 0;
    if (dim > (uint32_t)max_dim)
        return af_err_set(err, "scaler: %u features, expected at most %d", dim, max_dim);
    if ((size_t)dim > af_reader_left(r) / 8)
        return af_err_set(err, "scaler: block truncated (%u features announced)", dim);
    if (scaler_alloc(sc, (int)dim, err) < 0)
        return -1;
    af_get_f32s(r, sc->mean, dim);
    af_get_f32s(r, sc->std, dim);
    if (check_values(sc, err) < 0) {
        af_scaler_free(sc);
        return -1;
    }
    return 0;
}
