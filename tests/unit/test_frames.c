/*
 * test_frames.c — frame-level features (analysis/frames.h and the modules behind
 * it) against librosa 0.10.1's own outputs for the synthetic signals in
 * tests/data/librosa/synth, plus analytic cases (sines, silence, DC,
 * clipping), input validation, HPSS against its slow reference, threads and
 * workspace reuse.
 *
 * Tolerances (see tests/data/librosa/README.md and the reference README):
 * every feature within 1e-4 of librosa relative to the array's maximum,
 * rolloff may move by one bin on a few frames, tuning within one 0.01 step,
 * tempo exactly equal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "descriptors/spectral.h"
#include "frames.h"
#include "hpss/hpss.h"
#include "rhythm/onset.h"
#include "rhythm/tempo.h"
#include "spectral/chroma.h"
#include "spectral/mel.h"
#include "spectral/mfcc.h"
#include "spectral/stft.h"
#include "testdata.h"

#define TOLERANCE 1e-4

static struct af_frame_ctx *ctx;
static struct af_frame_workspace *ws;

static int setup(void **state)
{
    (void)state;
    af_err err = {0};
    ctx = af_frame_ctx_new(&err);
    if (!ctx) {
        print_error("af_frame_ctx_new: %s\n", err.msg);
        return -1;
    }
    ws = af_frame_workspace_new(ctx, &err);
    if (!ws) {
        print_error("af_frame_workspace_new: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    af_frame_workspace_free(ws);
    af_frame_ctx_free(ctx);
    return 0;
}

static const float *row(const struct af_frame_features *f, int r)
{
    return f->data + (size_t)r * f->n_frames;
}

/* Every output value finite. */
static void assert_all_finite(const struct af_frame_features *f)
{
    for (size_t i = 0; i < (size_t)AF_FRAME_DIMS * f->n_frames; i++)
        if (!isfinite(f->data[i]))
            fail_msg("row %zu frame %zu is %g", i / f->n_frames, i % f->n_frames, (double)f->data[i]);
    for (size_t t = 0; t < f->n_frames; t++) {
        assert_true(isfinite(f->harmonic_energy[t]) && f->harmonic_energy[t] >= 0.0f);
        assert_true(isfinite(f->percussive_energy[t]) && f->percussive_energy[t] >= 0.0f);
    }
    assert_true(isfinite(f->tempo) && f->tempo > 0.0);
    assert_true(isfinite(f->tuning) && fabsf(f->tuning) <= 0.5f);
}

static void compute(const float *y, size_t n, struct af_frame_features *f)
{
    af_err err = {0};
    if (af_frames_compute(ctx, ws, y, n, f, &err))
        fail_msg("af_frames_compute: %s", err.msg);
    assert_int_equal(f->n_frames, 1 + n / AF_HOP);
    assert_all_finite(f);
}

/* ---- librosa's filterbank ---- */

static void test_mel_filterbank_equals_librosa(void **state)
{
    (void)state;
    struct npy_array ref;
    assert_int_equal(npy_load(AF_PROJECT_DIR "/tests/data/librosa/mel_basis_sr22050_nfft2048.npy", &ref), 0);
    assert_int_equal(ref.count, AF_N_MELS * AF_N_BINS);
    struct af_mel mel;
    af_err err = {0};
    assert_int_equal(af_mel_init(&mel, &err), 0);
    float *dense = malloc(sizeof(float) * AF_N_MELS * AF_N_BINS);
    af_mel_dense(&mel, dense);
    double err_rel = relative_error(dense, ref.data, ref.count);
    print_message("mel filterbank: max rel error %.3g\n", err_rel);
    assert_true(err_rel <= 1e-6);
    free(dense);
    af_mel_destroy(&mel);
    npy_free(&ref);
}

/* ---- synthetic signals against librosa ---- */

struct feature_ref {
    const char *name;
    int row;
    int rows;
};

static const struct feature_ref features[] = {
    {"mfcc", AF_ROW_MFCC, 20},
    {"spectral_centroid", AF_ROW_CENTROID, 1},
    {"spectral_bandwidth", AF_ROW_BANDWIDTH, 1},
    {"spectral_flatness", AF_ROW_FLATNESS, 1},
    {"spectral_contrast", AF_ROW_CONTRAST, 7},
    {"zero_crossing_rate", AF_ROW_ZCR, 1},
    {"rms", AF_ROW_RMS, 1},
    {"onset_strength", AF_ROW_ONSET, 1},
};

static float *load_signal(const char *signal, size_t *n)
{
    char path[512];
    unsigned sr = 0;
    snprintf(path, sizeof path, "%s/%s.wav", SYNTH_DIR, signal);
    float *y = wav_load_mono16(path, n, &sr);
    if (!y)
        fail_msg("cannot read %s", path);
    assert_int_equal(sr, AF_SAMPLE_RATE);
    return y;
}

/* synth/meta.json holds every signal; each clip has its own clips/<clip>/meta.json. */
static double meta_number(const char *signal, const char *key)
{
    json_error_t jerr;
    char path[512];
    int per_clip = strcmp(reference_root, SYNTH_DIR) != 0;
    if (per_clip)
        snprintf(path, sizeof path, "%s/%s/meta.json", reference_root, signal);
    else
        snprintf(path, sizeof path, "%s/meta.json", reference_root);
    json_t *meta = json_load_file(path, 0, &jerr);
    if (!meta)
        fail_msg("%s: %s", path, jerr.text);
    json_t *v = json_object_get(per_clip ? meta : json_object_get(meta, signal), key);
    assert_non_null(v);
    double x = json_number_value(v);
    json_decref(meta);
    return x;
}

static void check_feature(const char *signal, const struct af_frame_features *f, const struct feature_ref *fr)
{
    struct npy_array ref;
    if (load_reference(signal, fr->name, &ref))
        fail_msg("cannot read reference %s/%s", signal, fr->name);
    assert_int_equal(ref.count, (size_t)fr->rows * f->n_frames);
    double e = relative_error(row(f, fr->row), ref.data, ref.count);
    print_message("%-8s %-20s max rel error %.3g\n", signal, fr->name, e);
    if (!(e <= TOLERANCE))
        fail_msg("%s %s: relative error %.3g > %g", signal, fr->name, e, TOLERANCE);
    npy_free(&ref);
}

/* Rolloff is a bin frequency: equal, or one bin (10.77 Hz) away on a few frames. */
static void check_rolloff(const char *signal, const struct af_frame_features *f)
{
    struct npy_array ref;
    assert_int_equal(load_reference(signal, "spectral_rolloff", &ref), 0);
    size_t moved = 0;
    for (size_t t = 0; t < f->n_frames; t++) {
        double d = fabs(row(f, AF_ROW_ROLLOFF)[t] - ref.data[t]);
        if (d > 1e-3) {
            moved++;
            assert_true(d < 10.8);
        }
    }
    print_message("%-8s %-20s %zu of %zu frames one bin away\n", signal, "spectral_rolloff", moved, f->n_frames);
    assert_true(moved * 100 <= f->n_frames);
    npy_free(&ref);
}

