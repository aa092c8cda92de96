/*
 * chroma.c — chroma_stft and its tuning estimate (see chroma.h), replaying
 * librosa 0.10.1's float32/float64 mix where it decides discrete outcomes:
 * piptrack's peak picking and parabolic shift are float32, pitches are
 * float64 rounded to float32, the histogram residuals are float32 (log2 of a
 * float32 ratio), the histogram edges float64.
 */
#include "chroma.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"
#include "stats/stats.h"
#include "stft.h"

void af_pitch_list_free(struct af_pitch_list *l)
{
    free(l->pitch);
    free(l->mag);
    memset(l, 0, sizeof *l);
}

static int pitch_list_reserve(struct af_pitch_list *l, size_t extra, af_err *err)
{
    if (l->n + extra <= l->cap)
        return 0;
    size_t cap = l->cap ? l->cap : 4096;
    while (cap < l->n + extra)
        cap *= 2;
    float *p = realloc(l->pitch, cap * sizeof *p);
    if (!p)
        return af_err_set(err, "piptrack: out of memory");
    l->pitch = p;
    float *m = realloc(l->mag, cap * sizeof *m);
    if (!m)
        return af_err_set(err, "piptrack: out of memory");
    l->mag = m;
    l->cap = cap;
    return 0;
}

/* First bin whose centre frequency is >= hz. */
static size_t first_bin_at_or_above(double hz)
{
    size_t k = (size_t)(hz / af_bin_frequency(1));
    while (k > 0 && af_bin_frequency(k - 1) >= hz)
        k--;
    while (af_bin_frequency(k) < hz)
        k++;
    return k;
}

/* Five independent maxima: one would make each step wait for the one before. */
AF_SIMD_CLONES
static float max_magnitude(const float *mag)
{
    _Static_assert(AF_MAG_STRIDE % 40 == 0, "whole groups of five vectors");
    af_v8f m[5];
#pragma GCC unroll 5
    for (int j = 0; j < 5; j++)
        m[j] = af_splat8(0.0f);
    for (size_t k = 0; k < AF_MAG_STRIDE; k += 40) /* the zero tail cannot win */
#pragma GCC unroll 5
        for (int j = 0; j < 5; j++)
            m[j] = af_max8(m[j], af_load8(mag + k + 8 * j));
    af_v8f all = m[0];
#pragma GCC unroll 4
    for (int j = 1; j < 5; j++)
        all = af_max8(all, m[j]);
    float best = 0.0f;
    for (int l = 0; l < 8; l++)
        best = all[l] > best ? all[l] : best;
    return best;
}

/* The peak test of one bin: x = S * (S > ref), x[k] > x[k-1] and x[k] >= x[k+1]
 * (a peak has S > ref, else x[k] = 0 cannot exceed x[k-1] >= 0). */
static void add_peak(size_t k, float prev, float cur, float next, struct af_pitch_list *out)
{
    float avg = 0.5f * (next - prev);
    float den = 2.0f * cur - next - prev;
    float shift = avg / (den + (fabsf(den) < FLT_MIN ? 1.0f : 0.0f));
    float dskew = 0.5f * avg * shift;
    out->pitch[out->n] = (float)(((double)k + (double)shift) * (double)AF_SAMPLE_RATE / AF_N_FFT);
    out->mag[out->n] = cur + dskew;
    out->n++;
}

/* localmax of x = S * (S > ref) over bins [first, end), 8 bins per step; the few
 * peaks are then taken one by one, in order of bin. */
AF_VEC_INLINE void find_peaks_in(const float *mag, size_t first, size_t end, af_v8f refv, struct af_pitch_list *out)
{
    const af_v8f zero = af_splat8(0.0f);
    for (size_t k = first; k < end; k += 8) {
        af_v8f prev = af_load8(mag + k - 1), cur = af_load8(mag + k), next = af_load8(mag + k + 1);
        prev *= prev;
        cur *= cur;
        next *= next;
        af_v8f x_prev = af_select8(prev > refv, prev, zero), x_next = af_select8(next > refv, next, zero);
        af_v8i peak = (cur > refv) & (cur > x_prev) & (cur >= x_next);
        if (!af_any8(peak))
            continue;
        for (int l = 0; l < 8 && k + l < end; l++)
            if (peak[l])
                add_peak(k + l, prev[l], cur[l], next[l], out);
    }
}

