/*
 * report_html.h — a stored model as one self-contained HTML page: summary,
 * training curves (inline SVG polylines, one pair per fold), confusion-matrix
 * heatmaps (inline SVG, rows normalised to the true genre's count), a
 * per-genre table, the network against the baselines (who won, by how much)
 * and the tracks the network got wrong (artist, title, what it thought).  No scripts, fonts, styles or images from elsewhere: the
 * file opens the same offline and years later.  Pure: data in, text out.
 */
#ifndef AF_TRAIN_REPORT_HTML_H
#define AF_TRAIN_REPORT_HTML_H

#include <stddef.h>

#include "strbuf.h"

typedef struct af_report_curve {
    int fold;
    int n;           /* epochs */
    double *train_loss, *val_loss, *train_acc, *val_acc, *seconds;
} af_report_curve;

typedef struct af_report_eval_row {
    int fold;        /* -1: test split */
    int track_level; /* 0 window, 1 track */
    long n;
    double accuracy, balanced_accuracy, macro_f1;
} af_report_eval_row;

/* One classifier's mean scores over the folds (or the test split). */
typedef struct af_report_compare_row {
    const char *classifier; /* "network", "logreg", "svm" */
    double window_accuracy, track_accuracy, track_sd, track_balanced;
} af_report_compare_row;

/* A track the network got wrong. */
typedef struct af_report_wrong_row {
    int fold;                      /* -1: test split */
    const char *artist, *title;    /* may be NULL (CSV data) */
    long long track_id;
    const char *truth, *predicted;
    double confidence, truth_probability;
} af_report_wrong_row;

typedef struct af_report {
    long long model_id;
    const char *created, *feature_set, *hyperparameters; /* hyperparameters: JSON text */
    int n_genres;
    char *const *genres;
    int n_curves;
    const af_report_curve *curves;
    int n_evals;
    const af_report_eval_row *evals;
    /* confusion[level] = n_genres^2 counts [true][predicted], summed over the folds;
     * NULL when there is no evaluation of that level */
    const long *confusion[2];
    /* network against the baselines: the network first (n_compare 0: none) */
    int n_compare;
    const af_report_compare_row *compare;
    /* the network's misclassified tracks; n_tracks_predicted 0: no predictions stored */
    int n_wrong;
    const af_report_wrong_row *wrong;
    long n_tracks_predicted;
    /* HTML sections added before the hyperparameters (report_use.h), or NULL */
    const char *extra_html;
} af_report;

/* Appends the page to out; false when out of memory. */
int af_report_html(const af_report *r, af_sb *out);

#endif
