/*
 * report_use.h — the sections af-report adds after the training's own: the loss on
 * a log-scale axis with the best epoch marked, the dataset (label sources and
 * corrections), a 2-D PCA map of the track embeddings coloured by label, the hyperparameters as a table.  Read from the
 * database as HTML text for af_report.extra_html (report_html.h); self-contained
 * like the rest: inline SVG, no scripts.  (The misclassified tracks are the
 * training report's own section, from the stored predictions: report_html.c.)
 */
#ifndef AF_TRAIN_REPORT_USE_H
#define AF_TRAIN_REPORT_USE_H

#include <libpq-fe.h>

#include "error.h"
#include "strbuf.h"

int af_report_use_sections(PGconn *db, long long model_id, af_sb *out, af_err *err);

/* The first two principal axes of n rows (n x dim, centred here in a copy) by power
 * iteration with deflation; xy receives the n projections (n x 2).  Pure, for tests. */
int af_pca2(const float *x, size_t n, int dim, double *xy, af_err *err);

#endif
