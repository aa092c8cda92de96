/*
 * metrics.h — evaluation of the genre classifier: confusion matrix, accuracy,
 * balanced accuracy, macro-F1, per-class precision/recall/F1, and turning
 * window probabilities into one prediction per track.
 *
 * af-train reports these for the validation and test splits, at window level
 * and at track level (af_metrics_aggregate_tracks, then the same confusion
 * machinery on the track predictions).  Pure computation.
 *
 * Undefined ratios are 0, never NaN: precision of a class never predicted,
 * recall of a class absent from the truth, F1 when precision + recall = 0,
 * every metric of an empty matrix.  Averages follow scikit-learn:
 *   balanced accuracy = mean recall over the classes present in the truth;
 *   macro-F1 = mean F1 over the classes present in the truth or the
 *   predictions (a genre missing from an evaluation set altogether is left
 *   out instead of counting as F1 0; its support 0 in af_class_metrics shows
 *   it).
 */
#ifndef AF_TRAIN_METRICS_H
#define AF_TRAIN_METRICS_H

#include <stddef.h>

#include "error.h"

typedef struct af_confusion {
    int n_classes;
    size_t *counts; /* counts[truth * n_classes + predicted] */
} af_confusion;

int af_confusion_init(af_confusion *cm, int n_classes, af_err *err);
void af_confusion_free(af_confusion *cm);
/* Adds n (truth, predicted) pairs; fails, adding nothing, on a class out of
 * range. */
int af_confusion_add(af_confusion *cm, const int *truth, const int *predicted, size_t n,
                     af_err *err);
size_t af_confusion_at(const af_confusion *cm, int truth, int predicted);
size_t af_confusion_total(const af_confusion *cm);

typedef struct af_class_metrics {
    double precision;
    double recall;
    double f1;
    size_t support;   /* rows whose truth is the class */
    size_t predicted; /* rows predicted as the class */
} af_class_metrics;

/* out holds n_classes entries. */
void af_metrics_per_class(const af_confusion *cm, af_class_metrics *out);
double af_metrics_accuracy(const af_confusion *cm);
double af_metrics_balanced_accuracy(const af_confusion *cm);
double af_metrics_macro_f1(const af_confusion *cm);

/* pred[i] = index of the largest of probs[i][0..n_classes) (first one on ties). */
void af_metrics_argmax(const float *probs, size_t n, int n_classes, int *pred);

/*
 * Track-level prediction: the mean of a track's window probabilities, then
 * its argmax.  track_of_window[w] in [0, n_tracks) says which track window w
 * belongs to (windows need not be grouped or ordered).  track_probs
 * (n_tracks x n_classes) gets the means, track_pred the argmax; a track
 * without windows gets probabilities 0 and prediction -1.
 */
int af_metrics_aggregate_tracks(const float *window_probs, const size_t *track_of_window,
                                size_t n_windows, int n_classes, size_t n_tracks,
                                float *track_probs, int *track_pred, af_err *err);

#endif
