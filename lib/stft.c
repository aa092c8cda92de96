/*
 * stft.c — windowing and magnitude of one frame; the transform itself is
 * FFTW's double r2c (see stft.h for why it is float64).
 */
#include "stft.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi" /* vectors stay inside this file */

typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef long long v8l __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define STFT_CLONES
#endif

/* One plan for the process: FFTW planning is not thread-safe and costs time, and a
 * plan is read-only once made (fftw_execute_dft_r2c with each thread's own arrays).
 * FFTW_ESTIMATE keeps the choice of algorithm, hence every rounding, the same from
 * run to run; FFTW_MEASURE was not measurably faster here.  Never destroyed. */
static pthread_once_t plan_once = PTHREAD_ONCE_INIT;
static fftw_plan shared_plan;

static void make_plan(void)
{
    /* The same layout as af_stft_buffers.work: input at 0, output right after it. */
    double *work = fftw_malloc(sizeof(double) * AF_STFT_WORK_DOUBLES);
    if (!work)
        return;
    shared_plan = fftw_plan_dft_r2c_1d(AF_N_FFT, work, (fftw_complex *)(work + AF_N_FFT),
                                       FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
    fftw_free(work);
}

double af_bin_frequency(size_t k)
{
    /* np.fft.rfftfreq(n, d=1/sr): k * (1 / (n * d)) */
    const double val = 1.0 / ((double)AF_N_FFT * (1.0 / (double)AF_SAMPLE_RATE));
    return (double)k * val;
}

int af_stft_init(struct af_stft *s, af_err *err)
{
    /* scipy.signal.get_window('hann', 2048, fftbins=True) */
    for (size_t n = 0; n < AF_N_FFT; n++)
        s->window[n] = 0.5 - 0.5 * cos(2.0 * M_PI * (double)n / (double)AF_N_FFT);
    pthread_once(&plan_once, make_plan);
    s->plan = shared_plan;
    return s->plan ? 0 : af_err_set(err, "stft: FFTW cannot plan a %d-point transform", AF_N_FFT);
}

int af_stft_buffers_init(struct af_stft_buffers *b, af_err *err)
{
    b->frame = aligned_alloc(64, sizeof(float) * AF_N_FFT);
    b->work = fftw_malloc(sizeof(double) * AF_STFT_WORK_DOUBLES);
    if (!b->frame || !b->work) {
        af_stft_buffers_destroy(b);
        return af_err_set(err, "stft: out of memory");
    }
    return 0;
}

void af_stft_buffers_destroy(struct af_stft_buffers *b)
{
    free(b->frame);
    fftw_free(b->work);
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

static inline __attribute__((always_inline)) v8d load8d(const double *p)
{
    v8d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* in[n] = frame[n] * window[n], float32 samples times the float64 window. */
STFT_CLONES
static void window_frame(const float *frame, const double *window, double *in)
{
    for (int n = 0; n < AF_N_FFT; n += 8) {
        v8f x;
        memcpy(&x, frame + n, sizeof x);
        v8d w = __builtin_convertvector(x, v8d) * load8d(window + n);
        memcpy(in + n, &w, sizeof w);
    }
}

/* |X[k]| from FFTW's interleaved (re, im) output, k < AF_N_BINS, as librosa computes
 * it: the spectrum rounded to complex64, then a correctly rounded float32 hypot. */
STFT_CLONES
static void magnitude(const double *spectrum, float *mag)
{
    for (int k = 0; k < 1024; k += 8) {
        v8d a = load8d(spectrum + 2 * k), b = load8d(spectrum + 2 * k + 8);
        v8d xr = __builtin_shuffle(a, b, (v8l){0, 2, 4, 6, 8, 10, 12, 14});
        v8d xi = __builtin_shuffle(a, b, (v8l){1, 3, 5, 7, 9, 11, 13, 15});
        v8d fr = __builtin_convertvector(__builtin_convertvector(xr, v8f), v8d);
        v8d fi = __builtin_convertvector(__builtin_convertvector(xi, v8f), v8d);
        v8f m2 = __builtin_convertvector(fr * fr + fi * fi, v8f);
        for (int j = 0; j < 8; j++) /* one vector sqrt (the build has -fno-math-errno) */
            mag[k + j] = sqrtf(m2[j]);
    }
    /* Nyquist: imaginary part 0 */
    mag[1024] = fabsf((float)spectrum[2 * 1024]);
}

void af_stft_magnitude(const struct af_stft *s, struct af_stft_buffers *b, const float *y,
                       size_t n_samples, size_t t, float *mag)
{
    const float *frame = frame_samples(y, n_samples, t, b->frame);
    double *in = b->work, *out = b->work + AF_N_FFT;
    window_frame(frame, s->window, in);
    fftw_execute_dft_r2c(s->plan, in, (fftw_complex *)out);
    magnitude(out, mag);
    for (size_t k = AF_N_BINS; k < AF_MAG_STRIDE; k++)
        mag[k] = 0.0f;
}