static void check_chroma(const char *signal, const struct af_frame_features *f, const float *y, size_t n)
{
    double ref_tuning = meta_number(signal, "tuning_stft");
    print_message("%-8s tuning %.2f (librosa %.2f)\n", signal, f->tuning, ref_tuning);
    assert_true(fabs(f->tuning - ref_tuning) <= 0.01 + 1e-6);
    /* with the same tuning, chroma_stft must match; a tuning one step away shifts it slightly */
    if (fabs(f->tuning - ref_tuning) < 1e-6)
        check_feature(signal, f, &(struct feature_ref){"chroma_stft", AF_ROW_CHROMA, 12});

    /* chroma_stft(tuning=0) from the same magnitudes */
    static struct af_stft stft;
    struct af_stft_buffers buffers;
    assert_int_equal(af_stft_init(&stft, NULL), 0);
    assert_int_equal(af_stft_buffers_init(&buffers, NULL), 0);
    float *mag = aligned_alloc(64, sizeof(float) * AF_MAG_STRIDE * f->n_frames);
    float *fb = aligned_alloc(64, sizeof(float) * AF_N_CHROMA * AF_CHROMA_FB_STRIDE);
    float *chroma = malloc(sizeof(float) * AF_N_CHROMA * f->n_frames);
    for (size_t t = 0; t < f->n_frames; t++)
        af_stft_magnitude(&stft, &buffers, y, n, t, mag + t * AF_MAG_STRIDE);
    af_chroma_filterbank(0.0, fb);
    af_chroma_frames(fb, mag, f->n_frames, chroma);
    struct npy_array ref;
    assert_int_equal(load_reference(signal, "chroma_stft_tuning0", &ref), 0);
    double e = relative_error(chroma, ref.data, ref.count);
    print_message("%-8s %-20s max rel error %.3g\n", signal, "chroma_stft_tuning0", e);
    assert_true(e <= TOLERANCE);
    npy_free(&ref);
    free(chroma);
    free(fb);
    free(mag);
    af_stft_buffers_destroy(&buffers);
}

static void check_tempo(const char *signal, const struct af_frame_features *f)
{
    struct npy_array ref;
    assert_int_equal(load_reference(signal, "tempo", &ref), 0);
    print_message("%-8s tempo %.6f (librosa %.6f)\n", signal, f->tempo, ref.data[0]);
    assert_true(f->tempo == ref.data[0]);
    npy_free(&ref);
}

static void check_samples(const char *signal, const float *y, size_t n)
{
    struct af_frame_features f;
    compute(y, n, &f);
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        check_feature(signal, &f, &features[i]);
    check_rolloff(signal, &f);
    check_chroma(signal, &f, y, n);
    check_tempo(signal, &f);
    af_frame_features_free(&f);
}

static void check_signal(const char *signal)
{
    size_t n;
    float *y = load_signal(signal, &n);
    check_samples(signal, y, n);
    free(y);
}

/* The real clips, decoded by decode.c as af-extract does: GTZAN MP3s (22050 Hz mono, no
 * resampling) and song.mp3 (44.1 kHz stereo: mean of the channels, soxr HQ), compared
 * with librosa's outputs for the same decoding (clips/song_soxr is librosa.load's). */
static void test_real_clips_match_librosa(void **state)
{
    (void)state;
    static const char *clips[][2] = {
        {"blues", "blues"}, {"classical", "classical"}, {"country", "country"},
        {"disco", "disco"}, {"hiphop", "hiphop"},       {"jazz", "jazz"},
        {"metal", "metal"}, {"pop", "pop"},             {"reggae", "reggae"},
        {"rock", "rock"},   {"song", "song_soxr"},
    };
    FILE *probe = fopen(CLIPS_DIR "/blues/mfcc.npy", "rb");
    if (!probe) {
        print_message("../shared/reference not found: real clips not checked here\n");
        skip();
    }
    fclose(probe);
    reference_root = CLIPS_DIR;
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.mp3", CLIP_AUDIO_DIR, clips[i][0]);
        struct af_decode_opts opts;
        af_decode_opts_init(&opts);
        opts.excerpt_seconds = 0; /* librosa saw the whole clip */
        struct af_audio audio;
        af_err err = {0};
        if (af_decode_file(path, &opts, &audio, &err) != 0)
            fail_msg("%s: %s", path, err.msg);
        assert_int_equal(audio.n_samples, (size_t)meta_number(clips[i][1], "n_samples"));
        check_samples(clips[i][1], audio.samples, audio.n_samples);
        af_audio_free(&audio);
    }
    reference_root = SYNTH_DIR;
}

static void test_tones_match_librosa(void **state)
{
    (void)state;
    check_signal("tones");
}

static void test_beats_match_librosa(void **state)
{
    (void)state;
    check_signal("beats");
}

static void test_sweep_match_librosa(void **state)
{
    (void)state;
    check_signal("sweep");
}

/* ---- analytic cases ---- */

static float *sine(size_t n, double hz, double amplitude)
{
    float *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = (float)(amplitude * sin(2.0 * M_PI * hz * (double)i / AF_SAMPLE_RATE));
    return y;
}

/* Frames whose 2048-sample window lies inside the signal. */
#define FIRST_FULL 2
#define LAST_FULL(f) ((f)->n_frames - 3)

static void test_sine_centroid_rms_zcr(void **state)
{
    (void)state;
    const double hz = 1000.0, amplitude = 0.5;
    size_t n = 5 * AF_SAMPLE_RATE;
    float *y = sine(n, hz, amplitude);
    struct af_frame_features f;
    compute(y, n, &f);
    for (size_t t = FIRST_FULL; t <= LAST_FULL(&f); t++) {
        assert_true(fabs(row(&f, AF_ROW_CENTROID)[t] - hz) < 5.0);
        assert_true(fabs(row(&f, AF_ROW_RMS)[t] - amplitude / sqrt(2.0)) < 1e-3 * amplitude);
        assert_true(fabs(row(&f, AF_ROW_ZCR)[t] - 2.0 * hz / AF_SAMPLE_RATE) <= 2.0 / AF_N_FFT);
        assert_true(row(&f, AF_ROW_BANDWIDTH)[t] < 100.0);
        assert_true(row(&f, AF_ROW_FLATNESS)[t] < 1e-3);
        /* 1000 Hz is between B5 and C6 (tuning ~ +0.37 semitone), so C or B dominates */
        const float *c = row(&f, AF_ROW_CHROMA);
        assert_true(c[0 * f.n_frames + t] == 1.0f || c[11 * f.n_frames + t] == 1.0f);
    }
    af_frame_features_free(&f);
    free(y);
}

/* piptrack's peaks, bin by bin as librosa defines them (localmax of S * (S > ref)
 * for 150 <= f < 4000 Hz), against af_piptrack_frame's vectorised search. */
