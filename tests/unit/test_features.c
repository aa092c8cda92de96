/*
 * test_features.c — feature set v1 (analysis/featureset/feature_vectors.c): names, windowing
 * arithmetic, parameter JSON, and vectors computed from hand-built frame
 * features (no audio, no frames.c: the frame features are the input here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "featureset/feature_vectors.h"

#define assert_close(a, b, tol)                                                          \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        if (!(fabs(a_ - b_) <= (tol)))                                                   \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_, (double)(tol)); \
    } while (0)

/* n_frames of an excerpt of the given length, as frames.h defines it. */
static size_t frames_of_seconds(double seconds)
{
    size_t samples = (size_t)llround(seconds * AF_SAMPLE_RATE);
    return 1 + samples / AF_HOP;
}

/* ---------------------------------------------------------------------------
 * Hand-built frame features. */

struct fake_frames {
    struct af_frame_features f;
};

static struct af_frame_features *fake_new(size_t n_frames)
{
    struct af_frame_features *f = calloc(1, sizeof *f);
    f->n_frames = n_frames;
    f->data = calloc((size_t)AF_FRAME_DIMS * n_frames, sizeof *f->data);
    f->harmonic_energy = calloc(n_frames, sizeof *f->harmonic_energy);
    f->percussive_energy = calloc(n_frames, sizeof *f->percussive_energy);
    f->tempo = 120.0;
    return f;
}

static void fake_free(struct af_frame_features *f)
{
    free(f->data);
    free(f->harmonic_energy);
    free(f->percussive_energy);
    free(f);
}

static float *row(struct af_frame_features *f, int r)
{
    return f->data + (size_t)r * f->n_frames;
}

/* Every row r holds r + (t % 4): mean r + 1.5 over whole cycles. RMS alternates
 * 1, 3; harmonic energy 3, percussive 1 per frame. */
static struct af_frame_features *patterned(size_t n_frames)
{
    struct af_frame_features *f = fake_new(n_frames);
    for (int r = 0; r < AF_FRAME_DIMS; r++)
        for (size_t t = 0; t < n_frames; t++)
            row(f, r)[t] = (float)r + (float)(t % 4);
    for (size_t t = 0; t < n_frames; t++) {
        row(f, AF_ROW_RMS)[t] = t % 2 ? 3.0f : 1.0f;
        f->harmonic_energy[t] = 3.0f;
        f->percussive_energy[t] = 1.0f;
    }
    return f;
}

static const struct af_feature_params *v1(void)
{
    static struct af_feature_params p;
    af_feature_params_init(&p);
    return &p;
}

