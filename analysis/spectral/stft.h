/*
 * stft.h — the short-time Fourier transform every frame feature starts from
 * (librosa.stft defaults: periodic Hann, n_fft 2048, hop 512, centred with
 * 1024 zeros of padding on each side), as librosa computes it: float32
 * samples times a float64 window, a float64 FFT, magnitudes in float32.
 * The FFT is FFTW's double c2c of half the length (stft.c says how).  Float64 matters: a float32 FFT's
 * noise (1e-7 of the frame's peak) would swamp spectral-contrast valleys near
 * 1e-8 of it.
 *
 * The window and FFT plan live in a read-only struct af_stft shared by all
 * threads (the plan is made once per process, thread-safely, and shared by
 * every struct af_stft); each thread brings its own struct af_stft_buffers.
 * Magnitudes are written as one row of AF_MAG_STRIDE floats per frame (bins 0..1024, then
 * zeros), the layout spectral.c, chroma.c and hpss.c read.
 */
#ifndef AF_STFT_H
#define AF_STFT_H

#include <stddef.h>

#include <fftw3.h>

#include "error.h"
#include "framing.h"

#define AF_N_BINS (AF_N_FFT / 2 + 1) /* 1025 */
/* Row stride of magnitude matrices: AF_N_BINS rounded up to a multiple of 16,
 * so that SIMD code can walk whole 16-float groups; the tail is kept at 0. */
#define AF_MAG_STRIDE 1040

/* Split complex arrays of one half-length transform: AF_N_FFT / 2 values, one more
 * (Z_M = Z_0), rounded up to whole 8-double vectors. */
#define AF_STFT_HALF_DOUBLES (AF_N_FFT / 2 + 8)
/* in_re, in_im (the windowed frame's even and odd samples), out_re, out_im */
#define AF_STFT_WORK_DOUBLES (4 * AF_STFT_HALF_DOUBLES)

struct af_stft {
    /* the periodic Hann window / 2 (float64, like scipy.signal.get_window) at even and
     * odd samples; both halves mirror each other, so only the first halves are kept:
     * even[j] = w[2j] for j <= AF_N_FFT / 4, odd[j] = w[2j + 1] for j < AF_N_FFT / 4 */
    double half_window_even[AF_N_FFT / 4 + 8], half_window_odd[AF_N_FFT / 4];
    /* exp(-2 pi i k / AF_N_FFT), k < AF_N_FFT / 4: bins k and AF_N_FFT / 2 - k share one */
    double twiddle_re[AF_N_FFT / 4], twiddle_im[AF_N_FFT / 4];
    fftw_plan plan; /* split-format c2c of AF_N_FFT / 2 complex doubles, process-wide */
};

struct af_stft_buffers {
    float *frame; /* AF_N_FFT samples of a frame that overlaps the signal's edges */
    double *work; /* AF_STFT_WORK_DOUBLES: the windowed frame, then its spectrum */
};

static inline size_t af_n_frames(size_t n_samples)
{
    return 1 + n_samples / AF_HOP;
}

/* Centre frequency of FFT bin k, computed exactly as np.fft.rfftfreq does. */
double af_bin_frequency(size_t k);

/* Fails only if FFTW cannot make its plan (out of memory). */
int af_stft_init(struct af_stft *s, af_err *err);

int af_stft_buffers_init(struct af_stft_buffers *b, af_err *err);
void af_stft_buffers_destroy(struct af_stft_buffers *b);

/* |X_t[k]| for k < AF_N_BINS into mag[0..AF_MAG_STRIDE) (tail zeroed) for frame t
 * of y[0..n_samples). */
void af_stft_magnitude(const struct af_stft *s, struct af_stft_buffers *b, const float *y,
                       size_t n_samples, size_t t, float *mag);

#endif
