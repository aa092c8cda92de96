/*
 * chroma.h — librosa.feature.chroma_stft: tuning estimation (estimate_tuning
 * -> piptrack on the power spectrogram, 0.01-semitone histogram), the
 * filters.chroma filterbank for that tuning, and its application per frame.
 *
 * Tuning needs every frame: collect piptrack candidates frame by frame with
 * af_piptrack_frame, then call af_tuning_from_pitches once.
 */
#ifndef AF_CHROMA_H
#define AF_CHROMA_H

#include <stddef.h>

#include "error.h"

#define AF_N_CHROMA 12
#define AF_CHROMA_FB_STRIDE 1040 /* = AF_MAG_STRIDE; zero past the last bin */
#define AF_TUNING_STEPS 101      /* tunings -0.50, -0.49, ..., 0.50 */

/* Growable list of piptrack peaks (pitch in Hz, magnitude), owned by a workspace. */
struct af_pitch_list {
    float *pitch;
    float *mag;
    size_t n, cap;
};

void af_pitch_list_free(struct af_pitch_list *l);

/* piptrack (fmin 150, fmax 4000, threshold 0.1 of the frame maximum) on the power
 * of one magnitude frame; appends its peaks. */
int af_piptrack_frame(const float *mag, struct af_pitch_list *out, af_err *err);

/* estimate_tuning: median-magnitude threshold, then pitch_tuning at 0.01 resolution.
 * scratch: af_tuning_scratch_floats(l->n) floats. Returns the tuning in semitones. */
double af_tuning_from_pitches(const struct af_pitch_list *l, float *scratch);
size_t af_tuning_scratch_floats(size_t n_pitches);

/* Index of a tuning value on the 0.01 grid (0..100), for caching filterbanks. */
int af_tuning_index(double tuning);

/* filters.chroma(sr=22050, n_fft=2048, tuning) as 12 rows of AF_CHROMA_FB_STRIDE floats. */
void af_chroma_filterbank(double tuning, float *fb);

/* chroma_stft of one frame: fb x |X|^2, each frame scaled by its maximum. */
void af_chroma_frame(const float *fb, const float *mag, float out[AF_N_CHROMA]);

/* chroma_stft of n_frames magnitude rows (stride AF_MAG_STRIDE) with filterbank fb
 * (any tuning, e.g. 0 for chroma_stft(tuning=0)); out: 12 rows of n_frames. */
void af_chroma_frames(const float *fb, const float *mag, size_t n_frames, float *out);

#endif