/* ---------------------------------------------------------------------------
 * Names. */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t index_of(const char *name)
{
    size_t n;
    const char *const *names = af_feature_names(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    fail_msg("no feature named %s", name);
    return 0;
}

static void test_names_count_and_unique(void **state)
{
    (void)state;
    size_t n = 0;
    const char *const *names = af_feature_names(&n);
    assert_int_equal(n, 326);
    assert_int_equal(AF_N_FEATURES, 326);
    const char *sorted[AF_N_FEATURES];
    memcpy(sorted, names, sizeof sorted);
    qsort(sorted, n, sizeof *sorted, compare_strings);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            fail_msg("duplicate feature name %s", sorted[i]);
    for (size_t i = 0; i < n; i++) /* safe as column names: lower-case, digits, '_' */
        for (const char *c = names[i]; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
}

static void test_names_at_indices(void **state)
{
    (void)state;
    const char *const *names = af_feature_names(NULL);
    assert_string_equal(names[0], "mfcc01_mean");
    assert_string_equal(names[1], "mfcc01_std");
    assert_string_equal(names[2], "mfcc01_skew");
    assert_string_equal(names[3], "mfcc01_kurtosis");
    assert_string_equal(names[4], "mfcc01_min");
    assert_string_equal(names[5], "mfcc01_max");
    assert_string_equal(names[6], "mfcc01_median");
    assert_string_equal(names[2 * 7 + 3], "mfcc03_kurtosis");
    assert_string_equal(names[19 * 7], "mfcc20_mean");
    assert_string_equal(names[AF_ROW_CENTROID * 7], "centroid_mean");
    assert_string_equal(names[AF_ROW_BANDWIDTH * 7 + 1], "bandwidth_std");
    assert_string_equal(names[AF_ROW_ROLLOFF * 7], "rolloff_mean");
    assert_string_equal(names[AF_ROW_FLATNESS * 7], "flatness_mean");
    assert_string_equal(names[AF_ROW_CONTRAST * 7], "contrast01_mean");
    assert_string_equal(names[(AF_ROW_CONTRAST + 6) * 7 + 6], "contrast07_median");
    assert_string_equal(names[AF_ROW_ZCR * 7], "zcr_mean");
    assert_string_equal(names[AF_ROW_RMS * 7 + 5], "rms_max");
    assert_string_equal(names[AF_ROW_CHROMA * 7], "chroma01_mean");
    assert_string_equal(names[(AF_ROW_CHROMA + 6) * 7], "chroma07_mean");
    assert_string_equal(names[(AF_ROW_CHROMA + 11) * 7 + 6], "chroma12_median");
    assert_string_equal(names[321], "onset_median");
    assert_string_equal(names[322], "tempo");
    assert_string_equal(names[323], "rms_above_mean_fraction");
    assert_string_equal(names[324], "rms_jump_rate");
    assert_string_equal(names[325], "harmonic_share");
    assert_int_equal(index_of("mfcc03_kurtosis"), 17);
    assert_int_equal(index_of("chroma07_mean"), 273);
    assert_string_equal(af_frame_row_name(AF_ROW_MFCC), "mfcc01");
    assert_string_equal(af_frame_row_name(AF_ROW_CHROMA), "chroma01");
    assert_string_equal(af_frame_row_name(AF_ROW_ONSET), "onset");
    assert_string_equal(af_frame_row_name(46), "?");
}

/* ---------------------------------------------------------------------------
 * Windowing. */

static void test_window_counts(void **state)
{
    (void)state;
    const struct af_feature_params *p = v1();
    assert_int_equal(frames_of_seconds(30.0), 1292);
    assert_int_equal(af_window_count(frames_of_seconds(30.0), p), 10);
    assert_int_equal(af_window_count(frames_of_seconds(31.5), p), 11); /* final 1.5 s kept */
    assert_int_equal(af_window_count(frames_of_seconds(31.4), p), 10); /* final 1.4 s dropped */
    assert_int_equal(af_window_count(frames_of_seconds(3.0), p), 1);
    assert_int_equal(af_window_count(frames_of_seconds(4.5), p), 2);
    assert_int_equal(af_window_count(frames_of_seconds(4.4), p), 1);
    /* Shorter than half a window: still one window, of every frame. */
    assert_int_equal(af_window_count(frames_of_seconds(1.0), p), 1);
    assert_int_equal(af_window_count(1, p), 1);

    struct af_feature_params overlap = *p;
    overlap.hop_seconds = 1.5;
    /* Starts 0, 1.5, ..., 27 s are full windows; the one at 28.5 s covers the last
     * 1.5 s, half a window: kept. */
    assert_int_equal(af_window_count(frames_of_seconds(30.0), &overlap), 20);
    assert_int_equal(af_window_count(frames_of_seconds(29.9), &overlap), 19);
}

static void test_window_frames(void **state)
{
    (void)state;
    const struct af_feature_params *p = v1();
    const size_t n = frames_of_seconds(30.0);
    size_t first, end;
    /* 3 s = 66150 samples; frame t is centred on sample 512 t. */
    af_window_frames(0, n, p, &first, &end);
    assert_int_equal(first, 0);
    assert_int_equal(end, 130); /* 129 * 512 = 66048 < 66150 <= 130 * 512 */
    af_window_frames(1, n, p, &first, &end);
    assert_int_equal(first, 130);
    assert_int_equal(end, 259); /* 258 * 512 = 132096 < 132300 */
    af_window_frames(9, n, p, &first, &end);
    assert_int_equal(first, 1163);
    assert_int_equal(end, 1292);

    /* Adjacent windows tile the frames exactly: no frame twice, none left out. */
    size_t previous_end = 0;
    for (size_t w = 0; w < af_window_count(n, p); w++) {
        af_window_frames(w, n, p, &first, &end);
        assert_int_equal(first, previous_end);
        assert_true(end - first == 129 || end - first == 130);
        previous_end = end;
    }
    assert_int_equal(previous_end, n);

    af_window_frames(0, 10, p, &first, &end); /* a short excerpt */
    assert_int_equal(first, 0);
    assert_int_equal(end, 10);
}

/* ---------------------------------------------------------------------------
 * Parameters. */

static void test_params_json_is_canonical(void **state)
{
    (void)state;
    af_err err = {0};
    char *a = af_feature_params_json(v1(), &err);
    char *b = af_feature_params_json(v1(), &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    /* Pinned: a change here changes what the database compares against. */
    assert_string_equal(
        a, "{\"definition\":\"v1\",\"excerpt\":\"central\",\"excerpt_seconds\":30.0,"
           "\"hop_length\":512,\"hop_seconds\":3.0,\"hpss_kernel\":31,\"min_partial_window\":0.5,"
           "\"mono\":\"mean\",\"n_chroma\":12,\"n_contrast\":7,\"n_features\":326,\"n_fft\":2048,"
           "\"n_mels\":128,\"n_mfcc\":20,\"reference\":\"librosa 0.10.1\",\"resampler\":\"soxr_hq\","
           "\"rms_jump_factor\":0.5,\"sample_rate\":22050,\"silent_harmonic_share\":0.5,"
           "\"stats\":[\"mean\",\"std\",\"skew\",\"kurtosis\",\"min\",\"max\",\"median\"],"
           "\"window_seconds\":3.0}");

    struct af_feature_params changed = *v1();
    changed.hop_seconds = 1.5;
    char *c = af_feature_params_json(&changed, &err);
    assert_non_null(c);
    assert_string_not_equal(a, c);
    assert_non_null(strstr(c, "\"hop_seconds\":1.5"));

    changed.hop_seconds = 0.1; /* printed short, not as 0.10000000000000001 */
    char *d = af_feature_params_json(&changed, &err);
    assert_non_null(strstr(d, "\"hop_seconds\":0.1,"));
    free(a);
    free(b);
    free(c);
    free(d);
}

static void test_params_refused(void **state)
{
    (void)state;
    af_err err = {0};
    struct af_feature_params p = *v1();
    assert_int_equal(af_feature_params_check(&p, &err), 0);

    p.window_seconds = 0;
    assert_int_equal(af_feature_params_check(&p, &err), -1);
    assert_non_null(strstr(err.msg, "window length"));
    assert_null(af_feature_params_json(&p, &err));

    p = *v1();
    p.hop_seconds = NAN;
    assert_int_equal(af_feature_params_check(&p, &err), -1);
    p = *v1();
    p.excerpt_seconds = -1;
    assert_int_equal(af_feature_params_check(&p, &err), -1);
    p = *v1();
    p.n_mfcc = 13;
    assert_int_equal(af_feature_params_check(&p, &err), -1);
    assert_non_null(strstr(err.msg, "fixed"));
    /* Any identifier names a set (it becomes part of view names); nothing else does. */
    p = *v1();
    strcpy(p.name, "short_windows2");
    assert_int_equal(af_feature_params_check(&p, &err), 0);
    static const char *bad_names[] = {"V1", "2x", "a-b", "a b", "", "x;drop"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        strcpy(p.name, bad_names[i]);
        assert_int_equal(af_feature_params_check(&p, &err), -1);
        assert_non_null(strstr(err.msg, "must start with a lower-case letter"));
    }
}

/* ---------------------------------------------------------------------------
 * Vectors. */

static void assert_all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            fail_msg("value %zu (%s) is %g", i, af_feature_names(NULL)[i % AF_N_FEATURES],
                     (double)v[i]);
}

static void test_window_vectors(void **state)
{
    (void)state;
    struct af_frame_features *f = patterned(frames_of_seconds(30.0));
    struct af_feature_matrix m;
    af_err err = {0};
    assert_int_equal(af_features_windows(f, v1(), &m, &err), 0);
    assert_int_equal(m.rows, 10);
    assert_all_finite(m.data, m.rows * AF_N_FEATURES);

    /* Window 1 = frames 130..258: 129 frames of r + (t % 4), t % 4 = 2,3,0,1,2,... */
    const float *w1 = m.data + 1 * AF_N_FEATURES;
    const int r = AF_ROW_CENTROID;
    float values[129];
    for (int i = 0; i < 129; i++)
        values[i] = (float)r + (float)((130 + i) % 4);
    double expected[AF_N_STATS];
    float scratch[AF_SELECT_SCRATCH_FLOATS(129)];
    assert_int_equal(af_stats_compute(values, 129, scratch, expected, &err), 0);
    for (int s = 0; s < AF_N_STATS; s++)
        assert_close(w1[r * AF_N_STATS + s], (float)expected[s], 0);
    assert_close(w1[r * AF_N_STATS + AF_STAT_MIN], r, 0);
    assert_close(w1[r * AF_N_STATS + AF_STAT_MAX], r + 3, 0);
    assert_close(w1[r * AF_N_STATS + AF_STAT_MEDIAN], r + 2, 0);

    for (size_t w = 0; w < m.rows; w++) {
        const float *v = m.data + w * AF_N_FEATURES;
        assert_close(v[AF_FEATURE_TEMPO], 120.0, 0);
        assert_close(v[AF_FEATURE_HARMONIC_SHARE], 0.75, 1e-7);
        assert_close(v[AF_FEATURE_RMS_JUMP_RATE], 1.0, 0); /* |3 - 1| = 2 > 0.5 * 2 */
        /* Half the frames are 3 > mean 2 (129-frame windows: 64 or 65 of them). */
        size_t first, end;
        af_window_frames(w, f->n_frames, v1(), &first, &end);
        size_t threes = 0;
        for (size_t t = first; t < end; t++)
            threes += t % 2;
        double mean = (3.0 * threes + 1.0 * (end - first - threes)) / (end - first);
        assert_close(v[AF_FEATURE_RMS_ABOVE_MEAN_FRACTION], (double)threes / (end - first), 1e-7);
        assert_close(v[AF_ROW_RMS * AF_N_STATS + AF_STAT_MEAN], mean, 1e-6);
    }
    af_feature_matrix_free(&m);
    assert_null(m.data);
    fake_free(f);
}

static void test_track_vector(void **state)
{
    (void)state;
    struct af_frame_features *f = patterned(1000);
    float v[AF_N_FEATURES];
    af_err err = {0};
    assert_int_equal(af_features_track(f, v, &err), 0);
    assert_all_finite(v, AF_N_FEATURES);
    /* 1000 frames = 250 whole cycles of 0,1,2,3: mean 1.5, std sqrt(1.25), skew 0,
     * kurtosis -1.36, median 1.5. */
    for (int r = 0; r < AF_FRAME_DIMS; r++) {
        if (r == AF_ROW_RMS)
            continue;
        const float *s = v + r * AF_N_STATS;
        assert_close(s[AF_STAT_MEAN], r + 1.5, 1e-5);
        assert_close(s[AF_STAT_STD], sqrt(1.25), 1e-6);
        assert_close(s[AF_STAT_SKEW], 0, 1e-6);
        assert_close(s[AF_STAT_KURTOSIS], -1.36, 1e-6);
        assert_close(s[AF_STAT_MEDIAN], r + 1.5, 0);
    }
    assert_close(v[AF_FEATURE_RMS_ABOVE_MEAN_FRACTION], 0.5, 0);
    assert_close(v[AF_FEATURE_RMS_JUMP_RATE], 1.0, 0);
    assert_close(v[AF_FEATURE_HARMONIC_SHARE], 0.75, 1e-7);
    fake_free(f);
}

/* Digital silence: every row constant (0), no energy. Documented values, no NaN. */
static void test_silence_has_documented_values(void **state)
{
    (void)state;
    struct af_frame_features *f = fake_new(frames_of_seconds(6.0));
    f->tempo = 0;
    struct af_feature_matrix m;
    af_err err = {0};
    assert_int_equal(af_features_windows(f, v1(), &m, &err), 0);
    assert_int_equal(m.rows, 2);
    assert_all_finite(m.data, m.rows * AF_N_FEATURES);
    for (size_t w = 0; w < m.rows; w++) {
        const float *v = m.data + w * AF_N_FEATURES;
        for (int i = 0; i < AF_N_ROW_FEATURES; i++)
            assert_close(v[i], 0, 0);
        assert_close(v[AF_FEATURE_RMS_ABOVE_MEAN_FRACTION], 0, 0);
        assert_close(v[AF_FEATURE_RMS_JUMP_RATE], 0, 0);
        assert_close(v[AF_FEATURE_HARMONIC_SHARE], 0.5, 0);
    }
    af_feature_matrix_free(&m);
    fake_free(f);
}

static void test_jump_threshold(void **state)
{
    (void)state;
    /* RMS 1, 1, 1.4, 1.4, 2.4 (mean 1.44): |deltas| 0, 0.4, 0, 1.0 -> one jump above 0.72. */
    struct af_frame_features *f = fake_new(5);
    const float rms[] = {1.0f, 1.0f, 1.4f, 1.4f, 2.4f};
    memcpy(row(f, AF_ROW_RMS), rms, sizeof rms);
    f->harmonic_energy[0] = 1.0f;
    float v[AF_N_FEATURES];
    af_err err = {0};
    assert_int_equal(af_features_track(f, v, &err), 0);
    assert_close(v[AF_FEATURE_RMS_JUMP_RATE], 0.25, 0);
    assert_close(v[AF_FEATURE_RMS_ABOVE_MEAN_FRACTION], 0.2, 1e-7); /* only 2.4 > 1.44 */
    assert_close(v[AF_FEATURE_HARMONIC_SHARE], 1.0, 0);
    fake_free(f);
}

static void test_single_frame_excerpt(void **state)
{
    (void)state;
    struct af_frame_features *f = patterned(1);
    struct af_feature_matrix m;
    af_err err = {0};
    assert_int_equal(af_features_windows(f, v1(), &m, &err), 0);
    assert_int_equal(m.rows, 1);
    assert_all_finite(m.data, AF_N_FEATURES);
    assert_close(m.data[AF_FEATURE_RMS_JUMP_RATE], 0, 0);
    assert_close(m.data[AF_ROW_MFCC * AF_N_STATS + AF_STAT_STD], 0, 0);
    af_feature_matrix_free(&m);
    fake_free(f);
}

static void test_refuses_non_finite_frames(void **state)
{
    (void)state;
    struct af_frame_features *f = patterned(300);
    row(f, AF_ROW_MFCC + 2)[150] = NAN;
    struct af_feature_matrix m;
    af_err err = {0};
    assert_int_equal(af_features_windows(f, v1(), &m, &err), -1);
    assert_null(m.data);
    assert_non_null(strstr(err.msg, "mfcc03"));
    float v[AF_N_FEATURES];
    assert_int_equal(af_features_track(f, v, &err), -1);
    assert_non_null(strstr(err.msg, "non-finite"));

    row(f, AF_ROW_MFCC + 2)[150] = 0;
    f->percussive_energy[7] = INFINITY;
    assert_int_equal(af_features_track(f, v, &err), -1);
    assert_non_null(strstr(err.msg, "frame 7"));

    f->percussive_energy[7] = 0;
    f->tempo = NAN;
    assert_int_equal(af_features_track(f, v, &err), -1);
    assert_non_null(strstr(err.msg, "tempo"));
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_count_and_unique),
        cmocka_unit_test(test_names_at_indices),
        cmocka_unit_test(test_window_counts),
        cmocka_unit_test(test_window_frames),
        cmocka_unit_test(test_params_json_is_canonical),
        cmocka_unit_test(test_params_refused),
        cmocka_unit_test(test_window_vectors),
        cmocka_unit_test(test_track_vector),
        cmocka_unit_test(test_silence_has_documented_values),
        cmocka_unit_test(test_jump_threshold),
        cmocka_unit_test(test_single_frame_excerpt),
        cmocka_unit_test(test_refuses_non_finite_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
