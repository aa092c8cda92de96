/*
 * hpss.h — per-frame energies of librosa.decompose.hpss on the STFT
 * (kernel_size 31, power 2, margin 1, mask=False): the magnitude is median
 * filtered over 31 frames (harmonic) and over 31 bins (percussive), both with
 * scipy.ndimage 'reflect' edges, turned into soft masks, and
 * sum_k |S * mask|^2 is reported per frame for each part.
 *
 * Input: the magnitude matrix from stft.c (n_frames rows of AF_MAG_STRIDE
 * floats, zero tail).  The fastest instruction set the CPU has is used; the
 * result does not depend on it (medians are exact).
 */
#ifndef AF_HPSS_H
#define AF_HPSS_H

#include <stddef.h>

enum af_hpss_isa { AF_HPSS_AUTO, AF_HPSS_AVX512, AF_HPSS_AVX2, AF_HPSS_SSE2, AF_HPSS_SCALAR };

/* Floats of scratch af_hpss_energies needs (for any number of frames). */
size_t af_hpss_scratch_floats(void);

void af_hpss_energies(const float *mag, size_t n_frames, float *scratch, float *harmonic_energy,
                      float *percussive_energy);

/* Same with a chosen instruction set (falls back to AUTO if the CPU lacks it); for tests. */
void af_hpss_energies_isa(enum af_hpss_isa isa, const float *mag, size_t n_frames, float *scratch,
                          float *harmonic_energy, float *percussive_energy);

/* Straightforward sort-per-output implementation (slow), the reference for tests;
 * harm_scratch: n_frames * AF_MAG_STRIDE floats. */
void af_hpss_energies_reference(const float *mag, size_t n_frames, float *harm_scratch,
                                float *harmonic_energy, float *percussive_energy);

#endif