static void expected_peaks(const float *mag, struct af_pitch_list *l)
{
    size_t first = 0, end = 0;
    while (af_bin_frequency(first) < 150.0)
        first++;
    while (af_bin_frequency(end) < 4000.0)
        end++;
    float max = 0;
    for (size_t k = 0; k < AF_N_BINS; k++)
        max = fmaxf(max, mag[k] * mag[k]);
    float ref = 0.1f * max;
    l->n = 0;
    for (size_t k = first; k < end; k++) {
        float prev = mag[k - 1] * mag[k - 1], cur = mag[k] * mag[k], next = mag[k + 1] * mag[k + 1];
        float x_prev = prev > ref ? prev : 0, x = cur > ref ? cur : 0, x_next = next > ref ? next : 0;
        if (x > x_prev && x >= x_next) {
            float avg = 0.5f * (next - prev), den = 2.0f * cur - next - prev;
            float shift = avg / (den + (fabsf(den) < FLT_MIN ? 1.0f : 0.0f));
            l->pitch[l->n] = (float)(((double)k + (double)shift) * AF_SAMPLE_RATE / AF_N_FFT);
            l->mag[l->n++] = cur + 0.5f * avg * shift;
        }
    }
}

static void test_piptrack_peaks(void **state)
{
    (void)state;
    static float mag[AF_MAG_STRIDE];
    static float pitch[AF_N_BINS], pmag[AF_N_BINS];
    struct af_pitch_list want = {pitch, pmag, 0, AF_N_BINS}, got = {0};
    af_err err = {0};
    srand(3);
    for (int round = 0; round < 300; round++) {
        for (size_t k = 0; k < AF_N_BINS; k++) /* coarse levels: plateaus and ties */
            mag[k] = (float)(rand() % (round % 3 == 0 ? 4 : 1000));
        if (round == 1) { /* peaks on the first and last bins searched, a plateau */
            memset(mag, 0, sizeof mag);
            mag[14] = mag[100] = mag[101] = mag[371] = 5.0f;
        }
        if (round % 3 == 2) { /* a few peaks over low noise, some right at sqrt(ref) */
            for (size_t k = 0; k < AF_N_BINS; k++)
                mag[k] = (float)(rand() % 100) / 100.0f;
            mag[20 + rand() % 340] = 1000.0f;
            float edge = sqrtf(0.1f * (1000.0f * 1000.0f));
            const float near[] = {nextafterf(edge, 0.0f), edge, nextafterf(edge, INFINITY),
                                  nextafterf(nextafterf(edge, INFINITY), INFINITY)};
            for (int p = 0; p < 8; p++)
                mag[14 + rand() % 358] = near[p % 4];
        }
        expected_peaks(mag, &want);
        got.n = 0;
        assert_int_equal(af_piptrack_frame(mag, &got, &err), 0);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.pitch, want.pitch, want.n * sizeof(float));
        assert_memory_equal(got.mag, want.mag, want.n * sizeof(float));
        if (round == 1)
            assert_int_equal(got.n, 3); /* 14, 100 (not 101: x[k] > x[k-1] fails) and 371 */
    }
    af_pitch_list_free(&got);
}

static void test_sine_tuning(void **state)
{
    (void)state;
    /* A4 raised by 0.25 semitone.  piptrack interpolates the power spectrum, which is
     * biased by a few cents: librosa itself estimates 0.22 for this signal. */
    size_t n = 3 * AF_SAMPLE_RATE;
    float *y = sine(n, 440.0 * pow(2.0, 0.25 / 12.0), 0.3);
    struct af_frame_features f;
    compute(y, n, &f);
    print_message("tuning of a +0.25 semitone A4: %.2f (librosa: 0.22)\n", f.tuning);
    assert_true(fabsf(f.tuning - 0.22f) <= 0.011f);
    const float *a = row(&f, AF_ROW_CHROMA) + 9 * f.n_frames; /* A */
    for (size_t t = FIRST_FULL; t <= LAST_FULL(&f); t++)
        assert_true(a[t] == 1.0f);
    af_frame_features_free(&f);
    free(y);
}

static void test_silence_is_finite_and_zero(void **state)
{
    (void)state;
    size_t n = 2 * AF_SAMPLE_RATE;
    float *y = calloc(n, sizeof *y);
    struct af_frame_features f;
    compute(y, n, &f);
    for (size_t t = 0; t < f.n_frames; t++) {
        /* librosa: normalize leaves an all-zero frame at 0, rolloff picks bin 0 */
        assert_true(row(&f, AF_ROW_CENTROID)[t] == 0.0f);
        assert_true(row(&f, AF_ROW_BANDWIDTH)[t] == 0.0f);
        assert_true(row(&f, AF_ROW_ROLLOFF)[t] == 0.0f);
        assert_true(fabsf(row(&f, AF_ROW_FLATNESS)[t] - 1.0f) < 1e-5f); /* amin everywhere */
        assert_true(row(&f, AF_ROW_ZCR)[t] == 0.0f);
        assert_true(row(&f, AF_ROW_RMS)[t] == 0.0f);
        assert_true(row(&f, AF_ROW_ONSET)[t] == 0.0f);
        for (int b = 0; b < 7; b++)
            assert_true(row(&f, AF_ROW_CONTRAST + b)[t] == 0.0f);
        for (int c = 0; c < 12; c++)
            assert_true(row(&f, AF_ROW_CHROMA + c)[t] == 0.0f);
        /* dB mel is -100 everywhere: mfcc0 = -100 * sqrt(128), the rest 0 */
        assert_true(fabsf(row(&f, AF_ROW_MFCC)[t] + 100.0f * sqrtf(128.0f)) < 1e-2f);
        assert_true(fabsf(row(&f, AF_ROW_MFCC + 5)[t]) < 1e-3f);
        assert_true(f.harmonic_energy[t] == 0.0f && f.percussive_energy[t] == 0.0f);
    }
    assert_true(f.tuning == 0.0f);
    af_frame_features_free(&f);
    free(y);
}

static void test_dc_and_clipping_stay_finite(void **state)
{
    (void)state;
    size_t n = 2 * AF_SAMPLE_RATE;
    float *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = 0.5f;
    struct af_frame_features f;
    compute(y, n, &f);
    for (size_t t = FIRST_FULL; t <= LAST_FULL(&f); t++) {
        assert_true(row(&f, AF_ROW_ZCR)[t] == 0.0f);
        assert_true(fabsf(row(&f, AF_ROW_RMS)[t] - 0.5f) < 1e-6f);
    }
    af_frame_features_free(&f);

    /* a sine at 4x full scale, clipped to [-1, 1]: a near-square wave */
    float *s = sine(n, 220.0, 4.0);
    for (size_t i = 0; i < n; i++)
        s[i] = s[i] > 1.0f ? 1.0f : s[i] < -1.0f ? -1.0f : s[i];
    compute(s, n, &f);
    for (size_t t = FIRST_FULL; t <= LAST_FULL(&f); t++)
        assert_true(row(&f, AF_ROW_RMS)[t] > 0.9f);
    af_frame_features_free(&f);

    /* a lone impulse, and the shortest allowed input */
    memset(s, 0, n * sizeof *s);
    s[n / 2] = 1.0f;
    compute(s, n, &f);
    af_frame_features_free(&f);
    compute(s, AF_N_FFT, &f);
    af_frame_features_free(&f);
    free(s);
    free(y);
}

