/*
 * test_scaler.c — train/scaler.c: statistics from the chosen rows only,
 * constant features, rejection of non-finite data, and the stored block;
 * the rank-gauss transform: Gaussian output, ties, fitted on the training
 * rows only (test rows poisoned, nothing changes), its block round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/scaler.h"

static void test_fit_and_apply(void **state)
{
    (void)state;
    /* feature 0: 1, 3 (mean 2, population std 1); feature 1 constant 5 */
    float x[] = {1, 5, 3, 5};
    af_scaler sc = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit(&sc, x, 2, 2, &err), 0);
    assert_int_equal(sc.dim, 2);
    assert_float_equal(sc.mean[0], 2.0f, 1e-7f);
    assert_float_equal(sc.std[0], 1.0f, 1e-7f);
    assert_float_equal(sc.mean[1], 5.0f, 1e-7f);
    assert_true(sc.std[1] == 1.0f); /* std 0 -> 1 */
    af_scaler_apply(&sc, x, 2);
    assert_float_equal(x[0], -1.0f, 1e-7f);
    assert_float_equal(x[2], 1.0f, 1e-7f);
    assert_true(x[1] == 0.0f && x[3] == 0.0f);
    af_scaler_free(&sc);
}

static void test_fit_on_training_rows_only(void **state)
{
    (void)state;
    /* rows 0 and 2 are training rows; row 1 (an outlier) must not count */
    const float x[] = {0, 1000, 2};
    const size_t rows[] = {0, 2};
    af_scaler sc = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit_rows(&sc, x, 3, 1, rows, 2, &err), 0);
    assert_float_equal(sc.mean[0], 1.0f, 1e-7f);
    assert_float_equal(sc.std[0], 1.0f, 1e-7f);
    const size_t bad[] = {0, 3};
    assert_int_equal(af_scaler_fit_rows(&sc, x, 3, 1, bad, 2, &err), -1);
    af_scaler_free(&sc);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    float x[] = {1, NAN};
    af_scaler sc = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit(&sc, x, 2, 1, &err), -1);
    assert_int_equal(sc.dim, 0);
    assert_int_equal(af_scaler_fit(&sc, x, 0, 1, &err), -1);
    assert_int_equal(af_scaler_fit(&sc, x, 1, 0, &err), -1);
}

static void test_block_round_trip(void **state)
{
    (void)state;
    float x[] = {1, 2, 3, 4, 5, 9};
    af_scaler sc = {0}, back = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit(&sc, x, 2, 3, &err), 0);
    size_t size = af_scaler_serialised_size(&sc);
    assert_int_equal(size, 4 + 8 * 3);
    uint8_t *buf = malloc(size);
    af_writer w = {buf};
    af_scaler_write(&sc, &w);
    af_reader r;
    af_reader_init(&r, buf, size);
    assert_int_equal(af_scaler_read(&back, &r, 3, &err), 0);
    assert_memory_equal(back.mean, sc.mean, 3 * sizeof(float));
    assert_memory_equal(back.std, sc.std, 3 * sizeof(float));
    af_reader_init(&r, buf, size);
    assert_int_equal(af_scaler_read(&back, &r, 2, &err), -1); /* more features than allowed */
    af_reader_init(&r, buf, size - 1);
    assert_int_equal(af_scaler_read(&back, &r, 3, &err), -1); /* truncated */
    assert_int_equal(back.dim, 0);
    free(buf);
    af_scaler_free(&sc);
    af_scaler_free(&back);
}

/* Serialised bytes of a scaler (malloc'd). */
static uint8_t *block_of(const af_scaler *sc, size_t *size)
{
    *size = af_scaler_serialised_size(sc);
    uint8_t *buf = malloc(*size);
    assert_non_null(buf);
    af_writer w = {buf};
    af_scaler_write(sc, &w);
    return buf;
}

#define RG_N 1000
#define RG_DIM 3

/* feature 0 heavily skewed (exp), 1 constant, 2 three tied levels */
static float *rankgauss_data(size_t extra_rows)
{
    float *x = calloc((RG_N + extra_rows) * RG_DIM, sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < RG_N; i++) {
        int shuffled = (i * 617) % RG_N; /* 617 is prime to 1000: a permutation */
        x[i * RG_DIM + 0] = expf((float)shuffled / 80.0f);
        x[i * RG_DIM + 1] = 7.0f;
        x[i * RG_DIM + 2] = (float)(shuffled % 3);
    }
    return x;
}

