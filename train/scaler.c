/* scaler.c — z-score (optionally rank-gauss first) standardisation fitted on
 * training rows; see scaler.h. */
#include "scaler.h"

#include <math.h>
#include <stdbool.h>
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

/* Inverse of the standard normal distribution function, P. J. Acklam's
 * rational approximation (relative error < 1.2e-9: far below float). */
static double normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425)
        return -normal_quantile(1 - p);
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* First index in sorted[0..n) whose value is >= v (n if none). */
static size_t lower_bound(const float *sorted, size_t n, float v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Knots of one feature from its n sorted training values.  A knot whose
 * value is tied with others gets the normal score of the tie's middle rank,
 * so equal inputs always map to one z whatever knot they land on. */
static void column_knots(const float *sorted, size_t n, int nk, float *kx, float *kz)
{
    for (int k = 0; k < nk; k++) {
        size_t r = (size_t)((double)k * (double)(n - 1) / (double)(nk - 1) + 0.5);
        float v = sorted[r];
        size_t lo = lower_bound(sorted, n, v), hi = lo;
        while (hi + 1 < n && sorted[hi + 1] == v)
            hi++;
        kx[k] = v;
        kz[k] = (float)normal_quantile(((double)(lo + hi) / 2.0 + 0.5) / (double)n);
    }
}

static float rankgauss_value(const float *kx, const float *kz, int nk, float v)
{
    if (!(v > kx[0]))
        return kz[0];
    if (v >= kx[nk - 1])
        return kz[nk - 1];
    size_t k = lower_bound(kx, (size_t)nk, v); /* 1 <= k < nk, kx[k - 1] < v <= kx[k] */
    if (kx[k] == v)
        return kz[k];
    float t = (v - kx[k - 1]) / (kx[k] - kx[k - 1]);
    return kz[k - 1] + t * (kz[k] - kz[k - 1]);
}

static void rankgauss_row(const af_scaler *sc, float *row)
{
    for (int j = 0; j < sc->dim; j++) {
        size_t o = (size_t)j * (size_t)sc->n_knots;
        row[j] = rankgauss_value(sc->knot_x + o, sc->knot_z + o, sc->n_knots, row[j]);
    }
}

static int knots_alloc(af_scaler *sc, int dim, int nk, af_err *err)
{
    size_t n = (size_t)dim * (size_t)nk;
    sc->knot_x = malloc(n * sizeof *sc->knot_x);
    sc->knot_z = malloc(n * sizeof *sc->knot_z);
    if (!sc->knot_x || !sc->knot_z)
        return af_err_set(err, "scaler: out of memory for %d x %d rank-gauss knots", dim, nk);
    sc->n_knots = nk;
    return 0;
}

/* Knots from a sorted copy of each column; then the z-score statistics of
 * the transformed training rows, accumulated row by row (no copy of x). */
int af_scaler_fit_rankgauss(af_scaler *sc, const float *x, size_t n_rows, int dim, int n_knots,
                            af_err *err)
{
    if (n_knots < 2 || n_knots > AF_SCALER_MAX_KNOTS)
        return af_err_set(err, "scaler: %d rank-gauss knots, expected 2..%d", n_knots,
                          AF_SCALER_MAX_KNOTS);
    if (af_scaler_fit(sc, x, n_rows, dim, err) < 0) /* checks rows, dim, finiteness */
        return -1;
    int nk = n_rows < (size_t)n_knots ? (int)(n_rows < 2 ? 2 : n_rows) : n_knots;
    float *col = malloc(n_rows * sizeof *col);
    double *sum = calloc((size_t)dim, sizeof *sum), *sq = calloc((size_t)dim, sizeof *sq);
    float *row = malloc((size_t)dim * sizeof *row);
    int rc = col && sum && sq && row ? knots_alloc(sc, dim, nk, err)
                                     : af_err_set(err, "scaler: out of memory");
    for (int j = 0; j < dim && rc == 0; j++) {
        for (size_t i = 0; i < n_rows; i++)
            col[i] = x[i * (size_t)dim + (size_t)j];
        qsort(col, n_rows, sizeof *col, cmp_float);
        size_t o = (size_t)j * (size_t)nk;
        column_knots(col, n_rows, nk, sc->knot_x + o, sc->knot_z + o);
    }
    for (size_t i = 0; i < n_rows && rc == 0; i++) {
        memcpy(row, x + i * (size_t)dim, (size_t)dim * sizeof *row);
        rankgauss_row(sc, row);
        for (int j = 0; j < dim; j++) {
            sum[j] += row[j];
            sq[j] += (double)row[j] * row[j];
        }
    }
    for (int j = 0; j < dim && rc == 0; j++) {
        double mean = sum[j] / (double)n_rows, var = sq[j] / (double)n_rows - mean * mean;
        sc->mean[j] = (float)mean;
        /* z-values are O(1): a variance below float resolution is a constant column */
        sc->std[j] = var > 1e-12 ? (float)sqrt(var) : 1.0f;
    }
    free(col);
    free(sum);
    free(sq);
    free(row);
    if (rc != 0)
        af_scaler_free(sc);
    return rc;
}

int af_scaler_copy(af_scaler *dst, const af_scaler *src, af_err *err)
{
    af_scaler_free(dst);
    if (src->dim == 0)
        return 0;
    if (scaler_alloc(dst, src->dim, err) < 0)
        return -1;
    memcpy(dst->mean, src->mean, (size_t)src->dim * sizeof *dst->mean);
    memcpy(dst->std, src->std, (size_t)src->dim * sizeof *dst->std);
    if (src->n_knots == 0)
        return 0;
    if (knots_alloc(dst, src->dim, src->n_knots, err) < 0) {
        af_scaler_free(dst);
        return -1;
    }
    size_t n = (size_t)src->dim * (size_t)src->n_knots;
    memcpy(dst->knot_x, src->knot_x, n * sizeof *dst->knot_x);
    memcpy(dst->knot_z, src->knot_z, n * sizeof *dst->knot_z);
    return 0;
}

void af_scaler_apply(const af_scaler *sc, float *x, size_t n_rows)
{
    for (size_t i = 0; i < n_rows; i++) {
        float *row = x + i * (size_t)sc->dim;
        if (sc->n_knots > 0)
            rankgauss_row(sc, row);
        for (int j = 0; j < sc->dim; j++)
            row[j] = (row[j] - sc->mean[j]) / sc->std[j];
    }
}

void af_scaler_free(af_scaler *sc)
{
    free(sc->mean);
    free(sc->std);
    free(sc->knot_x);
    free(sc->knot_z);
    sc->mean = sc->std = sc->knot_x = sc->knot_z = NULL;
    sc->dim = 0;
    sc->n_knots = 0;
}

size_t af_scaler_serialised_size(const af_scaler *sc)
{
    size_t knots = sc->n_knots > 0 ? 4 + 8 * (size_t)sc->dim * (size_t)sc->n_knots : 0;
    return 4 + 8 * (size_t)sc->dim + knots;
}

void af_scaler_write(const af_scaler *sc, af_writer *w)
{
    if (sc->n_knots > 0 && sc->dim > 0) {
        af_put_u32(w, (uint32_t)sc->dim | AF_SCALER_RANKGAUSS_FLAG);
        af_put_u32(w, (uint32_t)sc->n_knots);
    } else {
        af_put_u32(w, (uint32_t)sc->dim);
    }
    af_put_f32s(w, sc->mean, (size_t)sc->dim);
    af_put_f32s(w, sc->std, (size_t)sc->dim);
    if (sc->n_knots > 0 && sc->dim > 0) {
        size_t n = (size_t)sc->dim * (size_t)sc->n_knots;
        af_put_f32s(w, sc->knot_x, n);
        af_put_f32s(w, sc->knot_z, n);
    }
}

static int check_values(const af_scaler *sc, af_err *err)
{
    for (int j = 0; j < sc->dim; j++) {
        if (!isfinite(sc->mean[j]))
            return af_err_set(err, "scaler: mean of feature %d is not finite", j);
        if (!isfinite(sc->std[j]) || !(sc->std[j] > 0.0f))
            return af_err_set(err, "scaler: std of feature %d is not a positive number", j);
    }
    for (int j = 0; j < sc->dim && sc->n_knots > 0; j++) {
        const float *kx = sc->knot_x + (size_t)j * (size_t)sc->n_knots;
        const float *kz = sc->knot_z + (size_t)j * (size_t)sc->n_knots;
        for (int k = 0; k < sc->n_knots; k++) {
            if (!isfinite(kx[k]) || !isfinite(kz[k]))
                return af_err_set(err, "scaler: rank-gauss knot %d of feature %d is not finite",
                                  k, j);
            if (k > 0 && (kx[k] < kx[k - 1] || kz[k] < kz[k - 1]))
                return af_err_set(err, "scaler: rank-gauss knots of feature %d are not ascending",
                                  j);
        }
    }
    return 0;
}

/* The knot arrays of a rank-gauss block, after mean and std. */
static int read_knots(af_scaler *sc, af_reader *r, uint32_t nk, af_err *err)
{
    if (nk < 2 || nk > AF_SCALER_MAX_KNOTS)
        return af_err_set(err, "scaler: %u rank-gauss knots, expected 2..%d", nk,
                          AF_SCALER_MAX_KNOTS);
    size_t n = (size_t)sc->dim * nk;
    if (n > af_reader_left(r) / 8)
        return af_err_set(err, "scaler: block truncated (%u knots announced)", nk);
    if (knots_alloc(sc, sc->dim, (int)nk, err) < 0)
        return -1;
    af_get_f32s(r, sc->knot_x, n);
    af_get_f32s(r, sc->knot_z, n);
    return 0;
}

int af_scaler_read(af_scaler *sc, af_reader *r, int max_dim, af_err *err)
{
    af_scaler_free(sc);
    uint32_t dim = af_get_u32(r);
    if (r->overrun)
        return af_err_set(err, "scaler: block truncated");
    bool rankgauss = (dim & AF_SCALER_RANKGAUSS_FLAG) != 0;
    dim &= ~AF_SCALER_RANKGAUSS_FLAG;
    uint32_t nk = rankgauss ? af_get_u32(r) : 0;
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
    if ((rankgauss && read_knots(sc, r, nk, err) < 0) || check_values(sc, err) < 0) {
        af_scaler_free(sc);
        return -1;
    }
    return 0;
}