/* zero_crossing_rate (edge padding) and rms (zero padding) frame by frame, straight
 * from librosa's definitions, against the one-pass block sums: random signs, exact
 * zeros, values on both sides of the 1e-10 threshold, a length that is not a
 * multiple of the hop or of a vector. */
static void test_zcr_rms_equal_direct_frames(void **state)
{
    (void)state;
    size_t n = 7 * AF_HOP + 333;
    float *y = malloc(n * sizeof *y);
    const float tiny[] = {0.0f, -0.0f, 1e-10f, -1e-10f, -1.1e-10f, 1.1e-10f, -0.25f, 0.75f};
    srand(11);
    for (size_t i = 0; i < n; i++)
        y[i] = rand() % 3 ? tiny[rand() % 8] : (float)(rand() % 2001 - 1000) / 1000.0f;
    struct af_frame_features f;
    compute(y, n, &f);
    for (size_t t = 0; t < f.n_frames; t++) {
        long start = (long)t * AF_HOP - AF_N_FFT / 2;
        int crossings = 0;
        double squares = 0.0;
        for (long j = start; j < start + AF_N_FFT; j++) {
            long i = j < 0 ? 0 : j >= (long)n ? (long)n - 1 : j; /* edge padding */
            long p = j - 1 < 0 ? 0 : j - 1 >= (long)n ? (long)n - 1 : j - 1;
            if (j > start) {
                bool neg = fabsf(y[i]) > 1e-10f && y[i] < 0.0f, prev_neg = fabsf(y[p]) > 1e-10f && y[p] < 0.0f;
                crossings += neg != prev_neg;
            }
            if (j >= 0 && j < (long)n) { /* zero padding */
                float sq = y[j] * y[j];
                squares += sq;
            }
        }
        if (row(&f, AF_ROW_ZCR)[t] != (float)crossings / AF_N_FFT)
            fail_msg("zcr frame %zu: %g, want %d / 2048", t, (double)row(&f, AF_ROW_ZCR)[t], crossings);
        float want = sqrtf((float)(squares / AF_N_FFT));
        if (fabsf(row(&f, AF_ROW_RMS)[t] - want) > 1e-6f * want)
            fail_msg("rms frame %zu: %.9g, want %.9g", t, (double)row(&f, AF_ROW_RMS)[t], (double)want);
    }
    af_frame_features_free(&f);
    free(y);
}

static void test_bad_input_is_rejected(void **state)
{
    (void)state;
    float y[AF_N_FFT] = {0};
    struct af_frame_features f;
    af_err err = {0};
    assert_int_equal(af_frames_compute(ctx, ws, y, AF_N_FFT - 1, &f, &err), -1);
    assert_non_null(strstr(err.msg, "samples"));
    assert_null(f.data);
    y[7] = NAN;
    assert_int_equal(af_frames_compute(ctx, ws, y, AF_N_FFT, &f, &err), -1);
    y[7] = INFINITY;
    assert_int_equal(af_frames_compute(ctx, ws, y, AF_N_FFT, &f, &err), -1);
    assert_int_equal(af_frames_compute(ctx, ws, NULL, AF_N_FFT, &f, &err), -1);
    af_frame_features_free(&f); /* safe on a cleared struct */

    /* a bad sample anywhere (vector bodies, tails, block edges) is found and named */
    size_t n = 5 * AF_HOP + 5;
    float *z = calloc(n, sizeof *z);
    const size_t where[] = {0, 1, 8, 9, AF_HOP - 1, AF_HOP, AF_HOP + 7, 5 * AF_HOP + 1, n - 1};
    const float bad[] = {NAN, -INFINITY, 2e6f, -1.5e6f};
    for (size_t w = 0; w < sizeof where / sizeof *where; w++)
        for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
            z[where[w]] = bad[b];
            assert_int_equal(af_frames_compute(ctx, ws, z, n, &f, &err), -1);
            assert_null(f.data);
            char want[32];
            snprintf(want, sizeof want, "sample %zu is", where[w]);
            if (!strstr(err.msg, want))
                fail_msg("bad sample at %zu: \"%s\"", where[w], err.msg);
            z[where[w]] = 0.0f;
        }
    z[n - 1] = 1e6f; /* the limit itself is allowed */
    assert_int_equal(af_frames_compute(ctx, ws, z, n, &f, &err), 0);
    af_frame_features_free(&f);
    free(z);
}

/* ---- STFT: magnitudes against a direct DFT in long double ---- */

/* |X_t[k]| for every bin of frame t, summed term by term. */
static void direct_dft_magnitudes(const float *y, size_t n, size_t t, long double *out)
{
    static long double frame[AF_N_FFT];
    for (size_t i = 0; i < AF_N_FFT; i++) {
        ptrdiff_t s = (ptrdiff_t)(t * AF_HOP + i) - AF_N_FFT / 2;
        long double w = 0.5L - 0.5L * cosl(2.0L * (long double)M_PI * (long double)i / AF_N_FFT);
        frame[i] = (s >= 0 && (size_t)s < n) ? (long double)y[s] * w : 0.0L;
    }
    for (size_t k = 0; k < AF_N_BINS; k++) {
        long double re = 0, im = 0;
        for (size_t i = 0; i < AF_N_FFT; i++) {
            size_t phase = (k * i) % AF_N_FFT; /* exact argument reduction */
            long double a = 2.0L * (long double)M_PI * (long double)phase / AF_N_FFT;
            re += frame[i] * cosl(a);
            im -= frame[i] * sinl(a);
        }
        out[k] = sqrtl(re * re + im * im);
    }
}

/* Every bin within one float32 rounding (plus FFT noise far below the frame's
 * peak), including the bins the half-length transform treats apart: 0, 512, 1024. */
static void check_stft_frames(const char *what, const float *y, size_t n)
{
    static struct af_stft stft;
    struct af_stft_buffers buffers;
    assert_int_equal(af_stft_init(&stft, NULL), 0);
    assert_int_equal(af_stft_buffers_init(&buffers, NULL), 0);
    float *mag = aligned_alloc(64, sizeof(float) * AF_MAG_STRIDE);
    static long double ref[AF_N_BINS];
    size_t frames[] = {0, 2, af_n_frames(n) / 2, af_n_frames(n) - 1};
    double worst = 0;
    for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
        af_stft_magnitude(&stft, &buffers, y, n, frames[f], mag);
        direct_dft_magnitudes(y, n, frames[f], ref);
        long double peak = 0;
        for (size_t k = 0; k < AF_N_BINS; k++)
            peak = fmaxl(peak, ref[k]);
        for (size_t k = 0; k < AF_N_BINS; k++) {
            double err = (double)fabsl((long double)mag[k] - ref[k]);
            double allowed = 1.2e-7 * (double)ref[k] + 1e-13 * (double)peak;
            if (err > allowed)
                fail_msg("%s: frame %zu bin %zu: %.9g, direct DFT %.9Lg", what, frames[f], k, (double)mag[k],
                         ref[k]);
            if (peak > 0)
                worst = fmax(worst, err / (double)peak);
        }
        for (size_t k = AF_N_BINS; k < AF_MAG_STRIDE; k++)
            assert_true(mag[k] == 0.0f);
    }
    print_message("stft %-14s max error %.3g of the frame's peak\n", what, worst);
    free(mag);
    af_stft_buffers_destroy(&buffers);
}

