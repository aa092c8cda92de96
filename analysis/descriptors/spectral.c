/*
 * spectral.c — centroid, bandwidth, flatness, rolloff, contrast (librosa
 * 0.10.1 definitions; see spectral.h).  Sums librosa does in float64 are
 * done in double here; the ones it does in float32 and whose rounding can
 * move a discrete result (the rolloff running sum) are replayed in float32.
 */
#include "spectral.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <string.h>

#include "simd.h"
#include "spectral/stft.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define SPECTRAL_AVX512 1 /* flatness and contrast have AVX-512 paths */
#endif

_Static_assert(AF_SPECTRAL_STRIDE == AF_MAG_STRIDE, "spectral tables follow the magnitude row layout");

void af_spectral_init(struct af_spectral *sp)
{
    memset(sp, 0, sizeof *sp);
    for (size_t k = 0; k < AF_N_BINS; k++)
        sp->freq[k] = af_bin_frequency(k);
}

/* Sums of S, f*S and f^2*S over the frame. */
AF_SIMD_CLONES
static void frame_moments(const float *mag, const double *freq, double out[3])
{
    af_v4d s0 = {0}, s1 = {0}, s2 = {0};
    for (size_t k = 0; k < AF_MAG_STRIDE; k += 8) {
        af_v8f m = af_load8(mag + k);
        af_v4d lo = af_lo4d(m), hi = af_hi4d(m);
        af_v4d f_lo, f_hi;
        memcpy(&f_lo, freq + k, sizeof f_lo);
        memcpy(&f_hi, freq + k + 4, sizeof f_hi);
        s0 += lo + hi;
        af_v4d fl = f_lo * lo, fh = f_hi * hi;
        s1 += fl + fh;
        s2 += fl * f_lo + fh * f_hi;
    }
    out[0] = af_hsum4d(s0);
    out[1] = af_hsum4d(s1);
    out[2] = af_hsum4d(s2);
}

void af_spectral_centroid_bandwidth(const struct af_spectral *sp, const float *mag, float *centroid,
                                    float *bandwidth)
{
    double m[3];
    frame_moments(mag, sp->freq, m);
    /* util.normalize(norm=1): a frame whose L1 norm is below float32 tiny is left as is
     * (all ~0), giving centroid 0 and bandwidth 0. */
    double length = m[0] < FLT_MIN ? 1.0 : m[0];
    double c = m[1] / length;
    /* sum(S/L * (f - c)^2) expanded into the three moments */
    double var = m[2] / length - 2.0 * c * (m[1] / length) + c * c * (m[0] / length);
    *centroid = (float)c;
    *bandwidth = (float)sqrt(var > 0.0 ? var : 0.0);
}

/* sum(log(max(S^2, amin))) via exponent + mantissa product: exact exponents; the
 * mantissas (in [1,2)) and the powers are first multiplied and added in float32 over
 * FLATNESS_CHUNK blocks of 8 bins (a lane's product stays below 2^8), then taken
 * into double, so that only one block in FLATNESS_CHUNK pays for the conversions.
 * Each lane's double product takes 128 / FLATNESS_CHUNK values, < 2^128. */
#define FLATNESS_CHUNK 8

