/*
 * test_stats.c — window statistics (analysis/stats/stats.c) against values worked out by
 * hand, which are also what scipy.stats / numpy give: mean, np.std (ddof 0),
 * scipy.stats.skew and scipy.stats.kurtosis with their defaults (bias=True,
 * Fisher), np.median.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

#define TOL 1e-12

/* cmocka 1.1's assert_float_equal works in float; these values need double. */
#define assert_close(a, b, tol)                                                          \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        if (!(fabs(a_ - b_) <= (tol)))                                                   \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, (double)(tol)); \
    } while (0)

static void compute(const float *x, size_t n, double out[AF_N_STATS])
{
    float *scratch = malloc(AF_SELECT_SCRATCH_FLOATS(n) * sizeof *scratch);
    af_err err = {0};
    assert_int_equal(af_stats_compute(x, n, scratch, out, &err), 0);
    for (int i = 0; i < AF_N_STATS; i++)
        assert_true(isfinite(out[i]));
    free(scratch);
}

/* [1, 2, 3, 4, 10]: mean 4, deviations -3 -2 -1 0 6, m2 = 10, m3 = 36, m4 = 278.8.
 * scipy.stats.skew = 36 / 10**1.5 = 1.1384199576606167, kurtosis = 2.788 - 3 = -0.212. */
static void test_known_values_odd(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 4, 10};
    double s[AF_N_STATS];
    compute(x, 5, s);
    assert_close(s[AF_STAT_MEAN], 4.0, TOL);
    assert_close(s[AF_STAT_STD], sqrt(10.0), TOL);
    assert_close(s[AF_STAT_SKEW], 1.1384199576606167, TOL);
    assert_close(s[AF_STAT_KURTOSIS], -0.212, TOL);
    assert_close(s[AF_STAT_MIN], 1.0, 0);
    assert_close(s[AF_STAT_MAX], 10.0, 0);
    assert_close(s[AF_STAT_MEDIAN], 3.0, 0);
}

/* [4, 1, 3, 2]: mean 2.5, m2 = 1.25, m3 = 0, m4 = 2.5625: skew 0, kurtosis 1.64 - 3 = -1.36,
 * median (2 + 3) / 2 = 2.5. */
static void test_known_values_even(void **state)
{
    (void)state;
    const float x[] = {4, 1, 3, 2};
    double s[AF_N_STATS];
    compute(x, 4, s);
    assert_close(s[AF_STAT_MEAN], 2.5, TOL);
    assert_close(s[AF_STAT_STD], sqrt(1.25), TOL);
    assert_close(s[AF_STAT_SKEW], 0.0, TOL);
    assert_close(s[AF_STAT_KURTOSIS], -1.36, TOL);
    assert_close(s[AF_STAT_MEDIAN], 2.5, 0);
}

/* Same shape far from zero: a one-pass float computation loses everything here. */
static void test_large_offset(void **state)
{
    (void)state;
    const float x[] = {1e6f + 1, 1e6f + 2, 1e6f + 3, 1e6f + 4, 1e6f + 10};
    double s[AF_N_STATS];
    compute(x, 5, s);
    assert_close(s[AF_STAT_MEAN], 1e6 + 4, 1e-9);
    assert_close(s[AF_STAT_STD], sqrt(10.0), 1e-9);
    assert_close(s[AF_STAT_SKEW], 1.1384199576606167, 1e-9);
    assert_close(s[AF_STAT_KURTOSIS], -0.212, 1e-9);
}

static void test_constant_row_gives_zero_not_nan(void **state)
{
    (void)state;
    const float x[] = {5, 5, 5, 5, 5, 5, 5};
    double s[AF_N_STATS];
    compute(x, 7, s);
    assert_close(s[AF_STAT_MEAN], 5, 0);
    assert_close(s[AF_STAT_STD], 0, 0);
    assert_close(s[AF_STAT_SKEW], 0, 0);
    assert_close(s[AF_STAT_KURTOSIS], 0, 0);
    assert_close(s[AF_STAT_MEDIAN], 5, 0);

    const float zeros[] = {0, 0, 0};
    compute(zeros, 3, s);
    for (int i = 0; i < AF_N_STATS; i++)
        assert_close(s[i], 0, 0);
}

/* scipy calls a float32 row constant when var <= (1e-6 * mean)^2 and returns NaN;
 * we return 0 there, and real values just above it. */
static void test_nearly_constant_row(void **state)
{
    (void)state;
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1000.0f + (i % 2 ? 0.0f : 6.103515625e-05f); /* 1000 and its next float */
    double s[AF_N_STATS];
    compute(x, 64, s);
    assert_true(s[AF_STAT_STD] > 0);
    assert_close(s[AF_STAT_SKEW], 0, 0);
    assert_close(s[AF_STAT_KURTOSIS], 0, 0);

    for (int i = 0; i < 64; i++)
        x[i] = (float)(i % 3);
    compute(x, 64, s);
    assert_true(fabs(s[AF_STAT_SKEW]) > 1e-3 || fabs(s[AF_STAT_KURTOSIS]) > 1e-3);
}

