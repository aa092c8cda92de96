/*
 * rng.h — the small deterministic PRNG of the training code (xoshiro256**
 * seeded through splitmix64).
 *
 * Why not rand(): its sequence differs between C libraries and it has hidden
 * global state; a model trained from a given seed must be reproducible bit for
 * bit, so weight initialisation, shuffling and dropout all draw from an af_rng
 * owned by the model.  Everything here is integer arithmetic (af_rng_normal
 * aside, which uses libm and is only meant for synthetic test data).
 */
#ifndef AF_TRAIN_RNG_H
#define AF_TRAIN_RNG_H

#include <stdint.h>

typedef struct af_rng {
    uint64_t s[4];
} af_rng;

/* The splitmix64 finaliser: a good 64-bit mixing function (also used to
 * finish the split hashes). */
uint64_t af_mix64(uint64_t x);

void af_rng_seed(af_rng *rng, uint64_t seed);
uint64_t af_rng_next(af_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double af_rng_uniform(af_rng *rng);
/* Uniform integer in [0, n), unbiased; n must be > 0. */
uint64_t af_rng_below(af_rng *rng, uint64_t n);
/* Standard normal (Box-Muller); for generating test and benchmark data. */
double af_rng_normal(af_rng *rng);

#endif
