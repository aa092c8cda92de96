/*
 * test_report_spectro.c — af-report's per-genre pictures (train/report_spectro.c,
 * train/report_image.c): the data: URI is the BMP in base64; the BMP's header, palette
 * and bottom-up padded rows; a 1 kHz tone's spectrogram is brightest in the mel band
 * of 1 kHz (Slaney mel: linear below 1 kHz) in every column, the columns cover the
 * whole excerpt, and silence-free noise spreads over the bands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "../../train/report_image.h"
#include "../../train/report_spectro.h"

static void test_data_uri(void **state)
{
    (void)state;
    const uint8_t px[2] = {0, 255};
    size_t len;
    uint8_t *b = af_bmp8(px, 2, 1, &len);
    assert_non_null(b);
    char want[2048] = "data:image/bmp;base64,";
    assert_int_equal(af_base64_encode(b, len, want + strlen(want), sizeof want - strlen(want)), 0);
    free(b);
    af_sb sb = {0};
    af_bmp8_data_uri(px, 2, 1, &sb);
    assert_true(af_sb_ok(&sb));
    assert_string_equal(af_sb_str(&sb), want);
    assert_memory_equal(af_sb_str(&sb) + 22, "Qk0", 3); /* "BM" */
    af_sb_free(&sb);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_bmp(void **state)
{
    (void)state;
    const uint8_t px[3 * 2] = {0, 1, 2, 253, 254, 255}; /* w 3 (rows padded to 4), h 2 */
    size_t len;
    uint8_t *b = af_bmp8(px, 3, 2, &len);
    assert_non_null(b);
    assert_int_equal(len, 14 + 40 + 1024 + 4 * 2);
    assert_memory_equal(b, "BM", 2);
    assert_int_equal(le32(b + 2), len);
    assert_int_equal(le32(b + 10), 14 + 40 + 1024);
    assert_int_equal(le32(b + 18), 3);
    assert_int_equal(le32(b + 22), 2);
    assert_int_equal(b[28], 8);
    /* palette: index 0 is viridis' dark purple (68, 1, 84), stored B G R 0 */
    assert_int_equal(b[54], 84);
    assert_int_equal(b[55], 1);
    assert_int_equal(b[56], 68);
    assert_int_equal(b[54 + 4 * 255 + 2], 253);
    const uint8_t *rows = b + 54 + 1024;
    assert_memory_equal(rows, px, 3);
    assert_int_equal(rows[3], 0); /* padding */
    assert_memory_equal(rows + 4, px + 3, 3);
    free(b);
    char colour[8];
    af_ramp_colour(255, colour);
    assert_string_equal(colour, "#fde725");
}

static int brightest_band(const struct af_spectro *s, int col)
{
    int best = 0;
    for (int b = 1; b < 128; b++)
        if (s->mel[(size_t)b * (size_t)s->cols + (size_t)col] >
            s->mel[(size_t)best * (size_t)s->cols + (size_t)col])
            best = b;
    return best;
}

static void test_tone(void **state)
{
    (void)state;
    const size_t n = 22050 * 10;
    float *y = malloc(n * sizeof *y);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++)
        y[i] = 0.5f * sinf((float)(2 * M_PI * 1000.0 * (double)i / 22050.0));
    struct af_spectro s;
    af_err err = {0};
    assert_int_equal(af_spectro_compute(y, n, &s, &err), 0);
    /* 10 s = 431 frames, grouped by 2 into 216 columns */
    assert_int_equal(s.cols, 216);
    assert_float_equal(s.seconds, 10.0, 1e-9);
    /* 128 bands evenly spaced in mel from 0 to mel(11025): band b's centre is point b + 1 */
    double step = af_hz_to_mel_slaney(11025) / 129;
    int want = (int)lround(af_hz_to_mel_slaney(1000) / step) - 1;
    for (int c = 1; c < s.cols - 1; c++)
        assert_true(abs(brightest_band(&s, c) - want) <= 1);
    /* the brightest cell is the top of the scale, far bands are at the bottom */
    assert_int_equal(s.mel[(size_t)brightest_band(&s, 50) * (size_t)s.cols + 50], 255);
    assert_int_equal(s.mel[(size_t)127 * (size_t)s.cols + 50], 0);
    af_spectro_free(&s);
    assert_float_equal(af_hz_to_mel_slaney(1000), 15.0, 1e-12);
    assert_int_equal(af_spectro_compute(y, 0, &s, &err), -1);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_data_uri), cmocka_unit_test(test_bmp),
                                       cmocka_unit_test(test_tone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