static void test_single_frame(void **state)
{
    (void)state;
    const float x[] = {-3.5f};
    double s[AF_N_STATS];
    compute(x, 1, s);
    assert_close(s[AF_STAT_MEAN], -3.5, 0);
    assert_close(s[AF_STAT_STD], 0, 0);
    assert_close(s[AF_STAT_SKEW], 0, 0);
    assert_close(s[AF_STAT_KURTOSIS], 0, 0);
    assert_close(s[AF_STAT_MIN], -3.5, 0);
    assert_close(s[AF_STAT_MAX], -3.5, 0);
    assert_close(s[AF_STAT_MEDIAN], -3.5, 0);
}

static void test_refuses_empty_and_non_finite(void **state)
{
    (void)state;
    double s[AF_N_STATS];
    float scratch[AF_SELECT_SCRATCH_FLOATS(4)] = {0};
    af_err err = {0};
    assert_int_equal(af_stats_compute(scratch, 0, scratch, s, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));

    const float with_nan[] = {1, 2, NAN, 4};
    assert_int_equal(af_stats_compute(with_nan, 4, scratch, s, &err), -1);
    assert_non_null(strstr(err.msg, "index 2"));

    const float with_inf[] = {INFINITY, 2};
    assert_int_equal(af_stats_compute(with_inf, 2, scratch, s, &err), -1);
    assert_non_null(strstr(err.msg, "index 0"));

    /* inside the vectorised part of a longer row */
    float row[40], scratch40[AF_SELECT_SCRATCH_FLOATS(40)];
    for (int bad = 0; bad < 3; bad++) {
        for (int i = 0; i < 40; i++)
            row[i] = (float)i;
        row[9 + bad * 8] = bad == 0 ? NAN : bad == 1 ? INFINITY : -INFINITY;
        assert_int_equal(af_stats_compute(row, 40, scratch40, s, &err), -1);
        char expected[32];
        snprintf(expected, sizeof expected, "index %d", 9 + bad * 8);
        assert_non_null(strstr(err.msg, expected));
    }
}

static void test_input_not_modified(void **state)
{
    (void)state;
    const float x[] = {9, 1, 8, 2, 7, 3};
    float copy[6], scratch[AF_SELECT_SCRATCH_FLOATS(6)];
    memcpy(copy, x, sizeof x);
    double s[AF_N_STATS];
    af_err err = {0};
    assert_int_equal(af_stats_compute(copy, 6, scratch, s, &err), 0);
    assert_memory_equal(copy, x, sizeof x);
    assert_close(s[AF_STAT_MEDIAN], 5.0, 0);
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double sorted_median(const float *x, size_t n)
{
    float *copy = malloc(n * sizeof *copy);
    memcpy(copy, x, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, compare_float);
    double m = n % 2 ? copy[n / 2] : ((double)copy[n / 2 - 1] + copy[n / 2]) / 2;
    free(copy);
    return m;
}

/* Selection against a full sort: random values, many duplicates, sorted and
 * reversed inputs (the classic quickselect traps), signed zeros; every rank of
 * some inputs, with both partition paths; the input is never modified. */
static void check_selection(const float *x, size_t n, size_t k)
{
    float sorted[301], scratch[AF_SELECT_SCRATCH_FLOATS(301)], before[301];
    memcpy(sorted, x, n * sizeof *x);
    memcpy(before, x, n * sizeof *x);
    qsort(sorted, n, sizeof *sorted, compare_float);
    float below_fast = NAN, below_portable = NAN;
    float fast = af_kth_smallest(x, n, k, scratch, &below_fast);
    float portable = af_kth_smallest_portable(x, n, k, scratch, &below_portable);
    if (fast != sorted[k] || portable != sorted[k])
        fail_msg("n %zu, k %zu: %g (fast), %g (portable), sorting gives %g", n, k, (double)fast, (double)portable,
                 (double)sorted[k]);
    if (k > 0 && (below_fast != sorted[k - 1] || below_portable != sorted[k - 1]))
        fail_msg("n %zu, k %zu: the one below is %g (fast), %g (portable), sorting gives %g", n, k,
                 (double)below_fast, (double)below_portable, (double)sorted[k - 1]);
    assert_memory_equal(x, before, n * sizeof *x);
}

static void test_median_matches_sort(void **state)
{
    (void)state;
    unsigned seed = 12345;
    float x[301];
    float scratch[AF_SELECT_SCRATCH_FLOATS(301)];
    for (size_t n = 1; n <= 301; n++) {
        for (int pattern = 0; pattern < 5; pattern++) {
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                switch (pattern) {
                case 0: x[i] = (float)((seed >> 8) % 100000) / 7.0f; break;
                case 1: x[i] = (float)((seed >> 8) % 3); break;
                case 2: x[i] = (float)i; break;
                case 3: x[i] = (float)(n - i); break;
                default: x[i] = (seed >> 9) % 2 ? 0.0f : -0.0f; break;
                }
            }
            assert_close(af_median(x, n, scratch), sorted_median(x, n), 0);
            if (n % 50 == 1 || n < 40)
                for (size_t k = 0; k < n; k++)
                    check_selection(x, n, k);
            else
                check_selection(x, n, (seed >> 4) % n);
        }
    }
}

