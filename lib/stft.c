/*
 * stft.c — windowing and magnitude of one frame (see stft.h for why it is float64).
 *
 * The real 2048-point transform is done as a complex 1024-point one: the windowed
 * frame x, read as z[n] = x[2n] + i x[2n+1], goes through FFTW's double c2c, and
 *
 *   E_k = (Z_k + conj Z_{M-k}) / 2,   O_k = (Z_k - conj Z_{M-k}) / 2i,
 *   X_k = E_k + W^k O_k,   W = exp(-2 pi i / N),   M = N/2,   Z_M = Z_0
 *
 * gives bins 0..M-1 and X_M = Re Z_0 - Im Z_0.  FFTW's double c2c of 1024 is a
 * quarter faster than its r2c of 2048, and the untangling is nearly free inside the
 * magnitude loop, where bins k and M-k share it: a 30-s clip's STFT went from
 * 3.8 to 3.1 ms.
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
typedef int v8i __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define STFT_CLONES
#endif

/* One plan for the process: FFTW planning is not thread-safe and costs time, and a
 * plan is read-only once made (fftw_execute_dft with each thread's own arrays).
 * FFTW_ESTIMATE (plus the wisdom below) keeps the choice of algorithm, hence every
 * rounding, the same from run to run: FFTW_MEASURE's choice depends on its timings,
 * which vary.  Never destroyed. */
static pthread_once_t plan_once = PTHREAD_ONCE_INIT;
static fftw_plan shared_plan;

/* What FFTW_MEASURE picks for this transform on x86-64 with AVX: the twiddle codelet
 * t2fv_32 where FFTW_ESTIMATE takes t3fv_32 (1.6-1.8 against 1.8-2.0 us per transform;
 * t2 reads full twiddle tables, t3 derives them, so if anything t2 is more exact).
 * Given to the planner as wisdom, every run makes this same plan without timing
 * anything; where these codelets do not exist (another CPU or FFTW build), FFTW
 * ignores the wisdom and plans as FFTW_ESTIMATE always did. */
static const char stft_wisdom[] =
    "(fftw-3.3.10 fftw_wisdom #x458a31c8 #x92381c4c #x4f974889 #xcd46f97e\n"
    "  (fftw_codelet_n2fv_32_avx 0 #x10bdd #x10bdd #x0 #xfacc7de5 #x6d194dae #x7a176acb #x2f7c1f25)\n"
    "  (fftw_codelet_t2fv_32_avx 0 #x10bdd #x10bdd #x0 #x9208a52b #x2d2ad097 #x6067ffe4 #xcda7baf8)\n"
    ")\n";

