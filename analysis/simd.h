/*
 * simd.h — small GCC vector-extension helpers for the frame-feature hot loops
 * (mel, mfcc, spectral, chroma, tempo).  Plain C with vector types: without
 * -march flags they compile to SSE2 pairs, and functions marked
 * AF_SIMD_CLONES also get an AVX2 clone picked at load time by the CPU.
 * Internal to analysis/; not part of any public contract.
 */
#ifndef AF_SIMD_H
#define AF_SIMD_H

#include <string.h>

/* Every helper taking or returning a vector is always inlined: a cloned
 * (AVX2/AVX-512) caller and an out-of-line helper compiled for the baseline
 * would disagree on how vectors are passed.  With that guaranteed, GCC's
 * -Wpsabi note about those calling conventions does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
#define AF_VEC_INLINE static inline __attribute__((always_inline))

typedef float af_v8f __attribute__((vector_size(32)));
typedef double af_v4d __attribute__((vector_size(32)));
typedef int af_v8i __attribute__((vector_size(32)));

typedef float af_v16f __attribute__((vector_size(64)));
typedef int af_v16i __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AF_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
/* for loops written with 16-float vectors, which AVX-512 runs in one register;
 * x86-64-v4 (AVX-512 F, BW, DQ, VL) also turns comparison masks into vectors in one
 * instruction, where plain AVX-512F goes lane by lane */
#define AF_SIMD_CLONES16 __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define AF_SIMD_CLONES
#define AF_SIMD_CLONES16
#endif

AF_VEC_INLINE af_v8f af_load8(const float *p)
{
    af_v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

AF_VEC_INLINE af_v16f af_load16(const float *p)
{
    af_v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The two halves of a 16-float vector added lane by lane. */
AF_VEC_INLINE af_v8f af_fold16(af_v16f v)
{
    af_v8f lo, hi;
    memcpy(&lo, &v, sizeof lo);
    memcpy(&hi, (const float *)&v + 8, sizeof hi);
    return lo + hi;
}

/* Whether any lane of a comparison mask is set. */
AF_VEC_INLINE int af_any8(af_v8i mask)
{
    unsigned long long words[4];
    memcpy(words, &mask, sizeof words);
    return (words[0] | words[1] | words[2] | words[3]) != 0;
}

AF_VEC_INLINE af_v16f af_splat16(float x)
{
    return (af_v16f){0} + x;
}

AF_VEC_INLINE af_v16f af_max16(af_v16f a, af_v16f b)
{
    af_v16i m = a > b;
    return (af_v16f)(((af_v16i)a & m) | ((af_v16i)b & ~m));
}

/* Helpers taking vectors are macros (GCC statement expressions): see above. */
#define af_store8(p, v)                                                                            \
    do {                                                                                           \
        af_v8f af_store8_v_ = (v);                                                                 \
        memcpy((p), &af_store8_v_, sizeof af_store8_v_);                                           \
    } while (0)

AF_VEC_INLINE af_v8f af_splat8(float x)
{
    return (af_v8f){x, x, x, x, x, x, x, x};
}

#define af_hsum8(v)                                                                                \
    ({                                                                                             \
        af_v8f af_h8_ = (v);                                                                       \
        ((af_h8_[0] + af_h8_[1]) + (af_h8_[2] + af_h8_[3])) +                                      \
            ((af_h8_[4] + af_h8_[5]) + (af_h8_[6] + af_h8_[7]));                                   \
    })

/* Lane-wise sums of 8 vectors: out[j] = the af_hsum8 of v[j], added in the same
 * order ((0+1)+(2+3)) + ((4+5)+(6+7)), so bit for bit the same, in 21 vector
 * operations instead of 8 reductions of 7 dependent scalar adds each. */
AF_VEC_INLINE af_v8f af_hsum8_of_8(const af_v8f v[8])
{
    const af_v8i even = {0, 2, 4, 6, 8, 10, 12, 14}, odd = {1, 3, 5, 7, 9, 11, 13, 15};
    af_v8f pairs[4], quads[2];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        pairs[i] = __builtin_shuffle(v[2 * i], v[2 * i + 1], even) + __builtin_shuffle(v[2 * i], v[2 * i + 1], odd);
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
        quads[i] = __builtin_shuffle(pairs[2 * i], pairs[2 * i + 1], even) +
                   __builtin_shuffle(pairs[2 * i], pairs[2 * i + 1], odd);
    return __builtin_shuffle(quads[0], quads[1], even) + __builtin_shuffle(quads[0], quads[1], odd);
}

#define af_hsum4d(v)                                                                               \
    ({                                                                                             \
        af_v4d af_h4_ = (v);                                                                       \
        (af_h4_[0] + af_h4_[1]) + (af_h4_[2] + af_h4_[3]);                                         \
    })

/* mask ? a : b, lane-wise (mask lanes are all ones or all zeros, as comparisons give). */
#define af_select8(mask, a, b)                                                                     \
    ({                                                                                             \
        af_v8i af_sel_m_ = (mask);                                                                 \
        (af_v8f)(((af_v8i)(a) & af_sel_m_) | ((af_v8i)(b) & ~af_sel_m_));                          \
    })

#define af_select4d(mask, a, b)                                                                    \
    ({                                                                                             \
        af_v4l af_sel4_m_ = (mask);                                                                \
        (af_v4d)(((af_v4l)(a) & af_sel4_m_) | ((af_v4l)(b) & ~af_sel4_m_));                        \
    })

#define af_max8(a, b)                                                                              \
    ({                                                                                             \
        af_v8f af_max_a_ = (a), af_max_b_ = (b);                                                   \
        af_select8(af_max_a_ > af_max_b_, af_max_a_, af_max_b_);                                   \
    })

/* In-place 8 x 8 transpose: r[i][j] -> r[j][i].  Fully unrolled, so that r and t
 * can live in registers (a loop left in place kept them on the stack). */
AF_VEC_INLINE void af_transpose8x8(af_v8f r[8])
{
    af_v8f t[8];
#pragma GCC unroll 4
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1], (af_v8i){0, 8, 2, 10, 4, 12, 6, 14});
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], (af_v8i){1, 9, 3, 11, 5, 13, 7, 15});
    }