static void test_stft_matches_direct_dft(void **state)
{
    (void)state;
    enum { N = 8192 };
    static float y[N];
    srand(7);
    for (size_t i = 0; i < N; i++)
        y[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    check_stft_frames("noise", y, N);
    for (size_t i = 0; i < N; i++) /* bin 512 exactly, plus DC and Nyquist */
        y[i] = 0.5f * cosf((float)M_PI * (float)(i % 4) / 2.0f) + 0.25f + ((i & 1) ? 0.125f : -0.125f);
    check_stft_frames("bins 0/512/1024", y, N);
    memset(y, 0, sizeof y);
    y[N / 2] = 1.0f; /* one click: every bin of the frames around it */
    check_stft_frames("click", y, N);
}

/* ---- HPSS: every instruction set equals the slow sort-based reference ---- */

static void check_hpss_on_magnitude(const float *mag, size_t T)
{
    float *scratch = aligned_alloc(64, (af_hpss_scratch_floats() + 15) / 16 * 16 * sizeof(float));
    float *ref_scratch = malloc(T * AF_MAG_STRIDE * sizeof(float));
    float *ref_h = malloc(T * sizeof(float)), *ref_p = malloc(T * sizeof(float));
    float *h = malloc(T * sizeof(float)), *p = malloc(T * sizeof(float));
    float *arriving = aligned_alloc(64, T * AF_MAG_STRIDE * sizeof(float));
    af_hpss_energies_reference(mag, T, ref_scratch, ref_h, ref_p);
    enum af_hpss_isa isas[] = {AF_HPSS_AVX512, AF_HPSS_AVX2, AF_HPSS_SSE2, AF_HPSS_SCALAR, AF_HPSS_AUTO};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        af_hpss_energies_isa(isas[i], mag, T, scratch, h, p);
        assert_memory_equal(h, ref_h, T * sizeof(float));
        assert_memory_equal(p, ref_p, T * sizeof(float));
        /* the same, following rows that arrive a few at a time (as frames.c does); rows
         * not yet arrived hold garbage, which must not be read */
        for (size_t k = 0; k < T * AF_MAG_STRIDE; k++)
            arriving[k] = 1e30f;
        memset(h, 0, T * sizeof(float));
        memset(p, 0, T * sizeof(float));
        struct af_hpss_run run;
        af_hpss_begin(&run, isas[i], arriving, T, scratch, h, p);
        for (size_t ready = 0; ready < T;) {
            size_t now = ready + 1 + (size_t)rand() % (i % 2 ? 3 : 40);
            now = now < T ? now : T;
            memcpy(arriving + ready * AF_MAG_STRIDE, mag + ready * AF_MAG_STRIDE,
                   (now - ready) * AF_MAG_STRIDE * sizeof(float));
            af_hpss_advance(&run, ready = now);
        }
        assert_memory_equal(h, ref_h, T * sizeof(float));
        assert_memory_equal(p, ref_p, T * sizeof(float));
    }
    free(arriving);
    free(h);
    free(p);
    free(ref_h);
    free(ref_p);
    free(scratch);
    free(ref_scratch);
}

static void check_hpss_variants(const float *y, size_t n)
{
    size_t T = af_n_frames(n);
    static struct af_stft stft;
    struct af_stft_buffers buffers;
    assert_int_equal(af_stft_init(&stft, NULL), 0);
    assert_int_equal(af_stft_buffers_init(&buffers, NULL), 0);
    float *mag = aligned_alloc(64, sizeof(float) * AF_MAG_STRIDE * T);
    for (size_t t = 0; t < T; t++)
        af_stft_magnitude(&stft, &buffers, y, n, t, mag + t * AF_MAG_STRIDE);
    check_hpss_on_magnitude(mag, T);
    free(mag);
    af_stft_buffers_destroy(&buffers);
}

static void test_hpss_matches_reference(void **state)
{
    (void)state;
    size_t n;
    float *y = load_signal("beats", &n);
    check_hpss_variants(y, 3 * AF_SAMPLE_RATE); /* 130 frames: blocks and a partial last one */
    check_hpss_variants(y, 5000);               /* 10 frames: fewer than one block of lanes */
    check_hpss_variants(y, 32 * AF_HOP);        /* 33 frames: the last output ends a median block */
    check_hpss_variants(y, 64 * AF_HOP);        /* 65 frames: the ring of 64 time rows wraps at the end */
    check_hpss_variants(y, 250 * AF_HOP);       /* 251 frames: the ring wraps several times */
    memset(y + 8 * AF_HOP, 0, 40 * AF_HOP * sizeof *y); /* silence: runs of equal values (ties) */
    check_hpss_variants(y, 100 * AF_HOP);
    free(y);
}

/* The median networks on random magnitudes: 3 levels (ties everywhere), then 40 and
 * 10^6 levels (nearly all distinct) on a sawtooth along time or along frequency, so
 * that a window's median comes from any of its positions; then tiny values. */
static void test_hpss_random_magnitudes(void **state)
{
    (void)state;
    const size_t T = 200;
    float *mag = aligned_alloc(64, sizeof(float) * AF_MAG_STRIDE * T);
    srand(13);
    const int levels[] = {3, 40, 1000000};
    for (int round = 0; round < 6; round++) {
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < AF_MAG_STRIDE; k++) {
                float trend = round % 2 ? (float)(t % 64) : (float)(k % 64); /* slopes in time or frequency */
                mag[t * AF_MAG_STRIDE + k] =
                    k < AF_N_BINS ? (float)(rand() % levels[round / 2]) + trend * (float)(round / 2) : 0.0f;
            }
        check_hpss_on_magnitude(mag, T);
    }
    /* values whose squares are not normal floats (the masks scale them up first), in
     * patches, so that some vectors mix them with ordinary values */
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < AF_N_BINS; k++)
            mag[t * AF_MAG_STRIDE + k] *= (t / 8 + k / 40) % 3 ? 1.0f : 0x1p-100f;
    check_hpss_on_magnitude(mag, T);
    free(mag);
}

