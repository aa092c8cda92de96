/*
 * trainer.h — one training run of the classifier on grouped rows
 * (dataset.h): standardise with the training rows' statistics, train epoch
 * by epoch with early stopping on the validation loss, and keep the best
 * epoch's weights.  No database, no printing beyond the log's progress line.
 *
 * Stopping by signal: stop() is asked after every epoch; when it says yes,
 * training ends there and the result holds the best weights seen so far with
 * interrupted = true (af-train stores such a model marked as interrupted).
 */
#ifndef AF_TRAIN_TRAINER_H
#define AF_TRAIN_TRAINER_H

#include <stdbool.h>

#include "dataset.h"
#include "ensemble.h"
#include "error.h"
#include "mlp.h"
#include "scaler.h"

/* "256,128,64" -> n = 3, widths; "" or "0" -> no hidden layer.  Fails on
 * anything else than comma-separated positive integers (at most
 * AF_MLP_MAX_HIDDEN, each <= AF_MLP_MAX_WIDTH). */
int af_parse_hidden(const char *text, int *n, int *widths, af_err *err);

typedef struct af_train_options {
    af_mlp_config cfg;   /* n_inputs and n_classes are set by af_train_run */
    int max_epochs;
    int patience;
    int members;         /* networks in the ensemble (seeds seed, seed+1, ...), >= 1 */
    bool stop_on_track_accuracy; /* early-stop on the validation tracks' accuracy (mean of
                                    window probabilities; ties broken by the loss) instead
                                    of the validation loss */
    bool class_weights;  /* inverse class frequency in the training rows */
    int rankgauss_knots; /* > 0: the scaler fitted here is rank-gauss with this many knots
                            (scaler.h); 0: plain z-scores */
    const af_scaler *scaler; /* NULL: fit one on the training rows; else apply this one
                                (cross-validation fits it once on all rows outside the
                                test fold, for members trained on different subsets) */
    bool (*stop)(void);  /* may be NULL */
    const char *label;   /* for the progress line, e.g. "fold 2" (may be NULL) */
} af_train_options;

typedef struct af_epoch_record {
    double train_loss, train_accuracy, val_loss, val_accuracy, seconds;
} af_epoch_record;

typedef struct af_train_result {
    af_ensemble model;       /* each member at its best epoch; model.scaler fitted on the
                                training rows */
    af_epoch_record *epochs; /* the first member's history: n_epochs entries, epoch e at [e - 1] */
    int n_epochs;
    int total_epochs;        /* over all members */
    int best_epoch;          /* 1-based, of the first member */
    double best_val_loss;    /* of the ensemble's averaged probabilities */
    bool interrupted;
    float *class_weights;    /* n_classes values, or NULL */
} af_train_result;

/* g's rows are standardised in place; the members are trained one after the
 * other, each early-stopped on its own validation loss.  An interrupted run
 * keeps the members finished so far (and the interrupted one's best epoch).  Needs training and validation rows
 * and every class present in the training rows. */
int af_train_run(af_grouped *g, int dim, int n_classes, const af_train_options *opt,
                 af_train_result *res, af_err *err);
void af_train_result_free(af_train_result *res);

#endif
