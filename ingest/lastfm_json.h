/*
 * lastfm_json.h — parsing Last.fm API responses (jansson), with the API's quirks:
 * numbers sent as strings (or as numbers), a one-element list sent as a bare
 * object, [] (or "" / null / a missing key) for an empty list, "#text" and
 * "@attr" keys, mbid "" or missing, and errors inside HTTP 200 bodies.
 */
#ifndef AF_INGEST_LASTFM_JSON_H
#define AF_INGEST_LASTFM_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Returned by the parsers: the body is an API error ({"error": N, "message": ...}). */
#define LFM_API_ERROR 1

struct lfm_api_error {
    int code;
    char message[256];
};

struct lfm_track {
    char *name;
    char *artist;
    char *mbid;  /* NULL when missing or empty */
    char *url;   /* NULL when missing */
    double duration_seconds; /* 0 = unknown */
    int rank;
};

struct lfm_top_tracks {
    struct lfm_track *tracks;
    int n_tracks;
    int n_skipped;   /* items without a name or an artist */
    int n_unknown_artist; /* items by "[unknown]": Last.fm's placeholder, not an artist */
    int page, per_page, total_pages, total;
};

struct lfm_tag {
    char *name;
    double count;
};

struct lfm_top_tags {
    struct lfm_tag *tags;
    int n_tags;
    int n_skipped; /* items without a name */
    int n_bad_counts; /* items whose count is NaN, infinite or negative: skipped */
    char bad_count[160]; /* the first of them, for the message: tag and count */
    /* @attr: the names Last.fm answered for (with autocorrect=1, its corrected
     * spelling of the artist and track asked for); NULL when absent. */
    char *artist, *track;
};

/* Checks a body: -1 (err) when it is not a JSON object, LFM_API_ERROR (api filled)
 * when it carries an "error" key, else 0. */
int lfm_check_body(const char *body, size_t len, struct lfm_api_error *api, af_err *err);

/* tag.getTopTracks. Returns 0, LFM_API_ERROR or -1 (malformed, err says where).
 * A well-formed page of the wrong shape is malformed too — no "@attr" paging, a
 * "track" that is not a list, items none of which is a track — so that a page that
 * was not understood never moves the crawl on. */
int lfm_parse_top_tracks(const char *body, size_t len, struct lfm_top_tracks *out,
                         struct lfm_api_error *api, af_err *err);
void lfm_top_tracks_free(struct lfm_top_tracks *t);

/* track.getTopTags (also artist.getTopTags and tag.getTopTags).  A "tag" that is not
 * a list, or items none of which is a tag, is malformed (-1). */
int lfm_parse_top_tags(const char *body, size_t len, struct lfm_top_tags *out,
                       struct lfm_api_error *api, af_err *err);
void lfm_top_tags_free(struct lfm_top_tags *t);

/* Quirk helpers, exposed for tests. */
/* Element i of a list that may be an array, a bare object (one element) or empty. */
size_t lfm_list_size(const json_t *list);
json_t *lfm_list_get(const json_t *list, size_t i);
/* A number sent as a JSON number or a string ("208"); fallback when neither. */
double lfm_number(const json_t *v, double fallback);
/* A text that may be a string or an object with "#text" or "name". NULL when absent/empty. */
const char *lfm_text(const json_t *v);

#endif
