/*
 * stats.c — window statistics (see stats.h): mean/std/skew/kurtosis from
 * two vectorised passes with double accumulators, min/max on the first pass,
 * and the median by a branch-free quickselect on a scratch copy.
 */
#include "stats.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "simd.h"

/* scipy.stats.skew/kurtosis call a float32 row constant when its variance is
 * below (resolution * mean)^2, with numpy's float32 resolution 1e-6. */
#define CONSTANT_ROW_RESOLUTION 1e-6

const char *af_stat_name(enum af_stat stat)
{
    static const char *const names[AF_N_STATS] = {"mean", "std",  "skew",  "kurtosis",
                                                  "min",  "max",  "median"};
    return (unsigned)stat < AF_N_STATS ? names[stat] : "?";
}

/* Moves the values of x[lo..hi) that are below pivot (or not above it, when
 * or_equal) to its front; returns where they end.  Branch-free: the comparison
 * only decides how far the boundary moves, so random data costs no mispredictions. */
static size_t partition_front(float *x, size_t lo, size_t hi, float pivot, bool or_equal)
{
    size_t j = lo;
    for (size_t i = lo; i < hi; i++) {
        float v = x[i];
        bool front = or_equal ? v <= pivot : v < pivot;
        x[i] = x[j];
        x[j] = v;
        j += front;
    }
    return j;
}

static float median_of_three(float a, float b, float c)
{
    float lo = a < b ? a : b, hi = a < b ? b : a;
    return c < lo ? lo : c > hi ? hi : c;
}

/* Rearranges x so that x[k] holds the k-th smallest value, everything before it
 * is <= x[k] and everything after is >= x[k] (std::nth_element).  Quickselect with
 * a median-of-three pivot and two branch-free passes per step: values below the
 * pivot, then values equal to it (so runs of equal values end the search at once);
 * insertion sort for the last few. */
void af_select_kth(float *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 16) {
        float pivot = median_of_three(x[lo], x[lo + (hi - lo) / 2], x[hi - 1]);
        size_t below = partition_front(x, lo, hi, pivot, false);
        if (k < below) {
            hi = below;
            continue;
        }
        size_t not_above = partition_front(x, below, hi, pivot, true); /* > below: pivot is in x */
        if (k < not_above)
            return; /* x[k] == pivot, smaller values before it, larger after */
        lo = not_above;
    }
    for (size_t i = lo + 1; i < hi; i++) {
        float v = x[i];
        size_t j = i;
        for (; j > lo && x[j - 1] > v; j--)
            x[j] = x[j - 1];
        x[j] = v;
    }
}

double af_median_inplace(float *x, size_t n)
{
    size_t k = n / 2;
    af_select_kth(x, n, k);
    if (n % 2)
        return x[k];
    /* Even count: the lower middle value is the largest of the lower part. */
    float lower = x[0];
    for (size_t i = 1; i < k; i++)
        if (x[i] > lower)
            lower = x[i];
    return ((double)lower + (double)x[k]) / 2.0;
}

/* A value that cannot happen for finite input is replaced by 0 rather than
 * leave this module (see stats.h: we never store NaN/inf). */
static double finite_or_zero(double v)
{
    return isfinite(v) ? v : 0.0;
}

struct first_pass {
    double sum;
    float min, max;
    bool finite;
};

/* Sum, min, max and whether every value is finite (x - x is 0 only then). */
AF_SIMD_CLONES
static struct first_pass first_pass(const float *x, size_t n)
{
    af_v4d sum0 = {0}, sum1 = {0};
    af_v8f mn = af_splat8(x[0]), mx = mn;
    af_v8i finite = (af_v8i){0} == 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        af_v8f v = af_load8(x + i);
        finite &= (v - v) == 0;
        sum0 += af_lo4d(v);
        sum1 += af_hi4d(v);
        mn = af_select8(v < mn, v, mn);
        mx = af_select8(v > mx, v, mx);
    }
    struct first_pass r = {af_hsum4d(sum0 + sum1), mn[0], mx[0], true};
    for (int l = 0; l < 8; l++) {
        r.finite = r.finite && finite[l];
        r.min = mn[l] < r.min ? mn[l] : r.min;
        r.max = mx[l] > r.max ? mx[l] : r.max;
    }
    for (; i < n; i++) {
        r.finite = r.finite && isfinite(x[i]);
        r.sum += x[i];
        r.min = x[i] < r.min ? x[i] : r.min;
        r.max = x[i] > r.max ? x[i] : r.max;
    }
    return r;
}

/* Sums of d, d^2, d^3, d^4 with d = x - shift. */
AF_SIMD_CLONES
static void central_sums(const float *x, size_t n, double shift, double s[4])
{
    af_v4d s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0};
    const af_v4d shift4 = af_splat4d(shift);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        af_v8f v = af_load8(x + i);
        af_v4d d[2] = {af_lo4d(v) - shift4, af_hi4d(v) - shift4};
        for (int h = 0; h < 2; h++) {
            af_v4d d2 = d[h] * d[h];
            s1 += d[h];
            s2 += d2;
            s3 += d2 * d[h];
            s4 += d2 * d2;
        }
    }
    s[0] = af_hsum4d(s1);
    s[1] = af_hsum4d(s2);
    s[2] = af_hsum4d(s3);
    s[3] = af_hsum4d(s4);
    for (; i < n; i++) {
        double d = (double)x[i] - shift, d2 = d * d;
        s[0] += d;
        s[1] += d2;
        s[2] += d2 * d;
        s[3] += d2 * d2;
    }
}

int af_stats_compute(const float *x, size_t n, float *scratch, double out[AF_N_STATS], af_err *err)
{
    if (n == 0)
        return af_err_set(err, "statistics of an empty row");

    struct first_pass p = first_pass(x, n);
    if (!p.finite)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i]))
                return af_err_set(err, "non-finite value %g at index %zu", (double)x[i], i);
    const double count = (double)n;
    const double shift = p.sum / count;

    /* Moments about the first-pass mean; the mean's own rounding error (c) is
     * then removed from them exactly: m_k about (shift + c). */
    double sums[4];
    central_sums(x, n, shift, sums);
    const double s1 = sums[0], s2 = sums[1], s3 = sums[2], s4 = sums[3];
    const double c = s1 / count;
    const double mean = shift + c;
    double m2 = s2 / count - c * c;
    if (m2 < 0)
        m2 = 0;
    const double m3 = s3 / count - 3 * c * s2 / count + 2 * c * c * c;
    const double m4 = s4 / count - 4 * c * s3 / count + 6 * c * c * s2 / count - 3 * c * c * c * c;

    double skew = 0, kurtosis = 0;
    const double constant_limit = CONSTANT_ROW_RESOLUTION * mean;
    if (m2 > constant_limit * constant_limit) {
        skew = m3 / (m2 * sqrt(m2));
        kurtosis = m4 / (m2 * m2) - 3.0;
    }

    memcpy(scratch, x, n * sizeof *scratch);
    out[AF_STAT_MEAN] = finite_or_zero(mean);
    out[AF_STAT_STD] = finite_or_zero(sqrt(m2));
    out[AF_STAT_SKEW] = finite_or_zero(skew);
    out[AF_STAT_KURTOSIS] = finite_or_zero(kurtosis);
    out[AF_STAT_MIN] = p.min;
    out[AF_STAT_MAX] = p.max;
    out[AF_STAT_MEDIAN] = af_median_inplace(scratch, n);
    return 0;
}
