/*
 * tempo.c — tempo estimate; see tempo.h.
 *
 * librosa computes every frame's autocorrelation (FFT, |X|^2, inverse FFT),
 * divides it by its lag-0 value and averages over frames.  The inverse FFT is
 * linear, so we average the scaled power spectra instead and invert once:
 * mean_t ac_t[l] / ac_t[0] = IDFT(mean_t |X_t|^2 / ac_t[0])[l], with
 * ac_t[0] = sum x_t^2.  Each frame is scaled by 1 / sqrt(ac_t[0]) first, so
 * all that is left to average is |X_t|^2.  Two real frames a and b go through
 * one complex FFT, Z = FFT(a + i b): |A_k|^2 + |B_k|^2 = (|Z_k|^2 + |Z_{N-k}|^2) / 2,
 * so summing |Z|^2 over all N bins and folding k with N - k at the end gives
 * the sum of both frames' power spectra, without separating them.  FFTW's
 * float c2c is 2.5x faster here than two r2c transforms.  Float32 frames,
 * double sums.
 */
#include "tempo.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "simd.h"

#define TEMPO_BINS (AF_TEMPO_FFT / 2 + 1)
#define TEMPO_HALF (AF_TEMPO_WIN / 2)

int af_tempo_init(struct af_tempo *tp, af_err *err)
{
    memset(tp, 0, sizeof *tp);
    for (int i = 0; i < AF_TEMPO_WIN; i++)
        tp->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / AF_TEMPO_WIN));
    for (int i = 0; i < AF_TEMPO_FFT; i++)
        tp->cos_table[i] = cos(2.0 * M_PI * i / AF_TEMPO_FFT);

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

    /* FFTW_ESTIMATE: the same algorithm, hence the same rounding, in every run */
    fftwf_complex *in = fftwf_malloc(sizeof(fftwf_complex) * AF_TEMPO_FFT);
    fftwf_complex *out = fftwf_malloc(sizeof(fftwf_complex) * AF_TEMPO_FFT);
    if (in && out)
        tp->plan = fftwf_plan_dft_1d(AF_TEMPO_FFT, in, out, FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_free(in);
    fftwf_free(out);
    if (!tp->plan)
        return af_err_set(err, "tempo: FFTW could not plan a %d-point FFT", AF_TEMPO_FFT);
    return 0;
}

void af_tempo_destroy(struct af_tempo *tp)
{
    if (tp->plan)
        fftwf_destroy_plan(tp->plan);
    tp->plan = NULL;
}

int af_tempo_buffers_init(struct af_tempo_buffers *b, af_err *err)
{
    b->frames = fftwf_malloc(sizeof(fftwf_complex) * AF_TEMPO_FFT);
    b->spectrum = fftwf_malloc(sizeof(fftwf_complex) * AF_TEMPO_FFT);
    b->power = fftwf_malloc(sizeof(double) * AF_TEMPO_FFT);
    if (!b->frames || !b->spectrum || !b->power) {
        af_tempo_buffers_destroy(b);
        return af_err_set(err, "tempo: out of memory");
    }
    return 0;
}

