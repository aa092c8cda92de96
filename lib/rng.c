/* rng.c — xoshiro256** with splitmix64 seeding; see rng.h for why the
 * training code carries its own generator. */
#include "rng.h"

#include <math.h>

uint64_t af_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

void af_rng_seed(af_rng *rng, uint64_t seed)
{
    /* splitmix64 turns any seed (even 0) into a well-mixed, non-zero state. */
    for (int i = 0; i < 4; i++) {
        seed += UINT64_C(0x9e3779b97f4a7c15);
        rng->s[i] = af_mix64(seed);
    }
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t af_rng_next(af_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double af_rng_uniform(af_rng *rng) { return (double)(af_rng_next(rng) >> 11) * 0x1.0p-53; }

uint64_t af_rng_below(af_rng *rng, uint64_t n)
{
    /* Rejection sampling on the top of the range keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = af_rng_next(rng);
    while (x >= limit);
    return x % n;
}

double af_rng_normal(af_rng *rng)
{
    double u1 = 1.0 - af_rng_uniform(rng); /* (0, 1]: log(0) must not happen */
    double u2 = af_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