/* Only bins with S > ref can be peaks, and few are (ref is a tenth of the frame's
 * peak power): spans of 32 bins whose magnitudes are all at or below `floor` are
 * skipped after one compare per 8 bins.  floor is below sqrt(ref) by more than the
 * roundings of sqrtf, of the product and of fl(m * m), so that m <= floor implies
 * fl(m * m) < ref: skipping changes no result (piptrack 0.32 -> 0.27 ms per clip,
 * bench_frames). */
#define PEAK_SPAN 32

AF_SIMD_CLONES
static void find_peaks(const float *mag, size_t first, size_t end, float ref, struct af_pitch_list *out)
{
    const af_v8f refv = af_splat8(ref), floor = af_splat8(sqrtf(ref) * (1.0f - 0x1p-20f));
    for (size_t k = first; k < end; k += PEAK_SPAN) {
        af_v8i above = af_load8(mag + k) > floor;
        for (size_t j = 8; j < PEAK_SPAN && k + j < end; j += 8)
            above |= af_load8(mag + k + j) > floor;
        if (af_any8(above))
            find_peaks_in(mag, k, k + PEAK_SPAN < end ? k + PEAK_SPAN : end, refv, out);
    }
}

int af_piptrack_frame(const float *mag, struct af_pitch_list *out, af_err *err)
{
    /* freq_mask: fmin <= f < fmax */
    const size_t first_bin = first_bin_at_or_above(150.0), end_bin = first_bin_at_or_above(4000.0);
    if (pitch_list_reserve(out, (end_bin - first_bin) / 2 + 1, err))
        return -1;
    /* S is the power |X|^2 in float32; max(S) = max(|X|)^2 since squaring is monotonic. */
    float max_mag = max_magnitude(mag);
    find_peaks(mag, first_bin, end_bin, 0.1f * (max_mag * max_mag), out);
    return 0;
}

/* np.median of float32 values (mean of the two middle values in float32). */
static float median_f32(const float *x, size_t n, float *scratch)
{
    float lower, upper = af_kth_smallest(x, n, n / 2, scratch, &lower);
    return n % 2 ? upper : (lower + upper) / 2.0f;
}

static double tuning_edge(int i)
{
    return (double)i * 0.01 + -0.5; /* np.linspace(-0.5, 0.5, 101) */
}

int af_tuning_index(double tuning)
{
    int i = (int)lround((tuning + 0.5) * 100.0);
    return i < 0 ? 0 : i >= AF_TUNING_STEPS ? AF_TUNING_STEPS - 1 : i;
}

/* The pitched magnitudes, then the selection's own scratch. */
size_t af_tuning_scratch_floats(size_t n_pitches)
{
    return n_pitches + AF_SELECT_SCRATCH_FLOATS(n_pitches);
}

