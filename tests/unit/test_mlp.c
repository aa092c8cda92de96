/*
 * test_mlp.c — the MLP of train/mlp.c: gradients against finite differences,
 * learning on separable data and not learning on noise, key shift, determinism,
 * serialisation and its validation, early stopping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/kernels.h"
#include "../../train/mlp.h"
#include "rng.h"

/* ---- synthetic data ---- */

typedef struct dataset {
    float *x;
    int *y;
    size_t n;
    int dim;
} dataset;

/* n points in `classes` Gaussian blobs (unit noise) whose centres are drawn
 * with spread `spread`, so spread 6 is easily separable. */
static dataset make_blobs(size_t n, int dim, int classes, double spread, uint64_t seed)
{
    af_rng rng;
    af_rng_seed(&rng, seed);
    double *centre = malloc((size_t)classes * (size_t)dim * sizeof *centre);
    for (int i = 0; i < classes * dim; i++)
        centre[i] = spread * af_rng_normal(&rng);
    dataset d = {malloc(n * (size_t)dim * sizeof(float)), malloc(n * sizeof(int)), n, dim};
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % (size_t)classes);
        d.y[i] = c;
        for (int j = 0; j < dim; j++)
            d.x[i * (size_t)dim + (size_t)j] =
                (float)(centre[c * dim + j] + af_rng_normal(&rng));
    }
    free(centre);
    return d;
}

static dataset slice(const dataset *d, size_t from, size_t to)
{
    dataset s = {d->x + from * (size_t)d->dim, d->y + from, to - from, d->dim};
    return s;
}

static void free_dataset(dataset *d)
{
    free(d->x);
    free(d->y);
}

static af_mlp *make_model(int in, int classes, const int *hidden, int n_hidden, float dropout,
                          float l2, uint64_t seed)
{
    af_mlp_config cfg;
    af_mlp_config_default(&cfg, in, classes);
    cfg.n_hidden = n_hidden;
    for (int i = 0; i < n_hidden; i++)
        cfg.hidden[i] = hidden[i];
    cfg.dropout = dropout;
    cfg.l2 = l2;
    cfg.seed = seed;
    af_mlp *m = NULL;
    af_err err = {0};
    int rc = af_mlp_create(&m, &cfg, &err);
    if (rc != 0)
        fail_msg("create: %s", err.msg);
    return m;
}

/* ---- gradient check ---- */

/* The objective of mlp.h recomputed independently in double precision from
 * the model's parameters: weighted mean cross-entropy + 0.5 * l2 * sum(W^2). */
static double reference_objective(const double *p, const int *width, int n_layers,
                                  const float *x, const int *y, int n, const float *cw, double l2)
{
    double act[2][16];
    double loss = 0.0, weight = 0.0, penalty = 0.0;
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < width[0]; j++)
            act[0][j] = x[r * width[0] + j];
        size_t off = 0;
        int cur = 0;
        for (int l = 0; l < n_layers; l++) {
            int in = width[l], out = width[l + 1];
            const double *w = p + off, *b = p + off + (size_t)in * (size_t)out;
            for (int o = 0; o < out; o++) {
                double z = b[o];
                for (int i = 0; i < in; i++)
                    z += act[cur][i] * w[i * out + o];
                act[1 - cur][o] = (l < n_layers - 1 && z < 0.0) ? 0.0 : z;
            }
            off += (size_t)in * (size_t)out + (size_t)out;
            cur = 1 - cur;
        }
        int classes = width[n_layers];
        double max = act[cur][0], sum = 0.0;
        for (int c = 1; c < classes; c++)
            max = fmax(max, act[cur][c]);
        for (int c = 0; c < classes; c++)
            sum += exp(act[cur][c] - max);
        double wr = cw[y[r]];
        loss += wr * (max + log(sum) - act[cur][y[r]]);
        weight += wr;
    }
    size_t off = 0;
    for (int l = 0; l < n_layers; l++) {
        size_t nw = (size_t)width[l] * (size_t)width[l + 1];
        for (size_t i = 0; i < nw; i++)
            penalty += p[off + i] * p[off + i];
        off += nw + (size_t)width[l + 1];
    }
    return loss / weight + 0.5 * l2 * penalty;
}

