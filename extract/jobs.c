/* jobs.c — claiming tracks, loading their audio and storing results; see jobs.h. */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_store.h"
#include "db.h"
#include "log.h"
#include "pgcopy.h"

/* Claims stuck with a dead worker max_attempts times are given up on. */
static const char give_up_sql[] =
    "UPDATE extraction_jobs SET status = 'failed', lease_expires_at = NULL, updated_at = now(),"
    " error = format('gave up after %s attempts: %s', attempts,"
    "                coalesce(error, 'the worker processing it stopped each time'))"
    " WHERE feature_set_id = $1 AND status = 'running' AND attempts >= $2"
    " AND (lease_expires_at < now()"
    "      OR EXISTS (SELECT 1 FROM runs r WHERE r.run_id = extraction_jobs.run_id AND r.status = 'crashed'))"
    " RETURNING track_id";

/* New tracks, expired claims or claims of a crashed run (lib/run.h: its process is
 * gone, so waiting for the lease only idles the track), and (with $6) tracks that failed before this run (once:
 * a retried track that fails again is not claimed again by the same run); SKIP LOCKED keeps concurrent
 * claimers apart, and the ON CONFLICT condition re-checks a row another worker may have
 * claimed since this statement's snapshot. */
static const char claim_sql[] =
    "WITH locked AS ("
    "  SELECT ta.track_id, ta.sha256 FROM track_audio ta"
    "  JOIN audio a0 ON a0.sha256 = ta.sha256 AND a0.stored <> 'none'" /* dropped: nothing to read */
    "  LEFT JOIN extraction_jobs j ON j.track_id = ta.track_id AND j.feature_set_id = $1"
    "  WHERE j.track_id IS NULL"
    "     OR (j.status = 'running' AND (j.lease_expires_at < now()"
    "         OR EXISTS (SELECT 1 FROM runs r WHERE r.run_id = j.run_id AND r.status = 'crashed')))"
    "     OR ($6::boolean AND j.status = 'failed' AND j.run_id IS DISTINCT FROM $3)"
    "  ORDER BY ta.track_id LIMIT $5"
    "  FOR UPDATE OF ta SKIP LOCKED),"
    /* $7 bounds the batch's audio bytes (the first track always goes in): a worker's
     * memory must not grow with the batch times the files' size. */
    " candidates AS ("
    "  SELECT track_id FROM ("
    "   SELECT l.track_id, a.size_bytes,"
    "          sum(a.size_bytes::bigint) OVER (ORDER BY l.track_id) AS through"
    "   FROM locked l JOIN audio a ON a.sha256 = l.sha256) s"
    "  WHERE through <= $7::bigint OR through = size_bytes)"
    " INSERT INTO extraction_jobs AS j"
    "  (track_id, feature_set_id, status, worker, lease_expires_at, attempts, run_id)"
    " SELECT track_id, $1, 'running', $2, now() + make_interval(secs => $4), 1, $3"
    " FROM candidates"
    " ON CONFLICT (track_id, feature_set_id) DO UPDATE SET"
    "  status = 'running', worker = EXCLUDED.worker, lease_expires_at = EXCLUDED.lease_expires_at,"
    "  attempts = CASE WHEN j.status = 'failed' THEN 1 ELSE j.attempts + 1 END,"
    "  run_id = EXCLUDED.run_id, error = NULL, updated_at = now()"
    " WHERE (j.status = 'running' AND (j.lease_expires_at < now()"
    "        OR EXISTS (SELECT 1 FROM runs r WHERE r.run_id = j.run_id AND r.status = 'crashed')))"
    "    OR ($6::boolean AND j.status = 'failed' AND j.run_id IS DISTINCT FROM $3)"
    " RETURNING track_id";

static const char audio_size_sql[] =
    "SELECT octet_length(a.bytes), a.stored, encode(a.sha256, 'hex'), ta.origin, ta.origin_ref"
    " FROM track_audio ta JOIN audio a ON a.sha256 = ta.sha256 WHERE ta.track_id = $1";
static const char audio_chunk_sql[] =
    "SELECT substring(a.bytes FROM $2::int FOR $3::int) FROM track_audio ta"
    " JOIN audio a ON a.sha256 = ta.sha256 WHERE ta.track_id = $1";

/* Audio is read in pieces of this size: libpq holds a whole message in its input
 * buffer and again in the result, so one 200 MB value would cost 400 MB more. */
#define AUDIO_CHUNK_BYTES (8 << 20)

int af_jobs_session_init(PGconn *conn, af_err *err)
{
    /* Safe: a batch's features and job rows commit together, so a commit lost in a
     * crash only means the batch is claimed and computed again (see jobs.h). */
    return af_db_command(conn, "SET synchronous_commit = off", 0, NULL, err);
}

