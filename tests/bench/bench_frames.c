/*
 * bench_frames.c — speed of the frame-level features (analysis/frames.c and the
 * modules behind it) on 30 s of 22.05 kHz audio, broken down by stage.
 * Built by `make bench` (build/bench/bench_frames); by hand, from the project root,
 * after `make build/libaf.a`:
 *
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Ilib tests/bench/bench_frames.c build/libaf.a \
 *      $(pkg-config --libs fftw3) -lm -lpthread -o build/bench_frames && build/bench_frames [file.f32]
 *
 * Input: raw float32 mono samples (e.g. `ffmpeg -i x.mp3 -f f32le -ac 1 -ar 22050 x.f32`),
 * or a synthetic 30 s mix of tones and noise when no file is given.
 * Reports the best of several runs (thread CPU ms per 30 s of audio).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "descriptors/spectral.h"
#include "descriptors/temporal.h"
#include "frames.h"
#include "hpss/hpss.h"
#include "rhythm/onset.h"
#include "rhythm/tempo.h"
#include "spectral/chroma.h"
#include "spectral/mel.h"
#include "spectral/mfcc.h"
#include "spectral/stft.h"

#define RUNS 15

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust on a shared machine */
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static float *synthetic(size_t n)
{
    float *y = malloc(n * sizeof *y);
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        double t = (double)i / AF_SAMPLE_RATE;
        y[i] = (float)(0.3 * sin(2 * M_PI * 220 * t) + 0.2 * sin(2 * M_PI * 331 * t) * (fmod(t, 0.5) < 0.1)
                       + 0.05 * ((s >> 9) / 4194304.0 - 1.0));
    }
    return y;
}

static float *load_f32(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f) / sizeof(float);
    fseek(f, 0, SEEK_SET);
    float *y = malloc(*n * sizeof *y);
    if (fread(y, sizeof *y, *n, f) != *n) {
        free(y);
        y = NULL;
    }
    fclose(f);
    return y;
}

enum { ST_STFT, ST_MEL, ST_MOMENTS, ST_FLAT, ST_CONTRAST, ST_PIPTRACK, ST_ROLLOFF, ST_MFCC, ST_ONSET,
       ST_CONTRAST_DB, ST_TUNING, ST_CHROMA_FB, ST_CHROMA, ST_TEMPO, ST_ZCR_RMS, ST_HPSS, ST_N };
static const char *stage_name[ST_N] = {"stft (fft+magnitude)", "mel", "centroid+bandwidth", "flatness",
                                       "contrast (per frame)", "piptrack", "rolloff", "dB + mfcc", "onset",
                                       "contrast dB", "tuning", "chroma filterbank", "chroma", "tempo", "check+zcr+rms",
                                       "hpss"};