static void test_gradients_match_finite_differences(void **state)
{
    (void)state;
    enum { IN = 5, OUT = 3, N = 6 };
    const int hidden[] = {7, 4};
    const int width[] = {IN, 7, 4, OUT};
    const float cw[OUT] = {0.5f, 2.0f, 1.0f};
    const float l2 = 0.1f;
    af_mlp *m = make_model(IN, OUT, hidden, 2, 0.0f, l2, 7);
    size_t np = af_mlp_n_params(m);
    float *p = af_mlp_params(m);

    af_rng rng;
    af_rng_seed(&rng, 99);
    for (size_t i = 0; i < np; i++) /* also non-zero biases, so their gradients mean something */
        p[i] += (float)(0.1 * af_rng_normal(&rng));
    float x[N * IN];
    int y[N];
    for (int i = 0; i < N * IN; i++)
        x[i] = (float)af_rng_normal(&rng);
    for (int i = 0; i < N; i++)
        y[i] = i % OUT;

    af_err err = {0};
    double objective = 0.0;
    assert_int_equal(af_mlp_compute_gradients(m, x, y, N, cw, &objective, &err), 0);
    const float *g = af_mlp_gradients(m);

    double *pd = calloc(np, sizeof *pd);
    for (size_t i = 0; i < np; i++)
        pd[i] = p[i];
    double ref = reference_objective(pd, width, 3, x, y, N, cw, l2);
    assert_true(fabs(objective - ref) <= 1e-5 * fabs(ref));

    /* Central differences in double on the reference: step 1e-6 is far too
     * small to cross a ReLU kink, and double keeps the truncation and rounding
     * errors near 1e-9, so the analytic float gradients must agree to float
     * precision. */
    const double h = 1e-6;
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        double saved = pd[i];
        pd[i] = saved + h;
        double up = reference_objective(pd, width, 3, x, y, N, cw, l2);
        pd[i] = saved - h;
        double down = reference_objective(pd, width, 3, x, y, N, cw, l2);
        pd[i] = saved;
        double numeric = (up - down) / (2 * h);
        double diff = fabs(numeric - g[i]);
        double scale = fmax(fabs(numeric), fabs(g[i]));
        if (diff > 1e-3 * scale + 1e-5)
            fail_msg("parameter %zu: analytic %.8g, numeric %.8g", i, g[i], numeric);
        if (scale > 1e-3 && diff / scale > worst)
            worst = diff / scale;
    }
    assert_true(worst < 1e-3);
    free(pd);
    af_mlp_free(m);
}

/* With dropout the network is a fixed function once the mask is fixed: the
 * model's own objective, re-evaluated from the same generator state, must
 * match its gradients (float central differences, looser tolerance). */
static void test_dropout_gradients_are_consistent(void **state)
{
    (void)state;
    enum { IN = 4, OUT = 3, N = 5 };
    const int hidden[] = {6};
    af_mlp *m = make_model(IN, OUT, hidden, 1, 0.5f, 0.0f, 11);
    size_t np = af_mlp_n_params(m);
    float *p = af_mlp_params(m);
    af_rng rng;
    af_rng_seed(&rng, 5);
    float x[N * IN];
    int y[N];
    for (int i = 0; i < N * IN; i++)
        x[i] = (float)af_rng_normal(&rng);
    for (int i = 0; i < N; i++)
        y[i] = i % OUT;
    for (size_t i = 0; i < np; i++)
        p[i] += (float)(0.1 * af_rng_normal(&rng));

    /* A fresh model with the same seed has drawn the same initial weights,
     * so its generator is in the same state: it replays the same mask. */
    af_err err = {0};
    double obj;
    assert_int_equal(af_mlp_compute_gradients(m, x, y, N, NULL, &obj, &err), 0);
    float *g = malloc(np * sizeof *g);
    memcpy(g, af_mlp_gradients(m), np * sizeof *g);

    int checked = 0;
    for (size_t i = 0; i < np; i++) {
        double val[2];
        for (int s = 0; s < 2; s++) {
            af_mlp *probe = make_model(IN, OUT, hidden, 1, 0.5f, 0.0f, 11);
            memcpy(af_mlp_params(probe), p, np * sizeof *p);
            af_mlp_params(probe)[i] += s ? -1e-3f : 1e-3f;
            assert_int_equal(af_mlp_compute_gradients(probe, x, y, N, NULL, &val[s], &err), 0);
            af_mlp_free(probe);
        }
        double numeric = (val[0] - val[1]) / 2e-3;
        double diff = fabs(numeric - g[i]);
        if (diff > 2e-2 * fmax(fabs(numeric), fabs(g[i])) + 2e-4)
            fail_msg("parameter %zu: analytic %.6g, numeric %.6g", i, g[i], numeric);
        checked += fabs(g[i]) > 1e-3;
    }
    assert_true(checked > (int)np / 4); /* the check saw real gradients, not just zeros */
    free(g);
    af_mlp_free(m);
}

