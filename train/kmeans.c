/* kmeans.c — k-means++ / Lloyd and the silhouette; see kmeans.h. */
#include "kmeans.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static double dist2(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int j = 0; j < dim; j++) {
        double d = (double)a[j] - (double)b[j];
        s += d * d;
    }
    return s;
}

/* k-means++: the first centre uniform, each next one drawn with probability
 * proportional to the squared distance to the nearest centre so far. */
static void seed_centres(const float *x, size_t n, int dim, int k, af_rng *rng, float *c,
                         double *d2)
{
    size_t first = (size_t)af_rng_below(rng, n);
    memcpy(c, x + first * (size_t)dim, (size_t)dim * sizeof *c);
    for (size_t i = 0; i < n; i++)
        d2[i] = dist2(x + i * (size_t)dim, c, dim);
    for (int m = 1; m < k; m++) {
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += d2[i];
        size_t pick = n - 1;
        if (total > 0) {
            double r = af_rng_uniform(rng) * total;
            for (size_t i = 0; i < n; i++) {
                r -= d2[i];
                if (r < 0) {
                    pick = i;
                    break;
                }
            }
        } else {
            pick = (size_t)af_rng_below(rng, n); /* all points coincide with centres */
        }
        float *cm = c + (size_t)m * (size_t)dim;
        memcpy(cm, x + pick * (size_t)dim, (size_t)dim * sizeof *cm);
        for (size_t i = 0; i < n; i++) {
            double d = dist2(x + i * (size_t)dim, cm, dim);
            if (d < d2[i])
                d2[i] = d;
        }
    }
}

/* Assigns every row to its nearest centre; returns how many changed. */
static size_t assign_rows(const float *x, size_t n, int dim, int k, const float *c, int *a,
                          double *d2)
{
    size_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        double bd = DBL_MAX;
        for (int m = 0; m < k; m++) {
            double d = dist2(x + i * (size_t)dim, c + (size_t)m * (size_t)dim, dim);
            if (d < bd)
                bd = d, best = m;
        }
        changed += a[i] != best;
        a[i] = best;
        d2[i] = bd;
    }
    return changed;
}

/* Centres = means of their rows; an empty cluster takes the row farthest from its
 * centre (so k clusters stay k). */
static void update_centres(const float *x, size_t n, int dim, int k, float *c, int *a,
                           double *d2, double *sum, size_t *count)
{
    memset(sum, 0, (size_t)k * (size_t)dim * sizeof *sum);
    memset(count, 0, (size_t)k * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        count[a[i]]++;
        for (int j = 0; j < dim; j++)
            sum[(size_t)a[i] * (size_t)dim + (size_t)j] += x[i * (size_t)dim + (size_t)j];
    }
    for (int m = 0; m < k; m++) {
        if (count[m] == 0) {
            size_t far = 0;
            for (size_t i = 1; i < n; i++)
                if (d2[i] > d2[far])
                    far = i;
            memcpy(c + (size_t)m * (size_t)dim, x + far * (size_t)dim, (size_t)dim * sizeof *c);
            a[far] = m;
            d2[far] = 0;
            continue;
        }
        for (int j = 0; j < dim; j++)
            c[(size_t)m * (size_t)dim + (size_t)j] =
                (float)(sum[(size_t)m * (size_t)dim + (size_t)j] / (double)count[m]);
    }
}