void af_job_batch_free(struct af_job_batch *batch)
{
    for (size_t i = 0; i < batch->count; i++) {
        af_job_release_audio(&batch->jobs[i]);
        af_analysis_free(&batch->jobs[i].analysis);
        free(batch->jobs[i].source);
    }
    free(batch->jobs);
    batch->jobs = NULL;
    batch->count = 0;
}

/* "{1,2,3}" from the track ids of jobs [0, count) that pass the filter (NULL = all). */
static char *id_array(const struct af_job_batch *batch, int only_ok)
{
    char *out = malloc(batch->count * 21 + 3), *w = out;
    if (!out)
        return NULL;
    *w++ = '{';
    int first = 1;
    for (size_t i = 0; i < batch->count; i++) {
        if (only_ok && !batch->jobs[i].ok)
            continue;
        w += sprintf(w, "%s%lld", first ? "" : ",", batch->jobs[i].track_id);
        first = 0;
    }
    *w++ = '}';
    *w = '\0';
    return out;
}

/* Where a track's audio came from (track_audio.origin and origin_ref of row 0), so that a
 * failure's log line leads to the file: its path for a folder, else "<provider> <its
 * track id>", or the origin alone.  NULL when out of memory (the line then has none). */
static char *audio_source(const PGresult *res)
{
    const char *origin = PQgetvalue(res, 0, 3), *ref = PQgetvalue(res, 0, 4);
    if (PQgetisnull(res, 0, 4) || !ref[0])
        return strdup(origin);
    if (strcmp(origin, "folder") == 0)
        return strdup(ref);
    size_t len = strlen(origin) + strlen(ref) + 2;
    char *source = malloc(len);
    if (source)
        snprintf(source, len, "%s %s", origin, ref);
    return source;
}

/* The size of a track's bytes in the database; -1 when it has none there. When they
 * are in the directory store, digest gets their sha256 and *in_directory is set.
 * job->source gets where they came from. */
static long long query_size(PGconn *conn, struct af_job *job, const char *id,
                            unsigned char digest[32], int *in_directory, af_err *err)
{
    const char *params[] = {id};
    PGresult *res = af_db_query(conn, audio_size_sql, 1, params, err);
    if (!res)
        return -2;
    if (PQntuples(res) == 1)
        job->source = audio_source(res);
    *in_directory = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "directory") == 0;
    long long size = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? atoll(PQgetvalue(res, 0, 0)) : -1;
    for (int i = 0; *in_directory && i < 32; i++)
        sscanf(PQgetvalue(res, 0, 2) + 2 * i, "%2hhx", &digest[i]);
    PQclear(res);
    return size;
}

/* One track's bytes into one buffer of their size, a chunk per query. */
static int load_one(PGconn *conn, struct af_job *job, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", job->track_id);
    unsigned char digest[32];
    int in_directory;
    long long size = query_size(conn, job, id, digest, &in_directory, err);
    if (size < -1)
        return -1;
    if (in_directory) { /* [audio] store = directory (lib/audio_store.h) */
        af_err why = {0};
        if (af_audio_store_read_file(digest, &job->audio, &job->audio_size, &why) != 0)
            log_warn("track %lld: %s", job->track_id, why.msg); /* fails as undecodable */
        return 0;
    }
    if (size < 0) /* the track lost its audio since the claim: decodes as empty */
        return 0;
    unsigned char *bytes = malloc(size ? (size_t)size : 1);
    if (!bytes)
        return af_err_set(err, "out of memory loading audio of track %lld (%lld bytes)",
                          job->track_id, size);
    for (long long at = 0; at < size; at += AUDIO_CHUNK_BYTES) {
        char from[24], count[24];
        snprintf(from, sizeof from, "%lld", at + 1);
        snprintf(count, sizeof count, "%d", AUDIO_CHUNK_BYTES);
        const char *params[] = {id, from, count};
        PGresult *res = af_db_query_binary(conn, audio_chunk_sql, 3, params, NULL, NULL, 1, err);
        if (!res) {
            free(bytes);
            return -1;
        }
        size_t got = PQntuples(res) == 1 ? (size_t)PQgetlength(res, 0, 0) : 0;
        size_t want = (size_t)(size - at < AUDIO_CHUNK_BYTES ? size - at : AUDIO_CHUNK_BYTES);
        if (got == want)
            memcpy(bytes + at, PQgetvalue(res, 0, 0), got);
        PQclear(res);
        if (got != want) {
            free(bytes);
            return af_err_set(err, "audio of track %lld changed while it was read", job->track_id);
        }
    }
    job->audio = bytes;
    job->audio_size = (size_t)size;
    return 0;
}

void af_job_release_audio(struct af_job *job)
{
    free(job->audio);
    job->audio = NULL;
}

