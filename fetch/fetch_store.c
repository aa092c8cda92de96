/* fetch_store.c — af-fetch's claims, pauses and results in PostgreSQL; see fetch_store.h. */
#include "fetch_store.h"

#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "audio_store.h"
#include "db.h"

#define LATEST_TAXONOMY "(SELECT max(taxonomy_version) FROM taxonomy_versions)"

/* The work: labelled, selected tracks of the latest taxonomy without audio and
 * without an outcome that is final or not yet due for a re-check. */
#define TODO_WHERE                                                                               \
    " l.taxonomy_version = " LATEST_TAXONOMY " AND l.status = 'labelled' AND l.selected"         \
    " AND NOT EXISTS (SELECT 1 FROM track_audio a WHERE a.track_id = t.track_id)"                \
    " AND NOT EXISTS (SELECT 1 FROM fetch_outcomes o WHERE o.track_id = t.track_id"              \
    "   AND (o.recheck_after IS NULL OR o.recheck_after > now()))"                               \
    " AND NOT EXISTS (SELECT 1 FROM fetch_claims c WHERE c.track_id = t.track_id"                \
    "   AND c.lease_expires_at > now())"

void af_fetch_track_clear(struct af_fetch_track *track)
{
    free(track->artist);
    free(track->title);
    free(track->isrc);
    memset(track, 0, sizeof *track);
}

static double wall_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

int af_fetch_result_add_attempt(struct af_fetch_result *r, const char *provider,
                                const char *outcome, int http_status, const char *detail)
{
    if (r->n_attempts == r->cap_attempts) {
        int cap = r->cap_attempts ? r->cap_attempts * 2 : 4;
        struct af_fetch_attempt *grown = realloc(r->attempts, (size_t)cap * sizeof *grown);
        if (!grown)
            return -1;
        r->attempts = grown;
        r->cap_attempts = cap;
    }
    struct af_fetch_attempt *a = &r->attempts[r->n_attempts++];
    a->provider = provider;
    a->outcome = outcome;
    a->http_status = http_status;
    a->detail = detail && *detail ? strdup(detail) : NULL;
    a->at = wall_now();
    return 0;
}

int af_fetch_result_set_outcome(struct af_fetch_result *r, const char *provider,
                                const char *outcome, double score, const char *ref,
                                const char *detail, double recheck_seconds)
{
    struct af_fetch_outcome *o = NULL;
    for (int i = 0; i < r->n_outcomes; i++)
        if (strcmp(r->outcomes[i].provider, provider) == 0)
            o = &r->outcomes[i];
    if (!o) {
        if (r->n_outcomes == r->cap_outcomes) {
            int cap = r->cap_outcomes ? r->cap_outcomes * 2 : 4;
            struct af_fetch_outcome *grown = realloc(r->outcomes, (size_t)cap * sizeof *grown);
            if (!grown)
                return -1;
            r->outcomes = grown;
            r->cap_outcomes = cap;
        }
        o = &r->outcomes[r->n_outcomes++];
    } else {
        free(o->detail);
    }
    o->provider = provider;
    o->outcome = outcome;
    o->score = score;
    snprintf(o->ref, sizeof o->ref, "%s", ref ? ref : "");
    o->detail = detail && *detail ? strdup(detail) : NULL;
    o->recheck_seconds = recheck_seconds;
    return 0;
}

void af_fetch_result_clear(struct af_fetch_result *r)
{
    for (int i = 0; i < r->n_attempts; i++)
        free(r->attempts[i].detail);
    for (int i = 0; i < r->n_outcomes; i++)
        free(r->outcomes[i].detail);
    free(r->attempts);
    free(r->outcomes);
    free(r->bytes);
    memset(r, 0, sizeof *r);
}

