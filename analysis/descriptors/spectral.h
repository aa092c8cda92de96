/*
 * spectral.h — librosa's spectral shape features on one STFT magnitude frame:
 * centroid, bandwidth, flatness, the peak/valley pass of spectral_contrast,
 * and (over all frames at once) rolloff and the contrast dB step, which need
 * the whole clip.  Frames come from stft.c (row stride AF_MAG_STRIDE, zero tail).
 */
#ifndef AF_SPECTRAL_H
#define AF_SPECTRAL_H

#include <stddef.h>
#include <stdint.h>

#define AF_CONTRAST_BANDS 7   /* n_bands 6, + 1 */
#define AF_SPECTRAL_STRIDE 1040 /* = AF_MAG_STRIDE (stft.h) */

/* Read-only tables, built once in the frame context. */
struct af_spectral {
    double freq[AF_SPECTRAL_STRIDE]; /* bin centre frequencies (np.fft.rfftfreq), 0 past the last bin */
};

void af_spectral_init(struct af_spectral *sp);

/* spectral_centroid and spectral_bandwidth (p=2, norm=True) of one frame. */
void af_spectral_centroid_bandwidth(const struct af_spectral *sp, const float *mag, float *centroid,
                                    float *bandwidth);

/* spectral_flatness (power=2, amin=1e-10) of one frame. */
float af_spectral_flatness(const float *mag);
/* The same without AVX-512 (for tests: both paths must agree). */
float af_spectral_flatness_portable(const float *mag);

/* spectral_rolloff (0.85) of n_frames rows of mag (stride AF_MAG_STRIDE),
 * with librosa's float32 running sum, so the crossing bin is the same. */
void af_spectral_rolloff(const float *mag, size_t n_frames, float *out);
/* Frames af_spectral_rolloff takes at once (calls for whole batches are fastest). */
#define AF_ROLLOFF_BATCH 16

struct af_contrast_band {
    uint32_t first; /* first bin of the sub-band */
    uint32_t count; /* bins in the sub-band */
    uint32_t n_q;   /* bins averaged at each end: max(1, rint(0.02 * band size)) */
};

struct af_contrast {
    struct af_contrast_band band[AF_CONTRAST_BANDS];
};

void af_contrast_init(struct af_contrast *c, const struct af_spectral *sp);

/* Mean of the n_q largest (peak) and smallest (valley) magnitudes of each band. */
void af_contrast_frame(const struct af_contrast *c, const float *mag,
                       float peak[AF_CONTRAST_BANDS], float valley[AF_CONTRAST_BANDS]);

/* The same without the AVX-512 kernel (the path other CPUs take); for tests. */
void af_contrast_frame_portable(const struct af_contrast *c, const float *mag,
                                float peak[AF_CONTRAST_BANDS], float valley[AF_CONTRAST_BANDS]);

/* power_to_db(peak) - power_to_db(valley), each floored at its own array's
 * maximum - 80 dB.  peak/valley/out are AF_CONTRAST_BANDS rows of n_frames;
 * scratch: 2 * AF_CONTRAST_BANDS * n_frames doubles. */
void af_contrast_finish(const float *peak, const float *valley, size_t n_frames, double *scratch, float *out);

#endif