double af_tuning_from_pitches(const struct af_pitch_list *l, float *scratch)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->pitch[i] > 0.0f)
            scratch[n++] = l->mag[i];
    if (n == 0)
        return 0.0; /* librosa warns and returns 0 */
    float threshold = median_f32(scratch, n, scratch + n);

    unsigned counts[AF_TUNING_STEPS - 1] = {0};
    size_t used = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!(l->pitch[i] > 0.0f && l->mag[i] >= threshold))
            continue;
        /* pitch_tuning: residual = mod(12 * log2(f / 27.5), 1), moved to [-0.5, 0.5) */
        float octs = log2f(l->pitch[i] / 27.5f);
        float semitones = 12.0f * octs;
        float residual = semitones - truncf(semitones); /* = fmodf(semitones, 1), exactly */
        if (residual < 0.0f)
            residual += 1.0f;
        if (residual >= 0.5f)
            residual -= 1.0f;
        double r = residual;
        int b = (int)floor((r + 0.5) * 100.0);
        if (b < 0)
            b = 0;
        if (b > AF_TUNING_STEPS - 2)
            b = AF_TUNING_STEPS - 2;
        while (b > 0 && r < tuning_edge(b))
            b--;
        while (b < AF_TUNING_STEPS - 2 && r >= tuning_edge(b + 1))
            b++;
        counts[b]++;
        used++;
    }
    if (used == 0)
        return 0.0;
    int best = 0;
    for (int b = 1; b < AF_TUNING_STEPS - 1; b++)
        if (counts[b] > counts[best])
            best = b;
    return tuning_edge(best);
}

/* filters.chroma's frqbins[i]: 12 * hz_to_octs(i * sr / n_fft, tuning), with bin 0
 * placed 1.5 octaves below bin 1. */
static double chroma_frqbin(size_t i, double a440)
{
    if (i == 0)
        return chroma_frqbin(1, a440) - 1.5 * AF_N_CHROMA;
    double hz = (double)i * ((double)AF_SAMPLE_RATE / AF_N_FFT); /* np.linspace(0, sr, n_fft, endpoint=False) */
    return AF_N_CHROMA * log2(hz / (a440 / 16.0));
}

void af_chroma_filterbank(double tuning, float *fb)
{
    const double a440 = 440.0 * pow(2.0, tuning / AF_N_CHROMA);
    const double half = 6.0; /* np.round(n_chroma / 2) */
    memset(fb, 0, sizeof(float) * AF_N_CHROMA * AF_CHROMA_FB_STRIDE);
    for (size_t i = 0; i < AF_N_BINS; i++) {
        double frq = chroma_frqbin(i, a440);
        double width = fmax(chroma_frqbin(i + 1, a440) - frq, 1.0);
        double w[AF_N_CHROMA], norm2 = 0.0;
        for (int c = 0; c < AF_N_CHROMA; c++) {
            /* distance to chroma c, wrapped into [-6, 6); Gaussian bump of half the bin width */
            double d = frq - (double)c;
            double x = d + half + 10.0 * AF_N_CHROMA;
            d = fmod(x, (double)AF_N_CHROMA) - half; /* np.remainder of a positive value */
            double z = 2.0 * d / width;
            w[c] = exp(-0.5 * (z * z));
            norm2 += w[c] * w[c];
        }
        double length = sqrt(norm2);
        if (length < DBL_MIN)
            length = 1.0;
        double octave = (frq / AF_N_CHROMA - 5.0) / 2.0; /* ctroct 5, octwidth 2 */
        double octave_weight = exp(-0.5 * (octave * octave));
        for (int c = 0; c < AF_N_CHROMA; c++) {
            int row = (c + AF_N_CHROMA - 3) % AF_N_CHROMA; /* base_c: np.roll(-3) */
            fb[(size_t)row * AF_CHROMA_FB_STRIDE + i] = (float)(w[c] / length * octave_weight);
        }
    }
}

/* util.normalize(norm=inf) of the 12 raw values: float64 division, frames below
 * float32 tiny left as they are. */
static void normalize_chroma(const float raw[AF_N_CHROMA], float out[AF_N_CHROMA])
{
    float peak = 0.0f;
    for (int c = 0; c < AF_N_CHROMA; c++)
        peak = fabsf(raw[c]) > peak ? fabsf(raw[c]) : peak;
    double length = peak < FLT_MIN ? 1.0 : (double)peak;
    for (int c = 0; c < AF_N_CHROMA; c++)
        out[c] = (float)((double)raw[c] / length);
}

#define QUAD 4             /* frames per pass over the filterbank */
#define CHROMA_PART 6      /* chroma bins per pass: QUAD x CHROMA_PART accumulators */

