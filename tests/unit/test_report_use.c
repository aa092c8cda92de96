/*
 * test_report_use.c — af_pca2 (train/report_use.c): points along a known direction
 * project onto it (first axis = their offsets, up to sign); the second axis carries
 * the remaining spread; centring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "../../train/report_use.h"

static void test_pca_axes(void **state)
{
    (void)state;
    /* x = t * u + s * w + 5 (u = (1,2,2)/3, w = (2,1,-2)/3 orthonormal), |t| >> |s|. */
    float x[8 * 3];
    double t[8] = {-7, -5, -3, -1, 1, 3, 5, 7}, s[8] = {1, -1, 1, -1, -1, 1, -1, 1};
    double u[3] = {1 / 3.0, 2 / 3.0, 2 / 3.0}, w[3] = {2 / 3.0, 1 / 3.0, -2 / 3.0};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 3; j++)
            x[i * 3 + j] = (float)(t[i] * u[j] + s[i] * w[j] + 5);
    double xy[16];
    af_err err = {0};
    assert_int_equal(af_pca2(x, 8, 3, xy, &err), 0);
    /* Each axis is determined up to its sign. */
    double sign0 = xy[0] * t[0] > 0 ? 1 : -1, sign1 = xy[1] * s[0] > 0 ? 1 : -1;
    for (int i = 0; i < 8; i++) {
        assert_float_equal(xy[i * 2], sign0 * t[i], 1e-4);
        assert_float_equal(xy[i * 2 + 1], sign1 * s[i], 1e-4);
    }
    assert_int_equal(af_pca2(x, 0, 3, xy, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pca_axes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