AF_SIMD_CLONES
static void flatness_sums(const float *mag, double *log_sum, double *power_sum)
{
    _Static_assert(AF_N_BINS / 8 % FLATNESS_CHUNK == 0, "whole chunks of blocks");
    af_v4d prod_lo = {1, 1, 1, 1}, prod_hi = prod_lo, sum_lo = {0}, sum_hi = {0};
    af_v8i exp_sum = {0};
    const af_v8f amin = af_splat8(1e-10f);
    for (size_t k0 = 0; k0 + 8 * FLATNESS_CHUNK <= AF_N_BINS; k0 += 8 * FLATNESS_CHUNK) {
        af_v8f mant_prod = af_splat8(1.0f), power = af_splat8(0.0f);
#pragma GCC unroll 8
        for (size_t k = k0; k < k0 + 8 * FLATNESS_CHUNK; k += 8) {
            af_v8f m = af_load8(mag + k);
            af_v8f p = af_max8(m * m, amin);
            af_v8i bits = (af_v8i)p;
            exp_sum += (bits >> 23) - 127;
            mant_prod *= (af_v8f)((bits & 0x7fffff) | 0x3f800000);
            power += p;
        }
        prod_lo *= af_lo4d(mant_prod);
        prod_hi *= af_hi4d(mant_prod);
        sum_lo += af_lo4d(power);
        sum_hi += af_hi4d(power);
    }
    double logs = 0.0;
    long exps = 0;
    for (int i = 0; i < 4; i++)
        logs += log(prod_lo[i]) + log(prod_hi[i]);
    for (int i = 0; i < 8; i++)
        exps += exp_sum[i];
    double psum = af_hsum4d(sum_lo + sum_hi);
    for (size_t k = AF_N_BINS / 8 * 8; k < AF_N_BINS; k++) {
        float p = fmaxf(mag[k] * mag[k], 1e-10f);
        logs += log((double)p);
        psum += p;
    }
    *log_sum = logs + (double)exps * M_LN2;
    *power_sum = psum;
}

#ifdef SPECTRAL_AVX512
/* flatness_sums with AVX-512's exponent and mantissa instructions: vgetexpps and
 * vgetmantps take a float apart in one operation each, where the bit arithmetic
 * above takes five per 8 bins (flatness samples -37% in perf; 0.28 -> 0.24 ms in
 * bench_frames).  Each lane's float32 product takes FLATNESS_CHUNK mantissas
 * (< 2^8), its double product the chunks' (< 2^64); exponents are summed exactly
 * as floats. */
__attribute__((target("avx512f"))) static void flatness_sums_avx512(const float *mag, double *log_sum,
                                                                    double *power_sum)
{
    _Static_assert(AF_N_BINS / 16 % FLATNESS_CHUNK == 0, "whole chunks of 16-bin blocks");
    const __m512 amin = _mm512_set1_ps(1e-10f);
    __m512d prod_lo = _mm512_set1_pd(1.0), prod_hi = prod_lo, sum_lo = _mm512_setzero_pd(), sum_hi = sum_lo;
    __m512 exp_sum = _mm512_setzero_ps();
    for (size_t k0 = 0; k0 + 16 * FLATNESS_CHUNK <= AF_N_BINS; k0 += 16 * FLATNESS_CHUNK) {
        __m512 mant_prod = _mm512_set1_ps(1.0f), power = _mm512_setzero_ps();
#pragma GCC unroll 8
        for (size_t k = k0; k < k0 + 16 * FLATNESS_CHUNK; k += 16) {
            __m512 m = _mm512_loadu_ps(mag + k);
            __m512 p = _mm512_max_ps(_mm512_mul_ps(m, m), amin);
            exp_sum = _mm512_add_ps(exp_sum, _mm512_getexp_ps(p));
            mant_prod = _mm512_mul_ps(mant_prod, _mm512_getmant_ps(p, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src));
            power = _mm512_add_ps(power, p);
        }
        prod_lo = _mm512_mul_pd(prod_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(mant_prod)));
        prod_hi = _mm512_mul_pd(prod_hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(mant_prod), 1))));
        sum_lo = _mm512_add_pd(sum_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(power)));
        sum_hi = _mm512_add_pd(sum_hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(power), 1))));
    }
    double prods[16], sums[16];
    float exps[16];
    _mm512_storeu_pd(prods, prod_lo);
    _mm512_storeu_pd(prods + 8, prod_hi);
    _mm512_storeu_pd(sums, sum_lo);
    _mm512_storeu_pd(sums + 8, sum_hi);
    _mm512_storeu_ps(exps, exp_sum);
    double logs = 0.0, psum = 0.0, exponents = 0.0;
    for (int i = 0; i < 16; i++) {
        logs += log(prods[i]);
        psum += sums[i];
        exponents += exps[i];
    }
    for (size_t k = AF_N_BINS / 16 * 16; k < AF_N_BINS; k++) {
        float p = fmaxf(mag[k] * mag[k], 1e-10f);
        logs += log((double)p);
        psum += p;
    }
    *log_sum = logs + exponents * M_LN2;
    *power_sum = psum;
}
#endif