/* The vectorised Adam update (blocks of 4 plus a scalar tail: n = 11 covers
 * both) against the textbook formulas in double, over three steps. */
static void test_adam_kernel_matches_formula(void **state)
{
    (void)state;
    enum { N = 11 };
    float p[N], m[N] = {0}, v[N] = {0}, g[N];
    double pd[N], md[N] = {0}, vd[N] = {0};
    for (int i = 0; i < N; i++)
        pd[i] = p[i] = 0.1f * (float)(i - 5);
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < N; i++)
            g[i] = (float)((i % 3) - 1) * 0.5f * (float)t + 0.01f * (float)i;
        af_adam_step s = {(float)b1, (float)b2, (float)eps, (float)(lr / (1 - pow(b1, t))),
                          (float)(1 / sqrt(1 - pow(b2, t)))};
        af_k_adam(p, g, m, v, N, &s);
        for (int i = 0; i < N; i++) {
            md[i] = b1 * md[i] + (1 - b1) * g[i];
            vd[i] = b2 * vd[i] + (1 - b2) * g[i] * g[i];
            double mhat = md[i] / (1 - pow(b1, t)), vhat = vd[i] / (1 - pow(b2, t));
            pd[i] -= lr * mhat / (sqrt(vhat) + eps);
        }
    }
    for (int i = 0; i < N; i++)
        if (fabs(p[i] - pd[i]) > 1e-6)
            fail_msg("parameter %d: %.9g, expected %.9g", i, p[i], pd[i]);
}

/* ---- learning ---- */

static double train_and_score(const dataset *train, const dataset *test, int epochs)
{
    const int hidden[] = {32, 16};
    af_mlp *m = make_model(train->dim, 5, hidden, 2, 0.25f, 0.0f, 1);
    af_err err = {0};
    af_mlp_stats st;
    for (int e = 0; e < epochs; e++)
        if (af_mlp_train_epoch(m, train->x, train->y, train->n, NULL, &st, &err) != 0)
            fail_msg("train: %s", err.msg);
    assert_int_equal(af_mlp_evaluate(m, test->x, test->y, test->n, NULL, &st, &err), 0);
    af_mlp_free(m);
    return st.accuracy;
}

static void test_learns_separable_blobs(void **state)
{
    (void)state;
    dataset d = make_blobs(3000, 10, 5, 3.0, 123);
    dataset train = slice(&d, 0, 2000), test = slice(&d, 2000, 3000);
    double acc = train_and_score(&train, &test, 15);
    assert_true(acc >= 0.98);
    free_dataset(&d);
}

static void test_shuffled_labels_stay_at_chance(void **state)
{
    (void)state;
    dataset d = make_blobs(3000, 10, 5, 3.0, 123);
    af_rng rng;
    af_rng_seed(&rng, 77);
    for (size_t i = d.n - 1; i > 0; i--) {
        size_t j = (size_t)af_rng_below(&rng, i + 1);
        int t = d.y[i];
        d.y[i] = d.y[j];
        d.y[j] = t;
    }
    dataset train = slice(&d, 0, 2000), test = slice(&d, 2000, 3000);
    double acc = train_and_score(&train, &test, 15);
    /* chance is 0.2; sd of the held-out accuracy is ~0.013 */
    assert_true(acc > 0.13 && acc < 0.27);
    free_dataset(&d);
}

/* Rows of 26 inputs: input 0 and 25 Gaussian, inputs 1..24 twelve pitch-class blocks of
 * two values, the row's "key" block near 1 and the others near 0.  Label: the key's
 * half of the octave (by_key) or the sign of input 0. */
