/*
 * kmeans.h — k-means clustering for af-cluster: k-means++ seeding and Lloyd
 * iterations (best of several restarts by inertia), and the silhouette score used
 * to choose k.  Pure computation on a row-major float matrix; deterministic for a
 * seed (lib/rng.h).
 */
#ifndef AF_TRAIN_KMEANS_H
#define AF_TRAIN_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct af_kmeans_result {
    int k, dim;
    float *centres;   /* k x dim */
    int *assign;      /* n: cluster of each row */
    float *distance;  /* n: Euclidean distance to its centre */
    double inertia;   /* sum of squared distances */
    int iterations;   /* of the kept restart */
} af_kmeans_result;

/* Clusters n rows of x (n x dim) into k >= 1 groups (k <= n); restarts >= 1 runs
 * from different seeds, keeping the lowest inertia; stops a run after max_iter or
 * when no row changes cluster. */
int af_kmeans(const float *x, size_t n, int dim, int k, int restarts, int max_iter,
              uint64_t seed, af_kmeans_result *out, af_err *err);
void af_kmeans_result_free(af_kmeans_result *r);

/* Mean silhouette of the clustering (in [-1, 1]; 0 for k < 2) over at most
 * max_rows rows drawn evenly from the n (0 = all): exact pairwise distances,
 * O(min(n, max_rows) * n * dim). */
double af_silhouette(const float *x, size_t n, int dim, const int *assign, int k,
                     size_t max_rows);

/* Columns standardised in place (z-scores, population std; a constant column
 * becomes 0). */
void af_standardise_columns(float *x, size_t n, int dim);

#endif
