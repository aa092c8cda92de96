/*
 * temporal.h — the two frame features librosa computes on the waveform rather
 * than the STFT: zero_crossing_rate (edge padding, |x| <= 1e-10 counts as 0,
 * 0 counts as positive) and rms (zero padding), both frames of 2048, hop 512,
 * centred, one value per STFT frame.
 */
#ifndef AF_TEMPORAL_H
#define AF_TEMPORAL_H

#include <stdbool.h>
#include <stddef.h>

/* One pass over y[0..n_samples) by hop blocks b (samples [512b, 512b + 512)):
 * block_crossings[b] = the sign changes between samples i-1 and i for i >= 1 in
 * the block, block_squares[b] = its sum of squares.  Each array holds
 * ceil(n_samples / 512) <= af_n_frames(n_samples) values.  Returns false as soon
 * as a block holds a sample that is NaN or has |x| > max_abs (the sums are then
 * incomplete). */
bool af_waveform_blocks(const float *y, size_t n_samples, float max_abs, double *block_crossings,
                        double *block_squares);

/* One value per frame from af_waveform_blocks' sums (zcr also reads y at block
 * edges). */
void af_zero_crossing_rate(const float *y, size_t n_samples, size_t n_frames, const double *block_crossings,
                           float *out);
void af_rms(size_t n_samples, size_t n_frames, const double *block_squares, float *out);

#endif