int main(int argc, char **argv)
{
    size_t n = 30 * AF_SAMPLE_RATE;
    float *y = argc > 1 ? load_f32(argv[1], &n) : synthetic(n);
    if (!y) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    af_err err = {0};
    struct af_frame_ctx *ctx = af_frame_ctx_new(&err);
    struct af_frame_workspace *ws = ctx ? af_frame_workspace_new(ctx, &err) : NULL;
    if (!ws) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double scale = 30.0 * AF_SAMPLE_RATE / (double)n; /* ms per 30 s */

    /* Whole pipeline through the public API. */
    double best_total = 1e30;
    struct af_frame_features out;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ms();
        if (af_frames_compute(ctx, ws, y, n, &out, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double dt = now_ms() - t0;
        if (dt < best_total)
            best_total = dt;
        if (r + 1 < RUNS)
            af_frame_features_free(&out);
    }

    /* Stage by stage, with the modules' own functions (same work as frames.c). */
    size_t T = af_n_frames(n);
    static struct af_stft stft;
    struct af_stft_buffers sb;
    struct af_mel mel;
    struct af_mfcc mfcc;
    struct af_spectral sp;
    struct af_contrast con;
    struct af_tempo tempo;
    struct af_tempo_buffers tb;
    if (af_stft_init(&stft, &err) != 0) {
        fprintf(stderr, "bench_frames: %s\n", err.msg);
        return 1;
    }
    af_stft_buffers_init(&sb, &err);
    af_mel_init(&mel, &err);
    af_mfcc_init(&mfcc);
    af_spectral_init(&sp);
    af_contrast_init(&con, &sp);
    af_tempo_init(&tempo, &err);
    af_tempo_buffers_init(&tb, &err);
    float *mag = aligned_alloc(64, T * AF_MAG_STRIDE * sizeof(float));
    float *harm = aligned_alloc(64, af_hpss_scratch_floats() * sizeof(float));
    float *melp = malloc(T * AF_N_MELS * sizeof(float));
    float *rows = malloc(64 * T * sizeof(float));
    float *peak = malloc(7 * T * sizeof(float)), *valley = malloc(7 * T * sizeof(float));
    float *scratch = malloc((T + 400) * sizeof(float));
    double *blocks = malloc((14 * T + 4) * sizeof(double));
    float *fb = aligned_alloc(64, 12 * AF_CHROMA_FB_STRIDE * sizeof(float));
    struct af_pitch_list pl = {0};
    float *pscratch = NULL;
    double best[ST_N];
    for (int s = 0; s < ST_N; s++)
        best[s] = 1e30;
    for (int r = 0; r < RUNS; r++) {
        double t[ST_N + 1];
        int s = 0;
        t[s] = now_ms();
        for (size_t i = 0; i < T; i++)
            af_stft_magnitude(&stft, &sb, y, n, i, mag + i * AF_MAG_STRIDE);
        t[++s] = now_ms();
        for (size_t i = 0; i < T; i++)
            af_mel_apply(&mel, mag + i * AF_MAG_STRIDE, melp + i * AF_N_MELS);
        t[++s] = now_ms();
        for (size_t i = 0; i < T; i++)
            af_spectral_centroid_bandwidth(&sp, mag + i * AF_MAG_STRIDE, rows + i, rows + T + i);
        t[++s] = now_ms();
        for (size_t i = 0; i < T; i++)
            rows[2 * T + i] = af_spectral_flatness(mag + i * AF_MAG_STRIDE);
        t[++s] = now_ms();
        for (size_t i = 0; i < T; i++) {
            float p[7], v[7];
            af_contrast_frame(&con, mag + i * AF_MAG_STRIDE, p, v);
            for (int b = 0; b < 7; b++) {
                peak[b * T + i] = p[b];
                valley[b * T + i] = v[b];
            }
        }
        t[++s] = now_ms();
        pl.n = 0;
        for (size_t i = 0; i < T; i++)
            af_piptrack_frame(mag + i * AF_MAG_STRIDE, &pl, &err);
        t[++s] = now_ms();
        af_spectral_rolloff(mag, T, rows + 3 * T);
        t[++s] = now_ms();
        af_power_to_db(melp, T * AF_N_MELS, AF_TOP_DB);
        for (size_t i = 0; i < T; i++)
            af_mfcc_frame(&mfcc, melp + i * AF_N_MELS, rows + 4 * T + (i % 16) * 20);
        t[++s] = now_ms();
        af_onset_strength(melp, T, rows + 40 * T);
        t[++s] = now_ms();
        af_contrast_finish(peak, valley, T, blocks, rows + 5 * T);
        t[++s] = now_ms();
        pscratch = realloc(pscratch, af_tuning_scratch_floats(pl.n) * sizeof(float));
        double tuning = af_tuning_from_pitches(&pl, pscratch);
        t[++s] = now_ms();
        af_chroma_filterbank(tuning, fb);
        t[++s] = now_ms();
        af_chroma_frames(fb, mag, T, rows + 20 * T);
        t[++s] = now_ms();
        volatile double bpm = af_tempo_estimate(&tempo, &tb, rows + 40 * T, T, scratch, NULL);
        (void)bpm;
        t[++s] = now_ms();
        if (!af_waveform_blocks(y, n, AF_MAX_ABS_SAMPLE, blocks, blocks + T))
            abort();
        af_zero_crossing_rate(y, n, T, blocks, rows + 12 * T);
        af_rms(n, T, blocks + T, rows + 13 * T);
        t[++s] = now_ms();
        af_hpss_energies(mag, T, harm, rows + 14 * T, rows + 15 * T);
        t[++s] = now_ms();
        for (int k = 0; k < ST_N; k++)
            if (t[k + 1] - t[k] < best[k])
                best[k] = t[k + 1] - t[k];
    }
    printf("%zu samples (%.1f s), %zu frames; ms per 30 s of audio, best of %d runs\n", n,
           (double)n / AF_SAMPLE_RATE, T, RUNS);
    double sum = 0;
    for (int s = 0; s < ST_N; s++) {
        printf("  %-24s %7.3f\n", stage_name[s], best[s] * scale);
        sum += best[s] * scale;
    }
    printf("  %-24s %7.3f  (the chroma filterbank is cached per tuning value in a workspace)\n",
           "sum of stages", sum);
    printf("  %-24s %7.3f  (af_frames_compute, %.0fx realtime)\n", "total", best_total * scale,
           30000.0 / (best_total * scale));
    printf("tempo %.3f BPM, tuning %.2f\n", out.tempo, out.tuning);
    af_frame_features_free(&out);
    af_frame_workspace_free(ws);
    af_frame_ctx_free(ctx);
    return 0;
}