/* Mean and central moments (biased) by the textbook sums, in long double. */
static void direct_moments(const float *x, size_t n, double *mean, double *m2, double *m3, double *m4)
{
    long double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    long double mu = sum / n, c2 = 0, c3 = 0, c4 = 0;
    for (size_t i = 0; i < n; i++) {
        long double d = x[i] - mu;
        c2 += d * d / n;
        c3 += d * d * d / n;
        c4 += d * d * d * d / n;
    }
    *mean = (double)mu;
    *m2 = (double)c2;
    *m3 = (double)c3;
    *m4 = (double)c4;
}

/* Against a plain textbook computation on random data. */
static void test_matches_naive_formulas(void **state)
{
    (void)state;
    enum { N = 1000 };
    float x[N];
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        double u = ((seed >> 8) & 0xFFFF) / 65536.0;
        x[i] = (float)(u * u * u * 50.0 - 3.0); /* skewed */
    }
    double mean, m2, m3, m4;
    direct_moments(x, N, &mean, &m2, &m3, &m4);
    double s[AF_N_STATS];
    compute(x, N, s);
    assert_close(s[AF_STAT_MEAN], mean, 1e-9);
    assert_close(s[AF_STAT_STD], sqrt(m2), 1e-9);
    assert_close(s[AF_STAT_SKEW], m3 / pow(m2, 1.5), 1e-9);
    assert_close(s[AF_STAT_KURTOSIS], m4 / (m2 * m2) - 3, 1e-9);
    assert_true(s[AF_STAT_SKEW] > 0.5);
}

/* Long rows (the vectorised passes) against plain long double sums. */
static void test_long_rows_match_direct_sums(void **state)
{
    (void)state;
    enum { N = 1293 };
    static float x[N], scratch[AF_SELECT_SCRATCH_FLOATS(N)];
    srand(5);
    for (size_t n = 1; n <= N; n = n * 3 + 1) {
        for (size_t i = 0; i < n; i++) /* skewed, with an offset: the moments' hard case */
            x[i] = 1000.0f + (float)pow((double)rand() / RAND_MAX, 3.0) * 50.0f;
        float mn = x[0], mx = x[0];
        for (size_t i = 0; i < n; i++) {
            mn = fminf(mn, x[i]);
            mx = fmaxf(mx, x[i]);
        }
        double mean, m2, m3, m4;
        direct_moments(x, n, &mean, &m2, &m3, &m4);
        double s[AF_N_STATS];
        af_err err = {0};
        assert_int_equal(af_stats_compute(x, n, scratch, s, &err), 0);
        assert_close(s[AF_STAT_MEAN], mean, 1e-12 * mean);
        assert_close(s[AF_STAT_STD], sqrt(m2), 1e-9 * sqrt(m2));
        assert_close(s[AF_STAT_MIN], mn, 0);
        assert_close(s[AF_STAT_MAX], mx, 0);
        if (n > 2) {
            assert_close(s[AF_STAT_SKEW], m3 / (m2 * sqrt(m2)), 1e-7);
            assert_close(s[AF_STAT_KURTOSIS], m4 / (m2 * m2) - 3, 1e-7);
        }
    }
}

static void test_stat_names(void **state)
{
    (void)state;
    assert_string_equal(af_stat_name(AF_STAT_MEAN), "mean");
    assert_string_equal(af_stat_name(AF_STAT_STD), "std");
    assert_string_equal(af_stat_name(AF_STAT_SKEW), "skew");
    assert_string_equal(af_stat_name(AF_STAT_KURTOSIS), "kurtosis");
    assert_string_equal(af_stat_name(AF_STAT_MIN), "min");
    assert_string_equal(af_stat_name(AF_STAT_MAX), "max");
    assert_string_equal(af_stat_name(AF_STAT_MEDIAN), "median");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values_odd),
        cmocka_unit_test(test_known_values_even),
        cmocka_unit_test(test_large_offset),
        cmocka_unit_test(test_constant_row_gives_zero_not_nan),
        cmocka_unit_test(test_nearly_constant_row),
        cmocka_unit_test(test_single_frame),
        cmocka_unit_test(test_refuses_empty_and_non_finite),
        cmocka_unit_test(test_input_not_modified),
        cmocka_unit_test(test_median_matches_sort),
        cmocka_unit_test(test_matches_naive_formulas),
        cmocka_unit_test(test_long_rows_match_direct_sums),
        cmocka_unit_test(test_stat_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
