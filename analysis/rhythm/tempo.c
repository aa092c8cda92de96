/*
 * tempo.c — tempo estimate; see tempo.h.
 *
 * librosa computes every frame's autocorrelation (FFT, |X|^2, inverse FFT),
 * divides it by its lag-0 value and averages over frames.  The inverse transform
 * is linear, so we average the scaled power spectra instead and invert once:
 * mean_t ac_t[l] / ac_t[0] = IDFT(mean_t |X_t|^2 / ac_t[0])[l], and ac_t[0] =
 * sum_k |X_t[k]|^2 / N (Parseval).
 *
 * Frame t + 1 is frame t moved by one sample, so its DFT (of N = 2 * 344 points,
 * the frame zero-padded) follows from frame t's in O(N) instead of an FFT's
 * O(N log N) (a sliding DFT):
 *   S_{t+1}[k] = e^{2 pi i k / N} (S_t[k] - p[t] + (-1)^k p[t + 344]),
 * with S the unwindowed DFT; the periodic Hann window of 344 is then three taps in
 * frequency, X[k] = S[k] / 2 - (S[k-2] + S[k+2]) / 4.  The first frame's S comes
 * from FFTW, and so does the final inverse transform.  In double, the recurrence's
 * rounding after thousands of steps stays near 1e-13 of the spectrum, far below the
 * float32 envelope's own precision.
 * This replaced one float FFT per two frames (0.89 -> 0.38 ms per 30-s clip,
 * bench_frames).
 */
#include "tempo.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <fftw3.h>

#include "simd.h"
#include "spectral/fftw_lock.h"

#define TEMPO_N AF_TEMPO_DFT
#define TEMPO_HALF (AF_TEMPO_WIN / 2)
#define GUARD 2 /* bin k is at index k + GUARD */

_Static_assert(AF_TEMPO_SPAN % 4 == 0 && AF_TEMPO_SPAN >= AF_TEMPO_BINS + 2 * GUARD + 3,
               "whole vectors cover every bin the window reads");

/* The first frame's transform and the final inverse one: process-wide plans (see
 * stft.c for why), run on the buffers' power (real side) and sum (complex side). */
static pthread_once_t plan_once = PTHREAD_ONCE_INIT;
static fftw_plan first_frame_plan, inverse_plan;

static void make_plans(void)
{
    double *real = fftw_malloc(sizeof(double) * 2 * AF_TEMPO_SPAN);
    fftw_complex *spectrum = fftw_malloc(sizeof(double) * 2 * AF_TEMPO_SPAN);
    if (real && spectrum) {
        af_fftw_planner_lock(); /* see spectral/fftw_lock.h */
        first_frame_plan = fftw_plan_dft_r2c_1d(TEMPO_N, real, spectrum, FFTW_ESTIMATE);
        inverse_plan = fftw_plan_dft_c2r_1d(TEMPO_N, spectrum, real, FFTW_ESTIMATE);
        af_fftw_planner_unlock();
    }
    fftw_free(real);
    fftw_free(spectrum);
}

int af_tempo_init(struct af_tempo *tp, af_err *err)
{
    memset(tp, 0, sizeof *tp);
    for (int i = 0; i < AF_TEMPO_SPAN; i++) {
        int k = i - GUARD;
        tp->step_re[i] = cos(2.0 * M_PI * k / TEMPO_N);
        tp->step_im[i] = sin(2.0 * M_PI * k / TEMPO_N);
        tp->sign[i] = (k & 1) ? -1.0 : 1.0;
    }

    /* tempo_frequencies: 60 sr / (hop * lag); prior -0.5 ((log2 bpm - log2 120) / 1)^2 */
    tp->bpm[0] = INFINITY;
    for (int l = 1; l < AF_TEMPO_WIN; l++)
        tp->bpm[l] = (60.0 * 22050.0) / (512.0 * (double)l);
    tp->first_lag = AF_TEMPO_WIN;
    for (int l = 0; l < AF_TEMPO_WIN; l++) {
        if (tp->bpm[l] < 320.0 && tp->first_lag == AF_TEMPO_WIN)
            tp->first_lag = l;
        double z = (log2(tp->bpm[l]) - log2(120.0)) / 1.0;
        tp->log_prior[l] = -0.5 * (z * z);
    }
    for (int l = 0; l < tp->first_lag; l++)
        tp->log_prior[l] = -INFINITY;

    pthread_once(&plan_once, make_plans);
    return first_frame_plan && inverse_plan ? 0 : af_err_set(err, "tempo: FFTW could not plan a %d-point FFT", TEMPO_N);
}