static float flatness_from_sums(double log_sum, double power_sum)
{
    float gmean = expf((float)(log_sum / AF_N_BINS));
    float amean = (float)(power_sum / AF_N_BINS);
    return gmean / amean;
}

float af_spectral_flatness_portable(const float *mag)
{
    double log_sum, power_sum;
    flatness_sums(mag, &log_sum, &power_sum);
    return flatness_from_sums(log_sum, power_sum);
}

float af_spectral_flatness(const float *mag)
{
#ifdef SPECTRAL_AVX512
    if (__builtin_cpu_supports("avx512f")) {
        double log_sum, power_sum;
        flatness_sums_avx512(mag, &log_sum, &power_sum);
        return flatness_from_sums(log_sum, power_sum);
    }
#endif
    return af_spectral_flatness_portable(mag);
}

/*
 * Rolloff of 16 frames at once, one per lane of two vectors: 8 x 8 tiles of the
 * magnitude matrix are transposed so that the running float32 sum (librosa's
 * np.cumsum, whose rounding decides the crossing bin) advances 8 frames with one
 * vector add per bin.  The two vectors' sums are independent chains of adds, so
 * each hides the other's latency.  Only the sum at the end of each block of 8
 * bins is kept (8 KB, where all 1032 sums did not fit in L1): the crossing is in
 * the first block whose end reaches 0.85 * total (the sum never decreases), and
 * the 8 adds inside that block are replayed one frame at a time, in the same
 * order, hence with the same rounding.
 */
#define ROLLOFF_LANES 8
#define ROLLOFF_BATCH (2 * ROLLOFF_LANES)
_Static_assert(ROLLOFF_BATCH == AF_ROLLOFF_BATCH, "spectral.h names the batch size");
#define ROLLOFF_BLOCKS ((AF_N_BINS + 7) / 8)

_Static_assert(ROLLOFF_BLOCKS * 8 <= AF_MAG_STRIDE, "rolloff reads whole blocks of a row");

/* The first bin of row whose running sum reaches thresh, given the block it is in
 * and the sum before that block; AF_N_BINS if there is none. */
static size_t rolloff_bin(const float *row, size_t block, float before, float thresh)
{
    float cum = before;
    for (size_t k = 8 * block; k < 8 * block + 8 && k < AF_N_BINS; k++) {
        cum += row[k];
        if (cum >= thresh)
            return k;
    }
    return AF_N_BINS;
}

/* AVX-512's 32 registers hold both tiles and the sums; AVX2's 16 spill them. */
AF_SIMD_CLONES16
static void rolloff_batch(const float *mag, size_t n, float *out)
{
    af_v8f block_end[2][ROLLOFF_BLOCKS];
    const float *row[ROLLOFF_BATCH];
    for (size_t l = 0; l < ROLLOFF_BATCH; l++)
        row[l] = mag + (l < n ? l : n - 1) * AF_MAG_STRIDE;
    af_v8f acc[2] = {af_splat8(0.0f), af_splat8(0.0f)};
    for (size_t b = 0; b < ROLLOFF_BLOCKS; b++) {
        af_v8f tile[2][8];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++)
                tile[h][l] = af_load8(row[h * ROLLOFF_LANES + l] + 8 * b);
            af_transpose8x8(tile[h]);
        }
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++)
                acc[h] += tile[h][j];
        block_end[0][b] = acc[0];
        block_end[1][b] = acc[1];
    }
    for (int h = 0; h < 2; h++) {
        /* bins past AF_N_BINS are zero, so the last block's end is the total */
        af_v8f thresh = 0.85f * acc[h];
        af_v8i blocks_below = {0};
        for (size_t b = 0; b < ROLLOFF_BLOCKS; b++)
            blocks_below -= block_end[h][b] < thresh;
        for (size_t l = 0; l < ROLLOFF_LANES && h * ROLLOFF_LANES + l < n; l++) {
            size_t b = (size_t)blocks_below[l], k = AF_N_BINS;
            if (b < ROLLOFF_BLOCKS)
                k = rolloff_bin(row[h * ROLLOFF_LANES + l], b, b ? block_end[h][b - 1][l] : 0.0f, thresh[l]);
            out[h * ROLLOFF_LANES + l] = (float)af_bin_frequency(k < AF_N_BINS ? k : AF_N_BINS - 1);
        }
    }
}

