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

/* 10 * log10(max(x, 1e-10)) in place; returns the largest value. numpy rounds
 * log10 to float32 and multiplies by 10 in float32; so do we. */
AF_SIMD_CLONES
static float db_in_place(float *x, size_t n)
{
    const af_v8f amin = af_splat8(1e-10f);
    af_v8f vmax = af_splat8(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        af_v8f v = af_max8(af_load8(x + i), amin);
        af_v4d lo = af_log10_4d(af_lo4d(v)), hi = af_log10_4d(af_hi4d(v));
        af_v8f l = {(float)lo[0], (float)lo[1], (float)lo[2], (float)lo[3],
                    (float)hi[0], (float)hi[1], (float)hi[2], (float)hi[3]};
        af_v8f db = 10.0f * l;
        af_store8(x + i, db);
        vmax = af_max8(vmax, db);
    }
    float max_db = -INFINITY;
    for (int l = 0; l < 8; l++)
        max_db = vmax[l] > max_db ? vmax[l] : max_db;
    for (; i < n; i++) {
        float db = 10.0f * log10f(fmaxf(x[i], 1e-10f));
        x[i] = db;
        max_db = db > max_db ? db : max_db;
    }
    return max_db;
}

/* x = max(x, floor) */
AF_SIMD_CLONES
static void raise_to(float *x, size_t n, float floor)
{
    const af_v8f f = af_splat8(floor);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        af_store8(x + i, af_max8(f, af_load8(x + i))); /* NaN stays NaN, as below */
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

AF_SIMD_CLONES
void af_mfcc_frame(const struct af_mfcc *m, const float db_mel[AF_N_MELS], float out[AF_N_MFCC])
{
    af_v8f x[AF_N_MELS / 8];
    for (int i = 0; i < AF_N_MELS / 8; i++)
        x[i] = af_load8(db_mel + 8 * i);
    /* each coefficient's vector of partial sums, reduced 8 at a time (af_hsum8 order) */
    af_v8f partial[MFCC_GROUPS * 8];
    for (int k = 0; k < AF_N_MFCC; k++) {
        af_v8f acc0 = af_splat8(0.0f), acc1 = acc0;
        for (int i = 0; i < AF_N_MELS / 8; i += 2) {
            acc0 += af_load8(m->dct[k] + 8 * i) * x[i];
            acc1 += af_load8(m->dct[k] + 8 * i + 8) * x[i + 1];
        }
        partial[k] = acc0 + acc1;
    }
    for (int k = AF_N_MFCC; k < MFCC_GROUPS * 8; k++)
        partial[k] = af_splat8(0.0f);
    float sums[MFCC_GROUPS * 8];
    for (int g = 0; g < MFCC_GROUPS; g++)
        af_store8(sums + 8 * g, af_hsum8_of_8(partial + 8 * g));
    memcpy(out, sums, sizeof(float) * AF_N_MFCC);
}
