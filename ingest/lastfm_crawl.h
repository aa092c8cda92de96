/*
 * lastfm_crawl.h — `af-ingest lastfm`: for each genre's seed tags, tag.getTopTracks
 * page by page (the cursor in lastfm_crawl_cursors is committed with each page, so
 * an interrupted run resumes where it stopped), then track.getTopTags for the
 * candidate tracks that have no tags yet (their tags go to raw_tags, source
 * 'lastfm_api'; the outcome to lastfm_tag_lookups).
 */
#ifndef AF_INGEST_LASTFM_CRAWL_H
#define AF_INGEST_LASTFM_CRAWL_H

#include <stdbool.h>

#include "ingest.h"
#include "taxonomy.h"

struct lastfm_crawl_options {
    const struct af_taxonomy *taxonomy; /* seeds */
    const char **tags;                  /* --tag: crawl these instead of the seeds */
    int n_tags;
    bool crawl;        /* tag.getTopTracks */
    bool toptags;      /* track.getTopTags */
    bool all_untagged; /* candidates: every track without tags, not only Last.fm's */
    long max_lookups;  /* 0 = no limit */
};

/* Returns 0, or -1 with err (AF_EXIT_CREDENTIALS when the key was rejected).
 * *failed_items counts requests that failed for good (the run goes on). */
int ingest_lastfm(struct ingest_ctx *ctx, const struct lastfm_crawl_options *o,
                  long *failed_items, af_err *err);

#endif