static void test_hpss_splits_tone_and_clicks(void **state)
{
    (void)state;
    size_t n = 4 * AF_SAMPLE_RATE;
    float *y = sine(n, 440.0, 0.3);
    for (size_t i = AF_SAMPLE_RATE; i < n; i += AF_SAMPLE_RATE / 2)
        y[i] += 1.0f; /* clicks every 0.5 s */
    struct af_frame_features f;
    compute(y, n, &f);
    size_t click = AF_SAMPLE_RATE / AF_HOP, steady = click + 10;
    assert_true(f.harmonic_energy[steady] > 100.0f * f.percussive_energy[steady]);
    assert_true(f.percussive_energy[click] > f.percussive_energy[steady] * 10.0f);
    af_frame_features_free(&f);
    free(y);
}

/* ---- spectral flatness: both paths equal the definition in long double ---- */

static void test_flatness_paths_agree(void **state)
{
    (void)state;
    static float mag[AF_MAG_STRIDE];
    srand(5);
    for (int round = 0; round < 200; round++) {
        for (size_t k = 0; k < AF_N_BINS; k++) {
            /* magnitudes over 14 decades, some zero and some below sqrt(amin) */
            float decade = powf(10.0f, (float)(rand() % 14) - 9.0f);
            mag[k] = round % 4 == 0 && k % 7 == 0 ? 0.0f : decade * (float)(rand() % 1000) / 1000.0f;
        }
        if (round == 1)
            memset(mag, 0, sizeof mag); /* silence: amin everywhere, flatness 1 */
        long double log_sum = 0.0L, power_sum = 0.0L;
        for (size_t k = 0; k < AF_N_BINS; k++) {
            long double p = (long double)mag[k] * mag[k];
            p = p > 1e-10L ? p : (long double)1e-10f;
            log_sum += logl(p);
            power_sum += p;
        }
        double want = (double)(expl(log_sum / AF_N_BINS) / (power_sum / AF_N_BINS));
        float fast = af_spectral_flatness(mag), portable = af_spectral_flatness_portable(mag);
        if (fabs(fast - want) > 2e-6 * want || fabs(portable - want) > 2e-6 * want)
            fail_msg("round %d: flatness %.9g (portable %.9g), want %.9g", round, (double)fast, (double)portable, want);
    }
}

/* ---- spectral contrast: both paths equal a sort of each band ---- */

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* np.sort the band, then np.mean of the first / last n_q: float32 sums in order. */
static void contrast_by_sorting(const struct af_contrast *c, const float *mag, float *peak, float *valley)
{
    for (int k = 0; k < AF_CONTRAST_BANDS; k++) {
        const struct af_contrast_band *b = &c->band[k];
        float sorted[AF_N_BINS];
        memcpy(sorted, mag + b->first, b->count * sizeof(float));
        qsort(sorted, b->count, sizeof(float), compare_floats);
        size_t n = b->n_q;
        float lo = 0.0f, hi = 0.0f;
        for (size_t i = 0; i < n; i++) {
            lo += sorted[i];
            hi += sorted[b->count - n + i];
        }
        valley[k] = lo / (float)n;
        peak[k] = hi / (float)n;
    }
}

static void check_contrast_paths(const struct af_contrast *contrast, const float *mag, const char *what)
{
    float p1[AF_CONTRAST_BANDS], v1[AF_CONTRAST_BANDS], p2[AF_CONTRAST_BANDS], v2[AF_CONTRAST_BANDS];
    float p3[AF_CONTRAST_BANDS], v3[AF_CONTRAST_BANDS];
    af_contrast_frame(contrast, mag, p1, v1);
    af_contrast_frame_portable(contrast, mag, p2, v2);
    contrast_by_sorting(contrast, mag, p3, v3);
    for (int k = 0; k < AF_CONTRAST_BANDS; k++)
        if (p1[k] != p3[k] || v1[k] != v3[k] || p2[k] != p3[k] || v2[k] != v3[k])
            fail_msg("%s, band %d: peak %g / %g, valley %g / %g (fast / portable), sorting gives %g and %g", what,
                     k, (double)p1[k], (double)p2[k], (double)v1[k], (double)v2[k], (double)p3[k], (double)v3[k]);
}

static void test_contrast_paths_agree(void **state)
{
    (void)state;
    static struct af_spectral sp;
    struct af_contrast contrast;
    af_spectral_init(&sp);
    af_contrast_init(&contrast, &sp);
    float mag[AF_MAG_STRIDE] = {0};

    size_t n;
    float *y = load_signal("tones", &n);
    static struct af_stft stft;
    struct af_stft_buffers buffers;
    assert_int_equal(af_stft_init(&stft, NULL), 0);
    assert_int_equal(af_stft_buffers_init(&buffers, NULL), 0);
    for (size_t t = 0; t < af_n_frames(n); t += 7) {
        af_stft_magnitude(&stft, &buffers, y, n, t, mag);
        check_contrast_paths(&contrast, mag, "tones");
    }
    af_stft_buffers_destroy(&buffers);
    free(y);

    /* every bin 0: all values tie (more than 16 candidates) */
    memset(mag, 0, sizeof mag);
    check_contrast_paths(&contrast, mag, "silence");
    srand(11);
    for (int round = 0; round < 200; round++) {
        int levels = round % 4 == 0 ? 3 : 1 << 20; /* few levels: many ties near the bounds */
        for (size_t k = 0; k < AF_N_BINS; k++)
            mag[k] = (float)(rand() % levels) / (float)levels;
        check_contrast_paths(&contrast, mag, levels == 3 ? "three levels" : "noise");
    }
    for (size_t k = 0; k < AF_N_BINS; k++) /* falling, as spectra do, and rising */
        mag[k] = 1.0f / (float)(k + 1);
    check_contrast_paths(&contrast, mag, "falling");
    for (size_t k = 0; k < AF_N_BINS; k++)
        mag[k] = (float)k;
    check_contrast_paths(&contrast, mag, "rising");
}

/* ---- tempo: the sliding DFT against each frame's autocorrelation summed directly ---- */

/* librosa's tempo, the slow way: pad, window, autocorrelate, normalise by lag 0,
 * average, add the prior, take the best lag; also the runner-up's score gap. */
static double tempo_by_autocorrelation(const float *onset, size_t n, double *margin)
{
    const int win = AF_TEMPO_WIN, half = AF_TEMPO_WIN / 2;
    double *padded = calloc(n + (size_t)win, sizeof(double)), *mean = calloc((size_t)win, sizeof(double));
    assert_non_null(padded);
    assert_non_null(mean);
    for (int i = 0; i < half; i++) {
        padded[i] = (float)((double)i * onset[0] / half);
        padded[(size_t)half + n + (size_t)i] = (float)((double)(half - 1 - i) * onset[n - 1] / half);
    }
    for (size_t i = 0; i < n; i++)
        padded[(size_t)half + i] = onset[i];
    double x[AF_TEMPO_WIN];
    for (size_t t = 0; t < n; t++) {
        for (int i = 0; i < win; i++)
            x[i] = padded[t + (size_t)i] * (0.5 - 0.5 * cos(2.0 * M_PI * i / win));
        double ac0 = 0;
        for (int i = 0; i < win; i++)
            ac0 += x[i] * x[i];
        if (ac0 < DBL_MIN)
            continue;
        for (int l = 0; l < win; l++) {
            double ac = 0;
            for (int i = 0; i + l < win; i++)
                ac += x[i] * x[i + l];
            mean[l] += ac / ac0 / (double)n;
        }
    }
    int best = -1;
    double best_score = -INFINITY, second = -INFINITY;
    for (int l = 1; l < win; l++) {
        double bpm = 60.0 * 22050.0 / (512.0 * l);
        if (bpm >= 320.0)
            continue;
        double z = log2(bpm) - log2(120.0);
        double score = log1p(1e6 * mean[l]) - 0.5 * z * z;
        if (best < 0 || score > best_score) {
            second = best_score;
            best_score = score;
            best = l;
        } else if (score > second) {
            second = score;
        }
    }
    free(padded);
    free(mean);
    *margin = best_score - second;
    return 60.0 * 22050.0 / (512.0 * best);
}