int af_kmeans(const float *x, size_t n, int dim, int k, int restarts, int max_iter,
              uint64_t seed, af_kmeans_result *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    if (k < 1 || (size_t)k > n)
        return af_err_set(err, "k-means: k = %d needs 1..%zu (the number of rows)", k, n);
    if (dim < 1 || restarts < 1 || max_iter < 1)
        return af_err_set(err, "k-means: bad parameters");
    float *c = malloc((size_t)k * (size_t)dim * sizeof *c);
    int *a = malloc(n * sizeof *a);
    double *d2 = malloc(n * sizeof *d2);
    double *sum = malloc((size_t)k * (size_t)dim * sizeof *sum);
    size_t *count = malloc((size_t)k * sizeof *count);
    out->centres = malloc((size_t)k * (size_t)dim * sizeof *out->centres);
    out->assign = malloc(n * sizeof *out->assign);
    out->distance = malloc(n * sizeof *out->distance);
    int rc = 0;
    if (!c || !a || !d2 || !sum || !count || !out->centres || !out->assign || !out->distance) {
        rc = af_err_set(err, "out of memory");
        goto done;
    }
    af_rng rng;
    af_rng_seed(&rng, seed);
    out->inertia = DBL_MAX;
    for (int r = 0; r < restarts; r++) {
        seed_centres(x, n, dim, k, &rng, c, d2);
        for (size_t i = 0; i < n; i++)
            a[i] = -1;
        int it = 0;
        while (it < max_iter) {
            it++;
            size_t changed = assign_rows(x, n, dim, k, c, a, d2);
            if (changed == 0 && it > 1)
                break;
            update_centres(x, n, dim, k, c, a, d2, sum, count);
        }
        assign_rows(x, n, dim, k, c, a, d2);
        double inertia = 0;
        for (size_t i = 0; i < n; i++)
            inertia += d2[i];
        if (inertia < out->inertia) {
            out->inertia = inertia;
            out->iterations = it;
            memcpy(out->centres, c, (size_t)k * (size_t)dim * sizeof *c);
            memcpy(out->assign, a, n * sizeof *a);
            for (size_t i = 0; i < n; i++)
                out->distance[i] = (float)sqrt(d2[i]);
        }
    }
    out->k = k;
    out->dim = dim;
done:
    free(c);
    free(a);
    free(d2);
    free(sum);
    free(count);
    if (rc != 0)
        af_kmeans_result_free(out);
    return rc;
}

void af_kmeans_result_free(af_kmeans_result *r)
{
    free(r->centres);
    free(r->assign);
    free(r->distance);
    memset(r, 0, sizeof *r);
}

double af_silhouette(const float *x, size_t n, int dim, const int *assign, int k,
                     size_t max_rows)
{
    if (k < 2 || n < 2)
        return 0;
    size_t rows = max_rows && max_rows < n ? max_rows : n;
    double *sum = malloc((size_t)k * sizeof *sum);
    size_t *count = calloc((size_t)k, sizeof *count);
    if (!sum || !count) {
        free(sum);
        free(count);
        return NAN;
    }
    for (size_t i = 0; i < n; i++)
        count[assign[i]]++;
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        size_t i = rows == n ? r : r * n / rows;
        memset(sum, 0, (size_t)k * sizeof *sum);
        for (size_t j = 0; j < n; j++)
            if (j != i)
                sum[assign[j]] += sqrt(dist2(x + i * (size_t)dim, x + j * (size_t)dim, dim));
        int own = assign[i];
        if (count[own] < 2)
            continue; /* a singleton's silhouette is 0 */
        double a = sum[own] / (double)(count[own] - 1), b = DBL_MAX;
        for (int m = 0; m < k; m++)
            if (m != own && count[m] > 0 && sum[m] / (double)count[m] < b)
                b = sum[m] / (double)count[m];
        double s = fmax(a, b) > 0 ? (b - a) / fmax(a, b) : 0;
        total += s;
    }
    free(sum);
    free(count);
    return total / (double)rows;
}

void af_standardise_columns(float *x, size_t n, int dim)
{
    for (int j = 0; j < dim; j++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            mean += x[i * (size_t)dim + (size_t)j];
        mean /= (double)(n ? n : 1);
        for (size_t i = 0; i < n; i++) {
            double d = x[i * (size_t)dim + (size_t)j] - mean;
            var += d * d;
        }
        double sd = sqrt(var / (double)(n ? n : 1));
        for (size_t i = 0; i < n; i++) {
            float *v = &x[i * (size_t)dim + (size_t)j];
            *v = sd > 0 ? (float)((*v - mean) / sd) : 0.0f;
        }
    }
}
