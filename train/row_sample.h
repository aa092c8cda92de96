/*
 * row_sample.h — at most a given number of training rows, for the baselines
 * (baselines.h).  The network streams its rows in mini-batches, but libsvm
 * holds 16 bytes per feature value and trains in time quadratic in the rows,
 * and the logistic regression is full-batch: on a million windows neither
 * fits in memory or time.  af-train therefore fits them on a uniform sample of
 * the training rows ([train] baseline_max_rows) and says so.
 *
 * The sample is deterministic (seeded) and keeps the rows' order.  Pure, no
 * database, no printing.
 */
#ifndef AF_TRAIN_ROW_SAMPLE_H
#define AF_TRAIN_ROW_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct af_row_sample {
    const float *x; /* n x dim: the input's rows, or `copy` */
    const int *y;   /* n labels */
    size_t n;
    float *copy_x;  /* owned when sampled, else NULL */
    int *copy_y;
} af_row_sample;

/* All n rows (no copy) when max_rows is 0 or n <= max_rows; otherwise exactly
 * max_rows rows drawn uniformly without replacement (selection sampling,
 * seeded by `seed`), copied in their original order. */
int af_row_sample_take(const float *x, const int *y, size_t n, int dim, size_t max_rows,
                       uint64_t seed, af_row_sample *s, af_err *err);
void af_row_sample_free(af_row_sample *s);

#endif
