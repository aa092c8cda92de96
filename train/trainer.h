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
    bool class_weights;  /* inverse class frequency in the training rows */
    bool (*stop)(void);  /* may be NULL */
    const char *label;   /* for the progress line, e.g. "fold 2" (may be NULL) */
} af_train_options;

typedef struct af_epoch_record {
    double train_loss, train_accuracy, val_loss, val_accuracy, seconds;
} af_epoch_record;

typedef struct af_train_result {
    af_mlp *model;           /* best epoch's weights */
    af_scaler scaler;        /* fitted on the training rows */
    af_epoch_record *epochs; /* n_epochs entries, epoch e at [e - 1] */
    int n_epochs;
    int best_epoch;          /* 1-based */
    double best_val_loss;
    bool interrupted;
    float *class_weights;    /* n_classes values, or NULL */
} af_train_result;

/* g's rows are standardised in place.  Needs training and validation rows
 * and every class present in the training rows. */
int af_train_run(af_grouped *g, int dim, int n_classes, const af_train_options *opt,
                 af_train_result *res, af_err *err);
void af_train_result_free(af_train_result *res);

#endif
