/*
 * use_afaudio.c — a program outside AudioFiler using the installed analysis
 * library: built by tests/integration/test_library.sh with
 * `cc use_afaudio.c $(pkg-config --cflags --libs afaudio)` against a temporary
 * `make install`.  It analyses a 440 Hz sine it generates (3 s, amplitude 0.5)
 * and, when given one, an audio file, and prints what it found, one "key value"
 * a line, for the test to judge.
 */
#include <afaudio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const double pi = 3.14159265358979323846;

static int report(afaudio *a, const char *what, const float *y, size_t n)
{
    afaudio_error err;
    afaudio_frames f;
    if (afaudio_compute(a, y, n, &f, &err) != 0) {
        fprintf(stderr, "%s: %s\n", what, err.message);
        return 1;
    }
    size_t mid = f.n_frames / 2;
    int peak = 0;
    for (int c = 1; c < 12; c++)
        if (f.data[(AFAUDIO_ROW_CHROMA + c) * f.n_frames + mid] >
            f.data[(AFAUDIO_ROW_CHROMA + peak) * f.n_frames + mid])
            peak = c;
    float track[AFAUDIO_N_FEATURES];
    size_t n_windows = 0;
    float *windows = NULL;
    if (afaudio_vectors(&f, 1.0, 1.0, &windows, &n_windows, track, &err) != 0) {
        fprintf(stderr, "%s: %s\n", what, err.message);
        afaudio_frames_free(&f);
        return 1;
    }
    printf("%s_frames %zu\n", what, f.n_frames);
    printf("%s_centroid %.1f\n", what, f.data[AFAUDIO_ROW_CENTROID * f.n_frames + mid]);
    printf("%s_rms %.4f\n", what, f.data[AFAUDIO_ROW_RMS * f.n_frames + mid]);
    printf("%s_chroma_peak %s\n", what, afaudio_row_name(AFAUDIO_ROW_CHROMA + peak));
    printf("%s_windows %zu\n", what, n_windows);
    printf("%s_%s %.4f\n", what, afaudio_feature_name(AFAUDIO_ROW_RMS * 7), track[AFAUDIO_ROW_RMS * 7]);
    afaudio_free(windows);
    afaudio_frames_free(&f);
    return 0;
}

int main(int argc, char **argv)
{
    printf("version %s %s\n", AFAUDIO_VERSION, afaudio_version());
    afaudio_error err;
    afaudio *a = afaudio_new(&err);
    if (!a) {
        fprintf(stderr, "afaudio_new: %s\n", err.message);
        return 1;
    }
    size_t n = 3 * AFAUDIO_SAMPLE_RATE;
    float *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = 0.5f * (float)sin(2 * pi * 440.0 * (double)i / AFAUDIO_SAMPLE_RATE);
    int failed = report(a, "sine", y, n);
    free(y);
    if (argc > 1) {
        float *samples;
        size_t n_samples;
        if (afaudio_load(argv[1], 0, &samples, &n_samples, &err) != 0) {
            fprintf(stderr, "load: %s (%s)\n", err.message, err.reason);
            failed = 1;
        } else {
            printf("file_samples %zu\n", n_samples);
            failed |= report(a, "file", samples, n_samples);
            afaudio_free(samples);
        }
    }
    afaudio_destroy(a);
    return failed;
}
