/* onset.c — onset strength envelope; see onset.h. float32 like librosa. */
#include "onset.h"

#include "mel.h"

#define ONSET_LAG 1
#define ONSET_SHIFT (ONSET_LAG + 2048 / (2 * 512)) /* lag + n_fft // (2 * hop) */

void af_onset_strength(const float *db_mel, size_t n_frames, float *out)
{
    for (size_t t = 0; t < n_frames; t++) {
        if (t < ONSET_SHIFT) {
            out[t] = 0.0f;
            continue;
        }
        /* difference between frames j+1 and j, j = t - ONSET_SHIFT */
        const float *prev = db_mel + (t - ONSET_SHIFT) * AF_N_MELS;
        const float *cur = prev + AF_N_MELS;
        float sum = 0.0f;
        for (int m = 0; m < AF_N_MELS; m++) {
            float d = cur[m] - prev[m];
            sum += d > 0.0f ? d : 0.0f;
        }
        out[t] = sum / (float)AF_N_MELS;
    }
}
