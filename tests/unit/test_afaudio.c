/*
 * test_afaudio.c — the public interface of the analysis library (afaudio.h,
 * analysis/afaudio.c), as a program outside AudioFiler sees it: the version,
 * decoding a file, the frame features against librosa 0.10.1's outputs for the
 * synthetic signals (tests/data/librosa/synth), feature vectors and their names,
 * errors (with the decode failure's name), and handles used from two threads.
 * Runs under ASan+UBSan too; the installed shared library is tested by
 * tests/integration/test_library.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afaudio.h"
#include "testdata.h"

#define TONES SYNTH_DIR "/tones.wav"

static void test_version_is_the_projects(void **state)
{
    (void)state;
    assert_string_equal(afaudio_version(), AF_VERSION);
    assert_string_equal(AFAUDIO_VERSION, AF_VERSION);
    char numbers[32];
    snprintf(numbers, sizeof numbers, "%d.%d.%d", AFAUDIO_VERSION_MAJOR, AFAUDIO_VERSION_MINOR,
             AFAUDIO_VERSION_PATCH);
    assert_string_equal(numbers, AF_VERSION);
}

/* librosa's arrays for tones.wav, row by row, within 1e-4 of each array's maximum. */
static void check_rows(const afaudio_frames *f, const char *feature, int row, int rows)
{
    struct npy_array ref;
    if (load_reference("tones", feature, &ref))
        fail_msg("cannot read reference tones/%s", feature);
    assert_int_equal(ref.count, (size_t)rows * f->n_frames);
    double e = relative_error(f->data + (size_t)row * f->n_frames, ref.data, ref.count);
    print_message("tones %-20s max rel error %.3g\n", feature, e);
    assert_true(e <= 1e-4);
    npy_free(&ref);
}

/* tones.wav decoded by the library, and its frame features. */
struct tones {
    float *y;
    size_t n;
    afaudio *a;
    afaudio_frames f;
};

static void tones_compute(struct tones *t)
{
    afaudio_error err = {0};
    if (afaudio_load(TONES, 0, &t->y, &t->n, &err) != 0)
        fail_msg("%s", err.message);
    t->a = afaudio_new(&err);
    assert_non_null(t->a);
    if (afaudio_compute(t->a, t->y, t->n, &t->f, &err) != 0)
        fail_msg("%s", err.message);
}

static void tones_release(struct tones *t)
{
    afaudio_frames_free(&t->f);
    afaudio_destroy(t->a);
    afaudio_free(t->y);
}

static void test_load_and_compute_equal_librosa(void **state)
{
    (void)state;
    struct tones sig;
    tones_compute(&sig);
    assert_int_equal(sig.n, 264600); /* 12 s: librosa.load's length (synth/meta.json) */
    afaudio_frames f = sig.f;
    assert_int_equal(f.n_frames, 1 + sig.n / AFAUDIO_HOP_LENGTH);
    check_rows(&f, "mfcc", AFAUDIO_ROW_MFCC, 20);
    check_rows(&f, "spectral_centroid", AFAUDIO_ROW_CENTROID, 1);
    check_rows(&f, "spectral_contrast", AFAUDIO_ROW_CONTRAST, 7);
    check_rows(&f, "rms", AFAUDIO_ROW_RMS, 1);
    check_rows(&f, "chroma_stft", AFAUDIO_ROW_CHROMA, 12);
    check_rows(&f, "onset_strength", AFAUDIO_ROW_ONSET, 1);
    struct npy_array tempo;
    assert_int_equal(load_reference("tones", "tempo", &tempo), 0);
    assert_true(f.tempo == tempo.data[0]);
    npy_free(&tempo);
    assert_true(fabs(f.tuning - 0.02) < 1e-6); /* librosa.estimate_tuning: 0.02 */
    for (size_t t = 0; t < f.n_frames; t++)
        assert_true(f.harmonic_energy[t] >= 0 && f.percussive_energy[t] >= 0);
    afaudio_frames_free(&sig.f);
    assert_null(sig.f.data);
    tones_release(&sig); /* frees the frames a second time: harmless */
}

static void test_excerpt_is_central(void **state)
{
    (void)state;
    float *whole, *part;
    size_t n_whole, n_part;
    assert_int_equal(afaudio_load(TONES, 0, &whole, &n_whole, NULL), 0);
    assert_int_equal(afaudio_load(TONES, 4.0, &part, &n_part, NULL), 0);
    assert_int_equal(n_part, 4 * AFAUDIO_SAMPLE_RATE);
    size_t start = (n_whole - n_part) / 2;
    assert_memory_equal(part, whole + start, n_part * sizeof(float));
    afaudio_free(whole);
    afaudio_free(part);
}

