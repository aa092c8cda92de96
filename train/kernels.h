/*
 * kernels.h — the element-wise loops of the MLP (mlp.c): bias + ReLU
 * (+ inverted dropout) after each hidden layer's sgemm, the ReLU/dropout
 * mask in the backward pass, and the Adam update.
 *
 * Why a separate file: at -O2 GCC does not vectorise loops of unknown length,
 * and written as plain loops (with data-dependent branches on random dropout
 * masks) these took as long as the matrix products.  They are written with
 * GCC/Clang vector extensions (4 floats at a time: an SSE register on
 * baseline x86-64) and are branch-free.  Every lane computes the
 * same IEEE operations as the scalar tail, so results do not depend on the
 * vector width.
 */
#ifndef AF_TRAIN_KERNELS_H
#define AF_TRAIN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* z = max(z + b, 0) for each row of z (rows x cols, b has cols values). */
void af_k_bias_relu(float *z, const float *b, int rows, int cols);

/* As af_k_bias_relu, then each unit is kept (and multiplied by scale) when a
 * 16-bit draw is >= drop_below, else zeroed.  One af_rng_next per 4 units of
 * a row, in order (the last draw of a row may be partly unused). */
void af_k_bias_relu_dropout(float *z, const float *b, int rows, int cols, af_rng *rng,
                            uint32_t drop_below, float scale);

/* delta[i] = act[i] > 0 ? delta[i] * scale : 0 */
void af_k_mask_inactive(float *delta, const float *act, size_t n, float scale);

typedef struct af_adam_step {
    float beta1, beta2, epsilon;
    float step;         /* learning rate / (1 - beta1^t) */
    float inv_sqrt_bc2; /* 1 / sqrt(1 - beta2^t) */
} af_adam_step;

/* m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= step m / (sqrt(v) inv_sqrt_bc2 + eps) */
void af_k_adam(float *p, const float *g, float *m, float *v, size_t n, const af_adam_step *s);

#endif
