/*
 * test_baselines.c — train/baselines.c: the logistic regression and the RBF
 * SVM learn separable data (held-out rows right), stay at chance when the
 * labels are shuffled (no leak from the test rows), produce score rows that
 * sum to 1, and the ensemble buffer (train/ensemble.c) round-trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/baselines.h"
#include "../../train/ensemble.h"
#include "rng.h"

enum { DIM = 8, K = 3, N_TRAIN = 300, N_TEST = 300 };

/* Class c: a Gaussian blob centred at 3 on feature c (separable), or pure
 * noise in every feature when `signal` is false. */
static void make_data(float *x, int *y, size_t n, bool signal, uint64_t seed)
{
    af_rng rng;
    af_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % K);
        for (int j = 0; j < DIM; j++)
            x[i * DIM + (size_t)j] =
                (float)af_rng_normal(&rng) * 0.7f + (signal && j == y[i] ? 3.0f : 0.0f);
    }
}

static double accuracy(const float *scores, const int *y, size_t n)
{
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < K; c++)
            if (scores[i * K + (size_t)c] > scores[i * K + (size_t)best])
                best = c;
        right += best == y[i];
    }
    return (double)right / (double)n;
}

static void check_rows_sum_to_one(const float *scores, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = 0;
        for (int c = 0; c < K; c++) {
            assert_true(scores[i * K + (size_t)c] >= 0.0f);
            s += scores[i * K + (size_t)c];
        }
        assert_float_equal(s, 1.0f, 1e-4f);
    }
}

/* Fits both baselines on the training rows; accuracies on the test rows. */
static void fit_both(const float *xtr, const int *ytr, const float *xte, const int *yte,
                     double *acc_lr, double *acc_svm)
{
    af_err err = {0};
    float *scores = malloc(N_TEST * K * sizeof *scores);
    af_logreg lr;
    af_logreg_options lo;
    af_logreg_options_default(&lo);
    assert_int_equal(af_logreg_fit(&lr, xtr, ytr, N_TRAIN, DIM, K, &lo, &err), 0);
    assert_int_equal(af_logreg_predict(&lr, xte, N_TEST, scores, &err), 0);
    check_rows_sum_to_one(scores, N_TEST);
    *acc_lr = accuracy(scores, yte, N_TEST);
    af_logreg_free(&lr);

    af_svm *svm = NULL;
    af_svm_options so;
    af_svm_options_default(&so);
    assert_int_equal(af_svm_fit(&svm, xtr, ytr, N_TRAIN, DIM, K, &so, &err), 0);
    assert_int_equal(af_svm_predict(svm, xte, N_TEST, scores, &err), 0);
    check_rows_sum_to_one(scores, N_TEST);
    *acc_svm = accuracy(scores, yte, N_TEST);
    af_svm_free(svm);
    free(scores);
}

static void test_learn_separable_data(void **state)
{
    (void)state;
    float xtr[N_TRAIN * DIM], xte[N_TEST * DIM];
    int ytr[N_TRAIN], yte[N_TEST];
    make_data(xtr, ytr, N_TRAIN, true, 1);
    make_data(xte, yte, N_TEST, true, 2);
    double lr, svm;
    fit_both(xtr, ytr, xte, yte, &lr, &svm);
    assert_true(lr > 0.97);
    assert_true(svm > 0.97);
}

static void test_chance_on_shuffled_labels(void **state)
{
    (void)state;
    /* Real structure in x, labels shuffled: nothing generalises. */
    float xtr[N_TRAIN * DIM], xte[N_TEST * DIM];
    int ytr[N_TRAIN], yte[N_TEST];
    make_data(xtr, ytr, N_TRAIN, true, 3);
    make_data(xte, yte, N_TEST, true, 4);
    af_rng rng;
    af_rng_seed(&rng, 5);
    for (size_t i = N_TRAIN - 1; i > 0; i--) {
        size_t j = (size_t)af_rng_below(&rng, i + 1);
        int t = ytr[i];
        ytr[i] = ytr[j];
        ytr[j] = t;
    }
    double lr, svm;
    fit_both(xtr, ytr, xte, yte, &lr, &svm);
    /* chance is 1/3; 300 test rows: 3 standard deviations is about 0.08 */
    assert_true(fabs(lr - 1.0 / 3) < 0.09);
    assert_true(fabs(svm - 1.0 / 3) < 0.09);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    af_err err = {0};
    float x[4] = {0};
    int y[2] = {0, 1};
    af_logreg lr;
    af_logreg_options lo = {.c = 0, .iterations = 10};
    assert_int_not_equal(af_logreg_fit(&lr, x, y, 2, 2, 2, &lo, &err), 0);
    af_svm *svm = NULL;
    af_svm_options so = {.c = -1};
    assert_int_not_equal(af_svm_fit(&svm, x, y, 2, 2, 2, &so, &err), 0);
    assert_null(svm);
    assert_string_equal(af_classifier_name(AF_CLF_SVM), "svm");
}

static void test_ensemble_round_trip(void **state)
{
    (void)state;
    af_err err = {0};
    af_ensemble e = {0};
    af_mlp_config cfg;
    af_mlp_config_default(&cfg, DIM, K);
    cfg.n_hidden = 1;
    cfg.hidden[0] = 5;
    for (int i = 0; i < 3; i++) {
        cfg.seed = (uint64_t)i;
        assert_int_equal(af_mlp_create(&e.members[i], &cfg, &err), 0);
        e.n = i + 1;
    }
    float x[2 * DIM];
    for (int i = 0; i < 2 * DIM; i++)
        x[i] = (float)i / 7.0f;
    assert_int_equal(af_scaler_fit(&e.scaler, x, 2, DIM, &err), 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(af_ensemble_serialise(&e, &buf, &len, &err), 0);
    af_ensemble back;
    assert_int_equal(af_ensemble_deserialise(buf, len, &back, &err), 0);
    assert_int_equal(back.n, 3);
    assert_int_equal(back.scaler.dim, DIM);
    float p1[2 * K], p2[2 * K];
    assert_int_equal(af_ensemble_forward(&e, x, 2, p1, &err), 0);
    assert_int_equal(af_ensemble_forward(&back, x, 2, p2, &err), 0);
    assert_memory_equal(p1, p2, sizeof p1);
    /* a flipped byte is caught */
    buf[len / 2] ^= 0x40;
    af_ensemble bad;
    assert_int_not_equal(af_ensemble_deserialise(buf, len, &bad, &err), 0);
    free(buf);
    /* one member: the plain network format, still readable */
    af_ensemble one = {.n = 1, .members = {e.members[0]}, .scaler = e.scaler};
    assert_int_equal(af_ensemble_serialise(&one, &buf, &len, &err), 0);
    assert_memory_equal(buf, "AFMLP", 5);
    af_ensemble back1;
    assert_int_equal(af_ensemble_deserialise(buf, len, &back1, &err), 0);
    assert_int_equal(back1.n, 1);
    free(buf);
    af_ensemble_free(&back1);
    af_ensemble_free(&back);
    af_ensemble_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_separable_data),
        cmocka_unit_test(test_chance_on_shuffled_labels),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_ensemble_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
