/*
 * msd.h — `af-ingest msd`: the Million Song Dataset side data, bulk-loaded.
 *
 *   --lastfm DIR        the Last.fm dataset (lastfm_train / lastfm_test / lastfm_subset):
 *                       one JSON file per track, parsed with jansson by --jobs threads
 *   --unique-tracks F   unique_tracks.txt (id<SEP>song<SEP>artist<SEP>title): artist and
 *                       title for tracks that lack them
 *   --tagtraum F        msd_tagtraum_cd1/cd2/cd2c.cls (the name says which)
 *   --magd F            msd-MAGD-genreAssignment.cls (or Top-MAGD)
 *
 * Rows go by COPY into temporary staging tables, then into tracks, track_sources and
 * raw_tags with INSERT ... ON CONFLICT, one transaction per batch: a re-run adds
 * nothing, and an interrupted run keeps every finished batch.  Bad files and lines
 * are skipped, counted, logged and stored in ingest_problems.
 */
#ifndef AF_INGEST_MSD_H
#define AF_INGEST_MSD_H

#include "ingest.h"

struct msd_options {
    const char **lastfm_dirs;
    int n_lastfm_dirs;
    const char *unique_tracks;
    const char **tagtraum;
    int n_tagtraum;
    const char *magd;
    int jobs;  /* parser threads; 0 = one per core */
    int batch; /* files (or lines) per transaction */
};

int ingest_msd(struct ingest_ctx *ctx, const struct msd_options *o, af_err *err);

/* Which tagtraum dataset a file holds, from its name: "tagtraum_cd1", "tagtraum_cd2",
 * "tagtraum_cd2c", or NULL. */
const char *msd_tagtraum_source(const char *path);

/* True for an MSD track id: "TR" and 16 upper-case letters or digits. */
int msd_is_track_id(const char *text, size_t len);

#endif
