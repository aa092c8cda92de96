/*
 * frames.h — frame-level audio features, numerically equal to librosa 0.10.1.
 *
 * This is the contract between the frame-level feature code (stft.c, mel.c,
 * mfcc.c, spectral.c, chroma.c, onset.c, tempo.c, hpss.c, implemented behind
 * frames.c) and its users (window statistics in features.c, af-extract,
 * af-features, af-predict).
 *
 * Input: mono float32 samples at 22050 Hz.  Frames: n_fft 2048, hop 512,
 * centred, n_frames = 1 + n_samples / 512.
 *
 * Threading: an af_frame_ctx holds everything that is expensive and read-only
 * (FFTW plans, mel and chroma filterbanks, windows); make one per process and
 * share it.  Each thread owns one af_frame_workspace (scratch buffers), and
 * calls af_frames_compute with it; nothing else is shared or locked.
 */
#ifndef AF_FRAMES_H
#define AF_FRAMES_H

#include <stddef.h>

#include "error.h"
#include "framing.h" /* AF_SAMPLE_RATE, AF_N_FFT, AF_HOP, AF_MAX_ABS_SAMPLE */

/* Rows of af_frame_features.data, in this order. */
enum af_frame_row {
    AF_ROW_MFCC = 0,       /* 20 rows: mfcc 0..19 */
    AF_ROW_CENTROID = 20,  /* spectral_centroid */
    AF_ROW_BANDWIDTH = 21, /* spectral_bandwidth */
    AF_ROW_ROLLOFF = 22,   /* spectral_rolloff */
    AF_ROW_FLATNESS = 23,  /* spectral_flatness */
    AF_ROW_CONTRAST = 24,  /* 7 rows: spectral_contrast */
    AF_ROW_ZCR = 31,       /* zero_crossing_rate */
    AF_ROW_RMS = 32,       /* rms */
    AF_ROW_CHROMA = 33,    /* 12 rows: chroma_stft C..B, tuning estimated */
    AF_ROW_ONSET = 45,     /* onset_strength */
    AF_FRAME_DIMS = 46
};

struct af_frame_features {
    size_t n_frames;
    float *data;              /* AF_FRAME_DIMS x n_frames, row-major: data[row * n_frames + t] */
    float *harmonic_energy;   /* n_frames: sum over bins of |H|^2 (librosa.decompose.hpss, kernel 31) */
    float *percussive_energy; /* n_frames: sum over bins of |P|^2 */
    double tempo;             /* BPM, librosa.feature.tempo (beat.tempo) on the whole input */
    float tuning;             /* estimated tuning in fractions of a semitone (used by chroma) */
};

struct af_frame_ctx;
struct af_frame_workspace;

/* Builds plans and filterbanks. Returns NULL and sets err on failure. Not thread-safe
 * (FFTW planning); call once at start-up. */
struct af_frame_ctx *af_frame_ctx_new(af_err *err);
void af_frame_ctx_free(struct af_frame_ctx *ctx);

struct af_frame_workspace *af_frame_workspace_new(const struct af_frame_ctx *ctx, af_err *err);
void af_frame_workspace_free(struct af_frame_workspace *ws);

/* Computes every frame feature of y[0..n_samples). out's arrays are allocated here;
 * free them with af_frame_features_free. Fails (sets err) if n_samples < AF_N_FFT. */
int af_frames_compute(const struct af_frame_ctx *ctx, struct af_frame_workspace *ws,
                      const float *y, size_t n_samples, struct af_frame_features *out,
                      af_err *err);
void af_frame_features_free(struct af_frame_features *f);

#endif
