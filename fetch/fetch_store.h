/*
 * fetch_store.h — af-fetch's database side: claiming labelled tracks that need
 * a preview (with a lease, FOR UPDATE SKIP LOCKED, so several processes can
 * share the work), provider pauses that outlive a run, and saving what was
 * learnt about a batch of tracks in one transaction: every attempt, the
 * outcome per provider with its re-check date, the audio (stored once per
 * sha256) and its link, and the provider ids on the track.
 */
#ifndef AF_FETCH_STORE_H
#define AF_FETCH_STORE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "error.h"

struct af_fetch_track {
    long long track_id;
    char *artist, *title, *isrc; /* isrc may be NULL */
    double duration;             /* seconds; 0 = unknown */
};

void af_fetch_track_clear(struct af_fetch_track *track);

struct af_fetch_attempt {
    const char *provider;
    const char *outcome;  /* searched, stored, no_preview, not_found, bad_audio, http_error, ... */
    int http_status;      /* 0 = none */
    char *detail;         /* may be NULL */
    double at;            /* wall-clock seconds since the epoch */
};

struct af_fetch_outcome {
    const char *provider;
    const char *outcome;
    double score;          /* < 0 = none */
    char ref[64];          /* provider's track id; "" = none */
    char *detail;
    double recheck_seconds; /* < 0 = final (recheck_after NULL) */
};

/* Everything to save about one track. */
struct af_fetch_result {
    long long track_id;
    struct af_fetch_attempt *attempts;
    int n_attempts, cap_attempts;
    struct af_fetch_outcome *outcomes;
    int n_outcomes, cap_outcomes;
    /* The preview stored, when size > 0. */
    unsigned char *bytes;
    size_t size;
    const char *origin; /* provider */
    char origin_ref[64];
    char codec[32];
    int sample_rate, channels;
    double duration;
    /* Provider ids and ISRC learnt ("" = nothing new). */
    char spotify_id[64], deezer_id[32], itunes_id[32], isrc[16];
    int release_only; /* nothing learnt: only give the claim back */
};

int af_fetch_result_add_attempt(struct af_fetch_result *r, const char *provider,
                                const char *outcome, int http_status, const char *detail);
/* Adds or replaces the outcome for provider. */
int af_fetch_result_set_outcome(struct af_fetch_result *r, const char *provider,
                                const char *outcome, double score, const char *ref,
                                const char *detail, double recheck_seconds);
void af_fetch_result_clear(struct af_fetch_result *r);

/* Labelled tracks (latest taxonomy, selected) without audio, claim and pending outcome. */
int af_fetch_count_todo(PGconn *db, long long *count, af_err *err);

/* Claims up to max such tracks with a track_id above after_id for worker with a lease;
 * *tracks is malloc'ed, in ascending track_id.  A run passes the highest id it has
 * claimed so far, so it walks the tracks once: a track whose outcome is due again at
 * once (a transient failure) waits for the next run instead of being re-claimed by
 * this one over and over. */
int af_fetch_claim(PGconn *db, const char *worker, long long run_id, int lease_seconds, int max,
                   long long after_id, struct af_fetch_track **tracks, int *n, af_err *err);
/* Extends the leases of all of worker's claims. */
int af_fetch_renew_claims(PGconn *db, const char *worker, int lease_seconds, af_err *err);

/* Pauses recorded by earlier runs that still hold: *seconds left, or 0 when none. */
int af_fetch_pause_left(PGconn *db, const char *provider, double *seconds, char *reason,
                        size_t reason_len, af_err *err);
int af_fetch_save_pause(PGconn *db, const char *provider, double seconds, const char *reason,
                        long long run_id, af_err *err);

/* Saves the results in one transaction and drops their claims. *reused counts audio
 * whose bytes were already stored (same sha256). */
int af_fetch_save(PGconn *db, const char *worker, long long run_id,
                  struct af_fetch_result *const *results, int n, int *reused, af_err *err);

#endif