int af_tempo_buffers_init(struct af_tempo_buffers *b, af_err *err)
{
    memset(b, 0, sizeof *b);
    /* fftw_malloc: FFTW's transforms run on power and sum */
    b->re = fftw_malloc(sizeof(double) * AF_TEMPO_SPAN);
    b->im = fftw_malloc(sizeof(double) * AF_TEMPO_SPAN);
    b->power = fftw_malloc(sizeof(double) * 2 * AF_TEMPO_SPAN);
    b->sum = fftw_malloc(sizeof(double) * 2 * AF_TEMPO_SPAN);
    if (!b->re || !b->im || !b->power || !b->sum) {
        af_tempo_buffers_destroy(b);
        return af_err_set(err, "tempo: out of memory");
    }
    return 0;
}

void af_tempo_buffers_destroy(struct af_tempo_buffers *b)
{
    fftw_free(b->re);
    fftw_free(b->im);
    fftw_free(b->power);
    fftw_free(b->sum);
    memset(b, 0, sizeof *b);
}

/* np.pad(onset, 172, mode='linear_ramp', end_values=0): ramps computed in float64, stored float32. */
static void pad_envelope(const float *onset, size_t n, float *padded)
{
    double step_left = (double)onset[0] / TEMPO_HALF;
    double step_right = (double)onset[n - 1] / TEMPO_HALF;
    for (size_t i = 0; i < TEMPO_HALF; i++) {
        padded[i] = (float)((double)i * step_left);
        padded[TEMPO_HALF + n + i] = (float)((double)(TEMPO_HALF - 1 - i) * step_right);
    }
    memcpy(padded + TEMPO_HALF, onset, n * sizeof *onset);
}

/* S of the first frame, padded[0 .. 344) zero-extended to N points, by FFTW. */
static void first_frame(struct af_tempo_buffers *b, const float *padded)
{
    double *in = b->power; /* free until the first frame's power is computed */
    for (int n = 0; n < TEMPO_N; n++)
        in[n] = n < AF_TEMPO_WIN ? (double)padded[n] : 0.0;
    fftw_complex *out = (fftw_complex *)(void *)b->sum; /* 345 complex; cleared below */
    fftw_execute_dft_r2c(first_frame_plan, in, out);
    memset(b->re, 0, sizeof(double) * AF_TEMPO_SPAN);
    memset(b->im, 0, sizeof(double) * AF_TEMPO_SPAN);
    for (int k = 0; k < AF_TEMPO_BINS; k++) {
        b->re[k + GUARD] = out[k][0];
        b->im[k + GUARD] = out[k][1];
    }
    memset(b->sum, 0, sizeof(double) * AF_TEMPO_SPAN);
}

/* S at bins -2, -1, 345, 346 from the real input's symmetry S[N-k] = conj S[k]. */
static void fill_guards(struct af_tempo_buffers *b)
{
    for (int j = 1; j <= GUARD; j++) {
        b->re[GUARD - j] = b->re[GUARD + j];
        b->im[GUARD - j] = -b->im[GUARD + j];
        b->re[GUARD + AF_TEMPO_BINS - 1 + j] = b->re[GUARD + AF_TEMPO_BINS - 1 - j];
        b->im[GUARD + AF_TEMPO_BINS - 1 + j] = -b->im[GUARD + AF_TEMPO_BINS - 1 - j];
    }
}

/* The frame's sum of squares (Parseval) from total, the sum of power[k] over whole
 * vectors of k < AF_TEMPO_BINS: bins 1 .. N/2 - 1 stand for their mirror images too,
 * 0 and N/2 do not, and the bins past N/2 in the last vector are not bins.  (total
 * comes as a double: a vector argument would be passed differently by the callers'
 * AVX2 clones and this function, compiled for the baseline, when not inlined.) */
