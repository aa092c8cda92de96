/* dataset.c — af-train's in-memory training data; see dataset.h. */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "split.h"

int af_dataset_init(af_dataset *ds, int dim, size_t expect_windows, af_err *err)
{
    memset(ds, 0, sizeof *ds);
    if (dim <= 0)
        return af_err_set(err, "a dataset needs at least one feature");
    ds->dim = dim;
    if (expect_windows) {
        ds->x = malloc(expect_windows * (size_t)dim * sizeof *ds->x);
        ds->track = malloc(expect_windows * sizeof *ds->track);
        if (!ds->x || !ds->track) {
            af_dataset_free(ds);
            return af_err_set(err, "out of memory for %zu windows of %d features",
                              expect_windows, dim);
        }
        ds->cap_windows = expect_windows;
    }
    return 0;
}

void af_dataset_free(af_dataset *ds)
{
    free(ds->x);
    free(ds->track);
    free(ds->track_id);
    free(ds->track_class);
    free(ds->track_split);
    free(ds->track_fold);
    free(ds->track_group);
    for (size_t t = 0; ds->track_artist && t < ds->n_tracks; t++)
        free(ds->track_artist[t]);
    free(ds->track_artist);
    for (int c = 0; c < ds->n_classes; c++)
        free(ds->classes[c]);
    free(ds->classes);
    free(ds->hash);
    memset(ds, 0, sizeof *ds);
}

int af_dataset_class(af_dataset *ds, const char *label, af_err *err)
{
    for (int c = 0; c < ds->n_classes; c++)
        if (strcmp(ds->classes[c], label) == 0)
            return c;
    if (!label[0])
        return af_err_set(err, "empty genre label");
    if (ds->n_classes == AF_DATASET_MAX_CLASSES)
        return af_err_set(err, "more than %d genres", AF_DATASET_MAX_CLASSES);
    char **grown = realloc(ds->classes, (size_t)(ds->n_classes + 1) * sizeof *grown);
    if (!grown)
        return af_err_set(err, "out of memory");
    ds->classes = grown;
    if (!(ds->classes[ds->n_classes] = strdup(label)))
        return af_err_set(err, "out of memory");
    return ds->n_classes++;
}

static size_t slot_of(const af_dataset *ds, int64_t id)
{
    return (size_t)af_mix64((uint64_t)id) & (ds->hash_cap - 1);
}

static int hash_insert(af_dataset *ds, size_t index)
{
    size_t s = slot_of(ds, ds->track_id[index]);
    while (ds->hash[s])
        s = (s + 1) & (ds->hash_cap - 1);
    ds->hash[s] = index + 1;
    return 0;
}

static int hash_rebuild(af_dataset *ds, size_t cap, af_err *err)
{
    size_t *h = calloc(cap, sizeof *h);
    if (!h)
        return af_err_set(err, "out of memory");
    free(ds->hash);
    ds->hash = h;
    ds->hash_cap = cap;
    for (size_t t = 0; t < ds->n_tracks; t++)
        hash_insert(ds, t);
    return 0;
}

int af_dataset_set_artist(af_dataset *ds, size_t t, const char *artist, af_err *err)
{
    char *copy = artist ? strdup(artist) : NULL;
    if (artist && !copy)
        return af_err_set(err, "out of memory");
    free(ds->track_artist[t]);
    ds->track_artist[t] = copy;
    ds->track_group[t] = af_split_group_hash(artist, ds->track_id[t], 0);
    return 0;
}

long af_dataset_find_track(const af_dataset *ds, int64_t track_id)
{
    if (!ds->hash_cap)
        return -1;
    for (size_t s = slot_of(ds, track_id); ds->hash[s]; s = (s + 1) & (ds->hash_cap - 1))
        if (ds->track_id[ds->hash[s] - 1] == track_id)
            return (long)(ds->hash[s] - 1);
    return -1;
}

#define GROW(ptr, n) (tmp = realloc((ptr), (n) * sizeof *(ptr))) ? ((ptr) = tmp, 1) : 0

int af_dataset_add_track(af_dataset *ds, int64_t track_id, int class_index, int split, int fold,
                         size_t *index, af_err *err)
{
    if (class_index < 0 || class_index >= ds->n_classes)
        return af_err_set(err, "track %lld: class %d out of range", (long long)track_id,
                          class_index);
    if (af_dataset_find_track(ds, track_id) >= 0)
        return af_err_set(err, "track %lld appears twice", (long long)track_id);
    if (ds->n_tracks == ds->cap_tracks) {
        size_t cap = ds->cap_tracks ? 2 * ds->cap_tracks : 256;
        void *tmp;
        if (!(GROW(ds->track_id, cap)) || !(GROW(ds->track_class, cap)) ||
            !(GROW(ds->track_split, cap)) || !(GROW(ds->track_fold, cap)) ||
            !(GROW(ds->track_group, cap)) || !(GROW(ds->track_artist, cap)))
            return af_err_set(err, "out of memory");
        ds->cap_tracks = cap;
    }
    size_t t = ds->n_tracks++;
    ds->track_id[t] = track_id;
    ds->track_class[t] = class_index;
    ds->track_split[t] = split;
    ds->track_fold[t] = fold;
    ds->track_group[t] = af_split_group_hash(NULL, track_id, 0);
    ds->track_artist[t] = NULL;
    if (2 * ds->n_tracks > ds->hash_cap) {
        if (hash_rebuild(ds, ds->hash_cap ? 4 * ds->hash_cap : 1024, err) != 0)
            return -1;
    } else {
        hash_insert(ds, t);
    }
    if (index)
        *index = t;
    return 0;
}