static void test_tempo_matches_autocorrelation(void **state)
{
    (void)state;
    static struct af_tempo tempo;
    struct af_tempo_buffers buffers;
    assert_int_equal(af_tempo_init(&tempo, NULL), 0);
    assert_int_equal(af_tempo_buffers_init(&buffers, NULL), 0);
    const size_t lengths[] = {1, 150, 700};
    const int periods[] = {43, 29, 61};
    srand(7);
    for (int round = 0; round < 3; round++) {
        size_t n = lengths[round];
        float *onset = malloc(n * sizeof *onset), *scratch = malloc(af_tempo_scratch_floats(n) * sizeof *scratch);
        assert_non_null(onset);
        assert_non_null(scratch);
        for (size_t i = 0; i < n; i++) /* pulses, weaker off-beats, noise */
            onset[i] = (i % (size_t)periods[round] == 0 ? 4.0f : i % (size_t)periods[round] == 11 ? 1.5f : 0.0f) +
                       0.3f * (float)rand() / (float)RAND_MAX;
        double margin, want_margin, bpm = af_tempo_estimate(&tempo, &buffers, onset, n, scratch, &margin);
        double want = tempo_by_autocorrelation(onset, n, &want_margin);
        print_message("%zu frames: tempo %.6f (direct %.6f), margin %.12f (direct %.12f)\n", n, bpm, want, margin,
                      want_margin);
        assert_true(bpm == want);
        assert_true(fabs(margin - want_margin) < 1e-9 * fmax(1.0, fabs(want_margin)));
        free(onset);
        free(scratch);
    }
    /* silence: every frame has lag 0 at 0 and adds nothing; no NaN */
    float zeros[200] = {0}, scratch[200 + AF_TEMPO_WIN];
    double margin;
    double bpm = af_tempo_estimate(&tempo, &buffers, zeros, 200, scratch, &margin);
    assert_true(isfinite(bpm) && bpm > 0.0);
    af_tempo_buffers_destroy(&buffers);
}

/* ---- onset strength: the 8-frame path and the tail equal the definition ---- */

static void test_onset_matches_definition(void **state)
{
    (void)state;
    enum { FRAMES = 29 }; /* three groups of 8 after the 3 leading zeros, and a tail */
    static float db[FRAMES * AF_N_MELS];
    float out[FRAMES];
    srand(9);
    for (size_t i = 0; i < FRAMES * AF_N_MELS; i++)
        db[i] = (float)(rand() % 2000) / 25.0f - 80.0f;
    af_onset_strength(db, FRAMES, out);
    for (size_t t = 0; t < FRAMES; t++) {
        float want = 0.0f;
        if (t >= 3) {
            for (int m = 0; m < AF_N_MELS; m++) {
                float d = db[(t - 2) * AF_N_MELS + (size_t)m] - db[(t - 3) * AF_N_MELS + (size_t)m];
                want += d > 0.0f ? d : 0.0f;
            }
            want /= (float)AF_N_MELS;
        }
        if (out[t] != want)
            fail_msg("frame %zu: onset %.9g, the definition gives %.9g", t, (double)out[t], (double)want);
    }
}

/* ---- power_to_db: 10 log10(max(x, 1e-10)) in float32, floored at max - top_db ---- */

/* Inputs that probe the log: powers of two, mantissas either side of sqrt(2) (where
 * the reduction changes exponent), 1 (exactly 0 dB), random values over 24 decades,
 * and values below amin. */
static void power_to_db_inputs(float *x, size_t n)
{
    srand(3);
    for (size_t i = 0; i < n; i++) {
        switch (i % 5) {
        case 0: x[i] = ldexpf(1.0f, (int)(i % 80) - 40); break;
        case 1: x[i] = (i % 2 ? 1.41421354f : 1.41421366f) * ldexpf(1.0f, (int)(i % 60) - 30); break;
        case 2: x[i] = (float)rand() / (float)RAND_MAX * powf(10.0f, (float)(rand() % 25 - 12)); break;
        case 3: x[i] = i % 3 ? 1.0f : 1.0000001f; break;
        default: x[i] = i % 8 == 3 ? 0.0f : 1e-11f;
        }
    }
}

static void test_power_to_db(void **state)
{
    (void)state;
    enum { N = 4003 }; /* not a multiple of 8: the tail too */
    static float x[N], raw[N];
    power_to_db_inputs(x, N);
    memcpy(raw, x, sizeof x);
    af_power_to_db(raw, N, 1e4f); /* no floor */
    /* numpy: 10 * np.log10 in float32.  Our log10 is within one ulp of the correctly
     * rounded one (exact at 1), so each value is 10 times it or a neighbour of it. */
    float max_db = -INFINITY;
    for (size_t i = 0; i < N; i++) {
        float l = (float)log10(fmax((double)x[i], 1e-10));
        float ok[3] = {10.0f * nextafterf(l, -INFINITY), 10.0f * l, 10.0f * nextafterf(l, INFINITY)};
        if (raw[i] != ok[0] && raw[i] != ok[1] && raw[i] != ok[2])
            fail_msg("value %zu (%.9g): %.9g dB, want %.9g", i, (double)x[i], (double)raw[i], (double)ok[1]);
        if (x[i] == 1.0f && raw[i] != 0.0f)
            fail_msg("value %zu: 1 is %.9g dB, want 0", i, (double)raw[i]);
        max_db = fmaxf(max_db, raw[i]);
    }
    /* top_db: everything below max - 80 is raised to it, the rest is unchanged */
    af_power_to_db(x, N, 80.0f);
    for (size_t i = 0; i < N; i++)
        assert_true(x[i] == fmaxf(raw[i], max_db - 80.0f));
}

