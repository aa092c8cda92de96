/* row_sample.c — a seeded uniform sample of training rows; see row_sample.h. */
#include "row_sample.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"

int af_row_sample_take(const float *x, const int *y, size_t n, int dim, size_t max_rows,
                       uint64_t seed, af_row_sample *s, af_err *err)
{
    memset(s, 0, sizeof *s);
    if (max_rows == 0 || n <= max_rows) {
        s->x = x;
        s->y = y;
        s->n = n;
        return 0;
    }
    size_t d = (size_t)dim;
    s->copy_x = malloc(max_rows * d * sizeof *s->copy_x);
    s->copy_y = malloc(max_rows * sizeof *s->copy_y);
    if (!s->copy_x || !s->copy_y) {
        af_row_sample_free(s);
        return af_err_set(err, "out of memory for a sample of %zu rows", max_rows);
    }
    /* Knuth's selection sampling (algorithm S): row i is taken with probability
     * (rows still wanted) / (rows left), which gives every subset of max_rows
     * rows the same chance and visits the rows in order. */
    af_rng rng;
    af_rng_seed(&rng, seed);
    size_t taken = 0;
    for (size_t i = 0; i < n && taken < max_rows; i++) {
        if (af_rng_below(&rng, n - i) >= max_rows - taken)
            continue;
        memcpy(s->copy_x + taken * d, x + i * d, d * sizeof *x);
        s->copy_y[taken++] = y[i];
    }
    s->x = s->copy_x;
    s->y = s->copy_y;
    s->n = taken;
    return 0;
}

void af_row_sample_free(af_row_sample *s)
{
    free(s->copy_x);
    free(s->copy_y);
    memset(s, 0, sizeof *s);
}