/* fb x |X|^2 for four frames, in two passes of six chroma bins each.  The 50 kB
 * filterbank does not fit in L1, so its loads from L2 are the cost: each now serves
 * four frames, not two (0.45 -> 0.40 ms per clip).  The 24 accumulators stay in
 * registers (AVX-512 has 32); each frame's sums are taken in the same order as
 * before, one frame at a time. */
AF_SIMD_CLONES16
static void chroma_quad(const float *fb, const float *const mag[QUAD], float raw[QUAD][AF_N_CHROMA])
{
    _Static_assert(AF_CHROMA_FB_STRIDE % 16 == 0, "whole 16-float vectors per row");
    _Static_assert(QUAD * CHROMA_PART % 8 == 0 && AF_N_CHROMA % CHROMA_PART == 0, "whole shuffle trees");
#pragma GCC unroll 2
    for (int part = 0; part < AF_N_CHROMA; part += CHROMA_PART) {
        const float *w_rows = fb + (size_t)part * AF_CHROMA_FB_STRIDE;
        af_v16f acc[QUAD][CHROMA_PART];
#pragma GCC unroll 4
        for (int f = 0; f < QUAD; f++)
#pragma GCC unroll 6
            for (int c = 0; c < CHROMA_PART; c++)
                acc[f][c] = (af_v16f){0};
        for (size_t k = 0; k < AF_CHROMA_FB_STRIDE; k += 16) {
            af_v16f p[QUAD];
#pragma GCC unroll 4
            for (int f = 0; f < QUAD; f++) {
                if (part == 0) /* the next four frames' rows: by chroma's turn, out of cache */
                    __builtin_prefetch(mag[f] + QUAD * AF_MAG_STRIDE + k);
                af_v16f m = af_load16(mag[f] + k);
                p[f] = m * m;
            }
#pragma GCC unroll 6
            for (int c = 0; c < CHROMA_PART; c++) {
                af_v16f w = af_load16(w_rows + (size_t)c * AF_CHROMA_FB_STRIDE + k);
#pragma GCC unroll 4
                for (int f = 0; f < QUAD; f++)
                    acc[f][c] += w * p[f];
            }
        }
        af_v8f folded[QUAD * CHROMA_PART];
#pragma GCC unroll 4
        for (int f = 0; f < QUAD; f++)
#pragma GCC unroll 6
            for (int c = 0; c < CHROMA_PART; c++)
                folded[f * CHROMA_PART + c] = af_fold16(acc[f][c]);
        float sums[QUAD * CHROMA_PART];
        for (int g = 0; g < QUAD * CHROMA_PART / 8; g++)
            af_store8(sums + 8 * g, af_hsum8_of_8(folded + 8 * g));
        for (int f = 0; f < QUAD; f++)
            memcpy(raw[f] + part, sums + f * CHROMA_PART, sizeof(float) * CHROMA_PART);
    }
}

void af_chroma_frame(const float *fb, const float *mag, float out[AF_N_CHROMA])
{
    const float *rows[QUAD] = {mag, mag, mag, mag};
    float raw[QUAD][AF_N_CHROMA];
    chroma_quad(fb, rows, raw);
    normalize_chroma(raw[0], out);
}

void af_chroma_frames(const float *fb, const float *mag, size_t n_frames, float *out)
{
    for (size_t t = 0; t < n_frames; t += QUAD) {
        const float *rows[QUAD]; /* past the end: the last frame again */
        for (size_t f = 0; f < QUAD; f++)
            rows[f] = mag + (t + f < n_frames ? t + f : n_frames - 1) * AF_MAG_STRIDE;
        float raw[QUAD][AF_N_CHROMA];
        chroma_quad(fb, rows, raw);
        for (size_t f = 0; f < QUAD && t + f < n_frames; f++) {
            float c[AF_N_CHROMA];
            normalize_chroma(raw[f], c);
            for (int i = 0; i < AF_N_CHROMA; i++)
                out[(size_t)i * n_frames + t + f] = c[i];
        }
    }
}
