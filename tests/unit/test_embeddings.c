/*
 * test_embeddings.c — af_mlp_embed (train/mlp.c) and the embedding helpers of
 * train/embeddings.c: the last hidden layer equals relu(...relu(x W0 + b0)...)
 * computed by hand, across batch boundaries; no hidden layer gives the inputs;
 * af_embed_windows standardises and averages; the cube literal round-trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/embeddings.h"
#include "../../train/mlp.h"

/* The last hidden layer by hand, from the parameter layout (W_l row-major in x out, b_l). */
static void by_hand(af_mlp *m, const af_mlp_config *c, const float *x, float *out)
{
    const float *p = af_mlp_params(m);
    float a[64], b[64];
    int width = c->n_inputs;
    memcpy(a, x, (size_t)width * sizeof(float));
    for (int l = 0; l < c->n_hidden; l++) {
        int w_out = c->hidden[l];
        const float *W = p, *bias = p + (size_t)width * (size_t)w_out;
        for (int j = 0; j < w_out; j++) {
            double s = bias[j];
            for (int i = 0; i < width; i++)
                s += (double)a[i] * W[(size_t)i * (size_t)w_out + (size_t)j];
            b[j] = s > 0 ? (float)s : 0.0f;
        }
        p = bias + w_out;
        width = w_out;
        memcpy(a, b, (size_t)width * sizeof(float));
    }
    memcpy(out, a, (size_t)width * sizeof(float));
}

static void test_embed_equals_hand_computation(void **state)
{
    (void)state;
    af_mlp_config c;
    af_mlp_config_default(&c, 5, 3);
    c.n_hidden = 2;
    c.hidden[0] = 7;
    c.hidden[1] = 4;
    c.batch_size = 3; /* 8 rows cross two batch boundaries */
    c.seed = 11;
    af_mlp *m = NULL;
    af_err err = {0};
    assert_int_equal(af_mlp_create(&m, &c, &err), 0);
    /* Non-zero biases, so that they are checked too. */
    float *p = af_mlp_params(m);
    for (size_t i = 0; i < af_mlp_n_params(m); i++)
        p[i] += 0.01f * (float)(i % 7);
    assert_int_equal(af_mlp_embedding_dim(m), 4);
    float x[8 * 5], emb[8 * 4], want[4];
    for (int i = 0; i < 8 * 5; i++)
        x[i] = sinf((float)i * 0.7f) * 2.0f;
    assert_int_equal(af_mlp_embed(m, x, 8, emb, &err), 0);
    int positive = 0;
    for (int r = 0; r < 8; r++) {
        by_hand(m, &c, x + r * 5, want);
        for (int j = 0; j < 4; j++) {
            assert_float_equal(emb[r * 4 + j], want[j], 1e-4);
            positive += emb[r * 4 + j] > 0;
        }
    }
    assert_true(positive > 0);
    af_mlp_free(m);
}

static void test_no_hidden_layer_gives_inputs(void **state)
{
    (void)state;
    af_mlp_config c;
    af_mlp_config_default(&c, 3, 2);
    c.n_hidden = 0;
    af_mlp *m = NULL;
    af_err err = {0};
    assert_int_equal(af_mlp_create(&m, &c, &err), 0);
    assert_int_equal(af_mlp_embedding_dim(m), 3);
    float x[6] = {1, -2, 3, 4, 5, -6}, emb[6];
    assert_int_equal(af_mlp_embed(m, x, 2, emb, &err), 0);
    assert_memory_equal(x, emb, sizeof x);
    af_mlp_free(m);
}

static void test_embed_windows_standardises_and_averages(void **state)
{
    (void)state;
    af_mlp_config c;
    af_mlp_config_default(&c, 2, 2);
    c.n_hidden = 0; /* the embedding is the standardised input: easy to predict */
    af_mlp *m = NULL;
    af_err err = {0};
    assert_int_equal(af_mlp_create(&m, &c, &err), 0);
    float mean[2] = {1, 10}, sd[2] = {2, 5};
    af_scaler sc = {.dim = 2, .mean = mean, .std = sd};
    float x[4] = {3, 20, 5, 10}, out[2];
    assert_int_equal(af_embed_windows(m, &sc, x, 2, out, &err), 0);
    assert_float_equal(out[0], (1.0f + 2.0f) / 2, 1e-6); /* (3-1)/2, (5-1)/2 */
    assert_float_equal(out[1], (2.0f + 0.0f) / 2, 1e-6); /* (20-10)/5, (10-10)/5 */
    assert_float_equal(x[0], 3, 0);                       /* the input is untouched */
    assert_int_equal(af_embed_windows(m, &sc, x, 0, out, &err), -1);
    af_mlp_free(m);
}

/* An ensemble's embedding is its first network's on the ensemble's scaler (embeddings.h),
 * not the second's nor an average. */
static void test_ensemble_embedding_is_member_0(void **state)
{
    (void)state;
    af_mlp_config c;
    af_mlp_config_default(&c, 3, 2);
    c.n_hidden = 1;
    c.hidden[0] = 4;
    af_ensemble e = {.n = 2};
    af_err err = {0};
    for (int i = 0; i < 2; i++) {
        c.seed = 7 + (uint64_t)i;
        assert_int_equal(af_mlp_create(&e.members[i], &c, &err), 0);
    }
    float x[6] = {1, 2, 3, -2, 0.5f, 4};
    assert_int_equal(af_scaler_fit(&e.scaler, x, 2, 3, &err), 0);
    assert_int_equal(af_ensemble_embedding_dim(&e), 4);
    float got[4], first[4], second[4];
    assert_int_equal(af_embed_ensemble_windows(&e, x, 2, got, &err), 0);
    assert_int_equal(af_embed_windows(e.members[0], &e.scaler, x, 2, first, &err), 0);
    assert_int_equal(af_embed_windows(e.members[1], &e.scaler, x, 2, second, &err), 0);
    assert_memory_equal(got, first, sizeof got);
    assert_memory_not_equal(got, second, sizeof got);
    af_ensemble_free(&e);
}

static void test_cube_literal(void **state)
{
    (void)state;
    float v[3] = {0.5f, -1.25f, 1e-7f};
    char *s = af_cube_literal(v, 3);
    assert_non_null(s);
    assert_string_equal(s, "(0.5, -1.25, 1.00000001e-07)");
    float back[3];
    assert_int_equal(sscanf(s, "(%f, %f, %f)", &back[0], &back[1], &back[2]), 3);
    assert_memory_equal(v, back, sizeof v);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_equals_hand_computation),
        cmocka_unit_test(test_no_hidden_layer_gives_inputs),
        cmocka_unit_test(test_embed_windows_standardises_and_averages),
        cmocka_unit_test(test_ensemble_embedding_is_member_0),
        cmocka_unit_test(test_cube_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
