/*
 * baselines.h — the simple models every evaluation of af-train compares the
 * network against, trained on the same rows and the same standardised
 * features: a multinomial logistic regression (written here, OpenBLAS) and
 * an RBF-kernel support vector machine (libsvm).  If the network does not
 * beat them, the user should know it; af-train stores their scores beside
 * the network's (evaluations.classifier).
 *
 * Both produce, per window, one score per class that sums to 1 (logistic
 * regression: probabilities; SVM: the share of libsvm's one-vs-one votes),
 * so evaluation.h aggregates them to tracks exactly as the network's.
 * No database, no printing.
 */
#ifndef AF_TRAIN_BASELINES_H
#define AF_TRAIN_BASELINES_H

#include <stddef.h>

#include "error.h"

enum af_classifier { AF_CLF_NETWORK = 0, AF_CLF_LOGREG = 1, AF_CLF_SVM = 2, AF_CLF_COUNT = 3 };

/* "network", "logreg", "svm": the evaluations.classifier values. */
const char *af_classifier_name(int classifier);

/* Multinomial logistic regression, objective as scikit-learn's
 * LogisticRegression(C): mean cross-entropy + ||W||^2 / (2 C n) (bias not
 * penalised), minimised by full-batch Adam for a fixed number of steps
 * (deterministic: no random draw). */
typedef struct af_logreg {
    int dim, n_classes;
    float *w; /* dim x n_classes, row-major */
    float *b; /* n_classes */
} af_logreg;

typedef struct af_logreg_options {
    double c;       /* inverse regularisation strength, > 0 (scikit-learn's default: 1) */
    int iterations; /* full-batch steps */
} af_logreg_options;

void af_logreg_options_default(af_logreg_options *o); /* C 1, 300 steps */
int af_logreg_fit(af_logreg *m, const float *x, const int *y, size_t n, int dim, int n_classes,
                  const af_logreg_options *o, af_err *err);
/* probs: n x n_classes. */
int af_logreg_predict(const af_logreg *m, const float *x, size_t n, float *probs, af_err *err);
void af_logreg_free(af_logreg *m);

/* C-SVC with the RBF kernel exp(-gamma |u - v|^2); gamma <= 0 means
 * scikit-learn's "scale", 1 / (dim * var(x)) over the training rows. */
typedef struct af_svm_options {
    double c;     /* default 10 */
    double gamma; /* default 0: "scale" */
} af_svm_options;

typedef struct af_svm af_svm;

void af_svm_options_default(af_svm_options *o);
int af_svm_fit(af_svm **out, const float *x, const int *y, size_t n, int dim, int n_classes,
               const af_svm_options *o, af_err *err);
/* scores: n x n_classes, each row the share of the one-vs-one votes per class. */
int af_svm_predict(const af_svm *m, const float *x, size_t n, float *scores, af_err *err);
void af_svm_free(af_svm *m);

#endif
