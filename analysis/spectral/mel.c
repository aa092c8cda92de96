/*
 * mel.c — Slaney mel filterbank, built with librosa 0.10.1's arithmetic
 * (float64 ramps, cast to float32, then scaled by the float64 area norm and
 * cast again) so the weights equal librosa's; applied sparsely (each bin
 * feeds at most two bands).
 */
#include "mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"
#include "stft.h"

#define SLANEY_F_SP (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ 1000.0

static double slaney_min_log_mel(void)
{
    return (SLANEY_MIN_LOG_HZ - 0.0) / SLANEY_F_SP;
}

static double slaney_logstep(void)
{
    return log(6.4) / 27.0;
}

static double hz_to_mel(double hz)
{
    if (hz >= SLANEY_MIN_LOG_HZ)
        return slaney_min_log_mel() + log(hz / SLANEY_MIN_LOG_HZ) / slaney_logstep();
    return (hz - 0.0) / SLANEY_F_SP;
}

static double mel_to_hz(double mel)
{
    if (mel >= slaney_min_log_mel())
        return SLANEY_MIN_LOG_HZ * exp(slaney_logstep() * (mel - slaney_min_log_mel()));
    return 0.0 + SLANEY_F_SP * mel;
}

/* librosa.mel_frequencies(130, fmin=0, fmax=sr/2): np.linspace in mel, back to Hz. */
static void mel_band_edges(double edges[AF_N_MELS + 2])
{
    double lo = hz_to_mel(0.0), hi = hz_to_mel(AF_SAMPLE_RATE / 2.0);
    double step = (hi - lo) / (double)(AF_N_MELS + 1);
    for (int i = 0; i < AF_N_MELS + 2; i++) {
        double m = (double)i * step + lo;
        if (i == AF_N_MELS + 1)
            m = hi;
        edges[i] = mel_to_hz(m);
    }
}

static float band_weight(const double *edges, int band, size_t bin)
{
    double f = af_bin_frequency(bin);
    double lower = -(edges[band] - f) / (edges[band + 1] - edges[band]);
    double upper = (edges[band + 2] - f) / (edges[band + 2] - edges[band + 1]);
    double w = fmax(0.0, fmin(lower, upper));
    double enorm = 2.0 / (edges[band + 2] - edges[band]);
    return (float)((double)(float)w * enorm);
}

int af_mel_init(struct af_mel *mel, af_err *err)
{
    memset(mel, 0, sizeof *mel);
    double edges[AF_N_MELS + 2];
    mel_band_edges(edges);

    size_t total = 0;
    for (int m = 0; m < AF_N_MELS; m++) {
        size_t first = AF_N_BINS, last = 0;
        for (size_t k = 0; k < AF_N_BINS; k++) {
            if (band_weight(edges, m, k) != 0.0f) {
                if (first == AF_N_BINS)
                    first = k;
                last = k;
            }
        }
        mel->band[m].first = first == AF_N_BINS ? 0 : (uint32_t)first; /* empty band: no bins */
        mel->band[m].count = first == AF_N_BINS ? 0 : (uint32_t)(last - first + 1);
    }
    /* af_mel_apply takes bands 8 at a time, all as wide as the group's widest, so that
     * one loop of one length serves the 8 (a loop per band, each of its own length,
     * cost 6% more in perf, its exits hard to predict); 7% more weights, all 0 */
    for (int m0 = 0; m0 < AF_N_MELS; m0 += 8) {
        uint32_t widest = 0;
        for (int m = m0; m < m0 + 8; m++)
            widest = mel->band[m].count > widest ? mel->band[m].count : widest;
        for (int m = m0; m < m0 + 8; m++) {
            struct af_mel_band *b = &mel->band[m];
            b->offset = (uint32_t)total;
            b->padded = (widest + 7) / 8 * 8;
            total += b->padded;
            if (b->first + b->padded > AF_MAG_STRIDE)
                return af_err_set(err, "mel: band %d would read past a magnitude row", m);
        }
    }
    mel->weights = calloc(total ? total : 1, sizeof(float));
    if (!mel->weights)
        return af_err_set(err, "mel: out of memory");
    for (int m = 0; m < AF_N_MELS; m++) {
        const struct af_mel_band *b = &mel->band[m];
        for (uint32_t i = 0; i < b->count; i++)
            mel->weights[b->offset + i] = band_weight(edges, m, b->first + i);
    }
    return 0;
}

void af_mel_destroy(struct af_mel *mel)
{
    free(mel->weights);
    mel->weights = NULL;
}

AF_SIMD_CLONES
void af_mel_apply(const struct af_mel *mel, const float *mag, float out[AF_N_MELS])
{
    _Static_assert(AF_N_MELS % 8 == 0, "bands are reduced 8 at a time");
    for (int m0 = 0; m0 < AF_N_MELS; m0 += 8) {
        const struct af_mel_band *b = &mel->band[m0];
        af_v8f acc[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            acc[j] = af_splat8(0.0f);
        for (uint32_t i = 0; i < b->padded; i += 8) /* the same for the group's 8 bands */
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                af_v8f x = af_load8(mag + b[j].first + i);
                acc[j] += af_load8(mel->weights + b[j].offset + i) * (x * x);
            }
        af_store8(out + m0, af_hsum8_of_8(acc));
    }
}

void af_mel_dense(const struct af_mel *mel, float *out)
{
    memset(out, 0, sizeof(float) * AF_N_MELS * AF_N_BINS);
    for (int m = 0; m < AF_N_MELS; m++) {
        const struct af_mel_band *b = &mel->band[m];
        for (uint32_t i = 0; i < b->count; i++)
            out[(size_t)m * AF_N_BINS + b->first + i] = mel->weights[b->offset + i];
    }
}