static void test_vectors_and_names(void **state)
{
    (void)state;
    struct tones sig;
    tones_compute(&sig);
    const afaudio_frames f = sig.f;
    afaudio_error err = {0};
    float *windows;
    size_t n_windows;
    float track[AFAUDIO_N_FEATURES];
    assert_int_equal(afaudio_vectors(&f, 3.0, 3.0, &windows, &n_windows, track, &err), 0);
    assert_int_equal(n_windows, 4); /* 12 s in 3 s windows */
    assert_string_equal(afaudio_feature_name(0), "mfcc01_mean");
    assert_string_equal(afaudio_feature_name(322), "tempo");
    assert_string_equal(afaudio_feature_name(AFAUDIO_N_FEATURES - 1), "harmonic_share");
    assert_null(afaudio_feature_name(AFAUDIO_N_FEATURES));
    assert_null(afaudio_feature_name(-1));
    assert_string_equal(afaudio_row_name(AFAUDIO_ROW_CHROMA), "chroma01");
    assert_null(afaudio_row_name(AFAUDIO_N_ROWS));
    for (size_t w = 0; w < n_windows; w++)
        assert_true(windows[w * AFAUDIO_N_FEATURES + 322] == (float)f.tempo);
    /* the track's rms mean is the mean of every frame's rms */
    double sum = 0;
    for (size_t t = 0; t < f.n_frames; t++)
        sum += f.data[AFAUDIO_ROW_RMS * f.n_frames + t];
    assert_true(fabs(track[AFAUDIO_ROW_RMS * 7] - sum / f.n_frames) <= 1e-6 * fabs(sum));
    /* only the track */
    float track2[AFAUDIO_N_FEATURES];
    assert_int_equal(afaudio_vectors(&f, 3.0, 3.0, NULL, NULL, track2, &err), 0);
    assert_memory_equal(track, track2, sizeof track);
    afaudio_free(windows);
    /* a window shorter than a hop of frames is refused, saying why, and returns nothing */
    assert_int_equal(afaudio_vectors(&f, 0.001, 3.0, &windows, &n_windows, NULL, &err), -1);
    assert_null(windows);
    assert_int_equal(n_windows, 0);
    assert_non_null(strstr(err.message, "window length"));
    tones_release(&sig);
}

static void test_errors_say_why(void **state)
{
    (void)state;
    afaudio_error err = {0};
    float *y = (float *)1;
    size_t n = 1;
    assert_int_equal(afaudio_load(AF_PROJECT_DIR "/no/such.mp3", 0, &y, &n, &err), -1);
    assert_null(y);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.message, "no/such.mp3"));
    assert_string_equal(err.reason, "unreadable");

    assert_int_equal(afaudio_load_memory("", 0, 0, &y, &n, &err), -1);
    assert_string_equal(err.reason, "empty");
    assert_int_equal(afaudio_load(TONES, -1, &y, &n, &err), -1);
    assert_non_null(strstr(err.message, "negative"));

    afaudio *a = afaudio_new(NULL);
    afaudio_frames f;
    float short_input[100] = {0};
    assert_int_equal(afaudio_compute(a, short_input, 100, &f, &err), -1);
    assert_string_equal(err.reason, "");
    assert_true(strlen(err.message) > 0);
    assert_null(f.data);
    float bad[4096] = {0};
    bad[7] = NAN;
    assert_int_equal(afaudio_compute(a, bad, 4096, &f, NULL), -1); /* err may be NULL */
    afaudio_destroy(a);
    afaudio_destroy(NULL);
    afaudio_free(NULL);
}

struct job {
    const float *y;
    size_t n;
    afaudio_frames f;
    int rc;
};

static void *compute_in_thread(void *arg)
{
    struct job *j = arg;
    afaudio *a = afaudio_new(NULL);
    j->rc = a ? afaudio_compute(a, j->y, j->n, &j->f, NULL) : -1;
    afaudio_destroy(a);
    return NULL;
}

static void test_handles_in_two_threads_agree(void **state)
{
    (void)state;
    float *y;
    size_t n;
    assert_int_equal(afaudio_load(TONES, 0, &y, &n, NULL), 0);
    struct job jobs[2] = {{y, n, {0}, -1}, {y, n / 2, {0}, -1}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, compute_in_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    struct job alone = {y, n, {0}, -1};
    compute_in_thread(&alone);
    assert_int_equal(jobs[0].rc, 0);
    assert_int_equal(jobs[1].rc, 0);
    assert_int_equal(jobs[1].f.n_frames, 1 + (n / 2) / AFAUDIO_HOP_LENGTH);
    assert_memory_equal(jobs[0].f.data, alone.f.data,
                        sizeof(float) * AFAUDIO_N_ROWS * alone.f.n_frames);
    for (int i = 0; i < 2; i++)
        afaudio_frames_free(&jobs[i].f);
    afaudio_frames_free(&alone.f);
    afaudio_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_is_the_projects),
        cmocka_unit_test(test_load_and_compute_equal_librosa),
        cmocka_unit_test(test_excerpt_is_central),
        cmocka_unit_test(test_vectors_and_names),
        cmocka_unit_test(test_errors_say_why),
        cmocka_unit_test(test_handles_in_two_threads_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