static int load_audio(PGconn *conn, struct af_job_batch *batch, af_err *err)
{
    for (size_t i = 0; i < batch->count; i++)
        if (load_one(conn, &batch->jobs[i], err) != 0)
            return -1;
    return 0;
}

int af_jobs_claim(PGconn *conn, const struct af_claim_options *opts, struct af_job_batch *batch,
                  af_err *err)
{
    memset(batch, 0, sizeof *batch);
    char fs[16], run[24], lease[16], limit[24], attempts[16];
    snprintf(fs, sizeof fs, "%d", opts->feature_set_id);
    snprintf(run, sizeof run, "%lld", opts->run_id);
    snprintf(lease, sizeof lease, "%d", opts->lease_seconds);
    snprintf(limit, sizeof limit, "%zu", opts->batch_size);
    snprintf(attempts, sizeof attempts, "%d", opts->max_attempts);
    const char *give_up[] = {fs, attempts};
    PGresult *gave_up = af_db_query(conn, give_up_sql, 2, give_up, err);
    if (!gave_up)
        return -1;
    batch->given_up = (size_t)PQntuples(gave_up);
    if (batch->given_up)
        log_warn("gave up on %zu track(s) after %d attempts each (the worker processing them "
                 "stopped every time; first: track %s): marked failed, see af-db status",
                 batch->given_up, opts->max_attempts, PQgetvalue(gave_up, 0, 0));
    PQclear(gave_up);
    char bytes[24];
    snprintf(bytes, sizeof bytes, "%lld", opts->batch_bytes);
    const char *params[] = {fs, opts->worker, run, lease, limit, opts->retry_failed ? "t" : "f", bytes};
    PGresult *res = af_db_query(conn, claim_sql, 7, params, err);
    if (!res)
        return -1;
    int n = PQntuples(res);
    batch->jobs = calloc(n ? (size_t)n : 1, sizeof *batch->jobs);
    if (!batch->jobs) {
        PQclear(res);
        return af_err_set(err, "out of memory");
    }
    for (int row = 0; row < n; row++)
        batch->jobs[row].track_id = atoll(PQgetvalue(res, row, 0));
    batch->count = (size_t)n;
    PQclear(res);
    if (n && load_audio(conn, batch, err) != 0) {
        af_job_batch_free(batch); /* the claims stay: released or expired like a crash */
        return -1;
    }
    return 0;
}

/* Marks the jobs this worker still holds as done; returns their ids as a text[] literal
 * through owned (NULL when none). */
static int mark_done(PGconn *conn, const char *const *base, const struct af_job_batch *batch,
                     char **owned, af_err *err)
{
    *owned = NULL;
    char *ok_ids = id_array(batch, 1);
    const char *params[] = {base[0], base[1], base[2], ok_ids};
    PGresult *res = af_db_query(
        conn,
        "WITH done AS (UPDATE extraction_jobs SET status = 'done', lease_expires_at = NULL,"
        "  error = NULL, updated_at = now(), run_id = $3"
        "  WHERE feature_set_id = $1 AND worker = $2 AND status = 'running'"
        "  AND track_id = ANY($4::bigint[]) RETURNING track_id)"
        " SELECT coalesce(array_agg(track_id), '{}')::text FROM done",
        4, params, err);
    free(ok_ids);
    if (!res)
        return -1;
    *owned = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *owned ? 0 : af_err_set(err, "out of memory");
}

static int track_is_owned(long long id, const char *owned)
{
    char needle[32];
    const char *p = owned;
    int len = snprintf(needle, sizeof needle, "%lld", id);
    while ((p = strstr(p, needle)) != NULL) {
        int starts = p == owned || p[-1] == '{' || p[-1] == ',';
        int ends = p[len] == ',' || p[len] == '}';
        if (starts && ends)
            return 1;
        p += len;
    }
    return 0;
}