static dataset make_keyed(size_t n, bool by_key, uint64_t seed)
{
    const int dim = 26;
    af_rng rng;
    af_rng_seed(&rng, seed);
    dataset d = {malloc(n * (size_t)dim * sizeof(float)), malloc(n * sizeof(int)), n, dim};
    for (size_t i = 0; i < n; i++) {
        float *x = d.x + i * (size_t)dim;
        int key = (int)af_rng_below(&rng, 12);
        for (int j = 0; j < dim; j++)
            x[j] = (float)(0.1 * af_rng_normal(&rng));
        x[0] += (float)af_rng_normal(&rng);
        x[1 + 2 * key] += 1.0f;
        x[2 + 2 * key] += 1.0f;
        d.y[i] = by_key ? key < 6 : x[0] > 0.0f;
    }
    return d;
}

static double key_task_accuracy(bool by_key, bool key_shift)
{
    dataset d = make_keyed(3000, by_key, 5);
    dataset train = slice(&d, 0, 2000), test = slice(&d, 2000, 3000);
    af_mlp_config cfg;
    af_mlp_config_default(&cfg, d.dim, 2);
    cfg.n_hidden = 1;
    cfg.hidden[0] = 32;
    cfg.batch_size = 32;
    cfg.seed = 3;
    cfg.key_first = 1;
    cfg.key_stride = key_shift ? 2 : 0;
    af_mlp *m = NULL;
    af_err err = {0};
    af_mlp_stats st;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), 0);
    for (int e = 0; e < 10; e++)
        if (af_mlp_train_epoch(m, train.x, train.y, train.n, NULL, &st, &err) != 0)
            fail_msg("train: %s", err.msg);
    assert_int_equal(af_mlp_evaluate(m, test.x, test.y, test.n, NULL, &st, &err), 0);
    af_mlp_free(m);
    free_dataset(&d);
    return st.accuracy;
}

/* Key shift transposes the training rows: what depends on the key alone cannot be
 * learned (chance is 0.5, sd of the held-out accuracy ~0.016), the rest still is. */
static void test_key_shift_hides_the_key_only(void **state)
{
    (void)state;
    assert_true(key_task_accuracy(true, false) >= 0.95);
    double shifted = key_task_accuracy(true, true);
    assert_true(shifted > 0.40 && shifted < 0.60);
    assert_true(key_task_accuracy(false, true) >= 0.95);
}

static void test_forward_gives_probabilities(void **state)
{
    (void)state;
    dataset d = make_blobs(600, 6, 5, 3.0, 4); /* 600 > batch: several chunks */
    const int hidden[] = {8};
    af_mlp *m = make_model(6, 5, hidden, 1, 0.25f, 0.0f, 3);
    float *probs = malloc(d.n * 5 * sizeof *probs);
    af_err err = {0};
    assert_int_equal(af_mlp_forward(m, d.x, d.n, probs, &err), 0);
    for (size_t i = 0; i < d.n; i++) {
        double sum = 0;
        for (int c = 0; c < 5; c++) {
            assert_true(probs[i * 5 + c] >= 0.0f);
            sum += probs[i * 5 + c];
        }
        assert_true(fabs(sum - 1.0) < 1e-5);
    }
    /* Inference is deterministic (no dropout): a second call agrees. */
    float *again = malloc(d.n * 5 * sizeof *again);
    assert_int_equal(af_mlp_forward(m, d.x, d.n, again, &err), 0);
    assert_memory_equal(probs, again, d.n * 5 * sizeof *probs);
    free(again);
    free(probs);
    af_mlp_free(m);
    free_dataset(&d);
}

/* ---- determinism and serialisation ---- */