/* The log over every 97th float from 1e-10 to 1e20: within one ulp of double log10. */
static void test_power_to_db_range(void **state)
{
    (void)state;
    enum { N = 1 << 16 };
    static float x[N];
    float from = 1e-10f, to = 1e20f;
    uint32_t bits, end;
    memcpy(&bits, &from, sizeof bits);
    memcpy(&end, &to, sizeof end);
    while (bits < end) {
        size_t n = 0;
        for (; n < N && bits < end; n++, bits += 97)
            memcpy(&x[n], &bits, sizeof bits);
        static float db[N];
        memcpy(db, x, n * sizeof(float));
        af_power_to_db(db, n, 1e4f);
        for (size_t i = 0; i < n; i++) {
            float l = (float)log10((double)x[i]);
            if (db[i] != 10.0f * l && db[i] != 10.0f * nextafterf(l, -INFINITY) &&
                db[i] != 10.0f * nextafterf(l, INFINITY))
                fail_msg("%.9g: %.9g dB, want %.9g", (double)x[i], (double)db[i], (double)(10.0f * l));
        }
    }
}

/* ---- rolloff: the batched running sums equal np.cumsum frame by frame ---- */

/* librosa: the first bin whose float32 running sum reaches 0.85 of the frame's total. */
static float rolloff_by_cumsum(const float *mag)
{
    float cum[AF_N_BINS], sum = 0.0f;
    for (size_t k = 0; k < AF_N_BINS; k++)
        cum[k] = sum += mag[k];
    float thresh = 0.85f * cum[AF_N_BINS - 1];
    size_t k = 0;
    while (k < AF_N_BINS - 1 && cum[k] < thresh)
        k++;
    return (float)af_bin_frequency(k);
}

static void test_rolloff_matches_cumsum(void **state)
{
    (void)state;
    enum { FRAMES = 37 }; /* two batches of 16 and a partial one */
    float *mag = calloc(FRAMES * AF_MAG_STRIDE, sizeof(float)), out[FRAMES];
    assert_non_null(mag);
    srand(5);
    for (int round = 0; round < 40; round++) {
        for (size_t t = 0; t < FRAMES; t++) {
            float *m = mag + t * AF_MAG_STRIDE;
            memset(m, 0, AF_N_BINS * sizeof(float));
            switch ((t + (size_t)round) % 6) {
            case 0: /* silence: the threshold is 0, reached at bin 0 */
                break;
            case 1: /* one spike, on block edges and at the last bin */
                m[(size_t)(round * 8 + (int)t) % AF_N_BINS] = 1.0f;
                m[AF_N_BINS - 1] = (float)(round % 2);
                break;
            case 2: /* falling, as spectra do */
                for (size_t k = 0; k < AF_N_BINS; k++)
                    m[k] = 1.0f / (float)(k + 1 + (size_t)round);
                break;
            case 3: /* equal bins: the sum crosses 0.85 inside a block, with rounding */
                for (size_t k = 0; k < AF_N_BINS; k++)
                    m[k] = 0.1f;
                break;
            default: /* noise over many octaves */
                for (size_t k = 0; k < AF_N_BINS; k++)
                    m[k] = (float)rand() / (float)RAND_MAX * powf(10.0f, (float)(rand() % 12 - 6));
            }
        }
        for (size_t n = 1; n <= FRAMES; n += n < 16 ? 15 : 1) {
            af_spectral_rolloff(mag, n, out);
            for (size_t t = 0; t < n; t++) {
                float want = rolloff_by_cumsum(mag + t * AF_MAG_STRIDE);
                if (out[t] != want)
                    fail_msg("round %d, %zu frames, frame %zu: rolloff %g Hz, np.cumsum gives %g Hz", round, n, t,
                             (double)out[t], (double)want);
            }
        }
    }
    free(mag);
}

/* ---- threads and workspace reuse ---- */

struct thread_job {
    const float *y;
    size_t n;
    struct af_frame_features f;
    int rc;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    af_err err = {0};
    struct af_frame_workspace *own = af_frame_workspace_new(ctx, &err);
    job->rc = own ? af_frames_compute(ctx, own, job->y, job->n, &job->f, &err) : -1;
    af_frame_workspace_free(own);
    return NULL;
}

static void assert_features_equal(const struct af_frame_features *a, const struct af_frame_features *b)
{
    assert_int_equal(a->n_frames, b->n_frames);
    assert_memory_equal(a->data, b->data, (size_t)AF_FRAME_DIMS * a->n_frames * sizeof(float));
    assert_memory_equal(a->harmonic_energy, b->harmonic_energy, a->n_frames * sizeof(float));
    assert_memory_equal(a->percussive_energy, b->percussive_energy, a->n_frames * sizeof(float));
    assert_true(a->tempo == b->tempo && a->tuning == b->tuning);
}

static void test_threads_share_context(void **state)
{
    (void)state;
    size_t n_beats, n_tones;
    float *beats = load_signal("beats", &n_beats), *tones = load_signal("tones", &n_tones);
    struct thread_job jobs[2] = {{.y = beats, .n = n_beats}, {.y = tones, .n = n_tones}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(jobs[i].rc, 0);
        struct af_frame_features single;
        compute(jobs[i].y, jobs[i].n, &single);
        assert_features_equal(&jobs[i].f, &single);
        af_frame_features_free(&single);
        af_frame_features_free(&jobs[i].f);
    }
    free(beats);
    free(tones);
}

static void test_workspace_reuse_gives_same_result(void **state)
{
    (void)state;
    size_t n;
    float *y = load_signal("sweep", &n);
    struct af_frame_features first, again, longer;
    compute(y, n / 2, &first);
    compute(y, n, &longer); /* grows the workspace */
    compute(y, n / 2, &again);
    assert_features_equal(&first, &again);
    af_frame_features_free(&first);
    af_frame_features_free(&again);
    af_frame_features_free(&longer);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mel_filterbank_equals_librosa),
        cmocka_unit_test(test_tones_match_librosa),
        cmocka_unit_test(test_beats_match_librosa),
        cmocka_unit_test(test_sweep_match_librosa),
        cmocka_unit_test(test_real_clips_match_librosa),
        cmocka_unit_test(test_sine_centroid_rms_zcr),
        cmocka_unit_test(test_piptrack_peaks),
        cmocka_unit_test(test_sine_tuning),
        cmocka_unit_test(test_silence_is_finite_and_zero),
        cmocka_unit_test(test_dc_and_clipping_stay_finite),
        cmocka_unit_test(test_zcr_rms_equal_direct_frames),
        cmocka_unit_test(test_bad_input_is_rejected),
        cmocka_unit_test(test_stft_matches_direct_dft),
        cmocka_unit_test(test_hpss_matches_reference),
        cmocka_unit_test(test_hpss_random_magnitudes),
        cmocka_unit_test(test_hpss_splits_tone_and_clicks),
        cmocka_unit_test(test_flatness_paths_agree),
        cmocka_unit_test(test_contrast_paths_agree),
        cmocka_unit_test(test_rolloff_matches_cumsum),
        cmocka_unit_test(test_tempo_matches_autocorrelation),
        cmocka_unit_test(test_power_to_db),
        cmocka_unit_test(test_power_to_db_range),
        cmocka_unit_test(test_onset_matches_definition),
        cmocka_unit_test(test_threads_share_context),
        cmocka_unit_test(test_workspace_reuse_gives_same_result),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
