/*
 * report_html.h — a stored model as one self-contained HTML page: summary,
 * training curves (inline SVG polylines, one pair per fold), confusion-matrix
 * heatmaps (inline SVG, rows normalised to the true genre's count) and a
 * per-genre table.  No scripts, fonts, styles or images from elsewhere: the
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
    /* HTML sections added before the hyperparameters (report_use.h), or NULL */
    const char *extra_html;
} af_report;

/* Appends the page to out; false when out of memory. */
int af_report_html(const af_report *r, af_sb *out);

#endif
