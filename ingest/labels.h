/*
 * labels.h — `af-ingest label`: registers the taxonomy (a new version when it
 * changed) and labels every track under it with the SQL function
 * af_label_tracks() (sql/002_ingest.sql), then prints a summary.
 */
#ifndef AF_INGEST_LABELS_H
#define AF_INGEST_LABELS_H

#include "ingest.h"
#include "taxonomy.h"

struct label_options {
    const struct af_taxonomy *taxonomy;
    double min_share;
    double min_tag_weight;
    long max_per_genre;
};

int ingest_label(struct ingest_ctx *ctx, const struct label_options *o, af_err *err);

#endif