#pragma GCC unroll 2
    for (int i = 0; i < 8; i += 4)
#pragma GCC unroll 2
        for (int j = 0; j < 2; j++) {
            r[i + j] = __builtin_shuffle(t[i + j], t[i + j + 2], (af_v8i){0, 1, 8, 9, 4, 5, 12, 13});
            r[i + j + 2] = __builtin_shuffle(t[i + j], t[i + j + 2], (af_v8i){2, 3, 10, 11, 6, 7, 14, 15});
        }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        t[j] = __builtin_shuffle(r[j], r[j + 4], (af_v8i){0, 1, 2, 3, 8, 9, 10, 11});
        t[j + 4] = __builtin_shuffle(r[j], r[j + 4], (af_v8i){4, 5, 6, 7, 12, 13, 14, 15});
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        r[i] = t[i];
}

/* Lower and upper halves of a float vector, widened to double. */
#define af_lo4d(v)                                                                                 \
    ({                                                                                             \
        af_v8f af_lo_ = (v);                                                                       \
        (af_v4d){af_lo_[0], af_lo_[1], af_lo_[2], af_lo_[3]};                                      \
    })

#define af_hi4d(v)                                                                                 \
    ({                                                                                             \
        af_v8f af_hi_ = (v);                                                                       \
        (af_v4d){af_hi_[4], af_hi_[5], af_hi_[6], af_hi_[7]};                                      \
    })

typedef long long af_v4l __attribute__((vector_size(32)));

AF_VEC_INLINE af_v4d af_splat4d(double x)
{
    return (af_v4d){x, x, x, x};
}

/*
 * log10 of 4 positive, finite, normal doubles to ~1e-12 relative: exponent from
 * the bits, ln of the mantissa (moved to [sqrt(1/2), sqrt(2))) by the atanh
 * series 2s(1 + s^2/3 + ... + s^12/13), s = (m-1)/(m+1), |s| <= 0.172.
 * Rounded to float it equals the correctly rounded log10f except in rare ties.
 */
#define af_log10_4d(x)                                                                             \
    ({                                                                                             \
        af_v4d af_log_x_ = (x);                                                                    \
        af_log10_4d_at(&af_log_x_);                                                                \
    })

AF_VEC_INLINE af_v4d af_log10_4d_at(const af_v4d *xp)
{
    af_v4l bits = (af_v4l)*xp;
    af_v4d m = (af_v4d)((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
    af_v4l big = m > 1.4142135623730951;
    m = (af_v4d)(((af_v4l)(m * 0.5) & big) | ((af_v4l)m & ~big));
    /* The biased exponent (plus one where m was halved; big lanes are -1) as a double:
     * the bits of 2^52 + e, minus 2^52 + 1023.  Exact, and unlike an int64 -> double
     * conversion, vectorised without AVX-512. */
    af_v4l biased = ((bits >> 52) & 0x7ff) - big;
    af_v4d ed = (af_v4d)(biased | 0x4330000000000000LL) - (0x1p52 + 1023.0);
    af_v4d s = (m - 1.0) / (m + 1.0), s2 = s * s;
    af_v4d poly = 1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (1.0 / 13))))));
    af_v4d ln = ed * 0.6931471805599453 + 2.0 * s * poly;
    return ln * 0.4342944819032518;
}

#endif
