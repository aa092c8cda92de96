/*
 * mfcc.h — librosa.power_to_db and librosa.feature.mfcc (20 coefficients,
 * DCT-II with orthonormal scaling, no lifter) on the mel power from mel.c.
 * The dB mel spectrogram is shared with onset.c.
 */
#ifndef AF_MFCC_H
#define AF_MFCC_H

#include <stddef.h>

#include "mel.h"

#define AF_N_MFCC 20
#define AF_TOP_DB 80.0f

/* In place, float32 like librosa: 10*log10(max(x, 1e-10)), then floored at
 * (max over ALL n values) - top_db. */
void af_power_to_db(float *x, size_t n, float top_db);

struct af_mfcc {
    float dct[AF_N_MFCC][AF_N_MELS]; /* orthonormal DCT-II rows */
};

void af_mfcc_init(struct af_mfcc *m);

/* 20 coefficients of one frame of dB mel values. */
void af_mfcc_frame(const struct af_mfcc *m, const float db_mel[AF_N_MELS], float out[AF_N_MFCC]);

#endif
