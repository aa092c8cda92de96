/*
 * mfcc.c — dB conversion and the DCT that turn mel power into MFCCs.
 * scipy.fftpack.dct(type=2, norm='ortho'): y[k] = s_k * sum_n x[n] cos(pi k (2n+1) / 2N),
 * s_0 = sqrt(1/N), s_k = sqrt(2/N).  The matrix is built in double and the
 * products are summed in float (as scipy does for float32 input).
 */
#include "mfcc.h"

#include <math.h>
#include <string.h>

#include "simd.h"

#define MFCC_GROUPS ((AF_N_MFCC + 7) / 8)

/* log10 of 16 positive normal floats, within 0.83 ulp (99% correctly rounded, over every
 * float from 1e-10 to 1e30).  x = 2^k m with m in [sqrt(1/2), sqrt(2)) (adding
 * 0x3f800000 - bits(sqrt(1/2)) carries into the exponent exactly when the mantissa
 * is >= sqrt(2)); f = m - 1 is exact, s = f / (2 + f), and, in fdlibm's arrangement,
 * ln m = f - f^2/2 + s (f^2/2 + R) with R = 2 atanh(s)/s - 2 = 2z/3 + 2z^2/5 + ...,
 * z = s^2 <= 0.0295.  hi keeps 12 bits of f - f^2/2 and the constants' high parts
 * 11 bits, so the large products are exact and the rounding stays in the small ones.
 * numpy's float32 log10 is no more exact than this; the double log10 it replaced
 * cost five times as much (0.27 ms per clip). */
AF_VEC_INLINE af_v16f log10_16(af_v16f x)
{
    const float log10_2_hi = 0x1.344p-2f, log10_2_lo = 0x1.3509f8p-18f; /* log10(2) */
    const float inv_ln10_hi = 0x1.bcap-2f, inv_ln10_lo = 0x1.7b1526p-14f; /* 1 / ln(10) */
    af_v16i bits = (af_v16i)x + (0x3f800000 - 0x3f3504f3);
    af_v16f k = __builtin_convertvector((bits >> 23) - 0x7f, af_v16f);
    af_v16f f = (af_v16f)((bits & 0x007fffff) + 0x3f3504f3) - 1.0f;
    af_v16f s = f / (2.0f + f), z = s * s;
    af_v16f r = z * (2.0f / 3 + z * (2.0f / 5 + z * (2.0f / 7 + z * (2.0f / 9))));
    af_v16f half_f2 = 0.5f * f * f;
    af_v16f hi = (af_v16f)((af_v16i)(f - half_f2) & (int)0xfffff000);
    af_v16f lo = f - hi - half_f2 + s * (half_f2 + r);
    return k * log10_2_lo + (lo + hi) * inv_ln10_lo + lo * inv_ln10_hi + hi * inv_ln10_hi + k * log10_2_hi;
}

/* 10 * log10(max(x, 1e-10)) in place; returns the largest value.  numpy rounds
 * log10 to float32 and multiplies by 10 in float32; so do we.  16 lanes: on
 * AVX-512, fewer operations than 8 lanes on AVX2 (dB + MFCC 0.29 -> 0.25 ms,
 * bench_frames). */
AF_SIMD_CLONES16
static float db_in_place(float *x, size_t n)
{
    const af_v16f amin = af_splat16(1e-10f);
    af_v16f vmax = af_splat16(-INFINITY);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        af_v16f db = 10.0f * log10_16(af_max16(af_load16(x + i), amin));
        memcpy(x + i, &db, sizeof db);
        vmax = af_max16(vmax, db);
    }
    float max_db = -INFINITY;
    for (int l = 0; l < 16; l++)
        max_db = vmax[l] > max_db ? vmax[l] : max_db;
    if (i < n) { /* the tail, through the same function */
        float tail[16];
        for (size_t j = 0; j < 16; j++)
            tail[j] = i + j < n ? x[i + j] : 1.0f;
        af_v16f db = 10.0f * log10_16(af_max16(af_load16(tail), amin));
        for (size_t j = 0; i + j < n; j++) {
            x[i + j] = db[j];
            max_db = db[j] > max_db ? db[j] : max_db;
        }
    }
    return max_db;
}

/* x = max(x, floor) */
AF_SIMD_CLONES16
static void raise_to(float *x, size_t n, float floor)
{
    const af_v16f f = af_splat16(floor);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        af_v16f v = af_max16(f, af_load16(x + i)); /* NaN stays NaN, as below */
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++)
        x[i] = x[i] < floor ? floor : x[i];
}

void af_power_to_db(float *x, size_t n, float top_db)
{
    if (n == 0)
        return;
    float max_db = db_in_place(x, n);
    raise_to(x, n, max_db - top_db);
}

void af_mfcc_init(struct af_mfcc *m)
{
    const double n = AF_N_MELS;
    for (int k = 0; k < AF_N_MFCC; k++) {
        double scale = k == 0 ? sqrt(1.0 / n) : sqrt(2.0 / n);
        for (int i = 0; i < AF_N_MELS; i++)
            m->dct[k][i] = (float)(scale * cos(M_PI * k * (2.0 * i + 1.0) / (2.0 * n)));
    }
}

/* 16-float vectors: the frame's eight and two sums stay in AVX-512's 32 registers,
 * where AVX2's 16 made each coefficient reload the frame (MFCC samples -8%, perf). */
AF_SIMD_CLONES16
void af_mfcc_frame(const struct af_mfcc *m, const float db_mel[AF_N_MELS], float out[AF_N_MFCC])
{
    _Static_assert(AF_N_MELS % 32 == 0, "pairs of 16-float vectors");
    af_v16f x[AF_N_MELS / 16];
    for (int i = 0; i < AF_N_MELS / 16; i++)
        x[i] = af_load16(db_mel + 16 * i);
    /* each coefficient's vector of partial sums, reduced 8 at a time (af_hsum8 order) */
    af_v8f partial[MFCC_GROUPS * 8];
    for (int k = 0; k < AF_N_MFCC; k++) {
        af_v16f acc0 = {0}, acc1 = {0};
        for (int i = 0; i < AF_N_MELS / 16; i += 2) {
            acc0 += af_load16(m->dct[k] + 16 * i) * x[i];
            acc1 += af_load16(m->dct[k] + 16 * i + 16) * x[i + 1];
        }
        partial[k] = af_fold16(acc0 + acc1);
    }
    for (int k = AF_N_MFCC; k < MFCC_GROUPS * 8; k++)
        partial[k] = af_splat8(0.0f);
    float sums[MFCC_GROUPS * 8];
    for (int g = 0; g < MFCC_GROUPS; g++)
        af_store8(sums + 8 * g, af_hsum8_of_8(partial + 8 * g));
    memcpy(out, sums, sizeof(float) * AF_N_MFCC);
}