static uint8_t *trained_bytes(uint64_t seed, size_t *len)
{
    dataset d = make_blobs(700, 8, 5, 2.0, 31);
    const int hidden[] = {16, 8};
    af_mlp *m = make_model(8, 5, hidden, 2, 0.25f, 1e-4f, seed);
    af_err err = {0};
    const float cw[5] = {1, 2, 1, 0.5f, 1};
    for (int e = 0; e < 3; e++)
        assert_int_equal(af_mlp_train_epoch(m, d.x, d.y, d.n, cw, NULL, &err), 0);
    uint8_t *buf;
    assert_int_equal(af_mlp_serialise(m, NULL, &buf, len, &err), 0);
    af_mlp_free(m);
    free_dataset(&d);
    return buf;
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    size_t la, lb, lc;
    uint8_t *a = trained_bytes(2024, &la), *b = trained_bytes(2024, &lb);
    uint8_t *c = trained_bytes(2025, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(la, lc);
    assert_memory_not_equal(a, c, la);
    free(a);
    free(b);
    free(c);
}

static void test_round_trip(void **state)
{
    (void)state;
    dataset d = make_blobs(300, 6, 5, 3.0, 8);
    af_scaler sc = {0};
    af_err err = {0};
    assert_int_equal(af_scaler_fit(&sc, d.x, d.n, d.dim, &err), 0);
    af_scaler_apply(&sc, d.x, d.n);
    const int hidden[] = {12, 7};
    af_mlp *m = make_model(6, 5, hidden, 2, 0.25f, 0.0f, 9);
    assert_int_equal(af_mlp_train_epoch(m, d.x, d.y, d.n, NULL, NULL, &err), 0);

    uint8_t *buf;
    size_t len;
    assert_int_equal(af_mlp_serialise(m, &sc, &buf, &len, &err), 0);
    af_mlp *back = NULL;
    af_scaler sc2 = {0};
    if (af_mlp_deserialise(buf, len, &back, &sc2, &err) != 0)
        fail_msg("deserialise: %s", err.msg);
    assert_int_equal(af_mlp_n_inputs(back), 6);
    assert_int_equal(af_mlp_n_classes(back), 5);
    assert_int_equal(af_mlp_config_of(back)->n_hidden, 2);
    assert_int_equal(af_mlp_config_of(back)->hidden[1], 7);
    assert_int_equal(af_mlp_n_params(back), af_mlp_n_params(m));
    assert_memory_equal(af_mlp_params(back), af_mlp_params(m),
                        af_mlp_n_params(m) * sizeof(float));
    assert_int_equal(sc2.dim, 6);
    assert_memory_equal(sc2.mean, sc.mean, 6 * sizeof(float));
    assert_memory_equal(sc2.std, sc.std, 6 * sizeof(float));

    float p1[5 * 300], p2[5 * 300];
    assert_int_equal(af_mlp_forward(m, d.x, d.n, p1, &err), 0);
    assert_int_equal(af_mlp_forward(back, d.x, d.n, p2, &err), 0);
    assert_memory_equal(p1, p2, sizeof p1);

    /* Re-serialising the loaded model gives the same bytes. */
    uint8_t *buf2;
    size_t len2;
    assert_int_equal(af_mlp_serialise(back, &sc2, &buf2, &len2, &err), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);

    /* Without a scaler, the loaded scaler is empty. */
    free(buf);
    af_mlp_free(back);
    af_scaler_free(&sc2);
    assert_int_equal(af_mlp_serialise(m, NULL, &buf, &len, &err), 0);
    assert_int_equal(af_mlp_deserialise(buf, len, &back, &sc2, &err), 0);
    assert_int_equal(sc2.dim, 0);

    /* A scaler of the wrong width is refused. */
    af_scaler wrong = {0};
    assert_int_equal(af_scaler_fit(&wrong, d.x, d.n / 2, 3, &err), 0);
    uint8_t *none = NULL;
    assert_int_equal(af_mlp_serialise(m, &wrong, &none, &len2, &err), -1);
    assert_null(none);

    af_scaler_free(&wrong);
    free(buf);
    free(buf2);
    af_mlp_free(back);
    af_mlp_free(m);
    af_scaler_free(&sc);
    af_scaler_free(&sc2);
    free_dataset(&d);
}

static uint8_t *small_model_bytes(size_t *len, af_scaler *sc)
{
    const int hidden[] = {4};
    af_mlp *m = make_model(3, 2, hidden, 1, 0.0f, 0.0f, 1);
    af_err err = {0};
    float x[6] = {1, 2, 3, 4, 5, 7};
    assert_int_equal(af_scaler_fit(sc, x, 2, 3, &err), 0);
    uint8_t *buf;
    assert_int_equal(af_mlp_serialise(m, sc, &buf, len, &err), 0);
    af_mlp_free(m);
    return buf;
}

static int load(const uint8_t *buf, size_t len, af_err *err)
{
    af_mlp *m = NULL;
    af_scaler sc = {0};
    int rc = af_mlp_deserialise(buf, len, &m, &sc, err);
    if (rc == 0) {
        af_mlp_free(m);
        af_scaler_free(&sc);
    } else {
        assert_null(m);
        assert_int_equal(sc.dim, 0);
    }
    return rc;
}

static void test_truncated_buffers_rejected(void **state)
{
    (void)state;
    af_scaler sc = {0};
    size_t len;
    uint8_t *buf = small_model_bytes(&len, &sc);
    af_err err = {0};
    assert_int_equal(load(buf, len, &err), 0);
    for (size_t cut = 0; cut < len; cut++) {
        /* a copy of exactly `cut` bytes, so ASan catches any read past it */
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, buf, cut);
        af_err_clear(&err);
        assert_int_equal(load(part, cut, &err), -1);
        assert_non_null(strstr(err.msg, "truncated"));
        free(part);
    }
    uint8_t *longer = calloc(len + 3, 1);
    memcpy(longer, buf, len);
    assert_int_equal(load(longer, len + 3, &err), -1);
    assert_non_null(strstr(err.msg, "header says"));
    assert_int_equal(load(NULL, 0, &err), -1);
    free(longer);
    free(buf);
    af_scaler_free(&sc);
}

