/*
 * evaluation.h — a trained model scored on held-out rows at window level and
 * at track level (a track's prediction = the mean of its windows'
 * probabilities), in the form the evaluations table stores and the summary
 * table prints.  No database.
 */
#ifndef AF_TRAIN_EVALUATION_H
#define AF_TRAIN_EVALUATION_H

#include <stdio.h>

#include "dataset.h"
#include "error.h"
#include "metrics.h"
#include "ensemble.h"

enum { AF_EVAL_WINDOW = 0, AF_EVAL_TRACK = 1 };

/* How window scores make a track's: the mean of the probabilities, or the
 * mean of their logarithms (a geometric mean, renormalised: one confident
 * window weighs less against many that disagree). */
enum { AF_AGG_MEAN_PROB = 0, AF_AGG_MEAN_LOG = 1 };

typedef struct af_eval {
    int level;               /* AF_EVAL_WINDOW or AF_EVAL_TRACK */
    int fold;                /* -1: the test split */
    int classifier;          /* baselines.h: AF_CLF_NETWORK, _LOGREG, _SVM */
    size_t n;                /* windows or tracks evaluated */
    double accuracy, balanced_accuracy, macro_f1;
    af_class_metrics *per_class; /* n_classes entries */
    af_confusion cm;
    /* track level only: each evaluated track's dataset index, predicted class
     * and class probabilities (n_classes per track), in the order of cm's counts */
    size_t *pred_track;
    int *pred_class;
    float *pred_probs;
} af_eval;

/* Scores the rows of bucket b of g (already standardised) into out[0]
 * (windows) and out[1] (tracks).  track_class gives each track's truth,
 * n_tracks the number of tracks of the dataset. */
int af_evaluate(af_ensemble *m, const af_grouped *g, int b, const int *track_class,
                size_t n_tracks, int fold, int aggregation, af_eval out[2], af_err *err);

/* The same from precomputed window scores (g->n[b] rows x n_classes, each row
 * summing to 1) of any classifier. */
int af_evaluate_scores(const float *scores, int n_classes, const af_grouped *g, int b,
                       const int *track_class, size_t n_tracks, int fold, int aggregation,
                       af_eval out[2], af_err *err);
/* Fills the metrics of an evaluation from its confusion matrix (cm set). */
void af_eval_compute(af_eval *e);
void af_eval_free(af_eval *e);

/* {"rock": {"precision": .., "recall": .., "f1": .., "support": .., "predicted": ..}, ...}
 * and the confusion matrix as a PostgreSQL integer[][] literal.  malloc'd;
 * NULL when out of memory. */
char *af_eval_per_class_json(const af_eval *e, char *const *classes);
char *af_eval_confusion_literal(const af_eval *e);

/* The printed summary: one line per level with accuracy, balanced accuracy
 * and macro-F1, then per-class precision/recall/F1/support at track level
 * and the track-level confusion matrix. */
void af_eval_print(FILE *out, const af_eval ev[2], char *const *classes);

/* Cross-validation: mean and standard deviation over the folds of each
 * metric; evals[f * 2 + level]. */
void af_eval_print_folds(FILE *out, const af_eval *evals, int n_folds);

#endif
