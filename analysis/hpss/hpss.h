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
 *
 * The work can follow the frames as they are computed (af_hpss_begin, then
 * af_hpss_advance after each new row): the filters then read rows that are still
 * in cache, instead of a matrix of several MB long since written.  The result is
 * the same, whatever the steps.
 */
#ifndef AF_HPSS_H
#define AF_HPSS_H

#include <stdbool.h>
#include <stddef.h>

enum af_hpss_isa { AF_HPSS_AUTO, AF_HPSS_AVX512, AF_HPSS_AVX2, AF_HPSS_SSE2, AF_HPSS_SCALAR };

/* An HPSS under way; its fields are hpss.c's. */
struct af_hpss_run {
    enum af_hpss_isa isa; /* resolved: never AUTO */
    const float *mag;
    size_t n_frames;
    float *scratch, *harmonic_energy, *percussive_energy;
    bool started, finished; /* frame 0's harmonic median; the last group */
    size_t next_block;      /* first frame of the next block of harmonic medians, less one */
    size_t next_group;      /* first frame of the next group for the percussive filter */
};

/* Floats of scratch af_hpss_energies needs (for any number of frames). */
size_t af_hpss_scratch_floats(void);

void af_hpss_energies(const float *mag, size_t n_frames, float *scratch, float *harmonic_energy,
                      float *percussive_energy);

/* Energies for the n_frames frames of mag, of which none need exist yet.  isa: as
 * for af_hpss_energies_isa. */
void af_hpss_begin(struct af_hpss_run *run, enum af_hpss_isa isa, const float *mag, size_t n_frames,
                   float *scratch, float *harmonic_energy, float *percussive_energy);

/* Rows 0 .. ready - 1 of mag are final: do all the work they allow.  With ready ==
 * n_frames, the energies are complete. */
void af_hpss_advance(struct af_hpss_run *run, size_t ready);

/* Same with a chosen instruction set (falls back to AUTO if the CPU lacks it); for tests. */
void af_hpss_energies_isa(enum af_hpss_isa isa, const float *mag, size_t n_frames, float *scratch,
                          float *harmonic_energy, float *percussive_energy);

/* Straightforward sort-per-output implementation (slow), the reference for tests;
 * harm_scratch: n_frames * AF_MAG_STRIDE floats. */
void af_hpss_energies_reference(const float *mag, size_t n_frames, float *harm_scratch,
                                float *harmonic_energy, float *percussive_energy);

#endif
