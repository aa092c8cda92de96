/*
 * test_regroup.c — train/dataset.c's af_grouped_regroup / af_grouped_restore,
 * which let af-train's cross-validation train its inner-fold members on the
 * fold's standardised rows in place instead of on another copy of the dataset
 * (issue 19: 2 M windows within 8 GB).  The inner grouping must hold exactly
 * the rows, values and order of a fresh af_dataset_group copy, a member
 * trained on it (identity scaler) must be bit for bit the member trained the
 * old way (copy standardised by af_train_run), and restore must give back the
 * outer rows exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../train/dataset.h"
#include "../../train/ensemble.h"
#include "../../train/scaler.h"
#include "../../train/trainer.h"
#include "rng.h"

enum { DIM = 6, TRACKS = 60, FOLDS = 4, CLASSES = 3 };

/* TRACKS tracks of 2-5 windows (ids descending, so dataset order is not id
 * order), class t % 3, fold t % 4; values shifted by the class. */
static void make_dataset(af_dataset *ds)
{
    af_err err = {0};
    af_rng rng;
    af_rng_seed(&rng, 7);
    assert_int_equal(af_dataset_init(ds, DIM, 0, &err), 0);
    const char *names[CLASSES] = {"c", "a", "b"};
    int cls[CLASSES];
    for (int c = 0; c < CLASSES; c++)
        cls[c] = af_dataset_class(ds, names[c], &err);
    for (int t = 0; t < TRACKS; t++) {
        size_t index;
        assert_int_equal(af_dataset_add_track(ds, 1000 - t, cls[t % CLASSES], 0, t % FOLDS,
                                              &index, &err), 0);
        int windows = 2 + (int)af_rng_below(&rng, 4);
        for (int w = 0; w < windows; w++) {
            float row[DIM];
            for (int j = 0; j < DIM; j++)
                row[j] = (float)(af_rng_normal(&rng) + (j == t % CLASSES ? 2.0 : 0.0));
            assert_int_equal(af_dataset_add_window(ds, index, row, w, NULL, &err), 0);
        }
    }
    assert_int_equal(af_dataset_finish(ds, &err), 0);
}

/* The outer grouping of test fold `fold` as af-train's cross-validation makes
 * it: a copy, test fold in bucket 2, standardised with the scaler fitted on
 * the other rows. */
static void outer_group(af_dataset *ds, int fold, af_grouped *g, af_scaler *sc)
{
    af_err err = {0};
    int bucket[TRACKS];
    for (size_t t = 0; t < ds->n_tracks; t++)
        bucket[t] = ds->track_fold[t] == fold ? 2 : 0;
    assert_int_equal(af_dataset_group(ds, bucket, false, g, &err), 0);
    assert_int_equal(af_scaler_fit(sc, g->x, g->n[0], DIM, &err), 0);
    af_scaler_apply(sc, g->x, g->n[0] + g->n[2]);
}

static void inner_buckets(const af_dataset *ds, int fold, int v, int *bucket)
{
    for (size_t t = 0; t < ds->n_tracks; t++)
        bucket[t] = ds->track_fold[t] == fold ? AF_DATASET_UNUSED : ds->track_fold[t] == v ? 1 : 0;
}