void af_spectral_rolloff(const float *mag, size_t n_frames, float *out)
{
    for (size_t t = 0; t < n_frames; t += ROLLOFF_BATCH) {
        size_t n = n_frames - t < ROLLOFF_BATCH ? n_frames - t : ROLLOFF_BATCH;
        rolloff_batch(mag + t * AF_MAG_STRIDE, n, out + t);
    }
}

void af_contrast_init(struct af_contrast *c, const struct af_spectral *sp)
{
    const double *freq = sp->freq;
    double octa[AF_CONTRAST_BANDS + 1];
    octa[0] = 0.0;
    for (int i = 1; i <= AF_CONTRAST_BANDS; i++)
        octa[i] = 200.0 * pow(2.0, i - 1);
    for (int k = 0; k < AF_CONTRAST_BANDS; k++) {
        /* librosa: bins with f_low <= f <= f_high, plus the bin below (k > 0),
         * plus everything above (last band); the sub-band drops the band's last bin
         * except in the last band; the quantile count uses the whole band. */
        size_t lo = AF_N_BINS, hi = 0;
        for (size_t b = 0; b < AF_N_BINS; b++) {
            if (freq[b] >= octa[k] && freq[b] <= octa[k + 1]) {
                if (lo == AF_N_BINS)
                    lo = b;
                hi = b;
            }
        }
        if (k > 0)
            lo -= 1;
        if (k == AF_CONTRAST_BANDS - 1)
            hi = AF_N_BINS - 1;
        size_t band_size = hi - lo + 1;
        size_t sub_size = k < AF_CONTRAST_BANDS - 1 ? band_size - 1 : band_size;
        double n_q = rint(0.02 * (double)band_size);
        c->band[k].first = (uint32_t)lo;
        c->band[k].count = (uint32_t)sub_size;
        c->band[k].n_q = (uint32_t)(n_q < 1.0 ? 1.0 : n_q);
    }
}

#define CONTRAST_MAX_Q 16

/* Inserts v into the ascending list l[0..*len) that keeps the n smallest values. */
static inline void keep_smallest(float *l, size_t *len, size_t n, float v)
{
    if (*len == n && !(v < l[n - 1]))
        return;
    size_t j = *len < n ? (*len)++ : n - 1;
    while (j > 0 && l[j - 1] > v) {
        l[j] = l[j - 1];
        j--;
    }
    l[j] = v;
}

/* Inserts v into the ascending list l[0..*len) that keeps the n largest values. */
static inline void keep_largest(float *l, size_t *len, size_t n, float v)
{
    if (*len == n && !(v > l[0]))
        return;
    size_t j;
    if (*len < n) {
        j = (*len)++;
        while (j > 0 && l[j - 1] > v) {
            l[j] = l[j - 1];
            j--;
        }
    } else {
        j = 0;
        while (j + 1 < n && l[j + 1] < v) {
            l[j] = l[j + 1];
            j++;
        }
    }
    l[j] = v;
}

/*
 * The n smallest and n largest values of x[0..count), ascending (n <= 16,
 * count <= AF_N_BINS).  Spectra trend downwards inside a band, so inserting
 * every element into a sorted list would shift on almost every step, and
 * data-dependent branches mispredict.  Instead: one SIMD pass takes the
 * minimum and maximum of each of 16 interleaved lanes, merged into n groups;
 * at least n elements are <= the largest group minimum, so only elements at
 * or below it (for peaks: at or above the smallest group maximum) can be
 * among the n extremes.  Those few candidates are gathered without branches,
 * then sorted.  (count >= n is required; a group left empty has minimum +inf,
 * which only makes the bound looser.)
 */