static double lag0_from(const struct af_tempo_buffers *b, double total)
{
    double sum = 2.0 * total;
    for (int k = AF_TEMPO_BINS; k < AF_TEMPO_BINS / 4 * 4 + 4; k++)
        sum -= 2.0 * b->power[k];
    sum -= b->power[0] + b->power[AF_TEMPO_BINS - 1];
    return sum / TEMPO_N;
}

/* |X[k]|^2 for the 4 bins whose S[k - 2], S[k] and S[k + 2] are at lo, mid and hi. */
AF_VEC_INLINE af_v4d hann_power(af_v4d lo_re, af_v4d mid_re, af_v4d hi_re, af_v4d lo_im, af_v4d mid_im, af_v4d hi_im)
{
    af_v4d xr = 0.5 * mid_re - 0.25 * (lo_re + hi_re), xi = 0.5 * mid_im - 0.25 * (lo_im + hi_im);
    return xr * xr + xi * xi;
}

/* power[k] = |X[k]|^2 of the windowed frame for k < AF_TEMPO_BINS (and a few
 * unused bins past it); returns the frame's sum of squares (Parseval). */
AF_SIMD_CLONES
static double windowed_power(struct af_tempo_buffers *b)
{
    af_v4d total = {0};
    const double *re = b->re + GUARD, *im = b->im + GUARD;
    for (int k = 0; k < AF_TEMPO_BINS; k += 4) {
        af_v4d r0, r_lo, r_hi, i0, i_lo, i_hi;
        memcpy(&r0, re + k, sizeof r0);
        memcpy(&r_lo, re + k - 2, sizeof r_lo);
        memcpy(&r_hi, re + k + 2, sizeof r_hi);
        memcpy(&i0, im + k, sizeof i0);
        memcpy(&i_lo, im + k - 2, sizeof i_lo);
        memcpy(&i_hi, im + k + 2, sizeof i_hi);
        af_v4d p = hann_power(r_lo, r0, r_hi, i_lo, i0, i_hi);
        memcpy(b->power + k, &p, sizeof p);
        total += p;
    }
    return lag0_from(b, af_hsum4d(total));
}

/*
 * One frame on, in one pass over the bins: the sliding DFT's step (drop p_out,
 * take p_in, at every index), the guards (as fill_guards), windowed_power, and
 * the previous frame's add_scaled with prev_scale, each power value added into
 * the sum just before it is overwritten.  Vector v of the span is slid at step
 * v; the power of bins 4(v-1) .. 4v-1 needs S two bins past them, so it follows
 * one step behind, from vectors v-1 and v in registers (the middle one by a
 * shuffle).  The same operations in the same order as the four loops it replaced
 * (tempo 0.385 -> 0.353 ms per clip, bench_frames).  Returns the frame's lag-0
 * autocorrelation.
 */