static void test_corrupt_buffers_rejected(void **state)
{
    (void)state;
    af_scaler sc = {0};
    size_t len;
    uint8_t *buf = small_model_bytes(&len, &sc);
    af_err err = {0};
    /* Every single-bit flip anywhere is caught (magic, version, length, or CRC). */
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            af_err_clear(&err);
            assert_int_equal(load(buf, len, &err), -1);
            assert_true(strlen(err.msg) > 0);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    assert_int_equal(load(buf, len, &err), 0);

    buf[0] = 'X';
    assert_int_equal(load(buf, len, &err), -1);
    assert_non_null(strstr(err.msg, "magic"));
    buf[0] = 'A';
    buf[8] = 9; /* version */
    assert_int_equal(load(buf, len, &err), -1);
    assert_non_null(strstr(err.msg, "version"));
    buf[8] = 1;
    buf[len - 10] ^= 0x40; /* a weight */
    assert_int_equal(load(buf, len, &err), -1);
    assert_non_null(strstr(err.msg, "checksum"));
    free(buf);
    af_scaler_free(&sc);
}

/* The checks behind the checksum, reached by re-signing a doctored buffer. */
static void reseal(uint8_t *buf, size_t len)
{
    uint32_t crc = af_crc32(buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
}

static void test_resealed_nonsense_rejected(void **state)
{
    (void)state;
    af_scaler sc = {0};
    size_t len;
    uint8_t *buf = small_model_bytes(&len, &sc);
    af_err err = {0};
    /* layout: magic 8, version 4, length 4, L 4 (offset 16), widths 3,4,2 (20..31),
     * scaler dim (32), means (36..47), stds (48..59), params (60..) */
    uint8_t *b = malloc(len);

    memcpy(b, buf, len);
    b[16] = 0; /* zero layers */
    reseal(b, len);
    assert_int_equal(load(b, len, &err), -1);
    assert_non_null(strstr(err.msg, "layers"));

    memcpy(b, buf, len);
    b[24] = 5; /* hidden width 4 -> 5: parameter block no longer fits */
    reseal(b, len);
    assert_int_equal(load(b, len, &err), -1);

    memcpy(b, buf, len);
    b[32] = 2; /* scaler of 2 features for 3 inputs */
    reseal(b, len);
    assert_int_equal(load(b, len, &err), -1);

    memcpy(b, buf, len);
    memset(b + 48, 0, 4); /* std 0 */
    reseal(b, len);
    assert_int_equal(load(b, len, &err), -1);
    assert_non_null(strstr(err.msg, "std"));

    memcpy(b, buf, len);
    memset(b + 60, 0xff, 4); /* a NaN weight */
    reseal(b, len);
    assert_int_equal(load(b, len, &err), -1);
    assert_non_null(strstr(err.msg, "finite"));

    free(b);
    free(buf);
    af_scaler_free(&sc);
}

/* ---- validation and early stopping ---- */

static void test_bad_config_and_inputs_rejected(void **state)
{
    (void)state;
    af_mlp_config cfg;
    af_mlp *m = NULL;
    af_err err = {0};
    af_mlp_config_default(&cfg, 4, 1);
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);
    assert_null(m);
    af_mlp_config_default(&cfg, 4, 3);
    cfg.dropout = 1.0f;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);
    af_mlp_config_default(&cfg, 4, 3);
    cfg.hidden[1] = 0;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);
    af_mlp_config_default(&cfg, 4, 3);
    cfg.learning_rate = NAN;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);

    af_mlp_config_default(&cfg, 24, 3);
    cfg.key_stride = -1;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);
    cfg.key_stride = 2;
    cfg.key_first = 1; /* 12 blocks of 2 from input 1 need 25 inputs */
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "key shift"));
    cfg.key_first = 0;
    cfg.key_stride = 2147483647; /* 12 x stride must not overflow into "fits" */
    assert_int_equal(af_mlp_create(&m, &cfg, &err), -1);
    cfg.key_stride = 2;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), 0);
    af_mlp_free(m);

    af_mlp_config_default(&cfg, 2, 3);
    cfg.hidden[0] = 3;
    cfg.n_hidden = 1;
    assert_int_equal(af_mlp_create(&m, &cfg, &err), 0);
    float x[4] = {0, 1, 2, 3};
    int bad_y[2] = {0, 3};
    assert_int_equal(af_mlp_train_epoch(m, x, bad_y, 2, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "label"));
    int y[2] = {0, 2};
    float zero_w[3] = {0, 0, 0};
    assert_int_equal(af_mlp_train_epoch(m, x, y, 2, zero_w, NULL, &err), -1);
    float neg_w[3] = {1, -1, 1};
    assert_int_equal(af_mlp_evaluate(m, x, y, 2, neg_w, NULL, &err), -1);
    assert_int_equal(af_mlp_evaluate(m, x, y, 0, NULL, NULL, &err), -1);
    /* Only zero-weight classes in the data: no step, loss reported as 0. */
    float w01[3] = {0, 1, 0};
    af_mlp_stats st;
    assert_int_equal(af_mlp_train_epoch(m, x, y, 2, w01, &st, &err), 0);
    assert_true(st.loss == 0.0);
    af_mlp_free(m);
}

