/*
 * dataset.h — the training data of af-train in memory: one float row per
 * window (the only large part), its class, and per-track label, split and
 * fold.  Filled by the database loader (dataset_db.h) or a CSV file (csv.h);
 * pure, no database.
 *
 * Tracks are added first (or on the fly), then windows, in the order the
 * model should see them (track id, window index): the row order is part of
 * what makes "same seed and data give the same model" hold, so the loader and
 * the CSV file use the same one.
 */
#ifndef AF_TRAIN_DATASET_H
#define AF_TRAIN_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AF_DATASET_MAX_CLASSES 1024
#define AF_DATASET_UNUSED 3 /* bucket of a row left out of a grouping */

typedef struct af_dataset {
    int dim;
    /* windows */
    size_t n_windows, cap_windows;
    float *x;        /* n_windows x dim, row-major */
    size_t *track;   /* track index of each window */
    /* tracks */
    size_t n_tracks, cap_tracks;
    int64_t *track_id;
    int *track_class; /* index into classes */
    int *track_split; /* enum af_split */
    int *track_fold;  /* -1 when no folds */
    uint64_t *track_group; /* the track's artist: af_split_group_hash (salt 0) of its artist,
                              or of its track id when it has none (the default) */
    char **track_artist;   /* the artist as given, NULL when none (--export-csv writes it) */
    /* classes: names sorted by strcmp once af_dataset_finish ran */
    int n_classes;
    char **classes;
    /* track id -> index (open addressing) */
    size_t hash_cap;
    size_t *hash;     /* index + 1; 0 = empty */
} af_dataset;

/* dim > 0.  expect_windows (may be 0) sizes the matrix once, so that loading
 * a known number of windows needs no reallocation. */
int af_dataset_init(af_dataset *ds, int dim, size_t expect_windows, af_err *err);
void af_dataset_free(af_dataset *ds);

/* Class index of a label, adding it when new. */
int af_dataset_class(af_dataset *ds, const char *label, af_err *err);

/* Adds a track (fold -1 for none); fails on a duplicate id. *index gets its index. */
int af_dataset_add_track(af_dataset *ds, int64_t track_id, int class_index, int split, int fold,
                         size_t *index, af_err *err);
/* Groups track index t with the other tracks of `artist` (NULL or a placeholder:
 * the track stays a group of its own; see track_group) and keeps a copy of the
 * name.  Fails only when out of memory. */
int af_dataset_set_artist(af_dataset *ds, size_t t, const char *artist, af_err *err);
/* Index of a track id, or -1. */
long af_dataset_find_track(const af_dataset *ds, int64_t track_id);

/* Appends a window of track index t: dim values, all finite (a NaN or an
 * infinity fails, naming the track id, window_index and the feature).  feature_names (may be NULL) names features in messages. */
int af_dataset_add_window(af_dataset *ds, size_t t, const float *values, long window_index,
                          const char *const *feature_names, af_err *err);

/* Sorts the class names (ties impossible: names are distinct) and renumbers
 * the tracks' classes; drops tracks without windows.  Call once after
 * loading. */
int af_dataset_finish(af_dataset *ds, af_err *err);

/* Class of window i. */
static inline int af_dataset_window_class(const af_dataset *ds, size_t i)
{
    return ds->track_class[ds->track[i]];
}

/*
 * Rows grouped for one training run: bucket 0 = train, 1 = validation,
 * 2 = test (AF_DATASET_UNUSED rows are left out), each bucket's rows in
 * dataset order.  With in_place, the dataset's own arrays are permuted (no
 * copy; the dataset's row order changes, its tracks do not); otherwise x,
 * y and track are fresh copies (cross-validation: each fold groups anew).
 */
typedef struct af_grouped {
    float *x;       /* n[0]+n[1]+n[2] rows */
    int *y;
    size_t *track;  /* track index per row */
    size_t n[3];
    size_t start[3];
    bool owned;     /* x and track are copies (y always is) */
} af_grouped;

/* bucket_of_track[t] in 0..2 or AF_DATASET_UNUSED. */
int af_dataset_group(af_dataset *ds, const int *bucket_of_track, bool in_place, af_grouped *g,
                     af_err *err);
void af_grouped_free(af_grouped *g);

/*
 * Cross-validation's inner groupings without another copy of the rows: the
 * rows of `outer` (all its buckets) are moved in place into inner's buckets by
 * bucket_of_track (AF_DATASET_UNUSED rows go last, outside inner), in outer's
 * order within each bucket; inner's x, y and track point into outer's arrays,
 * so inner sees exactly the rows, values and order a fresh af_dataset_group
 * copy of the same rows would.  *undo (owned) records the move:
 * af_grouped_restore puts outer's rows back in their order — moved, never
 * recomputed, so bit for bit — and clears inner.  Release inner with
 * af_grouped_restore, never af_grouped_free.
 */
int af_grouped_regroup(af_grouped *outer, int dim, const int *bucket_of_track,
                       af_grouped *inner, size_t **undo, af_err *err);
void af_grouped_restore(af_grouped *outer, int dim, af_grouped *inner, size_t *undo);

/* Windows per class in bucket b (counts has n_classes entries). */
void af_grouped_class_counts(const af_grouped *g, int b, int n_classes, size_t *counts);

#endif
