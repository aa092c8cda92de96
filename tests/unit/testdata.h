/*
 * testdata.h — helpers shared by the frame-feature tests: paths of the
 * librosa reference data in tests/data/librosa/synth (copied from
 * shared/reference/librosa/synth; see its README there), a 16-bit PCM WAV
 * reader giving int16 / 32768 samples (what librosa was fed), and the
 * comparison metric max|ours - ref| / max|ref|.  Header-only (see npy.h).
 */
#ifndef AF_TEST_TESTDATA_H
#define AF_TEST_TESTDATA_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

#define SYNTH_DIR AF_PROJECT_DIR "/tests/data/librosa/synth"

static inline uint32_t le32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Mono 16-bit PCM WAV -> float samples (caller frees). Returns NULL on any problem. */
static inline float *wav_load_mono16(const char *path, size_t *n_samples, unsigned *sample_rate)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    float *samples = NULL;
    unsigned char hdr[12], chunk[8];
    int format_ok = 0;
    if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "RIFF", 4) || memcmp(hdr + 8, "WAVE", 4))
        goto out;
    while (fread(chunk, 1, 8, f) == 8) {
        uint32_t size = le32(chunk + 4);
        if (!memcmp(chunk, "fmt ", 4)) {
            unsigned char fmt[16];
            if (size < 16 || fread(fmt, 1, 16, f) != 16)
                goto out;
            unsigned format = fmt[0] | fmt[1] << 8, channels = fmt[2] | fmt[3] << 8;
            unsigned bits = fmt[14] | fmt[15] << 8;
            *sample_rate = le32(fmt + 4);
            format_ok = format == 1 && channels == 1 && bits == 16;
            if (fseek(f, (long)(size - 16 + (size & 1)), SEEK_CUR))
                goto out;
        } else if (!memcmp(chunk, "data", 4)) {
            if (!format_ok)
                goto out;
            size_t n = size / 2;
            samples = malloc(n * sizeof *samples);
            int16_t *raw = malloc(n * sizeof *raw);
            if (!samples || !raw || fread(raw, 2, n, f) != n) {
                free(raw);
                free(samples);
                samples = NULL;
                goto out;
            }
            for (size_t i = 0; i < n; i++)
                samples[i] = (float)raw[i] / 32768.0f;
            free(raw);
            *n_samples = n;
            goto out;
        } else if (fseek(f, (long)(size + (size & 1)), SEEK_CUR)) {
            goto out;
        }
    }
out:
    fclose(f);
    return samples;
}

/* The real clips' references (decoded from ../shared/reference/audio), where present. */
#define CLIPS_DIR AF_PROJECT_DIR "/../shared/reference/librosa/clips"
#define CLIP_AUDIO_DIR AF_PROJECT_DIR "/../shared/reference/audio"

/* Where load_reference looks: SYNTH_DIR, or CLIPS_DIR for the real clips. */
static const char *reference_root = SYNTH_DIR;

/* Loads <reference_root>/<signal>/<feature>.npy; returns 0 or -1. */
static inline int load_reference(const char *signal, const char *feature, struct npy_array *a)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s.npy", reference_root, signal, feature);
    return npy_load(path, a);
}

/* max |ours - ref| / max |ref| over n values (ours: float rows, ref: doubles). */
static inline double relative_error(const float *ours, const double *ref, size_t n)
{
    double max_ref = 0.0, max_diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(ref[i]) > max_ref)
            max_ref = fabs(ref[i]);
        double d = fabs((double)ours[i] - ref[i]);
        if (d > max_diff || isnan(d))
            max_diff = isnan(d) ? INFINITY : d;
    }
    return max_ref > 0.0 ? max_diff / max_ref : max_diff;
}

#endif