AF_SIMD_CLONES
static void band_extremes(const float *x, size_t count, size_t n, float *low, float *high)
{
    af_v8f mn0 = af_splat8(INFINITY), mn1 = mn0, mx0 = af_splat8(-INFINITY), mx1 = mx0;
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        af_v8f a = af_load8(x + i), b = af_load8(x + i + 8);
        mn0 = af_select8(a < mn0, a, mn0);
        mn1 = af_select8(b < mn1, b, mn1);
        mx0 = af_select8(a > mx0, a, mx0);
        mx1 = af_select8(b > mx1, b, mx1);
    }
    float lane_min[16], lane_max[16];
    af_store8(lane_min, mn0);
    af_store8(lane_min + 8, mn1);
    af_store8(lane_max, mx0);
    af_store8(lane_max + 8, mx1);
    for (size_t l = 0; i < count; i++, l++) {
        lane_min[l] = x[i] < lane_min[l] ? x[i] : lane_min[l];
        lane_max[l] = x[i] > lane_max[l] ? x[i] : lane_max[l];
    }
    /* Merge the lanes into n disjoint groups (lane l -> group l % n): at least n
     * elements are <= the largest group minimum, so the n-th smallest is too. */
    float group_min[CONTRAST_MAX_Q], group_max[CONTRAST_MAX_Q];
    for (size_t g = 0; g < n; g++) {
        group_min[g] = INFINITY;
        group_max[g] = -INFINITY;
    }
    for (size_t l = 0; l < 16; l++) {
        size_t g = l % n;
        group_min[g] = lane_min[l] < group_min[g] ? lane_min[l] : group_min[g];
        group_max[g] = lane_max[l] > group_max[g] ? lane_max[l] : group_max[g];
    }
    float low_bound = group_min[0], high_bound = group_max[0];
    for (size_t g = 1; g < n; g++) {
        low_bound = group_min[g] > low_bound ? group_min[g] : low_bound;
        high_bound = group_max[g] < high_bound ? group_max[g] : high_bound;
    }
    if (n == 1) {
        low[0] = low_bound;
        high[0] = high_bound;
        return;
    }
    float cand_low[AF_N_BINS + 1], cand_high[AF_N_BINS + 1];
    size_t n_cand_low = 0, n_cand_high = 0;
    for (i = 0; i < count; i++) {
        float v = x[i];
        cand_low[n_cand_low] = v;
        n_cand_low += v <= low_bound;
        cand_high[n_cand_high] = v;
        n_cand_high += v >= high_bound;
    }
    size_t n_low = 0, n_high = 0;
    for (i = 0; i < n_cand_low; i++)
        keep_smallest(low, &n_low, n, cand_low[i]);
    for (i = 0; i < n_cand_high; i++)
        keep_largest(high, &n_high, n, cand_high[i]);
}

#ifdef SPECTRAL_AVX512

/* The lanes of a 16-float step that are still inside a band of `left` values. */
static inline __mmask16 lanes_left(size_t left)
{
    return left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
}

/*
 * AVX-512 band_extremes for small n: each of 16 lanes keeps its own ascending
 * lists of the n smallest and n largest values it saw (insertion as a min/max
 * ladder, no branches), then the lanes' lists are merged by taking the smallest
 * (largest) lane head n times.  4n operations per 16 values.
 */
__attribute__((target("avx512f"), always_inline)) static inline void
ladder_avx512(const float *x, size_t count, const size_t n, float *low, float *high)
{
    const __m512 inf = _mm512_set1_ps(INFINITY), neg_inf = _mm512_set1_ps(-INFINITY);
    __m512 lo[CONTRAST_MAX_Q], hi[CONTRAST_MAX_Q]; /* lo ascending, hi descending */
#pragma GCC unroll 16
    for (size_t j = 0; j < n; j++) {
        lo[j] = inf;
        hi[j] = neg_inf;
    }
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 valid = lanes_left(count - i);
        __m512 v = _mm512_maskz_loadu_ps(valid, x + i);
        __m512 vl = _mm512_mask_blend_ps(valid, inf, v), vh = _mm512_mask_blend_ps(valid, neg_inf, v);
#pragma GCC unroll 16
        for (size_t j = 0; j < n; j++) {
            __m512 a = lo[j];
            lo[j] = _mm512_min_ps(a, vl);
            vl = _mm512_max_ps(a, vl);
            __m512 b = hi[j];
            hi[j] = _mm512_max_ps(b, vh);
            vh = _mm512_min_ps(b, vh);
        }
    }
