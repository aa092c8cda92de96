/*
 * jobs.h — how af-extract workers share the work through the database.
 *
 * A worker claims a batch of tracks that have audio and no features for the
 * feature set yet (FOR UPDATE SKIP LOCKED, so concurrent workers on any host
 * never claim the same track), holding each for a lease.  A worker that dies
 * leaves its claims to expire; the next worker to claim takes them over, up to
 * max_attempts, after which the track is marked failed.  Results are written in
 * one transaction per batch — features with binary COPY and the job rows set
 * to done or failed — and only for claims the worker still holds, so a
 * worker whose lease was taken over never writes twice.
 *
 * Durability: af_jobs_session_init turns synchronous_commit off for the
 * worker's session.  That is safe here because a batch's features and its job
 * rows commit atomically: a commit lost in a server crash loses both, and the
 * tracks are claimed and computed again once their lease expires.  It saves
 * the WAL flush wait of every batch commit.
 */
#ifndef AF_EXTRACT_JOBS_H
#define AF_EXTRACT_JOBS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "analysis.h"
#include "error.h"

struct af_job {
    long long track_id;
    unsigned char *audio; /* the stored bytes (owned: af_job_release_audio) */
    size_t audio_size;
    char *source; /* where the audio came from, for log lines: a file's path, "deezer
                     <id>", ...; NULL when unknown (owned: af_job_batch_free) */
    /* filled by the worker thread */
    int ok;
    struct af_analysis analysis;
    char error[AF_ERR_MAX + 32]; /* "<failure name>: <message>" */
};

struct af_job_batch {
    struct af_job *jobs;
    size_t count;
    size_t given_up; /* claims this claim gave up on (max_attempts): failures of the run */
};

struct af_claim_options {
    int feature_set_id;
    const char *worker;   /* host:pid */
    long long run_id;
    int lease_seconds;
    int max_attempts;
    bool retry_failed;    /* also claim tracks that failed before */
    size_t batch_size;
    long long batch_bytes; /* stored audio bytes per batch (one larger track goes alone) */
    double hop_seconds;   /* window hop, for window start times */
};

/* Frees a job's audio bytes (once analysed, they are not needed any more). */
void af_job_release_audio(struct af_job *job);

/* Prepares the worker's session: synchronous_commit = off (see above). */
int af_jobs_session_init(PGconn *conn, af_err *err);

/* Claims up to opts->batch_size tracks and loads their audio. An empty batch means
 * no work is left. Tracks whose lease expired max_attempts times are marked failed here. */
int af_jobs_claim(PGconn *conn, const struct af_claim_options *opts, struct af_job_batch *batch,
                  af_err *err);

/* Writes every job's outcome in one transaction; returns the number of jobs whose
 * claim was still held (others are skipped: another worker owns them now). */
int af_jobs_store(PGconn *conn, const struct af_claim_options *opts,
                  const struct af_job_batch *batch, size_t *stored, af_err *err);

/* Gives the batch's claims back at once (their lease ends now) after a failed write,
 * noting why: the next claim takes them again, counting an attempt, until max_attempts. */
int af_jobs_release(PGconn *conn, const struct af_claim_options *opts,
                    const struct af_job_batch *batch, const char *why, af_err *err);

void af_job_batch_free(struct af_job_batch *batch);

#endif