AF_SIMD_CLONES
static double slide_power_add(const struct af_tempo *tp, struct af_tempo_buffers *b, double p_out, double p_in,
                              double prev_scale)
{
    _Static_assert(GUARD == 2 && AF_TEMPO_SPAN == 352 && AF_TEMPO_BINS == 345,
                   "the guards are patched in vectors 0, 86 and 87");
    const af_v4d out4 = af_splat4d(p_out), in4 = af_splat4d(p_in), scale = af_splat4d(prev_scale);
    const af_v4l middle = {2, 3, 4, 5};
    af_v4d total = {0}, prev_re = {0}, prev_im = {0};
    for (int v = 0; v < AF_TEMPO_SPAN / 4; v++) {
        int i = 4 * v;
        af_v4d re, im, c, s, sign;
        memcpy(&re, b->re + i, sizeof re);
        memcpy(&im, b->im + i, sizeof im);
        memcpy(&c, tp->step_re + i, sizeof c);
        memcpy(&s, tp->step_im + i, sizeof s);
        memcpy(&sign, tp->sign + i, sizeof sign);
        af_v4d a = re - out4 + sign * in4;
        af_v4d new_re = c * a - s * im, new_im = c * im + s * a;
        if (v == 1) { /* bins -2, -1 (vector 0) mirror bins 2, 1 */
            prev_re[0] = new_re[0];
            prev_im[0] = -new_im[0];
            prev_re[1] = prev_re[3];
            prev_im[1] = -prev_im[3];
        } else if (v == 86) { /* bin 345 mirrors bin 343 */
            new_re[3] = new_re[1];
            new_im[3] = -new_im[1];
        } else if (v == 87) { /* bin 346 mirrors bin 342 */
            new_re[0] = prev_re[0];
            new_im[0] = -prev_im[0];
        }
        memcpy(b->re + i, &new_re, sizeof new_re);
        memcpy(b->im + i, &new_im, sizeof new_im);
        if (v > 0) {
            int k = i - 4; /* bins k .. k + 3: S[k - 2] at span k, S[k + 2] at span k + 4 */
            af_v4d p = hann_power(prev_re, __builtin_shuffle(prev_re, new_re, middle), new_re, prev_im,
                                  __builtin_shuffle(prev_im, new_im, middle), new_im);
            af_v4d old, acc;
            memcpy(&old, b->power + k, sizeof old);
            memcpy(&acc, b->sum + k, sizeof acc);
            acc += old * scale;
            memcpy(b->sum + k, &acc, sizeof acc);
            memcpy(b->power + k, &p, sizeof p);
            total += p;
        }
        prev_re = new_re;
        prev_im = new_im;
    }
    return lag0_from(b, af_hsum4d(total));
}

/* sum[k] += power[k] * scale */
AF_SIMD_CLONES
static void add_scaled(struct af_tempo_buffers *b, double scale)
{
    const af_v4d s = af_splat4d(scale);
    for (int k = 0; k < AF_TEMPO_BINS; k += 4) {
        af_v4d p, acc;
        memcpy(&p, b->power + k, sizeof p);
        memcpy(&acc, b->sum + k, sizeof acc);
        acc += p * s;
        memcpy(b->sum + k, &acc, sizeof acc);
    }
}

/* The summed power's inverse real DFT (times N) into b->power: the autocorrelation at
 * every lag.  The power is real and even, so its spectrum is (sum[k], 0). */
static void autocorrelation(struct af_tempo_buffers *b)
{
    double *in = b->sum; /* spread in place into (re, im) pairs, from the top down */
    for (int k = AF_TEMPO_BINS - 1; k >= 0; k--) {
        in[2 * k] = in[k];
        in[2 * k + 1] = 0.0;
    }
    fftw_execute_dft_c2r(inverse_plan, (fftw_complex *)(void *)in, b->power);
}

/* The weight of a frame's power in the sum: 1 / lag 0.  util.normalize(norm=inf)
 * leaves frames with lag 0 below tiny as they are (~0): they add nothing. */
static double frame_scale(double lag0)
{
    return lag0 >= DBL_MIN ? 1.0 / lag0 : 0.0;
}

double af_tempo_estimate(const struct af_tempo *tp, struct af_tempo_buffers *b, const float *onset,
                         size_t n_frames, float *scratch, double *margin)
{
    pad_envelope(onset, n_frames, scratch);
    first_frame(b, scratch);
    fill_guards(b);
    double lag0 = windowed_power(b);
    for (size_t t = 1; t < n_frames; t++)
        lag0 = slide_power_add(tp, b, scratch[t - 1], scratch[t - 1 + AF_TEMPO_WIN], frame_scale(lag0));
    add_scaled(b, frame_scale(lag0));

    autocorrelation(b);
    const double norm = 1.0 / ((double)TEMPO_N * (double)n_frames);
    int best = -1;
    double best_score = -INFINITY, second_score = -INFINITY;
    for (int l = tp->first_lag; l < AF_TEMPO_WIN; l++) {
        double tg = b->power[l] * norm; /* mean tempogram at lag l */
        double score = log1p(1e6 * tg) + tp->log_prior[l];
        if (best < 0 || score > best_score) {
            second_score = best_score;
            best_score = score;
            best = l;
        } else if (score > second_score) {
            second_score = score;
        }
    }
    if (margin)
        *margin = best_score - second_score;
    return best < 0 ? 0.0 : tp->bpm[best];
}