#pragma GCC unroll 16
    for (size_t r = 0; r < n; r++) {
        float m = _mm512_reduce_min_ps(lo[0]);
        __mmask16 eq = _mm512_cmp_ps_mask(lo[0], _mm512_set1_ps(m), _CMP_EQ_OQ);
        __mmask16 one = eq & (__mmask16)-eq; /* pop a single lane */
#pragma GCC unroll 16
        for (size_t j = 0; j + 1 < n; j++)
            lo[j] = _mm512_mask_blend_ps(one, lo[j], lo[j + 1]);
        lo[n - 1] = _mm512_mask_blend_ps(one, lo[n - 1], inf);
        low[r] = m;

        float M = _mm512_reduce_max_ps(hi[0]);
        eq = _mm512_cmp_ps_mask(hi[0], _mm512_set1_ps(M), _CMP_EQ_OQ);
        one = eq & (__mmask16)-eq;
#pragma GCC unroll 16
        for (size_t j = 0; j + 1 < n; j++)
            hi[j] = _mm512_mask_blend_ps(one, hi[j], hi[j + 1]);
        hi[n - 1] = _mm512_mask_blend_ps(one, hi[n - 1], neg_inf);
        high[n - 1 - r] = M; /* ascending */
    }
}
/* The ladder with n a constant, so that its lists live in registers (with n only
 * known at run time they lived on the stack, every step a store and a load). */
__attribute__((target("avx512f"))) static void band_extremes_ladder_avx512(const float *x, size_t count, size_t n,
                                                                     float *low, float *high)
{
    switch (n) {
    case 1: ladder_avx512(x, count, 1, low, high); break;
    case 2: ladder_avx512(x, count, 2, low, high); break;
    default: ladder_avx512(x, count, 3, low, high); break;
    }
}

/*
 * AVX-512 band_extremes for larger n, with a tighter bound than the portable
 * version and no data-dependent branches on the common path: the 16 lane minima are sorted in a register
 * (bitonic network), and the n-th smallest is the bound (n lanes each hold an
 * element at or below it).  The candidates are gathered with the register form
 * of vcompressps (the memory form is microcoded on Zen 4); when at most 16, they
 * are sorted in a register too.
 */
/* Lane i's partner in a compare-exchange at distance j (1, 2, 4 or 8): lane i ^ j,
 * by in-lane and 128-bit-block shuffles, which are quicker than a full permute. */
__attribute__((target("avx512f"), always_inline)) static inline __m512 partner_at(__m512 v, int j)
{
    switch (j) {
    case 1: return _mm512_permute_ps(v, 0xb1);        /* 1 0 3 2 in each block of 4 */
    case 2: return _mm512_permute_ps(v, 0x4e);        /* 2 3 0 1 */
    case 4: return _mm512_shuffle_f32x4(v, v, 0xb1); /* blocks 1 0 3 2 */
    default: return _mm512_shuffle_f32x4(v, v, 0x4e); /* blocks 2 3 0 1 */
    }
}

/* Lanes i with (i & j) == 0, for j = 1, 2, 4, 8, 16. */
static inline __mmask16 lanes_bit_clear(int j)
{
    switch (j) {
    case 1: return 0x5555;
    case 2: return 0x3333;
    case 4: return 0x0f0f;
    case 8: return 0x00ff;
    default: return 0xffff;
    }
}

/* One compare-exchange stage of a bitonic sort: within runs of 2k (ascending when
 * (i & k) == 0), lane i keeps the smaller of itself and lane i ^ j when it is the
 * run's first of the pair.  A max then a masked min: two operations, no blend. */
__attribute__((target("avx512f"), always_inline)) static inline __m512 bitonic_stage(__m512 v, int j, int k)
{
    __m512 partner = partner_at(v, j);
    __mmask16 keep_min = (__mmask16) ~(lanes_bit_clear(j) ^ lanes_bit_clear(k));
    return _mm512_mask_min_ps(_mm512_max_ps(v, partner), keep_min, v, partner);
}

/* Sorts a bitonic sequence of 16 (ascending then descending) ascending (the last
 * stage of a bitonic sort). */
