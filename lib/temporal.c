/*
 * temporal.c — zero crossing rate and RMS per frame (see temporal.h).
 *
 * A centred 2048-sample frame t spans samples [512t - 1024, 512t + 1024), i.e.
 * hop blocks t-2 .. t+1, so both features are sums of four per-block sums:
 * O(n) overall, and a silent block contributes exactly 0 (no running-sum
 * cancellation).
 */
#include "temporal.h"

#include <math.h>
#include <stdbool.h>

#include "frames.h"
#include "simd.h"

#define FRAME_BLOCKS (AF_N_FFT / AF_HOP) /* 4 */

static bool negative_sign(float x)
{
    /* zero_crossings(threshold=1e-10, zero_pos=True): tiny values become +0 */
    return fabsf(x) > 1e-10f && signbit(x);
}

/* -1 in lanes of x[0..8) that count as negative, else 0 */
AF_VEC_INLINE af_v8i negative_lanes(const float *x)
{
    const af_v8i abs_mask = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff,
                             0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    af_v8f v = af_load8(x);
    af_v8f magnitude = (af_v8f)((af_v8i)v & abs_mask);
    return (magnitude > af_splat8(1e-10f)) & ((af_v8i)v < 0);
}

/* Crossings between samples i-1 and i for i in [start, end), 1 <= start. */
AF_SIMD_CLONES
static double crossings(const float *y, size_t start, size_t end)
{
    af_v8i acc = {0};
    size_t i = start;
    for (; i + 8 <= end; i += 8)
        acc -= negative_lanes(y + i) ^ negative_lanes(y + i - 1);
    int count = 0;
    for (int l = 0; l < 8; l++)
        count += acc[l];
    for (; i < end; i++)
        count += negative_sign(y[i]) != negative_sign(y[i - 1]);
    return count;
}

/* Sum of squares (squared in float32 like librosa, summed in double). */
AF_SIMD_CLONES
static double sum_of_squares(const float *y, size_t n)
{
    af_v4d a = {0}, b = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        af_v8f x = af_load8(y + i);
        af_v8f sq = x * x;
        a += af_lo4d(sq);
        b += af_hi4d(sq);
    }
    double s = af_hsum4d(a + b);
    for (; i < n; i++) {
        float sq = y[i] * y[i];
        s += sq;
    }
    return s;
}

/* Sum of the per-block values of blocks t-2 .. t+1 (blocks outside the signal are 0). */
static double frame_sum(const double *blocks, size_t n_blocks, size_t t)
{
    double s = 0.0;
    for (size_t b = t; b < t + FRAME_BLOCKS; b++) /* block index b - 2 */
        if (b >= 2 && b - 2 < n_blocks)
            s += blocks[b - 2];
    return s;
}

static size_t block_end(size_t b, size_t n_samples)
{
    return (b + 1) * AF_HOP < n_samples ? (b + 1) * AF_HOP : n_samples;
}

void af_zero_crossing_rate(const float *y, size_t n_samples, size_t n_frames, double *block_scratch,
                           float *out)
{
    size_t n_blocks = (n_samples + AF_HOP - 1) / AF_HOP;
    for (size_t b = 0; b < n_blocks; b++) /* crossing(i): samples i-1 and i differ in sign */
        block_scratch[b] = crossings(y, b == 0 ? 1 : b * AF_HOP, block_end(b, n_samples));
    for (size_t t = 0; t < n_frames; t++) {
        /* The frame's first sample has no predecessor inside the frame: drop the
         * crossing at the first sample of block t-2. */
        double count = frame_sum(block_scratch, n_blocks, t);
        if (t >= 2) {
            size_t first = (t - 2) * AF_HOP;
            if (first > 0 && first < n_samples)
                count -= negative_sign(y[first]) != negative_sign(y[first - 1]);
        }
        out[t] = (float)(count / AF_N_FFT);
    }
}

void af_rms(const float *y, size_t n_samples, size_t n_frames, double *block_scratch, float *out)
{
    size_t n_blocks = (n_samples + AF_HOP - 1) / AF_HOP;
    for (size_t b = 0; b < n_blocks; b++)
        block_scratch[b] = sum_of_squares(y + b * AF_HOP, block_end(b, n_samples) - b * AF_HOP);
    for (size_t t = 0; t < n_frames; t++)
        out[t] = sqrtf((float)(frame_sum(block_scratch, n_blocks, t) / AF_N_FFT));
}
