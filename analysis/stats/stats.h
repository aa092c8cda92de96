/*
 * stats.h — the seven statistics that summarise one row of frame features
 * over a window (features.c turns 46 frame rows into 46 x 7 values this way).
 *
 * Definitions follow numpy/scipy defaults so that values can be checked in
 * Python: mean; std = population std (ddof 0); skew and kurtosis are scipy's
 * biased estimators (bias=True), kurtosis in Fisher's form (excess, normal = 0);
 * min; max; median (mean of the two middle values for an even count).
 *
 * Never NaN or inf: non-finite input is refused, and a constant row — where
 * scipy returns NaN — gives skew 0 and kurtosis 0.  "Constant" is scipy's own
 * test for float32 data: variance <= (1e-6 * mean)^2.
 */
#ifndef AF_STATS_H
#define AF_STATS_H

#include <stddef.h>

#include "error.h"

enum af_stat {
    AF_STAT_MEAN,
    AF_STAT_STD,
    AF_STAT_SKEW,
    AF_STAT_KURTOSIS,
    AF_STAT_MIN,
    AF_STAT_MAX,
    AF_STAT_MEDIAN,
    AF_N_STATS
};

/* "mean", "std", "skew", "kurtosis", "min", "max", "median" (the feature-name suffixes). */
const char *af_stat_name(enum af_stat stat);

/* Floats of scratch a selection (and af_stats_compute) needs for n values. */
#define AF_SELECT_SCRATCH_FLOATS(n) (2 * ((size_t)(n) + 16))

/* Computes out[AF_STAT_*] for x[0..n).  scratch: AF_SELECT_SCRATCH_FLOATS(n) floats,
 * for the median (x is not modified).  Double accumulators, two passes.  Fails for
 * n == 0 or a NaN/inf in x (the message gives its index). */
int af_stats_compute(const float *x, size_t n, float *scratch, double out[AF_N_STATS], af_err *err);

/* The k-th smallest (from 0) of x[0..n), n >= 1, k < n, without modifying x
 * (quickselect into scratch: AF_SELECT_SCRATCH_FLOATS(n) floats).  If below is not
 * NULL and k >= 1, *below receives the (k-1)-th smallest. */
float af_kth_smallest(const float *x, size_t n, size_t k, float *scratch, float *below);

/* The same without the AVX-512 path (for tests). */
float af_kth_smallest_portable(const float *x, size_t n, size_t k, float *scratch, float *below);

/* np.median of x[0..n), n >= 1: the mean of the two middle values for an even n. */
double af_median(const float *x, size_t n, float *scratch);

#endif
