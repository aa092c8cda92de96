/*
 * tempo.h — librosa.feature.tempo (= beat.tempo) on an onset envelope:
 * autocorrelation tempogram over 8 s (344 frames, periodic Hann, centred with
 * linear-ramp padding, each frame scaled by its lag-0 value), averaged over
 * time, weighted by a log-normal prior (120 BPM, 1 octave), lags at or above
 * 320 BPM excluded; the result is the BPM of the best lag, 60 sr / (hop lag).
 *
 * The tables are read-only (struct af_tempo, in the frame context); each thread
 * brings a struct af_tempo_buffers.
 */
#ifndef AF_TEMPO_H
#define AF_TEMPO_H

#include <stddef.h>

#include "error.h"

#define AF_TEMPO_WIN 344                  /* time_to_frames(8 s) */
#define AF_TEMPO_DFT (2 * AF_TEMPO_WIN)    /* >= 2 * 344 - 1, so circular = linear autocorrelation */
#define AF_TEMPO_BINS (AF_TEMPO_DFT / 2 + 1) /* 345: the real input's distinct bins */
/* Bins -2 .. AF_TEMPO_BINS + 1 (the window's reach) in whole 4-double vectors. */
#define AF_TEMPO_SPAN 352

struct af_tempo {
    double bpm[AF_TEMPO_WIN];       /* bpm of each lag (lag 0: inf) */
    double log_prior[AF_TEMPO_WIN]; /* -inf for lags that are never chosen */
    int first_lag;                  /* first lag with bpm < 320 */
    /* one step of the sliding DFT at bin k (index k + 2): exp(2 pi i k / N) and (-1)^k */
    double step_re[AF_TEMPO_SPAN], step_im[AF_TEMPO_SPAN], sign[AF_TEMPO_SPAN];
};

struct af_tempo_buffers {
    double *re, *im; /* AF_TEMPO_SPAN: the current frame's unwindowed DFT, bin k at k + 2 */
    double *power;   /* 2 * AF_TEMPO_SPAN: this frame's windowed |X_k|^2 (first: FFTW's input;
                        last: the mean autocorrelation) */
    double *sum;     /* 2 * AF_TEMPO_SPAN: sum over frames of |X_k|^2 / lag-0 autocorrelation
                        (first: FFTW's output; last: the inverse transform's input) */
};

int af_tempo_init(struct af_tempo *tp, af_err *err);

int af_tempo_buffers_init(struct af_tempo_buffers *b, af_err *err);
void af_tempo_buffers_destroy(struct af_tempo_buffers *b);

/* Floats of scratch af_tempo_estimate needs for n_frames. */
static inline size_t af_tempo_scratch_floats(size_t n_frames)
{
    return n_frames + AF_TEMPO_WIN;
}

/* Tempo in BPM of onset[0..n_frames). *margin (may be NULL) receives the score gap
 * between the chosen lag and the runner-up: how far rounding would have to move
 * the scores to change the answer. */
double af_tempo_estimate(const struct af_tempo *tp, struct af_tempo_buffers *b, const float *onset,
                         size_t n_frames, float *scratch, double *margin);

#endif