static void make_plan(void)
{
    fftw_import_wisdom_from_string(stft_wisdom); /* 0 (ignored) on another FFTW version */
    /* The same layout as af_stft_buffers.work: input at 0, output right after it. */
    double *work = fftw_malloc(sizeof(double) * AF_STFT_WORK_DOUBLES);
    if (!work)
        return;
    shared_plan = fftw_plan_dft_1d(AF_N_FFT / 2, (fftw_complex *)work, (fftw_complex *)(work + AF_N_FFT),
                                   FFTW_FORWARD, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
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
    /* scipy.signal.get_window('hann', 2048, fftbins=True), halved (exactly) for
     * magnitude() */
    for (size_t n = 0; n < AF_N_FFT; n++)
        s->half_window[n] = 0.5 * (0.5 - 0.5 * cos(2.0 * M_PI * (double)n / (double)AF_N_FFT));
    for (size_t k = 0; k < AF_N_FFT / 4; k++) {
        s->twiddle_re[k] = cos(2.0 * M_PI * (double)k / (double)AF_N_FFT);
        s->twiddle_im[k] = -sin(2.0 * M_PI * (double)k / (double)AF_N_FFT);
    }
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

/* in[n] = frame[n] * window[n], float32 samples times a float64 window. */
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

static inline __attribute__((always_inline)) void deinterleave8d(const double *p, v8d *re, v8d *im)
{
    v8d a = load8d(p), b = load8d(p + 8);
    *re = __builtin_shuffle(a, b, (v8l){0, 2, 4, 6, 8, 10, 12, 14});
    *im = __builtin_shuffle(a, b, (v8l){1, 3, 5, 7, 9, 11, 13, 15});
}

/* Reversed: lane j holds the value at p[7 - j]. */
static inline __attribute__((always_inline)) void deinterleave8d_reversed(const double *p, v8d *re, v8d *im)
{
    v8d a = load8d(p), b = load8d(p + 8);
    *re = __builtin_shuffle(a, b, (v8l){14, 12, 10, 8, 6, 4, 2, 0});
    *im = __builtin_shuffle(a, b, (v8l){15, 13, 11, 9, 7, 5, 3, 1});
}

/* |x| in float32: the float64 square rounded once, then sqrtf.  librosa rounds x to
 * complex64 first; skipping that costs nothing in accuracy (every feature stays
 * as close to librosa's: test_frames) and saves four conversions per 8 bins. */
static inline __attribute__((always_inline)) v8f magnitude8(v8d re, v8d im)
{
    v8f m2 = __builtin_convertvector(re * re + im * im, v8f);
    v8f m;
    for (int j = 0; j < 8; j++) /* one vector sqrt (the build has -fno-math-errno) */
        m[j] = sqrtf(m2[j]);
    return m;
}

/* |X_k| for k <= M from z, the c2c output for the frame times half the window
 * (so z = Z / 2 and the halves in E_k and O_k disappear), M+1 interleaved
 * complex values with z_M = z_0.  Bins k and M-k share their work:
 * with E_k = z_k + conj z_{M-k} and D_k = -i (z_k - conj z_{M-k}),
 * X_k = E_k + W^k D_k and X_{M-k} = conj(E_k - W^k D_k). */
STFT_CLONES
static void magnitude(const double *z, const double *twiddle_re, const double *twiddle_im, float *mag)
{
    const int m = AF_N_FFT / 2;
    for (int k = 0; k < m / 2; k += 8) {
        v8d zr, zi, rr, ri;
        deinterleave8d(z + 2 * k, &zr, &zi);
        deinterleave8d_reversed(z + 2 * (m - k - 7), &rr, &ri); /* z_{M-k-j} */
        v8d er = zr + rr, ei = zi - ri;
        v8d dr = zi + ri, di = rr - zr;
        v8d wr = load8d(twiddle_re + k), wi = load8d(twiddle_im + k);
        v8d pr = wr * dr - wi * di, pi = wr * di + wi * dr; /* W^k D_k */
        v8f low = magnitude8(er + pr, ei + pi);
        v8f high = __builtin_shuffle(magnitude8(er - pr, ei - pi), (v8i){7, 6, 5, 4, 3, 2, 1, 0});
        memcpy(mag + k, &low, sizeof low);
        memcpy(mag + m - k - 7, &high, sizeof high);
    }
    /* k = M/2 pairs with itself: W^k = -i, so X_k = conj(Z_k) = conj(2 z_k) */
    v8d re = {2.0 * z[m]}, im = {2.0 * z[m + 1]};
    mag[m / 2] = magnitude8(re, im)[0];
}

void af_stft_magnitude(const struct af_stft *s, struct af_stft_buffers *b, const float *y,
                       size_t n_samples, size_t t, float *mag)
{
    const float *frame = frame_samples(y, n_samples, t, b->frame);
    double *in = b->work, *out = b->work + AF_N_FFT;
    window_frame(frame, s->half_window, in);
    fftw_execute_dft(s->plan, (fftw_complex *)in, (fftw_complex *)out);
    out[AF_N_FFT] = out[0]; /* Z_M = Z_0, so that bin 0 needs no special case */
    out[AF_N_FFT + 1] = out[1];
    magnitude(out, s->twiddle_re, s->twiddle_im, mag);
    for (size_t k = AF_N_BINS; k < AF_MAG_STRIDE; k++)
        mag[k] = 0.0f;
}
