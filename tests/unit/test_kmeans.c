/*
 * test_kmeans.c — train/kmeans.c: separated blobs are recovered exactly whatever the
 * cluster numbering, the silhouette is highest at the true k and matches a hand
 * computation, the same seed gives the same clustering, k > n and k = n, an empty
 * cluster is refilled, and column standardisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/kmeans.h"
#include "rng.h"

/* n points around `blobs` centres 10 apart on the diagonal, noise N(0, 0.5). */
static float *blobs(size_t n, int dim, int blobs_n, int *truth, uint64_t seed)
{
    af_rng rng;
    af_rng_seed(&rng, seed);
    float *x = malloc(n * (size_t)dim * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        truth[i] = (int)(i % (size_t)blobs_n);
        for (int j = 0; j < dim; j++)
            x[i * (size_t)dim + (size_t)j] =
                (float)(10.0 * truth[i] * (j % 2 ? 1 : -1) + 0.5 * af_rng_normal(&rng));
    }
    return x;
}

/* Same partition up to renumbering. */
static int same_partition(const int *a, const int *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if ((a[i] == a[j]) != (b[i] == b[j]))
                return 0;
    return 1;
}

static void test_recovers_blobs(void **state)
{
    (void)state;
    int truth[120];
    float *x = blobs(120, 4, 3, truth, 7);
    af_kmeans_result r;
    af_err err = {0};
    assert_int_equal(af_kmeans(x, 120, 4, 3, 4, 100, 1, &r, &err), 0);
    assert_true(same_partition(r.assign, truth, 120));
    assert_true(r.iterations >= 1);
    double inertia = 0;
    for (size_t i = 0; i < 120; i++)
        inertia += (double)r.distance[i] * r.distance[i];
    assert_float_equal(inertia, r.inertia, 1e-3 * r.inertia);
    af_kmeans_result_free(&r);
    free(x);
}

static void test_silhouette_peaks_at_true_k(void **state)
{
    (void)state;
    int truth[150];
    float *x = blobs(150, 3, 4, truth, 9);
    double best = -2;
    int best_k = 0;
    for (int k = 2; k <= 7; k++) {
        af_kmeans_result r;
        af_err err = {0};
        assert_int_equal(af_kmeans(x, 150, 3, k, 3, 100, 5, &r, &err), 0);
        double s = af_silhouette(x, 150, 3, r.assign, k, 0);
        if (s > best)
            best = s, best_k = k;
        af_kmeans_result_free(&r);
    }
    assert_int_equal(best_k, 4);
    assert_true(best > 0.8);
    /* Sampling rows gives nearly the same value. */
    af_kmeans_result r;
    af_err err = {0};
    assert_int_equal(af_kmeans(x, 150, 3, 4, 3, 100, 5, &r, &err), 0);
    assert_float_equal(af_silhouette(x, 150, 3, r.assign, 4, 50), best, 0.05);
    af_kmeans_result_free(&r);
    free(x);
}

static void test_silhouette_by_hand(void **state)
{
    (void)state;
    /* 1-D: {0, 1} and {5}: s(0) = 1 - 1/5, s(1) = 1 - 1/4, s(5) = 0 (singleton). */
    float x[3] = {0, 1, 5};
    int a[3] = {0, 0, 1};
    double want = ((1 - 1.0 / 5) + (1 - 1.0 / 4) + 0) / 3;
    assert_float_equal(af_silhouette(x, 3, 1, a, 2, 0), want, 1e-12);
    assert_float_equal(af_silhouette(x, 3, 1, a, 1, 0), 0, 0);
}

static void test_deterministic_and_limits(void **state)
{
    (void)state;
    int truth[60];
    float *x = blobs(60, 2, 5, truth, 3);
    af_kmeans_result a, b;
    af_err err = {0};
    assert_int_equal(af_kmeans(x, 60, 2, 4, 2, 50, 99, &a, &err), 0);
    assert_int_equal(af_kmeans(x, 60, 2, 4, 2, 50, 99, &b, &err), 0);
    assert_memory_equal(a.assign, b.assign, 60 * sizeof(int));
    assert_memory_equal(a.centres, b.centres, 8 * sizeof(float));
    af_kmeans_result_free(&a);
    af_kmeans_result_free(&b);
    assert_int_equal(af_kmeans(x, 3, 2, 4, 1, 10, 1, &a, &err), -1);
    assert_non_null(strstr(err.msg, "k = 4 needs 1..3"));
    /* k = n: every point its own cluster, inertia 0. */
    assert_int_equal(af_kmeans(x, 5, 2, 5, 1, 10, 1, &a, &err), 0);
    assert_float_equal(a.inertia, 0, 1e-9);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_int_not_equal(a.assign[i], a.assign[j]);
    af_kmeans_result_free(&a);
    free(x);
}

static void test_duplicate_points_keep_k_clusters(void **state)
{
    (void)state;
    /* Six points on two spots, k = 3: a cluster may empty out and is refilled. */
    float x[12] = {0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4};
    af_kmeans_result r;
    af_err err = {0};
    assert_int_equal(af_kmeans(x, 6, 2, 3, 1, 20, 2, &r, &err), 0);
    for (int i = 0; i < 6; i++)
        assert_true(r.assign[i] >= 0 && r.assign[i] < 3);
    assert_float_equal(r.inertia, 0, 1e-9);
    af_kmeans_result_free(&r);
}

static void test_standardise(void **state)
{
    (void)state;
    float x[6] = {1, 7, 3, 7, 5, 7};
    af_standardise_columns(x, 3, 2);
    double s = sqrt(8.0 / 3);
    assert_float_equal(x[0], -2 / s, 1e-6);
    assert_float_equal(x[2], 0, 1e-6);
    assert_float_equal(x[4], 2 / s, 1e-6);
    assert_float_equal(x[1], 0, 0); /* a constant column becomes 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_blobs),
        cmocka_unit_test(test_silhouette_peaks_at_true_k),
        cmocka_unit_test(test_silhouette_by_hand),
        cmocka_unit_test(test_deterministic_and_limits),
        cmocka_unit_test(test_duplicate_points_keep_k_clusters),
        cmocka_unit_test(test_standardise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
