/*
 * rfft2048.h — double-precision real FFT of exactly AF_N_FFT = 2048 points,
 * the transform behind the STFT (stft.c).
 *
 * Why not FFTW single precision: librosa runs its STFT in float64 (float32
 * frame x float64 window, pocketfft in double) and only then rounds to
 * complex64.  A float32 FFT adds noise of ~1e-7 of the frame's peak to every
 * bin, and spectral_contrast's valleys (means of the quietest bins, often
 * 1e-8 of the peak on real recordings) and spectral_flatness (a geometric mean
 * over all bins) then miss librosa by up to 2e-2.  A double transform keeps
 * every bin accurate to ~1e-15 of the peak.
 *
 * Method: the 2048 real samples are packed as 1024 complex values, transformed
 * by a four-step 32 x 32 FFT (radix 4/4/2 column FFTs vectorised across
 * columns, twiddle + transpose, the same again), then unpacked into bins
 * 0..1024.  ~4 us per frame with AVX-512 (FFTW's float r2c: ~1.7 us, its
 * double one ~2.9 us, which the build does not link).
 * The tables are read-only after af_rfft2048_init; the work area is per thread.
 */
#ifndef AF_RFFT2048_H
#define AF_RFFT2048_H

#include <stddef.h>

#define AF_RFFT_N 2048
#define AF_RFFT_BINS 1025
#define AF_RFFT_SIDE 32                                /* 1024 = 32 x 32 */
#define AF_RFFT_WORK_DOUBLES (4 * 1024 + 2 * 1032)     /* two SoA matrices + linear spectrum */

struct af_rfft2048 {
    double stage_re[AF_RFFT_SIDE], stage_im[AF_RFFT_SIDE]; /* e^{-2 pi i j / 32}, j < 32 */
    double twiddle_re[1024], twiddle_im[1024];             /* e^{-2 pi i k1 n2 / 1024}, [k1][n2] */
    double post_re[AF_RFFT_BINS], post_im[AF_RFFT_BINS];   /* e^{-2 pi i k / 2048} */
};

void af_rfft2048_init(struct af_rfft2048 *p);

/* X[k] = sum_n x[n] e^{-2 pi i k n / 2048}, k = 0..1024.  work: AF_RFFT_WORK_DOUBLES
 * doubles, 64-byte aligned.  re/im: AF_RFFT_BINS doubles each. */
void af_rfft2048(const struct af_rfft2048 *p, const double *x, double *work, double *re, double *im);

/* |X[k]| as librosa computes it (complex64, then float32 magnitude) into mag[0..1025)
 * for x[n] = frame[n] * window[n]; the window is given as its even (w_even[i] =
 * window[2i]) and odd halves, 1024 doubles each. */
void af_rfft2048_magnitude(const struct af_rfft2048 *p, const float *frame, const double *w_even,
                           const double *w_odd, double *work, float *mag);

#endif
