/*
 * stft.c — windowing and magnitude of one frame; the transform itself is
 * rfft2048.c (see there for why it is float64).
 */
#include "stft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


double af_bin_frequency(size_t k)
{
    /* np.fft.rfftfreq(n, d=1/sr): k * (1 / (n * d)) */
    const double val = 1.0 / ((double)AF_N_FFT * (1.0 / (double)AF_SAMPLE_RATE));
    return (double)k * val;
}

void af_stft_init(struct af_stft *s)
{
    /* scipy.signal.get_window('hann', 2048, fftbins=True) */
    for (size_t n = 0; n < AF_N_FFT; n++) {
        double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)n / (double)AF_N_FFT);
        if (n % 2)
            s->window_odd[n / 2] = w;
        else
            s->window_even[n / 2] = w;
    }
    af_rfft2048_init(&s->fft);
}

int af_stft_buffers_init(struct af_stft_buffers *b, af_err *err)
{
    b->frame = aligned_alloc(64, sizeof(float) * AF_N_FFT);
    b->work = aligned_alloc(64, sizeof(double) * AF_RFFT_WORK_DOUBLES);
    if (!b->frame || !b->work) {
        af_stft_buffers_destroy(b);
        return af_err_set(err, "stft: out of memory");
    }
    return 0;
}

void af_stft_buffers_destroy(struct af_stft_buffers *b)
{
    free(b->frame);
    free(b->work);
    b->frame = NULL;
    b->work = NULL;
}

/* The samples of frame t: it starts at sample t*hop - n_fft/2 of y; outside y is zero
 * (center=True, pad_mode='constant').  Frames inside y are read in place. */
static const float *frame_samples(const float *y, size_t n_samples, size_t t, float *buffer)
{
    ptrdiff_t start = (ptrdiff_t)(t * AF_HOP) - AF_N_FFT / 2;
    if (start >= 0 && (size_t)start + AF_N_FFT <= n_samples)
        return y + start;
    for (size_t n = 0; n < AF_N_FFT; n++) {
        ptrdiff_t i = start + (ptrdiff_t)n;
        buffer[n] = (i >= 0 && (size_t)i < n_samples) ? y[i] : 0.0f;
    }
    return buffer;
}

void af_stft_magnitude(const struct af_stft *s, struct af_stft_buffers *b, const float *y,
                       size_t n_samples, size_t t, float *mag)
{
    const float *frame = frame_samples(y, n_samples, t, b->frame);
    af_rfft2048_magnitude(&s->fft, frame, s->window_even, s->window_odd, b->work, mag);
    for (size_t k = AF_N_BINS; k < AF_MAG_STRIDE; k++)
        mag[k] = 0.0f;
}