int af_fetch_count_todo(PGconn *db, long long *count, af_err *err)
{
    PGresult *res = af_db_query(db,
                                "SELECT count(*) FROM tracks t JOIN track_labels l USING (track_id)"
                                " WHERE" TODO_WHERE,
                                0, NULL, err);
    if (!res)
        return af_err_prefix(err, "counting tracks to fetch: ");
    *count = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int af_fetch_claim(PGconn *db, const char *worker, long long run_id, int lease_seconds, int max,
                   long long after_id, struct af_fetch_track **tracks, int *n, af_err *err)
{
    *tracks = NULL;
    *n = 0;
    char lease[16], limit[16], run[24], after[24];
    snprintf(lease, sizeof lease, "%d", lease_seconds);
    snprintf(limit, sizeof limit, "%d", max);
    snprintf(run, sizeof run, "%lld", run_id);
    snprintf(after, sizeof after, "%lld", after_id);
    const char *params[] = {worker, lease, limit, run, after};
    /* A claim whose lease is still running is never overwritten: ON CONFLICT's WHERE
     * settles the race between two processes that both saw the track as free. */
    PGresult *res = af_db_query(
        db,
        "WITH todo AS ("
        "  SELECT t.track_id FROM tracks t JOIN track_labels l USING (track_id)"
        "  WHERE t.track_id > $5::bigint AND" TODO_WHERE
        "  ORDER BY t.track_id LIMIT $3::int FOR UPDATE OF t SKIP LOCKED),"
        " claimed AS ("
        "  INSERT INTO fetch_claims (track_id, worker, lease_expires_at, run_id)"
        "  SELECT track_id, $1, now() + make_interval(secs => $2::int), $4::bigint FROM todo"
        "  ON CONFLICT (track_id) DO UPDATE SET worker = EXCLUDED.worker,"
        "   lease_expires_at = EXCLUDED.lease_expires_at, run_id = EXCLUDED.run_id"
        "   WHERE fetch_claims.lease_expires_at <= now()"
        "  RETURNING track_id)"
        " SELECT t.track_id, coalesce(t.artist, ''), coalesce(t.title, ''), t.isrc,"
        "  coalesce(t.duration_seconds, 0) FROM tracks t JOIN claimed USING (track_id)"
        " ORDER BY t.track_id",
        5, params, err);
    if (!res)
        return af_err_prefix(err, "claiming tracks to fetch: ");
    int rows = PQntuples(res);
    if (rows > 0) {
        *tracks = calloc((size_t)rows, sizeof **tracks);
        if (!*tracks) {
            PQclear(res);
            return af_err_set(err, "claiming tracks to fetch: out of memory");
        }
    }
    for (int i = 0; i < rows; i++) {
        struct af_fetch_track *t = &(*tracks)[i];
        t->track_id = atoll(PQgetvalue(res, i, 0));
        t->artist = strdup(PQgetvalue(res, i, 1));
        t->title = strdup(PQgetvalue(res, i, 2));
        t->isrc = PQgetisnull(res, i, 3) || !*PQgetvalue(res, i, 3) ? NULL
                                                                     : strdup(PQgetvalue(res, i, 3));
        t->duration = atof(PQgetvalue(res, i, 4));
    }
    *n = rows;
    PQclear(res);
    return 0;
}

int af_fetch_renew_claims(PGconn *db, const char *worker, int lease_seconds, af_err *err)
{
    char lease[16];
    snprintf(lease, sizeof lease, "%d", lease_seconds);
    const char *params[] = {worker, lease};
    if (af_db_command(db,
                      "UPDATE fetch_claims SET lease_expires_at = now() + make_interval(secs =>"
                      " $2::int) WHERE worker = $1",
                      2, params, err) != 0)
        return af_err_prefix(err, "renewing claims: ");
    return 0;
}

int af_fetch_pause_left(PGconn *db, const char *provider, double *seconds, char *reason,
                        size_t reason_len, af_err *err)
{
    const char *params[] = {provider};
    PGresult *res = af_db_query(db,
                                "SELECT extract(epoch FROM paused_until - now()),"
                                " coalesce(reason, '') FROM fetch_provider_pauses"
                                " WHERE provider = $1 AND paused_until > now()",
                                1, params, err);
    if (!res)
        return af_err_prefix(err, "reading provider pauses: ");
    *seconds = 0;
    if (reason_len)
        reason[0] = '\0';
    if (PQntuples(res) == 1) {
        *seconds = atof(PQgetvalue(res, 0, 0));
        snprintf(reason, reason_len, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return 0;
}

int af_fetch_save_pause(PGconn *db, const char *provider, double seconds, const char *reason,
                        long long run_id, af_err *err)
{
    char secs[32], run[24];
    snprintf(secs, sizeof secs, "%.3f", seconds);
    snprintf(run, sizeof run, "%lld", run_id);
    const char *params[] = {provider, secs, reason, run};
    if (af_db_command(db,
                      "INSERT INTO fetch_provider_pauses (provider, paused_until, reason, run_id)"
                      " VALUES ($1, now() + make_interval(secs => $2::float8), $3, $4::bigint)"
                      " ON CONFLICT (provider) DO UPDATE SET paused_until ="
                      " greatest(fetch_provider_pauses.paused_until, EXCLUDED.paused_until),"
                      " reason = EXCLUDED.reason, run_id = EXCLUDED.run_id, updated_at = now()",
                      4, params, err) != 0)
        return af_err_prefix(err, "recording a pause of %s: ", provider);
    return 0;
}

static void sha256(const unsigned char *data, size_t size, unsigned char digest[32])
{
    struct AVSHA *ctx = av_sha_alloc();
    av_sha_init(ctx, 256);
    while (size > 0) { /* av_sha_update takes an unsigned int length in older FFmpeg */
        size_t chunk = size > (1u << 30) ? (1u << 30) : size;
        av_sha_update(ctx, data, (unsigned)chunk);
        data += chunk;
        size -= chunk;
    }
    av_sha_final(ctx, digest);
    av_free(ctx);
}

static int save_audio(PGconn *db, const char *run, const struct af_fetch_result *r, int *reused,
                      af_err *err)
{
    unsigned char digest[32];
    sha256(r->bytes, r->size, digest);
    char track[24];
    snprintf(track, sizeof track, "%lld", r->track_id);
    /* Where the bytes go is [audio] store's business (lib/audio_store.h). */
    const struct af_audio_meta meta = {r->codec, r->sample_rate, r->channels, r->duration};
    int inserted;
    if (af_audio_store_insert(db, digest, r->bytes, r->size, &meta, &inserted, err) != 0)
        return -1;
    if (!inserted)
        (*reused)++;
    PGresult *res;
    const char *link[] = {track, (const char *)digest, r->origin, r->origin_ref, run};
    const int link_lengths[] = {0, 32, 0, 0, 0};
    const int link_formats[] = {0, 1, 0, 0, 0};
    res = af_db_query_binary(db,
                             "INSERT INTO track_audio (track_id, sha256, origin, origin_ref,"
                             " run_id) VALUES ($1::bigint, $2, $3, nullif($4, ''), $5::bigint)"
                             " ON CONFLICT (track_id) DO NOTHING",
                             5, link, link_lengths, link_formats, 0, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static int save_one(PGconn *db, const char *worker, const char *run,
                    const struct af_fetch_result *r, int *reused, af_err *err)
{
    char track[24];
    snprintf(track, sizeof track, "%lld", r->track_id);
    for (int i = 0; i < r->n_attempts; i++) {
        const struct af_fetch_attempt *a = &r->attempts[i];
        char status[16], at[32];
        snprintf(status, sizeof status, "%d", a->http_status);
        snprintf(at, sizeof at, "%.6f", a->at);
        const char *params[] = {track, a->provider, a->outcome, a->http_status ? status : NULL,
                                a->detail, run, at};
        if (af_db_command(db,
                          "INSERT INTO fetch_attempts (track_id, provider, outcome, http_status,"
                          " detail, run_id, attempted_at) VALUES ($1::bigint, $2, $3, $4::int,"
                          " $5, $6::bigint, to_timestamp($7::float8))",
                          7, params, err) != 0)
            return -1;
    }
    for (int i = 0; i < r->n_outcomes; i++) {
        const struct af_fetch_outcome *o = &r->outcomes[i];
        char score[32], recheck[32];
        snprintf(score, sizeof score, "%.4f", o->score);
        snprintf(recheck, sizeof recheck, "%.3f", o->recheck_seconds);
        const char *params[] = {track,
                                o->provider,
                                o->outcome,
                                o->score >= 0 ? score : NULL,
                                o->ref[0] ? o->ref : NULL,
                                o->detail,
                                o->recheck_seconds >= 0 ? recheck : NULL};
        if (af_db_command(
                db,
                "INSERT INTO fetch_outcomes (track_id, provider, outcome, match_score,"
                " provider_ref, detail, decided_at, recheck_after)"
                " VALUES ($1::bigint, $2, $3, $4::real, $5, $6, now(),"
                "  now() + make_interval(secs => $7::float8))"
                " ON CONFLICT (track_id, provider) DO UPDATE SET outcome = EXCLUDED.outcome,"
                "  match_score = EXCLUDED.match_score, provider_ref = EXCLUDED.provider_ref,"
                "  detail = EXCLUDED.detail, decided_at = EXCLUDED.decided_at,"
                "  recheck_after = EXCLUDED.recheck_after",
                7, params, err) != 0)
            return -1;
    }
    if (r->size > 0 && save_audio(db, run, r, reused, err) != 0)
        return -1;
    if (r->spotify_id[0] || r->deezer_id[0] || r->itunes_id[0] || r->isrc[0]) {
        const char *params[] = {track, r->spotify_id[0] ? r->spotify_id : NULL,
                                r->deezer_id[0] ? r->deezer_id : NULL,
                                r->itunes_id[0] ? r->itunes_id : NULL, r->isrc[0] ? r->isrc : NULL};
        if (af_db_command(db,
                          "UPDATE tracks SET spotify_id = coalesce($2, spotify_id),"
                          " deezer_id = coalesce($3::bigint, deezer_id),"
                          " itunes_id = coalesce($4::bigint, itunes_id),"
                          " isrc = coalesce(isrc, $5), updated_at = now()"
                          " WHERE track_id = $1::bigint",
                          5, params, err) != 0)
            return -1;
    }
    const char *params[] = {track, worker};
    return af_db_command(db, "DELETE FROM fetch_claims WHERE track_id = $1::bigint AND worker = $2",
                         2, params, err);
}

int af_fetch_save(PGconn *db, const char *worker, long long run_id,
                  struct af_fetch_result *const *results, int n, int *reused, af_err *err)
{
    if (n == 0)
        return 0;
    char run[24];
    snprintf(run, sizeof run, "%lld", run_id);
    if (af_db_begin(db, err) != 0)
        return af_err_prefix(err, "saving fetch results: ");
    for (int i = 0; i < n; i++) {
        if (save_one(db, worker, run, results[i], reused, err) != 0) {
            af_db_rollback(db);
            return af_err_prefix(err, "saving fetch results of track %lld: ",
                                 results[i]->track_id);
        }
    }
    if (af_db_commit(db, err) != 0) {
        af_db_rollback(db);
        return af_err_prefix(err, "saving fetch results: ");
    }
    return 0;
}
