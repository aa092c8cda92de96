/*
 * bench_mlp.c — training speed of train/mlp.c at the production shape:
 * 100,000 windows x 200 features x 10 classes, network 256-128-64, batch 256,
 * dropout 0.25, with 1 and 2 OpenBLAS threads.  Not part of `make test`.
 *
 * Not built by make; from the project root (the Makefile's -O2 flags; `make
 * bench` then runs it with the others):
 *
 *   mkdir -p build/bench && cc -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
 *      -Wshadow -Wstrict-prototypes -Wno-unused-parameter -iquote lib \
 *      tests/bench/bench_mlp.c $(find train -name '*.c' ! -name 'af-*') lib/error.c lib/rng.c \
 *      -lopenblas -lm -lpthread -o build/bench/bench_mlp
 *   build/bench/bench_mlp [epochs per thread count, default 5]
 *
 * Prints seconds per epoch (median of the epochs), the held-out accuracy
 * reached, and whether 1 and 2 threads (and two runs with 2 threads) trained
 * bit-identical models.  For a breakdown by function: perf record / report.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../train/mlp.h"
#include "../../train/scaler.h"
#include "rng.h"

enum { N_TRAIN = 100000, N_TEST = 10000, DIM = 200, CLASSES = 10 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Class centres N(0, 0.25^2) per feature, unit Gaussian noise, and each
 * feature given its own offset and scale (as real features have), so the
 * standardiser has work to do.  Centres are ~5 noise sd apart: separable-ish,
 * a few percent of the windows overlap another class. */
static void make_data(float *x, int *y, size_t n, const double *centre, const double *offset,
                      const double *scale, af_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        int c = (int)af_rng_below(rng, CLASSES);
        y[i] = c;
        for (int j = 0; j < DIM; j++)
            x[i * DIM + (size_t)j] =
                (float)(offset[j] + scale[j] * (centre[c * DIM + j] + af_rng_normal(rng)));
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint8_t *run(int threads, int epochs, const float *x, const int *y, const float *xt,
                    const int *yt, size_t *len, double *median)
{
    openblas_set_num_threads(threads);
    af_mlp_config cfg;
    af_mlp_config_default(&cfg, DIM, CLASSES);
    cfg.seed = 12345;
    af_mlp *m;
    af_err err = {0};
    if (af_mlp_create(&m, &cfg, &err) != 0) {
        fprintf(stderr, "create: %s\n", err.msg);
        exit(1);
    }
    double *secs = malloc((size_t)epochs * sizeof *secs);
    af_mlp_stats st = {0}, val = {0};
    for (int e = 0; e < epochs; e++) {
        double t0 = now();
        if (af_mlp_train_epoch(m, x, y, N_TRAIN, NULL, &st, &err) != 0) {
            fprintf(stderr, "train: %s\n", err.msg);
            exit(1);
        }
        secs[e] = now() - t0;
        af_mlp_evaluate(m, xt, yt, N_TEST, NULL, &val, &err);
        printf("  threads %d epoch %d: %.3f s  train loss %.4f acc %.4f  held-out loss %.4f acc "
               "%.4f\n",
               threads, e + 1, secs[e], st.loss, st.accuracy, val.loss, val.accuracy);
    }
    qsort(secs, (size_t)epochs, sizeof *secs, cmp_double);
    *median = secs[epochs / 2];
    double t0 = now();
    af_mlp_evaluate(m, x, y, N_TRAIN, NULL, &st, &err);
    double eval_secs = now() - t0;
    printf("threads %d: median %.3f s/epoch (min %.3f), inference over the 100k rows %.3f s, "
           "held-out accuracy %.4f\n",
           threads, secs[epochs / 2], secs[0], eval_secs, val.accuracy);
    uint8_t *buf;
    af_mlp_serialise(m, NULL, &buf, len, &err);
    free(secs);
    af_mlp_free(m);
    return buf;
}

int main(int argc, char **argv)
{
    int epochs = argc > 1 ? atoi(argv[1]) : 5;
    if (epochs < 1)
        epochs = 1;
    af_rng rng;
    af_rng_seed(&rng, 1);
    double *centre = malloc(CLASSES * DIM * sizeof *centre);
    double offset[DIM], scale[DIM];
    for (int i = 0; i < CLASSES * DIM; i++)
        centre[i] = 0.25 * af_rng_normal(&rng);
    for (int j = 0; j < DIM; j++) {
        offset[j] = 10.0 * af_rng_normal(&rng);
        scale[j] = 0.1 + 5.0 * af_rng_uniform(&rng);
    }
    float *x = malloc((size_t)N_TRAIN * DIM * sizeof *x), *xt = malloc(N_TEST * DIM * sizeof *xt);
    int *y = malloc(N_TRAIN * sizeof *y), *yt = malloc(N_TEST * sizeof *yt);
    make_data(x, y, N_TRAIN, centre, offset, scale, &rng);
    make_data(xt, yt, N_TEST, centre, offset, scale, &rng);

    af_scaler sc = {0};
    af_err err = {0};
    af_scaler_fit(&sc, x, N_TRAIN, DIM, &err);
    af_scaler_apply(&sc, x, N_TRAIN);
    af_scaler_apply(&sc, xt, N_TEST);

    printf("OpenBLAS %s, core %s; %d windows x %d features x %d classes, 256-128-64, batch 256\n",
           openblas_get_config(), openblas_get_corename(), N_TRAIN, DIM, CLASSES);
    size_t len1, len2;
    double t1, t2, t3;
    uint8_t *m1 = run(1, epochs, x, y, xt, yt, &len1, &t1);
    uint8_t *m2 = run(2, epochs, x, y, xt, yt, &len2, &t2);
    printf("1 vs 2 threads: models %s\n",
           len1 == len2 && memcmp(m1, m2, len1) == 0 ? "bit-identical" : "DIFFER");
    size_t len3;
    uint8_t *m3 = run(2, epochs, x, y, xt, yt, &len3, &t3);
    printf("2 threads, run twice: models %s\n",
           len2 == len3 && memcmp(m2, m3, len2) == 0 ? "bit-identical" : "DIFFER");
    printf("time per epoch, 2 threads / 1 thread: %.2f and %.2f (the second core is shared "
           "with whatever else runs)\n",
           t2 / t1, t3 / t1);
    free(m1);
    free(m2);
    free(m3);
    af_scaler_free(&sc);
    free(centre);
    free(x);
    free(xt);
    free(y);
    free(yt);
    return 0;
}
