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
 * 3.8 to 3.1 ms.  The complex values are kept as split arrays (real parts, imaginary
 * parts): windowing writes them without interleaving, FFTW's split codelets are a
 * little faster than its interleaved ones, and the magnitude loop reads whole
 * vectors of real and of imaginary parts instead of shuffling pairs apart.
 */
#include "stft.h"

#include "fftw_lock.h"

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
 * plan is read-only once made (fftw_execute_split_dft with each thread's own arrays).
 * FFTW_ESTIMATE keeps the choice of algorithm, hence every rounding, the same from
 * run to run: FFTW_MEASURE's choice depends on its timings, which vary.  Never
 * destroyed. */
static pthread_once_t plan_once = PTHREAD_ONCE_INIT;
static fftw_plan shared_plan;

#define HALF AF_STFT_HALF_DOUBLES

/* What FFTW_PATIENT picks for this transform on x86-64 with AVX (codelet t1sv_32
 * where FFTW_ESTIMATE takes t2sv_32; about 1% faster alone), given to the planner as
 * wisdom: every run makes this same plan without timing anything.  Where these
 * codelets do not exist (another CPU or FFTW build), FFTW ignores the wisdom and
 * plans as FFTW_ESTIMATE. */
static const char stft_wisdom[] =
    "(fftw-3.3.10 fftw_wisdom #x458a31c8 #x92381c4c #x4f974889 #xcd46f97e\n"
    "  (fftw_codelet_t1sv_32_avx 0 #x10048 #x10048 #x0 #xfb26cdba #xb818d5e1 #xc55c442b #x0d3f8eb2)\n"
    "  (fftw_codelet_n2sv_32_avx 0 #x10048 #x10048 #x0 #x5905379c #x73c287ff #x82b1ffeb #x36ec77c9)\n"
    ")\n";

/* Under the process-wide planner lock: pthread_once only keeps this block from
 * running twice, not from running while tempo.c's plans are made. */
static void make_plan(void)
{
    /* The same layout as af_stft_buffers.work: in_re, in_im, out_re, out_im. */
    double *work = fftw_malloc(sizeof(double) * AF_STFT_WORK_DOUBLES);
    if (!work)
        return;
    af_fftw_planner_lock();
    fftw_import_wisdom_from_string(stft_wisdom); /* 0 (ignored) on another FFTW version */
    fftw_iodim dim = {.n = AF_N_FFT / 2, .is = 1, .os = 1};
    shared_plan = fftw_plan_guru_split_dft(1, &dim, 0, NULL, work, work + HALF, work + 2 * HALF, work + 3 * HALF,
                                           FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
    af_fftw_planner_unlock();
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
     * magnitude(); w[n] = w[N - n], so the first half of each table holds it all */
    for (size_t j = 0; j <= AF_N_FFT / 4; j++)
        s->half_window_even[j] = 0.5 * (0.5 - 0.5 * cos(2.0 * M_PI * (double)(2 * j) / (double)AF_N_FFT));
    for (size_t j = 0; j < AF_N_FFT / 4; j++)
        s->half_window_odd[j] = 0.5 * (0.5 - 0.5 * cos(2.0 * M_PI * (double)(2 * j + 1) / (double)AF_N_FFT));
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

static inline __attribute__((always_inline)) v8d reversed8d(v8d v)
{
    return __builtin_shuffle(v, (v8l){7, 6, 5, 4, 3, 2, 1, 0});
}

/* The 8 sample pairs from p on, times the window: even samples into re, odd into im. */
static inline __attribute__((always_inline)) void window_pairs(const float *frame, int p, v8d w_even, v8d w_odd,
                                                               double *re, double *im)
{
    v8f a, b;
    memcpy(&a, frame + 2 * p, sizeof a);
    memcpy(&b, frame + 2 * p + 8, sizeof b);
    v8f even = __builtin_shuffle(a, b, (v8i){0, 2, 4, 6, 8, 10, 12, 14});
    v8f odd = __builtin_shuffle(a, b, (v8i){1, 3, 5, 7, 9, 11, 13, 15});
    v8d x = __builtin_convertvector(even, v8d) * w_even, y = __builtin_convertvector(odd, v8d) * w_odd;
    memcpy(re + p, &x, sizeof x);
    memcpy(im + p, &y, sizeof y);
}

/* re[p] + i im[p] = (frame[2p] w[2p]) + i (frame[2p+1] w[2p+1]), float32 samples times a
 * float64 window; the second half reads the window's first half backwards. */
STFT_CLONES
static void window_frame(const float *frame, const double *w_even, const double *w_odd, double *re, double *im)
{
    const int quarter = AF_N_FFT / 4, half = AF_N_FFT / 2;
    for (int p = 0; p < quarter; p += 8)
        window_pairs(frame, p, load8d(w_even + p), load8d(w_odd + p), re, im);
    /* lane j: w[2(p+j)] = w[N - 2(p+j)] = even[half - p - j], and odd[half - 1 - p - j] */
    for (int p = quarter; p < half; p += 8)
        window_pairs(frame, p, reversed8d(load8d(w_even + half - p - 7)), reversed8d(load8d(w_odd + half - p - 8)),
                     re, im);
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
 * (so z = Z / 2 and the halves in E_k and O_k disappear), M+1 split complex
 * values with z_M = z_0.  Bins k and M-k share their work:
 * with E_k = z_k + conj z_{M-k} and D_k = -i (z_k - conj z_{M-k}),
 * X_k = E_k + W^k D_k and X_{M-k} = conj(E_k - W^k D_k). */
STFT_CLONES
static void magnitude(const double *z_re, const double *z_im, const double *twiddle_re, const double *twiddle_im,
                      float *mag)
{
    const int m = AF_N_FFT / 2;
    for (int k = 0; k < m / 2; k += 8) {
        v8d zr = load8d(z_re + k), zi = load8d(z_im + k);
        v8d rr = reversed8d(load8d(z_re + m - k - 7)), ri = reversed8d(load8d(z_im + m - k - 7)); /* z_{M-k-j} */
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
    v8d re = {2.0 * z_re[m / 2]}, im = {2.0 * z_im[m / 2]};
    mag[m / 2] = magnitude8(re, im)[0];
}

void af_stft_magnitude(const struct af_stft *s, struct af_stft_buffers *b, const float *y,
                       size_t n_samples, size_t t, float *mag)
{
    const int m = AF_N_FFT / 2;
    const float *frame = frame_samples(y, n_samples, t, b->frame);
    double *in_re = b->work, *in_im = in_re + HALF, *out_re = in_im + HALF, *out_im = out_re + HALF;
    window_frame(frame, s->half_window_even, s->half_window_odd, in_re, in_im);
    fftw_execute_split_dft(s->plan, in_re, in_im, out_re, out_im);
    out_re[m] = out_re[0]; /* Z_M = Z_0, so that bin 0 needs no special case */
    out_im[m] = out_im[0];
    magnitude(out_re, out_im, s->twiddle_re, s->twiddle_im, mag);
    for (size_t k = AF_N_BINS; k < AF_MAG_STRIDE; k++)
        mag[k] = 0.0f;
}
