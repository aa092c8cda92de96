/*
 * hpss.c — HPSS energies (see hpss.h).  The two 31-point median filters over
 * the 1025 x n_frames magnitude are most of the cost; hpss_kernel.h holds the
 * vectorised running median (in blocks of 32), compiled here for AVX-512, AVX2, SSE2
 * and plain C, and picked at run time.
 */
#include "hpss.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"
#include "spectral/stft.h"

#define HPSS_KERNEL 31
#define HPSS_HALF (HPSS_KERNEL / 2)
#define HPSS_MAX_LANES 16 /* widest vector (AVX-512 floats) */
#define MED_BLOCK 32      /* median31's block: one more than the kernel */
#define MED_CAP 16        /* the median of 31 is the largest of their 16 smallest */
_Static_assert(HPSS_KERNEL == 31 && MED_BLOCK == 32, "median31_block's networks are laid out for these");
/* Soft masks square the medians; below HPSS_SMALL both are first scaled up by a
 * power of two (exact) so that the squares stay normal floats. */
#define HPSS_SMALL 0x1p-60f
#define HPSS_SCALE_UP 0x1p64f

/* Rows of harmonic (time) medians kept at once; see hpss_advance in hpss_kernel.h. */
#define HPSS_RING 64
/* Vectors of work space the frequency filter needs (see hpss_kernel.h). */
#define HPSS_WORK_VECTORS (AF_MAG_STRIDE + 2 * (AF_N_BINS + MED_BLOCK + HPSS_KERNEL))

/* The ring row of frame t's harmonic medians: a time block's MED_BLOCK frames
 * (base + 1 .. base + MED_BLOCK, base a multiple of MED_BLOCK) are consecutive rows. */
static inline size_t hpss_ring_row(size_t t)
{
    return (t + HPSS_RING - 1) % HPSS_RING;
}

/* scipy.ndimage mode='reflect' (d c b a | a b c d | d c b a), repeated for short inputs. */
static inline size_t hpss_reflect(ptrdiff_t i, size_t n)
{
    ptrdiff_t period = 2 * (ptrdiff_t)n;
    i %= period;
    if (i < 0)
        i += period;
    return (size_t)(i < (ptrdiff_t)n ? i : period - 1 - i);
}

/* ---- plain C (any CPU) ---- */
static inline void transpose_scalar(const float *const *rows, size_t col, float *dst)
{
    dst[0] = rows[0][col];
}
#define VTRANSPOSE(rows, col, dst) transpose_scalar((rows), (col), (dst))
#define KSUFFIX _scalar
#define KTARGET
#define V float
#define M bool
#define LANES 1
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VLT(a, b) ((a) < (b))
#define VBLEND(m, t, f) ((m) ? (t) : (f))
#define VANY(m) (m)
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#include "hpss_kernel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HPSS_X86 1

/* In-register transposes: LANES rows of LANES floats -> dst[c * LANES + r].
 * Each stage interleaves pairs of rows at twice the previous granularity. */
static inline void transpose_sse2(const float *const *rows, size_t col, float *dst)
{
    __m128 r0 = _mm_loadu_ps(rows[0] + col), r1 = _mm_loadu_ps(rows[1] + col);
    __m128 r2 = _mm_loadu_ps(rows[2] + col), r3 = _mm_loadu_ps(rows[3] + col);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + 4, r1);
    _mm_storeu_ps(dst + 8, r2);
    _mm_storeu_ps(dst + 12, r3);
}

typedef int hpss_v16i __attribute__((vector_size(64)));

/* AVX2: simd.h's 8 x 8 transpose on the rows' floats [col, col + 8). */
__attribute__((target("avx2"), always_inline)) static inline void transpose_avx2(const float *const *rows, size_t col,
                                                                   float *dst)
{
    af_v8f r[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        r[i] = af_load8(rows[i] + col);
    af_transpose8x8(r);
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        memcpy(dst + 8 * i, &r[i], sizeof r[i]);
}

__attribute__((target("avx512f"), always_inline)) static inline void transpose_avx512(const float *const *rows, size_t col,
                                                                       float *dst)
{
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_loadu_ps(rows[i] + col);
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1],
                                 (hpss_v16i){0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30});
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1],
                                     (hpss_v16i){1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31});
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 4)
    #pragma GCC unroll 16
    for (int j = 0; j < 2; j++) {
            r[i + j] = __builtin_shuffle(t[i + j], t[i + j + 2],
                                         (hpss_v16i){0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29});
            r[i + j + 2] = __builtin_shuffle(
                t[i + j], t[i + j + 2], (hpss_v16i){2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31});
        }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 8)
    #pragma GCC unroll 16
    for (int j = 0; j < 4; j++) {
            t[i + j] = __builtin_shuffle(r[i + j], r[i + j + 4],
                                         (hpss_v16i){0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27});
            t[i + j + 4] = __builtin_shuffle(
                r[i + j], r[i + j + 4], (hpss_v16i){4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31});
        }