static int copy_features(PGconn *conn, const struct af_claim_options *opts,
                         const struct af_job_batch *batch, const char *owned, size_t *stored,
                         af_err *err)
{
    struct af_pgcopy windows, tracks;
    af_pgcopy_init(&windows);
    af_pgcopy_init(&tracks);
    *stored = 0;
    for (size_t i = 0; i < batch->count; i++) {
        const struct af_job *job = &batch->jobs[i];
        if (!job->ok || !track_is_owned(job->track_id, owned))
            continue;
        const struct af_analysis *a = &job->analysis;
        for (size_t w = 0; w < a->windows.rows; w++) {
            af_pgcopy_row(&windows, 5);
            af_pgcopy_int8(&windows, job->track_id);
            af_pgcopy_int4(&windows, opts->feature_set_id);
            af_pgcopy_int4(&windows, (int32_t)w);
            af_pgcopy_float4(&windows, (float)(w * opts->hop_seconds));
            af_pgcopy_float4_array(&windows, a->windows.data + w * AF_N_FEATURES, AF_N_FEATURES);
        }
        af_pgcopy_row(&tracks, 7);
        af_pgcopy_int8(&tracks, job->track_id);
        af_pgcopy_int4(&tracks, opts->feature_set_id);
        af_pgcopy_float4(&tracks, (float)a->excerpt_start);
        af_pgcopy_float4(&tracks, (float)a->excerpt_seconds);
        af_pgcopy_int4(&tracks, (int32_t)a->windows.rows);
        af_pgcopy_float4_array(&tracks, a->track, AF_N_FEATURES);
        af_pgcopy_int8(&tracks, opts->run_id);
        (*stored)++;
    }
    af_pgcopy_finish(&windows);
    af_pgcopy_finish(&tracks);
    int rc = -1;
    if (windows.failed || tracks.failed)
        af_err_set(err, "out of memory encoding features");
    else if (af_db_copy_begin(conn,
                              "COPY track_features (track_id, feature_set_id, excerpt_start,"
                              " excerpt_seconds, n_windows, feature_values, run_id)"
                              " FROM STDIN (FORMAT binary)",
                              err) == 0 &&
             af_db_copy_put(conn, (const char *)tracks.data, tracks.len, err) == 0 &&
             af_db_copy_end(conn, err) == 0 &&
             af_db_copy_begin(conn,
                              "COPY window_features (track_id, feature_set_id, window_index,"
                              " start_seconds, feature_values) FROM STDIN (FORMAT binary)",
                              err) == 0 &&
             af_db_copy_put(conn, (const char *)windows.data, windows.len, err) == 0 &&
             af_db_copy_end(conn, err) == 0)
        rc = 0;
    af_pgcopy_free(&windows);
    af_pgcopy_free(&tracks);
    return rc;
}

static int mark_failed(PGconn *conn, const char *const *base, const struct af_job *job,
                       af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", job->track_id);
    const char *params[] = {base[0], base[1], base[2], id, job->error};
    return af_db_command(conn,
                         "UPDATE extraction_jobs SET status = 'failed', error = $5,"
                         " lease_expires_at = NULL, updated_at = now(), run_id = $3"
                         " WHERE feature_set_id = $1 AND worker = $2 AND status = 'running'"
                         " AND track_id = $4",
                         5, params, err);
}

static int store_in_transaction(PGconn *conn, const struct af_claim_options *opts,
                                const struct af_job_batch *batch, size_t *stored, af_err *err)
{
    char fs[16], run[24];
    snprintf(fs, sizeof fs, "%d", opts->feature_set_id);
    snprintf(run, sizeof run, "%lld", opts->run_id);
    const char *base[] = {fs, opts->worker, run};
    char *owned = NULL;
    if (mark_done(conn, base, batch, &owned, err) != 0)
        return -1;
    const char *params[] = {fs, owned};
    int rc = af_db_command(conn,
                           "DELETE FROM window_features WHERE feature_set_id = $1"
                           " AND track_id = ANY($2::bigint[])",
                           2, params, err);
    if (rc == 0)
        rc = af_db_command(conn,
                           "DELETE FROM track_features WHERE feature_set_id = $1"
                           " AND track_id = ANY($2::bigint[])",
                           2, params, err);
    if (rc == 0)
        rc = copy_features(conn, opts, batch, owned, stored, err);
    if (rc == 0) /* [audio] store = none: the bytes are not kept once features are */
        rc = af_audio_store_after_features(conn, fs, owned, err);
    free(owned);
    for (size_t i = 0; rc == 0 && i < batch->count; i++)
        if (!batch->jobs[i].ok)
            rc = mark_failed(conn, base, &batch->jobs[i], err);
    return rc;
}

int af_jobs_store(PGconn *conn, const struct af_claim_options *opts,
                  const struct af_job_batch *batch, size_t *stored, af_err *err)
{
    if (af_db_begin(conn, err) != 0)
        return -1;
    if (store_in_transaction(conn, opts, batch, stored, err) != 0 || af_db_commit(conn, err) != 0) {
        af_db_rollback(conn);
        return -1;
    }
    return 0;
}

int af_jobs_release(PGconn *conn, const struct af_claim_options *opts,
                    const struct af_job_batch *batch, const char *why, af_err *err)
{
    char fs[16];
    snprintf(fs, sizeof fs, "%d", opts->feature_set_id);
    char *ids = id_array(batch, 0);
    const char *params[] = {fs, opts->worker, ids, why};
    int rc = af_db_command(conn,
                           "UPDATE extraction_jobs SET lease_expires_at = now(), updated_at = now(),"
                           " error = $4"
                           " WHERE feature_set_id = $1 AND worker = $2 AND status = 'running'"
                           " AND track_id = ANY($3::bigint[])",
                           4, params, err);
    free(ids);
    return rc;
}