int af_dataset_add_window(af_dataset *ds, size_t t, const float *values, long window_index,
                          const char *const *feature_names, af_err *err)
{
    if (t >= ds->n_tracks)
        return af_err_set(err, "window of an unknown track");
    for (int j = 0; j < ds->dim; j++)
        if (!isfinite(values[j])) {
            if (feature_names)
                return af_err_set(err, "track %lld window %ld: feature %d (%s) is %s",
                                  (long long)ds->track_id[t], window_index, j, feature_names[j],
                                  isnan(values[j]) ? "NaN" : "infinite");
            return af_err_set(err, "track %lld window %ld: feature %d is %s",
                              (long long)ds->track_id[t], window_index, j,
                              isnan(values[j]) ? "NaN" : "infinite");
        }
    if (ds->n_windows == ds->cap_windows) {
        size_t cap = ds->cap_windows ? 2 * ds->cap_windows : 1024;
        float *x = realloc(ds->x, cap * (size_t)ds->dim * sizeof *x);
        if (!x)
            return af_err_set(err, "out of memory");
        ds->x = x;
        size_t *tr = realloc(ds->track, cap * sizeof *tr);
        if (!tr)
            return af_err_set(err, "out of memory");
        ds->track = tr;
        ds->cap_windows = cap;
    }
    memcpy(ds->x + ds->n_windows * (size_t)ds->dim, values, (size_t)ds->dim * sizeof *values);
    ds->track[ds->n_windows++] = t;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

int af_dataset_finish(af_dataset *ds, af_err *err)
{
    /* Sort class names, then renumber. */
    int n = ds->n_classes;
    char ***order = malloc((size_t)(n ? n : 1) * sizeof *order);
    int *renum = malloc((size_t)(n ? n : 1) * sizeof *renum);
    char **sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
    size_t *per_track = calloc(ds->n_tracks ? ds->n_tracks : 1, sizeof *per_track);
    size_t *new_index = malloc((ds->n_tracks ? ds->n_tracks : 1) * sizeof *new_index);
    int rc = -1;
    if (!order || !renum || !sorted || !per_track || !new_index) {
        af_err_set(err, "out of memory");
        goto out;
    }
    for (int c = 0; c < n; c++)
        order[c] = &ds->classes[c];
    qsort(order, (size_t)n, sizeof *order, cmp_name);
    for (int c = 0; c < n; c++) {
        int old = (int)(order[c] - ds->classes);
        renum[old] = c;
        sorted[c] = ds->classes[old];
    }
    if (n > 0)
        memcpy(ds->classes, sorted, (size_t)n * sizeof *sorted);
    for (size_t t = 0; t < ds->n_tracks; t++)
        ds->track_class[t] = renum[ds->track_class[t]];

    /* Drop tracks without windows. */
    for (size_t i = 0; i < ds->n_windows; i++)
        per_track[ds->track[i]]++;
    size_t kept = 0;
    for (size_t t = 0; t < ds->n_tracks; t++) {
        if (!per_track[t]) {
            free(ds->track_artist[t]);
            continue;
        }
        new_index[t] = kept;
        ds->track_id[kept] = ds->track_id[t];
        ds->track_class[kept] = ds->track_class[t];
        ds->track_split[kept] = ds->track_split[t];
        ds->track_fold[kept] = ds->track_fold[t];
        ds->track_group[kept] = ds->track_group[t];
        ds->track_artist[kept] = ds->track_artist[t];
        kept++;
    }
    if (kept != ds->n_tracks) {
        for (size_t i = 0; i < ds->n_windows; i++)
            ds->track[i] = new_index[ds->track[i]];
        ds->n_tracks = kept;
        if (hash_rebuild(ds, ds->hash_cap ? ds->hash_cap : 1024, err) != 0)
            goto out;
    }
    rc = 0;
out:
    free(order);
    free(renum);
    free(sorted);
    free(per_track);
    free(new_index);
    return rc;
}

static void swap_rows(float *x, size_t dim, size_t a, size_t b)
{
    float *ra = x + a * dim, *rb = x + b * dim;
    for (size_t j = 0; j < dim; j++) {
        float t = ra[j];
        ra[j] = rb[j];
        rb[j] = t;
    }
}

/* Moves row i of x (and its track and, unless NULL, y) to dest[i], a
 * permutation of 0..n-1; dest is left as the identity.  Each swap puts one row
 * into its final place. */
static void permute_rows(float *x, size_t dim, size_t *track, int *y, size_t *dest, size_t n)
{
    for (size_t i = 0; i < n; i++)
        while (dest[i] != i) {
            size_t j = dest[i];
            swap_rows(x, dim, i, j);
            size_t t = track[i];
            track[i] = track[j];
            track[j] = t;
            if (y) {
                int c = y[i];
                y[i] = y[j];
                y[j] = c;
            }
            dest[i] = dest[j];
            dest[j] = j;
        }
}

int af_dataset_group(af_dataset *ds, const int *bucket_of_track, bool in_place, af_grouped *g,
                     af_err *err)
{
    memset(g, 0, sizeof *g);
    size_t n = ds->n_windows, dim = (size_t)ds->dim;
    size_t count[4] = {0};
    for (size_t i = 0; i < n; i++) {
        int b = bucket_of_track[ds->track[i]];
        if (b < 0 || b > AF_DATASET_UNUSED)
            return af_err_set(err, "bucket %d out of range", b);
        count[b]++;
    }
    size_t next[4] = {0, count[0], count[0] + count[1], count[0] + count[1] + count[2]};
    for (int b = 0; b < 3; b++) {
        g->n[b] = count[b];
        g->start[b] = next[b];
    }
    size_t used = next[3];
    g->y = malloc((used ? used : 1) * sizeof *g->y);
    if (!g->y)
        return af_err_set(err, "out of memory");
    if (in_place) {
        size_t *dest = malloc((n ? n : 1) * sizeof *dest);
        if (!dest) {
            af_grouped_free(g);
            return af_err_set(err, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            dest[i] = next[bucket_of_track[ds->track[i]]]++;
        permute_rows(ds->x, dim, ds->track, NULL, dest, n);
        free(dest);
        g->x = ds->x;
        g->track = ds->track;
    } else {
        g->owned = true;
        g->x = malloc((used ? used : 1) * dim * sizeof *g->x);
        g->track = malloc((used ? used : 1) * sizeof *g->track);
        if (!g->x || !g->track) {
            af_grouped_free(g);
            return af_err_set(err, "out of memory for a copy of %zu windows", used);
        }
        for (size_t i = 0; i < n; i++) {
            int b = bucket_of_track[ds->track[i]];
            if (b == AF_DATASET_UNUSED)
                continue;
            size_t d = next[b]++;
            memcpy(g->x + d * dim, ds->x + i * dim, dim * sizeof *g->x);
            g->track[d] = ds->track[i];
        }
    }
    for (size_t i = 0; i < used; i++)
        g->y[i] = ds->track_class[g->track[i]];
    return 0;
}

void af_grouped_free(af_grouped *g)
{
    if (g->owned) {
        free(g->x);
        free(g->track);
    }
    free(g->y);
    memset(g, 0, sizeof *g);
}

void af_grouped_class_counts(const af_grouped *g, int b, int n_classes, size_t *counts)
{
    memset(counts, 0, (size_t)n_classes * sizeof *counts);
    for (size_t i = g->start[b]; i < g->start[b] + g->n[b]; i++)
        counts[g->y[i]]++;
}

int af_grouped_regroup(af_grouped *outer, int dim, const int *bucket_of_track,
                       af_grouped *inner, size_t **undo, af_err *err)
{
    memset(inner, 0, sizeof *inner);
    *undo = NULL;
    size_t n = outer->n[0] + outer->n[1] + outer->n[2];
    size_t count[4] = {0};
    for (size_t i = 0; i < n; i++) {
        int b = bucket_of_track[outer->track[i]];
        if (b < 0 || b > AF_DATASET_UNUSED)
            return af_err_set(err, "bucket %d out of range", b);
        count[b]++;
    }
    size_t next[4] = {0, count[0], count[0] + count[1], count[0] + count[1] + count[2]};
    size_t *dest = malloc((n ? n : 1) * sizeof *dest);
    size_t *back = malloc((n ? n : 1) * sizeof *back);
    if (!dest || !back) {
        free(dest);
        free(back);
        return af_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        dest[i] = next[bucket_of_track[outer->track[i]]]++;
        back[dest[i]] = i;
    }
    permute_rows(outer->x, (size_t)dim, outer->track, outer->y, dest, n);
    free(dest);
    for (int b = 0; b < 3; b++) {
        inner->n[b] = count[b];
        inner->start[b] = b == 0 ? 0 : inner->start[b - 1] + count[b - 1];
    }
    inner->x = outer->x;
    inner->y = outer->y;
    inner->track = outer->track;
    *undo = back;
    return 0;
}

void af_grouped_restore(af_grouped *outer, int dim, af_grouped *inner, size_t *undo)
{
    size_t n = outer->n[0] + outer->n[1] + outer->n[2];
    permute_rows(outer->x, (size_t)dim, outer->track, outer->y, undo, n);
    free(undo);
    memset(inner, 0, sizeof *inner);
}
