/*
 * mel.h — librosa.filters.mel (128 Slaney bands, 0-11025 Hz, Slaney area
 * norm) stored sparsely, and its application to one frame's power spectrum
 * (librosa.feature.melspectrogram).  Built once in the frame context;
 * read-only afterwards.  mfcc.c and onset.c consume the result.
 */
#ifndef AF_MEL_H
#define AF_MEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AF_N_MELS 128

struct af_mel_band {
    uint32_t first;  /* first FFT bin with a non-zero weight */
    uint32_t count;  /* number of consecutive bins */
    uint32_t offset; /* index of the first weight in af_mel.weights (a multiple of 8) */
    uint32_t padded; /* the widest count of its group of 8 bands, rounded up to a multiple
                      * of 8: the bins af_mel_apply reads; extra weights are 0 */
};

struct af_mel {
    struct af_mel_band band[AF_N_MELS];
    float *weights; /* float32 weights exactly as librosa stores them */
};

int af_mel_init(struct af_mel *mel, af_err *err);
void af_mel_destroy(struct af_mel *mel);

/* Mel power of one frame from its magnitude spectrum (power = mag^2); mag must be
 * readable up to 8 floats past bin 1024 (AF_MAG_STRIDE rows are). */
void af_mel_apply(const struct af_mel *mel, const float *mag, float out[AF_N_MELS]);

/* The dense 128 x 1025 filterbank (for checks against librosa's). */
void af_mel_dense(const struct af_mel *mel, float *out);

#endif