__attribute__((target("avx512f"), always_inline)) static inline __m512 bitonic16_ascending(__m512 v)
{
#pragma GCC unroll 4
    for (int j = 8; j > 0; j /= 2)
        v = bitonic_stage(v, j, 16);
    return v;
}

__attribute__((target("avx512f"), always_inline)) static inline __m512 sort16_ascending(__m512 v)
{
#pragma GCC unroll 4
    for (int k = 2; k < 16; k *= 2)
#pragma GCC unroll 4
        for (int j = k / 2; j > 0; j /= 2)
            v = bitonic_stage(v, j, k);
    return bitonic16_ascending(v); /* two sorted runs of 8, the second descending */
}

/* The n smallest (or largest) of x[0..count) given their candidates: up to 32 are
 * sorted in registers (two sorts of 16, and the 16 smallest or largest of both by
 * one bitonic merge); more go through insertion. */
__attribute__((target("avx512f"))) static void select_candidates(const float *cand, size_t n_cand, size_t n,
                                                                 bool smallest, float *out)
{
    if (n_cand <= 32) {
        __m512 pad = _mm512_set1_ps(smallest ? INFINITY : -INFINITY);
        __m512 best = sort16_ascending(_mm512_mask_loadu_ps(pad, lanes_left(n_cand), cand));
        if (n_cand > 16) {
            __m512 b = sort16_ascending(_mm512_mask_loadu_ps(pad, lanes_left(n_cand - 16), cand + 16));
            const __m512i reverse = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
            b = _mm512_permutexvar_ps(reverse, b); /* best ascending, b descending: bitonic halves */
            best = bitonic16_ascending(smallest ? _mm512_min_ps(best, b) : _mm512_max_ps(best, b));
        }
        float sorted[16];
        _mm512_storeu_ps(sorted, best);
        memcpy(out, smallest ? sorted : sorted + 16 - n, n * sizeof *out);
        return;
    }
    size_t len = 0;
    for (size_t i = 0; i < n_cand; i++) {
        if (smallest)
            keep_smallest(out, &len, n, cand[i]);
        else
            keep_largest(out, &len, n, cand[i]);
    }
}

__attribute__((target("avx512f"))) static void band_extremes_bound_avx512(const float *x, size_t count,
                                                                           size_t n, float *low, float *high)
{
    __m512 mn = _mm512_set1_ps(INFINITY), mx = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 valid = lanes_left(count - i);
        __m512 v = _mm512_maskz_loadu_ps(valid, x + i);
        mn = _mm512_mask_min_ps(mn, valid, mn, v);
        mx = _mm512_mask_max_ps(mx, valid, mx, v);
    }
    float lane_min[16], lane_max[16];
    _mm512_storeu_ps(lane_min, sort16_ascending(mn));
    _mm512_storeu_ps(lane_max, sort16_ascending(mx));
    const __m512 low_bound = _mm512_set1_ps(lane_min[n - 1]), high_bound = _mm512_set1_ps(lane_max[16 - n]);
    float cand_low[AF_N_BINS + 16], cand_high[AF_N_BINS + 16];
    size_t n_cand_low = 0, n_cand_high = 0;
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 valid = lanes_left(count - i);
        __m512 v = _mm512_maskz_loadu_ps(valid, x + i);
        __mmask16 is_low = _mm512_mask_cmp_ps_mask(valid, v, low_bound, _CMP_LE_OQ);
        __mmask16 is_high = _mm512_mask_cmp_ps_mask(valid, v, high_bound, _CMP_GE_OQ);
        _mm512_storeu_ps(cand_low + n_cand_low, _mm512_maskz_compress_ps(is_low, v));
        _mm512_storeu_ps(cand_high + n_cand_high, _mm512_maskz_compress_ps(is_high, v));
        n_cand_low += (size_t)__builtin_popcount(is_low);
        n_cand_high += (size_t)__builtin_popcount(is_high);
    }
    select_candidates(cand_low, n_cand_low, n, true, low);
    select_candidates(cand_high, n_cand_high, n, false, high);
}

/* The ladder costs 4n per 16 values, the bound path about 8 plus four sorts of 16
 * per band: the ladder wins below n = 4 (bench_frames, contrast). */