#pragma GCC unroll 16
    for (int j = 0; j < 8; j++) {
        r[j] = __builtin_shuffle(t[j], t[j + 8],
                                 (hpss_v16i){0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23});
        r[j + 8] = __builtin_shuffle(t[j], t[j + 8],
                                     (hpss_v16i){8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31});
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        _mm512_storeu_ps(dst + 16 * i, r[i]);
}

/* ---- SSE2 (every x86-64) ---- */
#define KSUFFIX _sse2
#define KTARGET
#define V __m128
#define M __m128
#define LANES 4
#define VLOAD(p) _mm_loadu_ps(p)
#define VSTORE(p, v) _mm_storeu_ps((p), (v))
#define VSET1(x) _mm_set1_ps(x)
#define VMIN(a, b) _mm_min_ps((a), (b))
#define VMAX(a, b) _mm_max_ps((a), (b))
#define VLT(a, b) _mm_cmplt_ps((a), (b))
#define VBLEND(m, t, f) _mm_or_ps(_mm_and_ps((m), (t)), _mm_andnot_ps((m), (f)))
#define VANY(m) (_mm_movemask_ps(m) != 0)
#define VADD(a, b) _mm_add_ps((a), (b))
#define VMUL(a, b) _mm_mul_ps((a), (b))
#define VDIV(a, b) _mm_div_ps((a), (b))
#define VTRANSPOSE(rows, col, dst) transpose_sse2((rows), (col), (dst))
#include "hpss_kernel.h"

/* ---- AVX2 ---- */
#define KSUFFIX _avx2
#define KTARGET __attribute__((target("avx2")))
#define V __m256
#define M __m256
#define LANES 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VMIN(a, b) _mm256_castsi256_ps(_mm256_min_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
#define VMAX(a, b) _mm256_castsi256_ps(_mm256_max_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b)))
#define VLT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define VBLEND(m, t, f) _mm256_blendv_ps((f), (t), (m))
#define VANY(m) (_mm256_movemask_ps(m) != 0)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VTRANSPOSE(rows, col, dst) transpose_avx2((rows), (col), (dst))
#include "hpss_kernel.h"

/* ---- AVX-512 ---- */
#define KSUFFIX _avx512
#define KTARGET __attribute__((target("avx512f")))
#define V __m512
#define M __mmask16
#define LANES 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
/* Magnitudes are >= +0, so their bit patterns order like the floats: integer
 * min/max (twice the throughput of float min/max on some cores) give the same. */
#define VMIN(a, b) _mm512_castsi512_ps(_mm512_min_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define VMAX(a, b) _mm512_castsi512_ps(_mm512_max_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define VLT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define VBLEND(m, t, f) _mm512_mask_blend_ps((m), (f), (t))
#define VANY(m) ((m) != 0)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VTRANSPOSE(rows, col, dst) transpose_avx512((rows), (col), (dst))
#include "hpss_kernel.h"
#endif

static enum af_hpss_isa best_isa(void)
{
#ifdef HPSS_X86
    if (__builtin_cpu_supports("avx512f"))
        return AF_HPSS_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return AF_HPSS_AVX2;
    return AF_HPSS_SSE2;
#else
    return AF_HPSS_SCALAR;
#endif
}

static bool isa_available(enum af_hpss_isa isa)
{
#ifdef HPSS_X86
    switch (isa) {
    case AF_HPSS_AVX512:
        return __builtin_cpu_supports("avx512f");
    case AF_HPSS_AVX2:
        return __builtin_cpu_supports("avx2");
    case AF_HPSS_SSE2:
    case AF_HPSS_SCALAR:
        return true;
    default:
        return false;
    }
#else
    return isa == AF_HPSS_SCALAR;
#endif
}