static void test_regroup_equals_a_fresh_copy_and_restores(void **state)
{
    (void)state;
    af_dataset ds;
    make_dataset(&ds);
    af_err err = {0};
    for (int fold = 0; fold < FOLDS; fold++) {
        af_grouped outer;
        af_scaler sc = {0};
        outer_group(&ds, fold, &outer, &sc);
        size_t n = outer.n[0] + outer.n[2];
        float *x0 = malloc(n * DIM * sizeof *x0);
        size_t *t0 = malloc(n * sizeof *t0);
        int *y0 = malloc(n * sizeof *y0);
        memcpy(x0, outer.x, n * DIM * sizeof *x0);
        memcpy(t0, outer.track, n * sizeof *t0);
        memcpy(y0, outer.y, n * sizeof *y0);
        for (int v = 0; v < FOLDS; v++) {
            if (v == fold)
                continue;
            int bucket[TRACKS];
            inner_buckets(&ds, fold, v, bucket);
            af_grouped fresh, in;
            size_t *undo;
            assert_int_equal(af_dataset_group(&ds, bucket, false, &fresh, &err), 0);
            af_scaler_apply(&sc, fresh.x, fresh.n[0] + fresh.n[1] + fresh.n[2]);
            assert_int_equal(af_grouped_regroup(&outer, DIM, bucket, &in, &undo, &err), 0);
            size_t used = fresh.n[0] + fresh.n[1];
            assert_int_equal(fresh.n[2], 0);
            for (int b = 0; b < 3; b++) {
                assert_int_equal(in.n[b], fresh.n[b]);
                assert_int_equal(in.start[b], fresh.start[b]);
            }
            assert_memory_equal(in.x, fresh.x, used * DIM * sizeof *in.x);
            assert_memory_equal(in.track, fresh.track, used * sizeof *in.track);
            assert_memory_equal(in.y, fresh.y, used * sizeof *in.y);
            af_grouped_restore(&outer, DIM, &in, undo);
            assert_null(in.x);
            assert_memory_equal(outer.x, x0, n * DIM * sizeof *x0);
            assert_memory_equal(outer.track, t0, n * sizeof *t0);
            assert_memory_equal(outer.y, y0, n * sizeof *y0);
            af_grouped_free(&fresh);
        }
        free(x0);
        free(t0);
        free(y0);
        af_scaler_free(&sc);
        af_grouped_free(&outer);
    }
    af_dataset_free(&ds);
}

static void serialise(const af_train_result *r, uint8_t **buf, size_t *len)
{
    af_err err = {0};
    assert_int_equal(af_ensemble_serialise(&r->model, buf, len, &err), 0);
}

/* A member trained on the regrouped rows with an identity scaler, then given
 * the fold's scaler, is the member trained on a copy standardised by
 * af_train_run with that scaler: same bytes. */
static void test_member_identical_to_the_copy_way(void **state)
{
    (void)state;
    af_dataset ds;
    make_dataset(&ds);
    af_err err = {0};
    int fold = 1, v = 2;
    af_grouped outer;
    af_scaler sc = {0};
    outer_group(&ds, fold, &outer, &sc);
    int bucket[TRACKS];
    inner_buckets(&ds, fold, v, bucket);

    af_train_options opt = {0};
    af_mlp_config_default(&opt.cfg, DIM, CLASSES);
    opt.cfg.hidden[0] = 8;
    opt.cfg.n_hidden = 1;
    opt.max_epochs = 5;
    opt.patience = 5;
    opt.members = 1;
    opt.class_weights = true;

    af_grouped copy;
    af_train_result old_way, new_way;
    assert_int_equal(af_dataset_group(&ds, bucket, false, &copy, &err), 0);
    opt.scaler = &sc;
    assert_int_equal(af_train_run(&copy, DIM, CLASSES, &opt, &old_way, &err), 0);
    af_grouped_free(&copy);

    af_scaler identity = {.dim = DIM, .mean = calloc(DIM, sizeof(float)),
                          .std = malloc(DIM * sizeof(float))};
    for (int j = 0; j < DIM; j++)
        identity.std[j] = 1.0f;
    af_grouped in;
    size_t *undo;
    assert_int_equal(af_grouped_regroup(&outer, DIM, bucket, &in, &undo, &err), 0);
    opt.scaler = &identity;
    assert_int_equal(af_train_run(&in, DIM, CLASSES, &opt, &new_way, &err), 0);
    memcpy(new_way.model.scaler.mean, sc.mean, DIM * sizeof(float));
    memcpy(new_way.model.scaler.std, sc.std, DIM * sizeof(float));
    af_grouped_restore(&outer, DIM, &in, undo);

    uint8_t *a, *b;
    size_t la, lb;
    serialise(&old_way, &a, &la);
    serialise(&new_way, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(old_way.best_epoch, new_way.best_epoch);
    assert_true(old_way.best_val_loss == new_way.best_val_loss);
    free(a);
    free(b);
    af_train_result_free(&old_way);
    af_train_result_free(&new_way);
    af_scaler_free(&identity);
    af_scaler_free(&sc);
    af_grouped_free(&outer);
    af_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regroup_equals_a_fresh_copy_and_restores),
        cmocka_unit_test(test_member_identical_to_the_copy_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