static void test_rankgauss_is_gaussian(void **state)
{
    (void)state;
    float *x = rankgauss_data(0);
    af_scaler sc = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit_rankgauss(&sc, x, RG_N, RG_DIM, 64, &err), 0);
    assert_int_equal(sc.n_knots, 64);
    float raw[RG_N * RG_DIM];
    memcpy(raw, x, sizeof raw);
    af_scaler_apply(&sc, x, RG_N);
    double m1 = 0, m2 = 0, m3 = 0, zmax = 0;
    for (int i = 0; i < RG_N; i++) {
        double z = x[i * RG_DIM];
        m1 += z / RG_N;
        m2 += z * z / RG_N;
        m3 += z * z * z / RG_N;
        zmax = fmax(zmax, fabs(z));
        assert_true(x[i * RG_DIM + 1] == 0.0f); /* constant feature: 0, not NaN */
        for (int k = 0; k < RG_N; k++) /* order kept; equal inputs, equal outputs */
            if (raw[k * RG_DIM + 2] == raw[i * RG_DIM + 2])
                assert_true(x[k * RG_DIM + 2] == x[i * RG_DIM + 2]);
            else if (raw[k * RG_DIM] < raw[i * RG_DIM])
                assert_true(x[k * RG_DIM] < x[i * RG_DIM]);
    }
    /* plain z-scores of exp(u) keep a skewness of about 2.4; rank-gauss removes it */
    assert_true(fabs(m1) < 1e-3 && fabs(m2 - 1) < 1e-3);
    assert_true(fabs(m3) < 0.05);
    assert_true(zmax < 3.5);
    float lo = x[2], mid = 0, hi = 0; /* the tied feature: three ordered levels */
    for (int i = 0; i < RG_N; i++) {
        if (raw[i * RG_DIM + 2] == 0.0f) lo = x[i * RG_DIM + 2];
        if (raw[i * RG_DIM + 2] == 1.0f) mid = x[i * RG_DIM + 2];
        if (raw[i * RG_DIM + 2] == 2.0f) hi = x[i * RG_DIM + 2];
    }
    assert_true(lo < mid && mid < hi && fabsf(mid) < 0.01f);
    free(x);
    af_scaler_free(&sc);
}

/* The rows after the first n_rows (a test split) never reach the fit: poisoning
 * them leaves the stored block bit-identical; applied to them it stays bounded. */
static void test_rankgauss_fitted_on_training_rows_only(void **state)
{
    (void)state;
    float *x = rankgauss_data(50);
    af_scaler clean = {0}, poisoned = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit_rankgauss(&clean, x, RG_N, RG_DIM, 128, &err), 0);
    for (int i = RG_N; i < RG_N + 50; i++)
        for (int j = 0; j < RG_DIM; j++)
            x[i * RG_DIM + j] = i % 2 ? 1e30f : -1e30f;
    assert_int_equal(af_scaler_fit_rankgauss(&poisoned, x, RG_N, RG_DIM, 128, &err), 0);
    size_t a_len, b_len;
    uint8_t *a = block_of(&clean, &a_len), *b = block_of(&poisoned, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    af_scaler_apply(&clean, x + RG_N * RG_DIM, 50);
    for (int i = 0; i < 50 * RG_DIM; i++)
        assert_true(isfinite(x[RG_N * RG_DIM + i]) && fabsf(x[RG_N * RG_DIM + i]) < 5.0f);
    free(a);
    free(b);
    free(x);
    af_scaler_free(&clean);
    af_scaler_free(&poisoned);
}

static void test_rankgauss_block_round_trip(void **state)
{
    (void)state;
    float *x = rankgauss_data(0);
    af_scaler sc = {0}, back = {0}, copy = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit_rankgauss(&sc, x, RG_N, RG_DIM, 16, &err), 0);
    size_t size;
    uint8_t *buf = block_of(&sc, &size);
    assert_int_equal(size, 4 + 4 + 8 * RG_DIM + 8 * RG_DIM * 16);
    af_reader r;
    af_reader_init(&r, buf, size);
    assert_int_equal(af_scaler_read(&back, &r, RG_DIM, &err), 0);
    assert_int_equal(back.n_knots, 16);
    assert_int_equal(af_reader_left(&r), 0);
    assert_int_equal(af_scaler_copy(&copy, &back, &err), 0);
    float y1[RG_DIM] = {3.5f, 7.0f, 1.0f}, y2[RG_DIM] = {3.5f, 7.0f, 1.0f};
    af_scaler_apply(&sc, y1, 1);
    af_scaler_apply(&copy, y2, 1);
    assert_memory_equal(y1, y2, sizeof y1);
    af_reader_init(&r, buf, size - 1);
    assert_int_equal(af_scaler_read(&back, &r, RG_DIM, &err), -1); /* truncated */
    /* knots out of order (a corrupt block) are refused */
    float first;
    size_t knot_x0 = 8 + 8 * RG_DIM;
    memcpy(&first, buf + knot_x0, 4);
    first = 1e9f;
    memcpy(buf + knot_x0, &first, 4);
    af_reader_init(&r, buf, size);
    assert_int_equal(af_scaler_read(&back, &r, RG_DIM, &err), -1);
    assert_non_null(strstr(err.msg, "ascending"));
    assert_int_equal(af_scaler_fit_rankgauss(&sc, x, RG_N, RG_DIM, 1, &err), -1);
    free(buf);
    free(x);
    af_scaler_free(&sc);
    af_scaler_free(&back);
    af_scaler_free(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_and_apply),
        cmocka_unit_test(test_fit_on_training_rows_only),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_block_round_trip),
        cmocka_unit_test(test_rankgauss_is_gaussian),
        cmocka_unit_test(test_rankgauss_fitted_on_training_rows_only),
        cmocka_unit_test(test_rankgauss_block_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