static void test_early_stopping_keeps_best(void **state)
{
    (void)state;
    const int hidden[] = {3};
    af_mlp *m = make_model(2, 2, hidden, 1, 0.0f, 0.0f, 1);
    af_mlp_early_stop es;
    af_err err = {0};
    bool stop = false;
    assert_int_equal(af_mlp_early_stop_init(&es, m, 2, &err), 0);
    assert_int_equal(af_mlp_early_stop_restore(&es, m, &err), -1); /* nothing recorded yet */
    float *p = af_mlp_params(m);
    const double losses[] = {1.0, 0.8, 0.9, NAN, 0.7};
    const bool expect_stop[] = {false, false, false, true, false};
    for (int e = 0; e < 4; e++) {
        p[0] = (float)e; /* marks the weights of epoch e */
        assert_int_equal(af_mlp_early_stop_update(&es, m, e, losses[e], &stop, &err), 0);
        assert_int_equal(stop, expect_stop[e]);
    }
    assert_int_equal(es.best_epoch, 1);
    assert_int_equal(af_mlp_early_stop_restore(&es, m, &err), 0);
    assert_true(p[0] == 1.0f);
    /* an improvement resets the count */
    assert_int_equal(af_mlp_early_stop_update(&es, m, 4, losses[4], &stop, &err), 0);
    assert_false(stop);
    assert_int_equal(es.best_epoch, 4);
    af_mlp_early_stop_free(&es);
    assert_int_equal(af_mlp_early_stop_init(&es, m, 0, &err), -1);
    af_mlp_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_dropout_gradients_are_consistent),
        cmocka_unit_test(test_adam_kernel_matches_formula),
        cmocka_unit_test(test_learns_separable_blobs),
        cmocka_unit_test(test_shuffled_labels_stay_at_chance),
        cmocka_unit_test(test_key_shift_hides_the_key_only),
        cmocka_unit_test(test_forward_gives_probabilities),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_buffers_rejected),
        cmocka_unit_test(test_corrupt_buffers_rejected),
        cmocka_unit_test(test_resealed_nonsense_rejected),
        cmocka_unit_test(test_bad_config_and_inputs_rejected),
        cmocka_unit_test(test_early_stopping_keeps_best),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