void af_hpss_begin(struct af_hpss_run *run, enum af_hpss_isa isa, const float *mag, size_t n_frames,
                   float *scratch, float *harmonic_energy, float *percussive_energy)
{
    if (isa == AF_HPSS_AUTO || !isa_available(isa))
        isa = best_isa();
    *run = (struct af_hpss_run){.isa = isa,
                                .mag = mag,
                                .n_frames = n_frames,
                                .scratch = scratch,
                                .harmonic_energy = harmonic_energy,
                                .percussive_energy = percussive_energy};
}

void af_hpss_advance(struct af_hpss_run *run, size_t ready)
{
    if (run->finished || run->n_frames == 0)
        return;
    switch (run->isa) {
#ifdef HPSS_X86
    case AF_HPSS_AVX512:
        hpss_advance_avx512(run, ready);
        return;
    case AF_HPSS_AVX2:
        hpss_advance_avx2(run, ready);
        return;
    case AF_HPSS_SSE2:
        hpss_advance_sse2(run, ready);
        return;
#endif
    default:
        hpss_advance_scalar(run, ready);
        return;
    }
}

void af_hpss_energies_isa(enum af_hpss_isa isa, const float *mag, size_t n_frames, float *scratch,
                          float *harmonic_energy, float *percussive_energy)
{
    struct af_hpss_run run;
    af_hpss_begin(&run, isa, mag, n_frames, scratch, harmonic_energy, percussive_energy);
    af_hpss_advance(&run, n_frames);
}

size_t af_hpss_scratch_floats(void)
{
    return HPSS_RING * AF_MAG_STRIDE + HPSS_WORK_VECTORS * HPSS_MAX_LANES;
}

void af_hpss_energies(const float *mag, size_t n_frames, float *scratch, float *harmonic_energy,
                      float *percussive_energy)
{
    af_hpss_energies_isa(AF_HPSS_AUTO, mag, n_frames, scratch, harmonic_energy, percussive_energy);
}

/* ---- reference: copy each window, sort it, take the middle ---- */

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float window_median(float *w)
{
    qsort(w, HPSS_KERNEL, sizeof *w, compare_float);
    return w[HPSS_HALF];
}

/* util.softmask(x, ref, power=2, split_zeros=True) = x^2 / (x^2 + ref^2), 0.5 where
 * both are 0, as the kernels round it: one division, tiny values scaled up first. */
static void soft_masks(float x, float ref, float *mask_x, float *mask_ref)
{
    float z = x > ref ? x : ref;
    if (z < FLT_MIN) {
        *mask_x = *mask_ref = 0.5f;
        return;
    }
    float scale = z < HPSS_SMALL ? HPSS_SCALE_UP : 1.0f;
    x *= scale;
    ref *= scale;
    float x2 = x * x, ref2 = ref * ref;
    float inv = 1.0f / (x2 + ref2);
    *mask_x = x2 * inv;
    *mask_ref = ref2 * inv;
}

void af_hpss_energies_reference(const float *mag, size_t n_frames, float *harm_scratch,
                                float *harmonic_energy, float *percussive_energy)
{
    float w[HPSS_KERNEL];
    for (size_t t = 0; t < n_frames; t++)
        for (size_t k = 0; k < AF_N_BINS; k++) {
            for (int i = 0; i < HPSS_KERNEL; i++)
                w[i] = mag[hpss_reflect((ptrdiff_t)t + i - HPSS_HALF, n_frames) * AF_MAG_STRIDE + k];
            harm_scratch[t * AF_MAG_STRIDE + k] = window_median(w);
        }
    for (size_t t = 0; t < n_frames; t++) {
        const float *row = mag + t * AF_MAG_STRIDE;
        float eh = 0.0f, ep = 0.0f;
        for (size_t k = 0; k < AF_N_BINS; k++) {
            for (int i = 0; i < HPSS_KERNEL; i++)
                w[i] = row[hpss_reflect((ptrdiff_t)k + i - HPSS_HALF, AF_N_BINS)];
            float p = window_median(w), h = harm_scratch[t * AF_MAG_STRIDE + k], mask_h, mask_p;
            soft_masks(h, p, &mask_h, &mask_p);
            float hh = row[k] * mask_h, pp = row[k] * mask_p;
            eh += hh * hh;
            ep += pp * pp;
        }
        harmonic_energy[t] = eh;
        percussive_energy[t] = ep;
    }
}
