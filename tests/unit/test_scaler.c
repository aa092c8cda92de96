/*
 * test_scaler.c — train/scaler.c: statistics from the chosen rows only,
 * constant features, rejection of non-finite data, and the stored block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_and_apply),
        cmocka_unit_test(test_fit_on_training_rows_only),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_block_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
