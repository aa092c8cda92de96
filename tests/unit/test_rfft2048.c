/*
 * test_rfft2048.c — the double-precision 2048-point real FFT behind the STFT
 * (lib/rfft2048.c) against a direct DFT in long double, and its magnitude
 * path against the plain transform.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "rfft2048.h"

static void direct_dft(const double *x, long double *re, long double *im)
{
    for (int k = 0; k < AF_RFFT_BINS; k++) {
        long double r = 0, i = 0;
        for (int n = 0; n < AF_RFFT_N; n++) {
            long double a = -2.0L * 3.14159265358979323846264338327950288L * (long double)((k * n) % AF_RFFT_N) /
                            AF_RFFT_N;
            r += x[n] * cosl(a);
            i += x[n] * sinl(a);
        }
        re[k] = r;
        im[k] = i;
    }
}

static void test_matches_direct_dft(void **state)
{
    (void)state;
    static struct af_rfft2048 p;
    af_rfft2048_init(&p);
    double *x = aligned_alloc(64, sizeof(double) * AF_RFFT_N);
    double *work = aligned_alloc(64, sizeof(double) * AF_RFFT_WORK_DOUBLES);
    double re[AF_RFFT_BINS], im[AF_RFFT_BINS];
    static long double dre[AF_RFFT_BINS], dim[AF_RFFT_BINS];
    srand(7);
    /* a loud tone plus a very quiet noise floor: the quiet bins must stay accurate */
    for (int n = 0; n < AF_RFFT_N; n++)
        x[n] = sin(0.3 * n) + 1e-9 * ((double)rand() / RAND_MAX - 0.5);
    af_rfft2048(&p, x, work, re, im);
    direct_dft(x, dre, dim);
    double peak = 0, worst = 0;
    for (int k = 0; k < AF_RFFT_BINS; k++) {
        peak = fmax(peak, (double)hypotl(dre[k], dim[k]));
        worst = fmax(worst, (double)hypotl(re[k] - dre[k], im[k] - dim[k]));
    }
    print_message("rfft2048: max error %.3g of the peak\n", worst / peak);
    assert_true(worst / peak < 1e-14);

    /* magnitude path: float frame x double window, float32 magnitude */
    float frame[AF_RFFT_N];
    double w_even[AF_RFFT_N / 2], w_odd[AF_RFFT_N / 2];
    float mag[AF_RFFT_BINS];
    for (int n = 0; n < AF_RFFT_N; n++) {
        frame[n] = (float)sin(0.05 * n);
        double w = 0.5 - 0.5 * cos(2 * M_PI * n / AF_RFFT_N);
        (n % 2 ? w_odd : w_even)[n / 2] = w;
        x[n] = (double)frame[n] * w;
    }
    af_rfft2048(&p, x, work, re, im);
    af_rfft2048_magnitude(&p, frame, w_even, w_odd, work, mag);
    for (int k = 0; k < AF_RFFT_BINS; k++) {
        double expect = hypot((float)re[k], (float)im[k]);
        assert_true(fabs(mag[k] - expect) <= 1e-6 * fabs(expect) + 1e-30);
    }
    free(x);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_direct_dft),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
