/*
 * framing.h — the fixed framing every analysis module works in: mono float32
 * at 22050 Hz, frames of n_fft 2048 samples every 512, centred (frames.h says
 * how).  Its own header, so that the modules behind frames.c (stft, temporal, ...)
 * can use the numbers without depending on frames.h, which depends on them.
 */
#ifndef AF_FRAMING_H
#define AF_FRAMING_H

#define AF_SAMPLE_RATE 22050
#define AF_N_FFT 2048
#define AF_HOP 512
/* af_frames_compute rejects samples that are not finite or exceed this magnitude
 * (float32 power sums could overflow); decoded audio is within +-1. */
#define AF_MAX_ABS_SAMPLE 1e6f

#endif