void af_tempo_buffers_destroy(struct af_tempo_buffers *b)
{
    fftwf_free(b->frames);
    fftwf_free(b->spectrum);
    fftwf_free(b->power);
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

/* sum (seg * window)^2 in double: the frame's lag-0 autocorrelation. */
AF_SIMD_CLONES
static double frame_energy(const float *seg, const float *window)
{
    af_v4d e0 = {0}, e1 = {0};
    for (int i = 0; i < AF_TEMPO_WIN; i += 8) { /* 344 = 43 * 8 */
        af_v8f x = af_load8(seg + i) * af_load8(window + i);
        af_v4d lo = af_lo4d(x), hi = af_hi4d(x);
        e0 += lo * lo;
        e1 += hi * hi;
    }
    return af_hsum4d(e0 + e1);
}

/* frames[n] = (a[n] w[n] sa, b[n] w[n] sb) as interleaved complex values, n < AF_TEMPO_WIN. */
AF_SIMD_CLONES
static void pack_frames(const float *a, float sa, const float *b, float sb, const float *window,
                        float *frames)
{
    for (int i = 0; i < AF_TEMPO_WIN; i += 8) {
        af_v8f w = af_load8(window + i);
        af_v8f re = af_load8(a + i) * w * sa, im = af_load8(b + i) * w * sb;
        af_store8(frames + 2 * i, __builtin_shuffle(re, im, (af_v8i){0, 8, 1, 9, 2, 10, 3, 11}));
        af_store8(frames + 2 * i + 8, __builtin_shuffle(re, im, (af_v8i){4, 12, 5, 13, 6, 14, 7, 15}));
    }
}

/* power[k] += |spectrum[k]|^2 for all AF_TEMPO_FFT bins (interleaved re, im). */
AF_SIMD_CLONES
static void add_power(const float *spectrum, double *power)
{
    for (int k = 0; k < AF_TEMPO_FFT; k += 4) {
        af_v8f ri = af_load8(spectrum + 2 * k);
        af_v8f sq = ri * ri;
        af_v4d p = {(double)sq[0] + sq[1], (double)sq[2] + sq[3], (double)sq[4] + sq[5],
                    (double)sq[6] + sq[7]};
        af_v4d acc;
        memcpy(&acc, power + k, sizeof acc);
        acc += p;
        memcpy(power + k, &acc, sizeof acc);
    }
}

/* 1 / sqrt(ac_t[0]) for frame t; 0 for frames util.normalize(norm=inf) leaves
 * unscaled (lag 0 below tiny), whose autocorrelation is ~0 either way. */
static float frame_scale(const float *padded, const float *window, size_t t)
{
    double energy = frame_energy(padded + t, window);
    return energy < DBL_MIN ? 0.0f : (float)(1.0 / sqrt(energy));
}

/* b->power[k] for k <= AF_TEMPO_FFT / 2 = sum over frames of |X_t[k]|^2 / ac_t[0]. */
static void accumulate_scaled_spectra(const struct af_tempo *tp, struct af_tempo_buffers *b,
                                      const float *padded, size_t n_frames)
{
    float *frames = (float *)b->frames;
    memset(b->power, 0, sizeof(double) * AF_TEMPO_FFT);
    memset(frames, 0, sizeof(fftwf_complex) * AF_TEMPO_FFT);
    for (size_t t = 0; t < n_frames; t += 2) {
        bool pair = t + 1 < n_frames;
        float sa = frame_scale(padded, tp->window, t);
        float sb = pair ? frame_scale(padded, tp->window, t + 1) : 0.0f;
        if (sa == 0.0f && sb == 0.0f)
            continue;
        pack_frames(padded + t, sa, padded + t + (pair ? 1 : 0), sb, tp->window, frames);
        fftwf_execute_dft(tp->plan, b->frames, b->spectrum);
        add_power((const float *)b->spectrum, b->power);
    }
    for (int k = 1; k < TEMPO_BINS - 1; k++) /* bins 0 and N/2 are their own partners */
        b->power[k] = 0.5 * (b->power[k] + b->power[AF_TEMPO_FFT - k]);
}

/* Inverse real DFT of the accumulated power at one lag (times AF_TEMPO_FFT). */
static double autocorrelation_at(const struct af_tempo *tp, const double *power, int lag)
{
    double s = power[0] + power[TEMPO_BINS - 1] * ((lag & 1) ? -1.0 : 1.0);
    for (int k = 1; k < TEMPO_BINS - 1; k++)
        s += 2.0 * power[k] * tp->cos_table[(k * lag) % AF_TEMPO_FFT];
    return s;
}

double af_tempo_estimate(const struct af_tempo *tp, struct af_tempo_buffers *b, const float *onset,
                         size_t n_frames, float *scratch, double *margin)
{
    pad_envelope(onset, n_frames, scratch);
    accumulate_scaled_spectra(tp, b, scratch, n_frames);

    const double norm = 1.0 / ((double)AF_TEMPO_FFT * (double)n_frames);
    int best = -1;
    double best_score = -INFINITY, second_score = -INFINITY;
    for (int l = tp->first_lag; l < AF_TEMPO_WIN; l++) {
        double tg = autocorrelation_at(tp, b->power, l) * norm; /* mean tempogram at lag l */
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