__attribute__((target("avx512f"))) static void band_extremes_avx512(const float *x, size_t count, size_t n,
                                                                     float *low, float *high)
{
    if (n < 4) /* band_extremes_ladder_avx512 takes n <= 3 */
        band_extremes_ladder_avx512(x, count, n, low, high);
    else
        band_extremes_bound_avx512(x, count, n, low, high);
}
#endif

static void band_extremes_best(const float *x, size_t count, size_t n, float *low, float *high, bool allow_avx512)
{
#ifdef SPECTRAL_AVX512
    if (allow_avx512 && __builtin_cpu_supports("avx512f")) {
        band_extremes_avx512(x, count, n, low, high);
        return;
    }
#endif
    (void)allow_avx512;
    band_extremes(x, count, n, low, high);
}

static void contrast_frame(const struct af_contrast *c, const float *mag, float peak[AF_CONTRAST_BANDS],
                           float valley[AF_CONTRAST_BANDS], bool allow_avx512)
{
    for (int k = 0; k < AF_CONTRAST_BANDS; k++) {
        const struct af_contrast_band *b = &c->band[k];
        size_t n = b->n_q < CONTRAST_MAX_Q ? b->n_q : CONTRAST_MAX_Q;
        if (n > b->count)
            n = b->count;
        float low[CONTRAST_MAX_Q], high[CONTRAST_MAX_Q];
        band_extremes_best(mag + b->first, b->count, n, low, high, allow_avx512);
        /* np.mean of float32: float32 sum in ascending order, then / n */
        float lo_sum = 0.0f, hi_sum = 0.0f;
        for (size_t i = 0; i < n; i++) {
            lo_sum += low[i];
            hi_sum += high[i];
        }
        valley[k] = lo_sum / (float)n;
        peak[k] = hi_sum / (float)n;
    }
}

void af_contrast_frame(const struct af_contrast *c, const float *mag, float peak[AF_CONTRAST_BANDS],
                       float valley[AF_CONTRAST_BANDS])
{
    contrast_frame(c, mag, peak, valley, true);
}

void af_contrast_frame_portable(const struct af_contrast *c, const float *mag, float peak[AF_CONTRAST_BANDS],
                                float valley[AF_CONTRAST_BANDS])
{
    contrast_frame(c, mag, peak, valley, false);
}

/* 10 * log10(max(x, 1e-10)) in float64 (librosa's peak/valley arrays are float64),
 * written to out (as doubles, 4 at a time); returns the maximum. */
AF_SIMD_CLONES
static double db_array(const float *x, size_t n, double *out)
{
    const af_v4d amin = af_splat4d(1e-10);
    af_v4d vmax = af_splat4d(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        af_v8f v = af_load8(x + i);
        af_v4d half[2] = {af_lo4d(v), af_hi4d(v)};
        for (int h = 0; h < 2; h++) {
            af_v4d clamped = af_select4d(half[h] > amin, half[h], amin);
            af_v4d d = 10.0 * af_log10_4d(clamped);
            memcpy(out + i + 4 * h, &d, sizeof d);
            vmax = af_select4d(d > vmax, d, vmax);
        }
    }
    double max_db = -INFINITY;
    for (int l = 0; l < 4; l++)
        max_db = vmax[l] > max_db ? vmax[l] : max_db;
    for (; i < n; i++) {
        out[i] = 10.0 * log10(fmax((double)x[i], 1e-10));
        max_db = out[i] > max_db ? out[i] : max_db;
    }
    return max_db;
}

void af_contrast_finish(const float *peak, const float *valley, size_t n_frames, double *scratch, float *out)
{
    size_t n = (size_t)AF_CONTRAST_BANDS * n_frames;
    double *peak_db = scratch, *valley_db = scratch + n;
    double peak_floor = db_array(peak, n, peak_db) - 80.0;
    double valley_floor = db_array(valley, n, valley_db) - 80.0;
    for (size_t i = 0; i < n; i++) {
        double p = peak_db[i] > peak_floor ? peak_db[i] : peak_floor;
        double v = valley_db[i] > valley_floor ? valley_db[i] : valley_floor;
        out[i] = (float)(p - v);
    }
}
