/*
 * fetch_lookup.h — one interactive look-up of a song at the preview providers, for
 * the programs that classify a song by name (af-predict --search, af-serve): search
 * the configured providers ([fetch] providers; Spotify only with SPOTIFY_CLIENT_ID and
 * SPOTIFY_CLIENT_SECRET), score the candidates as af-fetch does, download the chosen
 * preview and check it.
 *
 * It is af-fetch's code on a synchronous path: the same request URLs and response
 * parsers (fetch_providers.h), the same match score (fetch_match.h), the same audio
 * check (fetch_verify.h), the same per-provider token buckets ([provider]
 * requests_per_second, lib/ratelimit.h), HTTP timeouts and size limit ([fetch]
 * connect_timeout_seconds, timeout_seconds, low_speed_*, max_body_bytes) and retries
 * with backoff ([fetch] max_retries, retry_*_seconds, max_retry_after_seconds).
 * Nothing is stored.  A lookup object is not thread-safe; af-serve keeps one per
 * worker and so shares its limits across requests.
 */
#ifndef AF_FETCH_LOOKUP_H
#define AF_FETCH_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"
#include "fetch_providers.h"
#include "fetch_verify.h"

struct af_lookup;

struct af_lookup_query {
    const char *artist;    /* "" or NULL: unknown (title-only match) */
    const char *title;     /* NULL only with isrc or deezer_id */
    const char *isrc;      /* NULL or an ISRC: exact look-up (Spotify, Deezer) */
    const char *deezer_id; /* NULL or a Deezer track id: that track only */
};

struct af_lookup_hit {
    const char *provider;           /* "spotify", "deezer", "itunes" */
    struct af_fetch_candidate c;    /* owned */
    double score;                   /* match score in [0, 1] (1: ISRC or id look-up) */
    char cover_url[320];            /* the album cover, "" when the provider gave none */
};

struct af_lookup_hits {
    struct af_lookup_hit *items;    /* best first: score, then with a preview */
    int n;
    int providers_failed;           /* providers that could not be asked / answered */
    char failures[512];             /* their reasons, "; "-separated */
};

int af_lookup_open(struct af_lookup **out, const struct af_config *cfg, af_err *err);
void af_lookup_close(struct af_lookup *lk);

/* "Artist - Title" -> artist and title (copied into the buffers); without " - " the
 * whole text is the title and the artist is "". */
void af_lookup_split(const char *text, char *artist, size_t artist_len, char *title,
                     size_t title_len);

/* Asks every configured provider.  A provider that fails is counted in
 * hits->providers_failed with its reason; the call fails only when every provider
 * failed. */
int af_lookup_search(struct af_lookup *lk, const struct af_lookup_query *q,
                     struct af_lookup_hits *hits, af_err *err);
void af_lookup_hits_free(struct af_lookup_hits *hits);

/* The first hit with a preview scoring at least [fetch] min_match_score, or -1. */
int af_lookup_best(const struct af_lookup *lk, const struct af_lookup_hits *hits);

/* Downloads the hit's preview into *data (malloc'd, *size bytes) and checks it as
 * af-fetch does (decodable audio of [fetch] min/max_preview_seconds); v receives
 * codec, duration, ... .  Fails naming the provider and what was wrong. */
int af_lookup_preview(struct af_lookup *lk, const struct af_lookup_hit *hit, char **data,
                      size_t *size, struct af_verify_item *v, af_err *err);

#endif
