/*
 * temporal.c — zero crossing rate and RMS per frame (see temporal.h).
 *
 * A centred 2048-sample frame t spans samples [512t - 1024, 512t + 1024), i.e.
 * hop blocks t-2 .. t+1, so both features are sums of four per-block sums:
 * O(n) overall, and a silent block contributes exactly 0 (no running-sum
 * cancellation).  The per-block sums come from one pass over the waveform,
 * which also checks every sample's range for frames.c: the signal is 2.6 MB per
 * 30-s clip, more than L2, so each pass of its own cost a trip to L3 (three passes
 * took 0.24 ms per clip, perf).
 */
#include "temporal.h"

#include <math.h>
#include <stdbool.h>

#include "framing.h"
#include "simd.h"

#define FRAME_BLOCKS (AF_N_FFT / AF_HOP) /* 4 */

/* zero_crossings(threshold=1e-10, zero_pos=True): |x| <= 1e-10 becomes +0, so a
 * sample counts as negative exactly when x < -1e-10 (NaN: never; it is refused). */
#define NEGATIVE_BELOW (-1e-10f)

static bool negative_sign(float x)
{
    return x < NEGATIVE_BELOW;
}

/* Crossings between samples i-1 and i for i in [start, end) (start >= 1), the sum of
 * squares of [start, end) (squared in float32 like librosa, summed in double), and
 * whether every sample there is a number with |x| <= max_abs. */
AF_SIMD_CLONES
static bool block_sums(const float *y, size_t start, size_t end, float max_abs, double *crossings,
                       double *squares)
{
    const af_v8f below = af_splat8(NEGATIVE_BELOW), limit = af_splat8(max_abs);
    af_v8i count = {0}, in_range = count == 0;
    af_v4d sum_lo = {0}, sum_hi = {0};
    size_t i = start;
    for (; i + 8 <= end; i += 8) {
        af_v8f x = af_load8(y + i), before = af_load8(y + i - 1);
        count -= (x < below) ^ (before < below);
        in_range &= (x <= limit) & (x >= -limit);
        af_v8f square = x * x;
        sum_lo += af_lo4d(square);
        sum_hi += af_hi4d(square);
    }
    int total = 0;
    bool ok = true;
    double sum = 0.0;
    for (int l = 0; l < 8; l++) {
        total += count[l];
        ok = ok && in_range[l];
    }
    for (int l = 0; l < 4; l++)
        sum += sum_lo[l] + sum_hi[l];
    for (; i < end; i++) {
        total += negative_sign(y[i]) != negative_sign(y[i - 1]);
        ok = ok && fabsf(y[i]) <= max_abs;
        float square = y[i] * y[i];
        sum += square;
    }
    *crossings = total;
    *squares = sum;
    return ok;
}

static size_t block_end(size_t b, size_t n_samples)
{
    return (b + 1) * AF_HOP < n_samples ? (b + 1) * AF_HOP : n_samples;
}

bool af_waveform_blocks(const float *y, size_t n_samples, float max_abs, double *block_crossings,
                        double *block_squares)
{
    if (n_samples == 0)
        return true;
    /* sample 0 has no predecessor: edge padding repeats it, so no crossing */
    float square0 = y[0] * y[0];
    bool ok = fabsf(y[0]) <= max_abs;
    size_t n_blocks = (n_samples + AF_HOP - 1) / AF_HOP;
    for (size_t b = 0; b < n_blocks && ok; b++) {
        size_t start = b == 0 ? 1 : b * AF_HOP;
        ok = block_sums(y, start, block_end(b, n_samples), max_abs, &block_crossings[b], &block_squares[b]);
    }
    block_squares[0] += square0;
    return ok;
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

void af_zero_crossing_rate(const float *y, size_t n_samples, size_t n_frames, const double *block_crossings,
                           float *out)
{
    size_t n_blocks = (n_samples + AF_HOP - 1) / AF_HOP;
    for (size_t t = 0; t < n_frames; t++) {
        /* The frame's first sample has no predecessor inside the frame: drop the
         * crossing at the first sample of block t-2. */
        double count = frame_sum(block_crossings, n_blocks, t);
        if (t >= 2) {
            size_t first = (t - 2) * AF_HOP;
            if (first > 0 && first < n_samples)
                count -= negative_sign(y[first]) != negative_sign(y[first - 1]);
        }
        out[t] = (float)(count / AF_N_FFT);
    }
}

void af_rms(size_t n_samples, size_t n_frames, const double *block_squares, float *out)
{
    size_t n_blocks = (n_samples + AF_HOP - 1) / AF_HOP;
    for (size_t t = 0; t < n_frames; t++)
        out[t] = sqrtf((float)(frame_sum(block_squares, n_blocks, t) / AF_N_FFT));
}
