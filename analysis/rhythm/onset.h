/*
 * onset.h — librosa.onset.onset_strength with its defaults: dB mel (from
 * mfcc.c's af_power_to_db), lag-1 difference, rectified, averaged over the
 * 128 bands, shifted right by lag + n_fft / (2 hop) = 3 frames (leading
 * zeros) and truncated to n_frames.  tempo.c consumes it.
 */
#ifndef AF_ONSET_H
#define AF_ONSET_H

#include <stddef.h>

/* db_mel: n_frames rows of AF_N_MELS (128) values. */
void af_onset_strength(const float *db_mel, size_t n_frames, float *out);

#endif
