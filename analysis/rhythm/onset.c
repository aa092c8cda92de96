/* onset.c — onset strength envelope; see onset.h. float32 like librosa. */
#include "onset.h"

#include "simd.h"
#include "spectral/mel.h"

#define ONSET_LAG 1
#define ONSET_SHIFT (ONSET_LAG + 2048 / (2 * 512)) /* lag + n_fft // (2 * hop) */

/* out[t] from rows t - ONSET_SHIFT (prev) and the one after it (cur): the rectified
 * differences summed over the bands in order, as numpy's mean over axis -2 does. */
static float onset_at(const float *db_mel, size_t t)
{
    const float *prev = db_mel + (t - ONSET_SHIFT) * AF_N_MELS;
    const float *cur = prev + AF_N_MELS;
    float sum = 0.0f;
    for (int m = 0; m < AF_N_MELS; m++) {
        float d = cur[m] - prev[m];
        sum += d > 0.0f ? d : 0.0f;
    }
    return sum / (float)AF_N_MELS;
}

/* onset_at for frames t .. t + 7, one per lane: 8 x 8 tiles transposed so that each
 * lane adds its frame's bands in the same order. */
AF_SIMD_CLONES
static void onset_8(const float *db_mel, size_t t, float *out)
{
    const float *prev = db_mel + (t - ONSET_SHIFT) * AF_N_MELS; /* rows prev .. prev + 8 */
    af_v8f sum = af_splat8(0.0f);
    const af_v8f zero = af_splat8(0.0f);
    for (int m0 = 0; m0 < AF_N_MELS; m0 += 8) {
        af_v8f before[8], after[8];
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) {
            before[l] = af_load8(prev + (size_t)l * AF_N_MELS + m0);
            after[l] = af_load8(prev + (size_t)(l + 1) * AF_N_MELS + m0);
        }
        af_transpose8x8(before);
        af_transpose8x8(after);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            af_v8f d = after[j] - before[j];
            sum += af_select8(d > zero, d, zero);
        }
    }
    af_store8(out, sum / af_splat8((float)AF_N_MELS));
}

void af_onset_strength(const float *db_mel, size_t n_frames, float *out)
{
    size_t t = 0;
    for (; t < n_frames && t < ONSET_SHIFT; t++)
        out[t] = 0.0f;
    for (; t + 8 <= n_frames; t += 8)
        onset_8(db_mel, t, out + t);
    for (; t < n_frames; t++)
        out[t] = onset_at(db_mel, t);
}
