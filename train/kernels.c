/* kernels.c — branch-free, vectorised element-wise loops of the MLP; see
 * kernels.h for why they exist. */
#include "kernels.h"

#include <math.h>
#include <string.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

/* 16-byte vectors: SSE on baseline x86-64, NEON on arm64.  (32-byte ones
 * would need AVX to be passed around without an ABI warning.) */
typedef float v4sf __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));
typedef uint16_t v4hu __attribute__((vector_size(8)));

/* memcpy: the rows are not 32-byte aligned; compiles to unaligned moves */
static inline v4sf load4(const float *p)
{
    v4sf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(float *p, v4sf v) { memcpy(p, &v, sizeof v); }

/* Keeps the lanes of v where mask is all ones, zeroes the others. */
static inline v4sf select_or_zero(v4si mask, v4sf v) { return (v4sf)(mask & (v4si)v); }

static inline v4sf sqrt4(v4sf x)
{
#if defined(__SSE__)
    return (v4sf)_mm_sqrt_ps((__m128)x); /* correctly rounded, like sqrtf */
#else
    for (int i = 0; i < 4; i++)
        x[i] = sqrtf(x[i]);
    return x;
#endif
}

void af_k_bias_relu(float *z, const float *b, int rows, int cols)
{
    const v4sf zero = {0};
    for (int r = 0; r < rows; r++) {
        float *row = z + (size_t)r * (size_t)cols;
        int j = 0;
        for (; j + 4 <= cols; j += 4) {
            v4sf v = load4(row + j) + load4(b + j);
            store4(row + j, select_or_zero(v > zero, v));
        }
        for (; j < cols; j++) {
            float v = row[j] + b[j];
            row[j] = v > 0.0f ? v : 0.0f;
        }
    }
}

/* Four 16-bit draws from one 64-bit number, lowest bits first. */
static inline v4si draws4(af_rng *rng)
{
    uint64_t bits = af_rng_next(rng);
    v4hu h = {(uint16_t)bits, (uint16_t)(bits >> 16), (uint16_t)(bits >> 32),
              (uint16_t)(bits >> 48)};
    return __builtin_convertvector(h, v4si);
}

void af_k_bias_relu_dropout(float *z, const float *b, int rows, int cols, af_rng *rng,
                            uint32_t drop_below, float scale)
{
    const v4sf zero = {0};
    const v4si threshold = (v4si){0} + (int32_t)drop_below;
    for (int r = 0; r < rows; r++) {
        float *row = z + (size_t)r * (size_t)cols;
        int j = 0;
        for (; j + 4 <= cols; j += 4) {
            v4sf v = load4(row + j) + load4(b + j);
            v4si keep = (v > zero) & (draws4(rng) >= threshold);
            store4(row + j, select_or_zero(keep, v * scale));
        }
        uint64_t bits = 0;
        for (int k = 0; j < cols; j++, k++) {
            if (k % 4 == 0)
                bits = af_rng_next(rng);
            float v = row[j] + b[j];
            int keep = v > 0.0f && (uint32_t)(bits & 0xFFFF) >= drop_below;
            bits >>= 16;
            row[j] = keep ? v * scale : 0.0f;
        }
    }
}

void af_k_mask_inactive(float *delta, const float *act, size_t n, float scale)
{
    const v4sf zero = {0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        store4(delta + i, select_or_zero(load4(act + i) > zero, load4(delta + i) * scale));
    for (; i < n; i++)
        delta[i] = act[i] > 0.0f ? delta[i] * scale : 0.0f;
}

void af_k_adam(float *p, const float *g, float *m, float *v, size_t n, const af_adam_step *s)
{
    const float b1 = s->beta1, b2 = s->beta2, c1 = 1.0f - s->beta1, c2 = 1.0f - s->beta2;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v4sf gi = load4(g + i);
        v4sf mi = b1 * load4(m + i) + c1 * gi;
        v4sf vi = b2 * load4(v + i) + c2 * (gi * gi);
        store4(m + i, mi);
        store4(v + i, vi);
        store4(p + i, load4(p + i) - s->step * mi / (sqrt4(vi) * s->inv_sqrt_bc2 + s->epsilon));
    }
    for (; i < n; i++) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * (g[i] * g[i]);
        p[i] -= s->step * m[i] / (sqrtf(v[i]) * s->inv_sqrt_bc2 + s->epsilon);
    }
}
