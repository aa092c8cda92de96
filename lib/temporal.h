/*
 * temporal.h — the two frame features librosa computes on the waveform rather
 * than the STFT: zero_crossing_rate (edge padding, |x| <= 1e-10 counts as 0,
 * 0 counts as positive) and rms (zero padding), both frames of 2048, hop 512,
 * centred, one value per STFT frame.
 */
#ifndef AF_TEMPORAL_H
#define AF_TEMPORAL_H

#include <stddef.h>

/* block_scratch: at least n_frames + 4 doubles. */
void af_zero_crossing_rate(const float *y, size_t n_samples, size_t n_frames, double *block_scratch,
                           float *out);
void af_rms(const float *y, size_t n_samples, size_t n_frames, double *block_scratch, float *out);

#endif
