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

/* Computes out[AF_STAT_*] for x[0..n). scratch must hold n floats (the median's
 * selection reorders a copy there; x is not modified). Double accumulators,
 * two passes. Fails for n == 0 or a NaN/inf in x (the message gives its index). */
int af_stats_compute(const float *x, size_t n, float *scratch, double out[AF_N_STATS], af_err *err);

/* Rearranges x[0..n) (n >= 1, k < n) so that x[k] is the k-th smallest value, with
 * everything before it <= x[k] and everything after >= x[k] (like std::nth_element;
 * quickselect, median-of-three pivot). */
void af_select_kth(float *x, size_t n, size_t k);

/* Median of x[0..n), n >= 1, reordering x (selection, not a full sort). */
double af_median_inplace(float *x, size_t n);

#endif
