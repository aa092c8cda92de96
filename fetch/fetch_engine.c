/*
 * fetch_engine.c — af-fetch's work loop; see fetch_engine.h.
 *
 * Each claimed track is a job that walks the configured providers in order.
 * For one provider: search (paced by the provider's token bucket; by ISRC when
 * known, else artist and title), choose the best match, download its preview
 * at once (Deezer's URLs are signed and expire), decode it on the verify pool,
 * store it.  A provider that has nothing (no match, no preview, bad audio)
 * hands the job to the next one.  Transient failures (timeouts, 5xx, truncated
 * bodies) are retried with exponential backoff and jitter; throttling (429,
 * iTunes' 403, Deezer's error 4) pauses the provider, and a Retry-After longer
 * than fetch.max_retry_after_seconds stops it for the run and is recorded.
 *
 * Callbacks only record what happened and make the job ready again; the loop
 * in af_fetch_run starts every transfer, so nothing re-enters libcurl.
 * Results are saved in batches, one transaction each.
 */
#include "fetch_engine.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "fetch_config.h"
#include "fetch_match.h"
#include "fetch_providers.h"
#include "fetch_store.h"
#include "fetch_verify.h"
#include "http_multi.h"
#include "log.h"
#include "ratelimit.h"
#include "run.h"
#include "textkey.h"

struct provider {
    const char *name;
    enum af_fetch_provider kind;
    const char *api_url;
    struct af_rate_limiter rl;
    int stopped;           /* no more requests in this run */
    double resume_at;      /* monotonic time it may be asked again; 0 = not in this run */
    int pause_pending;     /* a pause to record in fetch_provider_pauses */
    double pause_seconds;
    char why[256];
    int throttles;         /* consecutive throttled answers */
    int failures;          /* consecutive transient failures (5xx, resets, bad JSON) */
    char last_failure[200];
};

enum phase { P_NEXT_PROVIDER, P_SEARCH, P_DOWNLOAD, P_DECODING, P_FINISHED };

struct engine;

struct job {
    struct engine *e;
    struct af_fetch_track track;
    struct af_fetch_result result;
    int pos; /* index into e->providers */
    enum phase phase;
    int busy; /* a transfer or a decode in flight */
    double ready_at;
    int retries, renewed, researched, isrc_failed, used_isrc, token_gen;
    int transient;           /* some provider could not give a definite answer */
    double transient_recheck; /* ... and may be asked again after this many seconds */
    char isrc_hint[16];
    char ref[64];
    char *preview_url;
    double score;
    struct af_http_response audio;
    struct af_verify_item verify;
};

enum auth_state { AUTH_NONE, AUTH_FETCHING, AUTH_OK };

struct engine {
    struct af_app *app;
    PGconn *db;
    struct af_run *run;
    /* configuration */
    struct af_fetch_settings set;
    int concurrency, lease_seconds, failure_limit;
    double throttle_pause, max_pause, recheck_seconds;
    struct provider providers[3];
    int n_providers;
    struct af_http_multi *http;
    struct af_verify_pool *verify;
    /* Spotify client credentials (from the environment only; never logged). */
    const char *client_id, *client_secret;
    enum auth_state auth;
    char token[1024];
    double token_expires, auth_retry_at;
    int token_gen, auth_failures, credentials_rejected;
    /* jobs */
    struct job **jobs;
    int n_jobs, window;
    struct af_fetch_result **finished;
    struct job **finished_jobs;
    int n_finished;
    long limit, claimed;
    long long claimed_up_to; /* highest track_id claimed: each track once per run */
    long long total, done, stored, no_preview, not_found, bad_audio, errors, failed;
    int exhausted;
    char worker[128];
    uint64_t seed;
};

/* ---- small helpers ---------------------------------------------------------------- */

static struct provider *job_provider(struct job *j) { return &j->e->providers[j->pos]; }

static void count(struct engine *e, const char *counter) { af_run_count(e->run, counter, 1); }

static void attempt(struct job *j, const char *outcome, int status, const char *detail)
{
    af_fetch_result_add_attempt(&j->result, job_provider(j)->name, outcome, status, detail);
}

/* The provider's last word on this track; counted once per track and provider. */
static void outcome(struct job *j, const char *what, double score, const char *ref,
                    const char *detail, double recheck)
{
    struct engine *e = j->e;
    af_fetch_result_set_outcome(&j->result, job_provider(j)->name, what, score, ref, detail,
                                recheck);
    count(e, what);
    if (strcmp(what, "no_preview") == 0)
        e->no_preview++;
    else if (strcmp(what, "not_found") == 0)
        e->not_found++;
    else if (strcmp(what, "bad_audio") == 0)
        e->bad_audio++;
    else if (strcmp(what, "stored") != 0)
        e->errors++;
}

static void mark_transient(struct job *j, double recheck)
{
    if (!j->transient || recheck < j->transient_recheck)
        j->transient_recheck = recheck < 0 ? 0 : recheck;
    j->transient = 1;
}

static void next_provider(struct job *j, double now)
{
    free(j->preview_url);
    j->preview_url = NULL;
    af_http_response_free(&j->audio);
    j->pos++;
    j->phase = P_NEXT_PROVIDER;
    j->ready_at = now;
}

static void learn_id(struct job *j, const char *id)
{
    struct af_fetch_result *r = &j->result;
    switch (job_provider(j)->kind) {
    case AF_FETCH_SPOTIFY:
        snprintf(r->spotify_id, sizeof r->spotify_id, "%s", id);
        break;
    case AF_FETCH_DEEZER:
        snprintf(r->deezer_id, sizeof r->deezer_id, "%s", id);
        break;
    case AF_FETCH_ITUNES:
        snprintf(r->itunes_id, sizeof r->itunes_id, "%s", id);
        break;
    }
}

/* A pause a provider asked for (Retry-After, possibly a date decades away), capped at
 * [fetch] max_provider_pause_seconds so that one header cannot disable a provider for
 * good; the cap is logged. */
static double capped_pause(struct engine *e, struct provider *p, double pause)
{
    if (pause <= e->max_pause)
        return pause;
    log_warn("%s: asked to pause for %.0f s; capped to %.0f s ([fetch] max_provider_pause_seconds)",
             p->name, pause, e->max_pause);
    return e->max_pause;
}

/* Stops a provider for the rest of the run.  pause_seconds > 0 is recorded for later
 * runs.  transient: the tracks it is not asked about stay due (at the next run, or when
 * the pause ends); otherwise (no credentials) skipping it is final for the run's tracks. */
static void stop_provider(struct engine *e, struct provider *p, double pause_seconds,
                          int transient, const char *why)
{
    if (p->stopped && (pause_seconds <= p->pause_seconds || p->resume_at == 0))
        return; /* a longer pause asked for later in the run is still recorded */
    p->stopped = 1;
    snprintf(p->why, sizeof p->why, "%s", why);
    if (pause_seconds > 0) {
        pause_seconds = capped_pause(e, p, pause_seconds);
        p->pause_pending = 1;
        p->pause_seconds = pause_seconds;
        log_warn("%s: %s; no more requests to it in this run (resume in %.0f s)", p->name, why,
                 pause_seconds);
    } else {
        log_warn("%s: %s; not asked in this run", p->name, why);
    }
    if (transient)
        p->resume_at = af_monotonic_seconds() + (pause_seconds > 0 ? pause_seconds : 0);
    count(e, "providers_stopped");
}

/* A provider answered properly: it is not failing. */
static void provider_ok(struct provider *p)
{
    p->failures = 0;
    p->throttles = 0;
}

/* One more transient failure of p in a row; past [fetch] provider_failure_limit the
 * provider is stopped for this run, so that a dead service cannot keep the run going. */
static void provider_failed(struct engine *e, struct provider *p, const char *detail)
{
    snprintf(p->last_failure, sizeof p->last_failure, "%s", detail);
    if (++p->failures < e->failure_limit || p->stopped)
        return;
    char why[300];
    snprintf(why, sizeof why, "%d transient failures in a row (last: %.200s)", p->failures,
             detail);
    stop_provider(e, p, 0, 1, why);
}

/* A failure worth retrying (timeout, 5xx, truncated or garbled body). */
static void transient_failure(struct job *j, int status, const char *detail, double now)
{
    struct engine *e = j->e;
    attempt(j, "http_error", status, detail);
    provider_failed(e, job_provider(j), detail);
    if (j->retries < e->set.max_retries && !job_provider(j)->stopped) {
        j->retries++;
        j->ready_at =
            now + af_backoff_seconds(j->retries, e->set.retry_base, e->set.retry_max, &e->seed);
        count(e, "retries");
        log_debug("track %lld, %s: %s; retry %d in %.2f s", j->track.track_id,
                  job_provider(j)->name, detail, j->retries, j->ready_at - now);
        return;
    }
    outcome(j, "http_error", -1, NULL, detail, 0);
    mark_transient(j, 0);
    next_provider(j, now);
}

/* 429, iTunes' 403, Deezer's error 4: pause the provider, or stop it for the run. */
static void throttled(struct job *j, int status, double retry_after, const char *detail,
                      double now)
{
    struct engine *e = j->e;
    struct provider *p = job_provider(j);
    attempt(j, "rate_limited", status, detail);
    double pause = retry_after >= 0 ? retry_after
                                    : e->throttle_pause * pow(2, p->throttles < 6 ? p->throttles : 6);
    p->throttles++;
    if (pause > e->set.max_retry_after) {
        char why[200];
        snprintf(why, sizeof why, "HTTP %d with Retry-After %.0f s", status, pause);
        stop_provider(e, p, pause, 1, why);
        pause = p->pause_seconds;
        outcome(j, "rate_limited", -1, NULL, detail, pause);
        mark_transient(j, pause);
        next_provider(j, now);
        return;
    }
    if (p->throttles >= e->failure_limit && !p->stopped) {
        char why[300];
        snprintf(why, sizeof why, "throttled %d times in a row (last: %.200s)", p->throttles,
                 detail);
        stop_provider(e, p, 0, 1, why);
    }
    if (p->stopped) {
        outcome(j, "rate_limited", -1, NULL, detail, 0);
        mark_transient(j, 0);
        next_provider(j, now);
        return;
    }
    af_rate_limiter_pause(&p->rl, pause);
    if (j->retries < e->set.max_retries + 2) {
        j->retries++;
        j->ready_at = now + pause;
        count(e, "retries");
        return;
    }
    outcome(j, "rate_limited", -1, NULL, detail, pause);
    mark_transient(j, pause);
    next_provider(j, now);
}

/* The track ends without audio because a provider failed (not because none had it). */
static int job_failed(const struct af_fetch_result *r)
{
    if (r->size > 0)
        return 0;
    for (int i = 0; i < r->n_outcomes; i++)
        if (strcmp(r->outcomes[i].outcome, "http_error") == 0 ||
            strcmp(r->outcomes[i].outcome, "rate_limited") == 0 ||
            strcmp(r->outcomes[i].outcome, "refused_url") == 0)
            return 1;
    return 0;
}

static void finish(struct engine *e, struct job *j)
{
    struct af_fetch_result *r = &j->result;
    if (job_failed(r)) {
        e->failed++;
        count(e, "failed");
    }
    if (r->size == 0 && j->transient) {
        /* The chain is incomplete: make the track due again when the provider that
         * could not answer may be asked, whatever the others said. */
        for (int i = 0; i < r->n_outcomes; i++)
            if (r->outcomes[i].recheck_seconds < 0 ||
                r->outcomes[i].recheck_seconds > j->transient_recheck)
                r->outcomes[i].recheck_seconds = j->transient_recheck;
    }
    r->track_id = j->track.track_id;
    j->phase = P_FINISHED;
    e->done++;
    count(e, "tracks");
}

/* ---- Spotify token -------------------------------------------------------------- */

static void on_token(void *user, int rc, struct af_http_response *resp, const af_err *err)
{
    struct engine *e = user;
    double now = af_monotonic_seconds();
    struct provider *p = NULL;
    for (int i = 0; i < e->n_providers; i++)
        if (e->providers[i].kind == AF_FETCH_SPOTIFY)
            p = &e->providers[i];
    e->auth = AUTH_NONE;
    int answered = rc == 0;
    char msg[300] = "";
    if (rc == 0)
        af_spotify_error_message(resp->body, resp->body_len, msg, sizeof msg);
    if (rc == 0 && resp->status == 200) {
        double expires_in;
        af_err perr = {0};
        if (af_spotify_parse_token(resp->body, resp->body_len, e->token, sizeof e->token,
                                   &expires_in, &perr) == 0) {
            double margin = fmin(60, expires_in * 0.1);
            e->token_expires = now + expires_in - margin;
            e->auth = AUTH_OK;
            e->token_gen++;
            e->auth_failures = 0;
            count(e, "spotify_tokens");
            log_debug("spotify: new access token, valid %.0f s", expires_in);
        } else {
            snprintf(msg, sizeof msg, "%.250s", perr.msg);
            rc = -1;
        }
    } else if (rc == 0 && (resp->status == 400 || resp->status == 401 || resp->status == 403)) {
        e->credentials_rejected = 1;
        char why[400];
        snprintf(why, sizeof why, "the token endpoint rejected SPOTIFY_CLIENT_ID/SECRET (HTTP %ld: %s)",
                 resp->status, msg[0] ? msg : "no message");
        log_error("spotify: %s", why);
        if (p)
            stop_provider(e, p, 0, 0, "credentials rejected");
    } else if (rc == 0 && resp->status == 429) {
        double pause = resp->retry_after_seconds >= 0 ? resp->retry_after_seconds
                                                      : e->throttle_pause;
        if (pause > e->set.max_retry_after && p) {
            stop_provider(e, p, pause, 1, "token endpoint: HTTP 429 with a long Retry-After");
            pause = p->pause_seconds;
        }
        e->auth_retry_at = now + pause;
    }
    if (e->auth == AUTH_NONE && !e->credentials_rejected &&
        (rc != 0 || resp->status >= 500 || (resp->status != 429 && resp->status != 200))) {
        e->auth_failures++;
        log_warn("spotify: token request failed: %s", rc != 0 ? (msg[0] ? msg : err->msg) : msg);
        if (e->auth_failures > e->set.max_retries && p)
            stop_provider(e, p, 0, 1, "token endpoint keeps failing");
        e->auth_retry_at =
            now + af_backoff_seconds(e->auth_failures, e->set.retry_base, e->set.retry_max,
                                     &e->seed);
    }
    if (answered)
        af_http_response_free(resp);
}

/* True when a valid token is at hand; otherwise asks for one (once at a time). */
static int spotify_token_ready(struct engine *e, double now)
{
    if (e->auth == AUTH_OK && now < e->token_expires)
        return 1;
    if (e->auth == AUTH_OK)
        e->auth = AUTH_NONE; /* kept until it expires, then renewed */
    if (e->auth == AUTH_NONE && now >= e->auth_retry_at &&
        af_http_multi_running(e->http) < e->concurrency) {
        char header[900];
        af_spotify_basic_auth(e->client_id, e->client_secret, header, sizeof header);
        const char *headers[] = {header, NULL};
        af_err err = {0};
        if (af_http_multi_add(e->http, e->set.accounts_url, headers,
                              "grant_type=client_credentials", on_token, e, &err) == 0)
            e->auth = AUTH_FETCHING;
        memset(header, 0, sizeof header);
    }
    return 0;
}

/* ---- search ---------------------------------------------------------------------- */

static void choose(struct job *j, struct af_fetch_results *results, double now)
{
    struct engine *e = j->e;
    struct provider *p = job_provider(j);
    const char *want_isrc = j->track.isrc ? j->track.isrc : j->isrc_hint;
    int best = -1, best_preview = -1;
    double best_score = -1, best_preview_score = -1;
    for (int i = 0; i < results->n; i++) {
        struct af_fetch_candidate *c = &results->items[i];
        double s = af_match_score(j->track.artist, j->track.title, j->track.duration, c->artists,
                                  c->title ? c->title : "", c->duration);
        if (want_isrc[0] && c->isrc[0] && strcasecmp(want_isrc, c->isrc) == 0)
            s = 1.0;
        else if (j->used_isrc && !c->isrc[0] && s < 0.95 && s >= 0.5)
            s = 0.95; /* the provider looked the ISRC up itself */
        if (s > best_score)
            best = i, best_score = s;
        if (c->preview_url && s > best_preview_score)
            best_preview = i, best_preview_score = s;
    }
    char detail[600];
    if (best < 0 || best_score < e->set.min_score) {
        if (best < 0)
            snprintf(detail, sizeof detail, "no results");
        else
            snprintf(detail, sizeof detail, "best result '%s - %s' scores %.2f",
                     results->items[best].artists ? results->items[best].artists : "",
                     results->items[best].title ? results->items[best].title : "", best_score);
        attempt(j, "not_found", 200, detail);
        outcome(j, "not_found", best >= 0 ? best_score : -1, best >= 0 ? results->items[best].id : NULL,
                detail, e->recheck_seconds);
        next_provider(j, now);
        return;
    }
    struct af_fetch_candidate *c = &results->items[best];
    learn_id(j, c->id);
    if (p->kind == AF_FETCH_SPOTIFY && c->isrc[0] && !j->track.isrc) {
        snprintf(j->isrc_hint, sizeof j->isrc_hint, "%s", c->isrc);
        snprintf(j->result.isrc, sizeof j->result.isrc, "%s", c->isrc);
    }
    if (best_preview < 0 || best_preview_score < e->set.min_score) {
        snprintf(detail, sizeof detail, "match %s (score %.2f) has no preview", c->id, best_score);
        attempt(j, "no_preview", 200, detail);
        outcome(j, "no_preview", best_score, c->id, detail, e->recheck_seconds);
        next_provider(j, now);
        return;
    }
    c = &results->items[best_preview];
    learn_id(j, c->id);
    snprintf(j->ref, sizeof j->ref, "%s", c->id);
    j->score = best_preview_score;
    free(j->preview_url);
    j->preview_url = c->preview_url;
    c->preview_url = NULL;
    snprintf(detail, sizeof detail, "match %s (score %.2f)", c->id, best_preview_score);
    attempt(j, "found", 200, detail);
    j->phase = P_DOWNLOAD;
    j->retries = 0;
    j->ready_at = now;
}

static void on_search(void *user, int rc, struct af_http_response *resp, const af_err *err)
{
    struct job *j = user;
    struct engine *e = j->e;
    struct provider *p = job_provider(j);
    double now = af_monotonic_seconds();
    j->busy = 0;
    j->ready_at = now;
    if (rc != 0 && err->code == AF_HTTP_REFUSED) { /* api_url not allowed: configuration */
        attempt(j, "refused_url", 0, err->msg);
        outcome(j, "refused_url", -1, NULL, err->msg, 0);
        mark_transient(j, 0);
        stop_provider(e, p, 0, 1, err->msg);
        next_provider(j, now);
        return;
    }
    if (rc != 0) {
        transient_failure(j, 0, err->msg, now);
        return;
    }
    long status = resp->status;
    char msg[300] = "";
    struct af_fetch_results results = {0};
    af_err perr = {0};
    enum af_fetch_answer answer = AF_ANSWER_OK;
    int parsed = -1;
    /* Deezer's error object comes with HTTP 200 and 404 alike (800 "no data" for an
     * unknown ISRC): its code decides, whatever the status. */
    if (p->kind == AF_FETCH_DEEZER && status != 429) {
        parsed = af_deezer_parse(resp->body, resp->body_len, &results, &answer, &perr);
        if (status != 200 && (parsed != 0 || answer == AF_ANSWER_OK)) {
            af_fetch_results_free(&results); /* not an error object: the status decides */
            parsed = -1;
        } else if (status != 200) {
            status = 200;
        }
    }
    if (status != 200 && p->kind == AF_FETCH_ITUNES)
        af_itunes_error_message(resp->body, resp->body_len, msg, sizeof msg);
    else if (status != 200)
        af_spotify_error_message(resp->body, resp->body_len, msg, sizeof msg);
    if (p->kind == AF_FETCH_SPOTIFY && status == 401) {
        attempt(j, "http_error", 401, msg[0] ? msg : "unauthorized");
        if (!j->renewed) {
            j->renewed = 1; /* renew the token once, then ask again */
            if (j->token_gen == e->token_gen && e->auth == AUTH_OK)
                e->auth = AUTH_NONE;
        } else {
            outcome(j, "http_error", -1, NULL, "HTTP 401 after a token renewal", 0);
            mark_transient(j, 0);
            next_provider(j, now);
        }
    } else if (status == 429 || (p->kind == AF_FETCH_ITUNES && status == 403)) {
        snprintf(msg, sizeof msg, "HTTP %ld (throttled)", status);
        throttled(j, (int)status, resp->retry_after_seconds, msg, now);
    } else if (status >= 500) {
        char detail[400];
        snprintf(detail, sizeof detail, "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
        transient_failure(j, (int)status, detail, now);
    } else if (status != 200) {
        char detail[400];
        snprintf(detail, sizeof detail, "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
        attempt(j, "http_error", (int)status, detail);
        outcome(j, "http_error", -1, NULL, detail, e->recheck_seconds);
        next_provider(j, now);
    } else {
        int http_status = (int)resp->status;
        if (p->kind == AF_FETCH_SPOTIFY)
            parsed = af_spotify_parse_search(resp->body, resp->body_len, &results, &perr);
        else if (p->kind == AF_FETCH_ITUNES)
            parsed = af_itunes_parse_search(resp->body, resp->body_len, &results, &perr);
        if (parsed != 0) {
            char detail[AF_ERR_MAX + 40];
            snprintf(detail, sizeof detail, "answer not understood: %s", perr.msg);
            transient_failure(j, http_status, detail, now);
        } else if (answer == AF_ANSWER_QUOTA) {
            throttled(j, http_status, -1, perr.msg, now);
        } else if (answer == AF_ANSWER_BUSY) {
            transient_failure(j, http_status, perr.msg, now);
        } else if (answer == AF_ANSWER_API_ERROR) {
            attempt(j, "http_error", http_status, perr.msg);
            outcome(j, "http_error", -1, NULL, perr.msg, e->recheck_seconds);
            next_provider(j, now);
        } else if (j->used_isrc && (answer == AF_ANSWER_NO_DATA || results.n == 0)) {
            attempt(j, "not_found", http_status, "ISRC unknown; searching by artist and title");
            j->isrc_failed = 1;
            provider_ok(p);
        } else {
            provider_ok(p);
            choose(j, &results, now);
        }
    }
    af_fetch_results_free(&results);
    af_http_response_free(resp);
}

static void start_search(struct engine *e, struct job *j, double now)
{
    struct provider *p = job_provider(j);
    if (p->kind == AF_FETCH_SPOTIFY && !spotify_token_ready(e, now)) {
        j->ready_at = now + 0.02;
        return;
    }
    double wait = af_rate_limiter_try_take(&p->rl);
    if (wait > 0) {
        j->ready_at = now + wait;
        return;
    }
    const char *isrc = j->track.isrc ? j->track.isrc : j->isrc_hint;
    j->used_isrc = isrc[0] && !j->isrc_failed && p->kind != AF_FETCH_ITUNES;
    char *url = NULL;
    /* Search with the cleaned title (no "(LP Version)"); the stored title is kept. */
    char title[512];
    af_text_search_title(j->track.title, title, sizeof title);
    if (p->kind == AF_FETCH_SPOTIFY)
        url = af_spotify_search_url(p->api_url, e->set.spotify_market, j->track.artist, title,
                                    j->used_isrc ? isrc : NULL, e->set.search_results);
    else if (p->kind == AF_FETCH_DEEZER)
        url = j->used_isrc ? af_deezer_isrc_url(p->api_url, isrc)
                           : af_deezer_search_url(p->api_url, j->track.artist, title,
                                                  e->set.search_results);
    else
        url = af_itunes_search_url(p->api_url, e->set.itunes_country, j->track.artist, title,
                                   e->set.search_results);
    char auth[1100];
    const char *headers[] = {auth, NULL};
    if (p->kind == AF_FETCH_SPOTIFY)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", e->token);
    af_err err = {0};
    if (!url || af_http_multi_add(e->http, url, p->kind == AF_FETCH_SPOTIFY ? headers : NULL, NULL,
                                  on_search, j, &err) != 0) {
        free(url);
        transient_failure(j, 0, url ? err.msg : "out of memory", now);
        return;
    }
    memset(auth, 0, sizeof auth);
    free(url);
    j->token_gen = e->token_gen;
    j->busy = 1;
    count(e, "searched");
}

/* ---- download and verify --------------------------------------------------------- */

static void accept_audio(struct job *j, double now)
{
    struct engine *e = j->e;
    struct af_fetch_result *r = &j->result;
    struct provider *p = job_provider(j);
    r->bytes = (unsigned char *)j->audio.body;
    r->size = j->audio.body_len;
    j->audio.body = NULL;
    j->audio.body_len = 0;
    r->origin = p->name;
    snprintf(r->origin_ref, sizeof r->origin_ref, "%s", j->ref);
    snprintf(r->codec, sizeof r->codec, "%s", j->verify.codec);
    r->sample_rate = j->verify.sample_rate;
    r->channels = j->verify.channels;
    r->duration = j->verify.duration;
    char detail[200];
    snprintf(detail, sizeof detail, "%zu bytes, %s, %.1f s", r->size,
             r->codec[0] ? r->codec : "not decoded", r->duration);
    attempt(j, "stored", 200, detail);
    outcome(j, "stored", j->score, j->ref, detail, -1);
    e->stored++;
    free(j->preview_url);
    j->preview_url = NULL;
    finish(e, j);
    (void)now;
}

static void bad_audio(struct job *j, const char *detail, double now)
{
    attempt(j, "bad_audio", 200, detail);
    outcome(j, "bad_audio", j->score, j->ref, detail, j->e->recheck_seconds);
    next_provider(j, now);
}

static void on_download(void *user, int rc, struct af_http_response *resp, const af_err *err)
{
    struct job *j = user;
    struct engine *e = j->e;
    struct provider *p = job_provider(j);
    double now = af_monotonic_seconds();
    j->busy = 0;
    j->ready_at = now;
    if (rc != 0 && err->code == AF_HTTP_REFUSED) {
        /* The provider named a URL we do not fetch (another scheme, an internal
         * address): no retry, the next provider may do better. */
        attempt(j, "refused_url", 0, err->msg);
        outcome(j, "refused_url", j->score, j->ref, err->msg, e->recheck_seconds);
        log_warn("track %lld, %s: %s", j->track.track_id, p->name, err->msg);
        next_provider(j, now);
        return;
    }
    if (rc != 0) {
        transient_failure(j, 0, err->msg, now);
        return;
    }
    long status = resp->status;
    char detail[300];
    if ((status == 403 || status == 410) && p->kind == AF_FETCH_DEEZER) {
        /* A signed URL that expired: search again for a fresh one, once. */
        af_http_response_free(resp);
        if (!j->researched) {
            j->researched = 1;
            attempt(j, "expired_url", (int)status, "signed preview URL refused; searching again");
            j->phase = P_SEARCH;
            j->retries = 0;
            return;
        }
        snprintf(detail, sizeof detail, "preview refused with HTTP %ld after a fresh search",
                 status);
        attempt(j, "http_error", (int)status, detail);
        outcome(j, "http_error", j->score, j->ref, detail, 0);
        mark_transient(j, 0);
        next_provider(j, now);
    } else if (status >= 500 || status == 429) {
        af_http_response_free(resp);
        snprintf(detail, sizeof detail, "preview: HTTP %ld", status);
        transient_failure(j, (int)status, detail, now);
    } else if (status != 200) {
        af_http_response_free(resp);
        snprintf(detail, sizeof detail, "preview: HTTP %ld", status);
        attempt(j, "http_error", (int)status, detail);
        outcome(j, "http_error", j->score, j->ref, detail, e->recheck_seconds);
        next_provider(j, now);
    } else if (strncasecmp(resp->content_type, "text/", 5) == 0 ||
               (resp->body_len > 0 && resp->body[0] == '<')) {
        snprintf(detail, sizeof detail, "not audio: %zu bytes of %s", resp->body_len,
                 resp->content_type[0] ? resp->content_type : "markup");
        af_http_response_free(resp);
        bad_audio(j, detail, now);
    } else {
        provider_ok(p);
        j->audio = *resp;
        memset(&j->verify, 0, sizeof j->verify);
        if (!e->set.verify_audio) {
            accept_audio(j, now);
            return;
        }
        j->verify.data = j->audio.body;
        j->verify.size = j->audio.body_len;
        j->verify.user = j;
        j->phase = P_DECODING;
        j->busy = 1;
        af_verify_submit(e->verify, &j->verify);
    }
}

static void on_verified(struct job *j, double now)
{
    j->busy = 0;
    j->ready_at = now;
    if (j->verify.ok) {
        accept_audio(j, now);
        return;
    }
    char detail[AF_ERR_MAX + 64];
    snprintf(detail, sizeof detail, "%s: %s", j->verify.failure, j->verify.err.msg);
    af_http_response_free(&j->audio);
    bad_audio(j, detail, now);
}

static void start_download(struct engine *e, struct job *j, double now)
{
    af_err err = {0};
    if (af_http_multi_add(e->http, j->preview_url, NULL, NULL, on_download, j, &err) != 0) {
        transient_failure(j, 0, err.msg, now);
        return;
    }
    j->busy = 1;
}

/* ---- the loop -------------------------------------------------------------------- */

static void advance(struct engine *e, struct job *j, double now)
{
    if (j->phase == P_NEXT_PROVIDER) {
        while (j->pos < e->n_providers && e->providers[j->pos].stopped) {
            struct provider *p = &e->providers[j->pos];
            if (p->resume_at > 0) /* asked to wait: the chain stays incomplete */
                mark_transient(j, p->resume_at - now);
            j->pos++;
        }
        if (j->pos >= e->n_providers) {
            finish(e, j);
            return;
        }
        j->phase = P_SEARCH;
        j->retries = j->renewed = j->researched = j->isrc_failed = 0;
    }
    /* A job that just moved to its next provider was let through the loop's check:
     * never more transfers than [fetch] concurrency (queued ones would time out). */
    if (af_http_multi_running(e->http) >= e->concurrency)
        return;
    if (j->phase == P_SEARCH) {
        struct provider *p = job_provider(j);
        if (p->stopped) {
            if (j->retries > 0) { /* stopped while this track waited for a retry */
                outcome(j, p->throttles > 0 ? "rate_limited" : "http_error", -1, NULL, p->why, 0);
                mark_transient(j, p->resume_at > now ? p->resume_at - now : 0);
            } else if (p->resume_at > 0) {
                mark_transient(j, p->resume_at > now ? p->resume_at - now : 0);
            }
            next_provider(j, now);
            return;
        }
        start_search(e, j, now);
    } else if (j->phase == P_DOWNLOAD) {
        start_download(e, j, now);
    }
}

static void wake_http(void *arg) { af_http_multi_wakeup(arg); }

static int configure(struct engine *e, struct af_app *app, long limit, af_err *err)
{
    const struct af_config *cfg = app->cfg;
    e->app = app;
    e->db = app->db;
    e->run = app->run;
    e->limit = limit;
    af_fetch_read_settings(cfg, &e->set);
    e->concurrency = (int)af_config_int(cfg, "fetch.concurrency");
    e->lease_seconds = (int)af_config_int(cfg, "fetch.lease_seconds");
    e->throttle_pause = af_config_double(cfg, "fetch.throttle_pause_seconds");
    e->max_pause = af_config_double(cfg, "fetch.max_provider_pause_seconds");
    e->failure_limit = (int)af_config_int(cfg, "fetch.provider_failure_limit");
    e->recheck_seconds = af_config_double(cfg, "fetch.recheck_days") * 86400.0;
    e->window = e->concurrency * 2 + 4;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(e->worker, sizeof e->worker, "%s:%d", host, (int)getpid());
    e->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

    const char *list = af_config_str(cfg, "fetch.providers");
    enum af_fetch_provider kinds[AF_FETCH_PROVIDERS];
    int n = af_fetch_parse_providers(list, kinds, err);
    if (n == 0)
        af_err_set_code(err, AF_EXIT_USAGE, "no provider given");
    if (n <= 0)
        return af_err_prefix(err, "[fetch] providers: ");
    for (int i = 0; i < n; i++) {
        struct provider *p = &e->providers[e->n_providers++];
        p->kind = kinds[i];
        p->name = af_fetch_provider_names[p->kind];
        p->api_url = af_fetch_provider_setup(cfg, p->kind, &p->rl);
        double left = 0;
        char reason[256];
        if (af_fetch_pause_left(e->db, p->name, &left, reason, sizeof reason, err) != 0)
            return -1;
        if (left > e->max_pause) { /* stored before the cap, or the cap was lowered */
            log_warn("%s: an earlier run paused it for another %.0f s; capped to %.0f s"
                     " ([fetch] max_provider_pause_seconds)", p->name, left, e->max_pause);
            left = e->max_pause;
        }
        if (left > 0) {
            p->stopped = 1;
            p->resume_at = af_monotonic_seconds() + left;
            snprintf(p->why, sizeof p->why, "paused by an earlier run: %.200s", reason);
            log_warn("%s: paused for another %.0f s (%s); not asked in this run", p->name, left,
                     reason);
        }
        if (p->kind == AF_FETCH_SPOTIFY && !p->stopped) {
            if (!af_spotify_credentials(&e->client_id, &e->client_secret))
                stop_provider(e, p, 0, 0,
                              "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are not both set");
        }
    }
    return 0;
}

static int flush(struct engine *e, af_err *err)
{
    if (e->n_finished == 0)
        return 0;
    int reused = 0;
    int rc = af_fetch_save(e->db, e->worker, af_run_id(e->run), e->finished, e->n_finished,
                           &reused, err);
    if (reused)
        af_run_count(e->run, "audio_reused", reused);
    for (int i = 0; i < e->n_finished; i++) {
        struct job *j = e->finished_jobs[i];
        af_fetch_result_clear(&j->result);
        af_fetch_track_clear(&j->track);
        free(j->preview_url);
        af_http_response_free(&j->audio);
        free(j);
    }
    e->n_finished = 0;
    return rc;
}

static int save_pauses(struct engine *e, af_err *err)
{
    for (int i = 0; i < e->n_providers; i++) {
        struct provider *p = &e->providers[i];
        if (!p->pause_pending)
            continue;
        if (af_fetch_save_pause(e->db, p->name, p->pause_seconds, p->why, af_run_id(e->run),
                                err) != 0)
            return -1;
        p->pause_pending = 0;
    }
    return 0;
}

static int all_providers_stopped(const struct engine *e)
{
    for (int i = 0; i < e->n_providers; i++)
        if (!e->providers[i].stopped)
            return 0;
    return 1;
}

static int claim_more(struct engine *e, af_err *err)
{
    if (all_providers_stopped(e)) { /* nobody left to ask: the rest waits for a later run */
        if (!e->exhausted)
            log_warn("no provider left to ask in this run; the remaining tracks wait for the"
                     " next run");
        e->exhausted = 1;
        return 0;
    }
    int want = e->window - e->n_jobs;
    if (e->limit > 0 && want > e->limit - e->claimed)
        want = (int)(e->limit - e->claimed);
    if (want <= 0) {
        e->exhausted = e->limit > 0 && e->claimed >= e->limit;
        return 0;
    }
    struct af_fetch_track *tracks;
    int n;
    if (af_fetch_claim(e->db, e->worker, af_run_id(e->run), e->lease_seconds, want,
                       e->claimed_up_to, &tracks, &n, err) != 0)
        return -1;
    if (n == 0)
        e->exhausted = 1;
    double now = af_monotonic_seconds();
    for (int i = 0; i < n; i++) {
        struct job *j = calloc(1, sizeof *j);
        if (!j) {
            af_fetch_track_clear(&tracks[i]);
            continue;
        }
        j->e = e;
        j->track = tracks[i];
        if (j->track.track_id > e->claimed_up_to)
            e->claimed_up_to = j->track.track_id;
        j->ready_at = now;
        j->phase = P_NEXT_PROVIDER;
        e->jobs[e->n_jobs++] = j;
        e->claimed++;
    }
    free(tracks);
    return 0;
}

static void progress(struct engine *e)
{
    char extra[200];
    snprintf(extra, sizeof extra, "stored %lld, no preview %lld, not found %lld, bad audio %lld, errors %lld",
             e->stored, e->no_preview, e->not_found, e->bad_audio, e->errors);
    af_progress("tracks", (long)e->done, (long)e->total, extra);
}

int af_fetch_run(struct af_app *app, long limit, int *exit_code, af_err *err)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return af_err_set(err, "out of memory");
    *exit_code = AF_EXIT_OK;
    int rc = -1;
    if (configure(e, app, limit, err) != 0)
        goto done;
    if (af_fetch_count_todo(e->db, &e->total, err) != 0)
        goto done;
    if (limit > 0 && e->total > limit)
        e->total = limit;
    struct af_http_options options;
    af_fetch_http_options(app->cfg, &options);
    e->jobs = calloc((size_t)e->window, sizeof *e->jobs);
    e->finished = calloc((size_t)e->window + 64, sizeof *e->finished);
    e->finished_jobs = calloc((size_t)e->window + 64, sizeof *e->finished_jobs);
    if (!e->jobs || !e->finished || !e->finished_jobs) {
        af_err_set(err, "out of memory");
        goto done;
    }
    if (!(e->http = af_http_multi_new(&options, e->concurrency, err)))
        goto done;
    if (!(e->verify = af_verify_pool_new((int)af_config_int(app->cfg, "fetch.decode_threads"),
                                         e->set.min_preview, e->set.max_preview,
                                         wake_http, e->http, err)))
        goto done;
    log_info("fetching previews for %lld track(s) from %s, %d transfers at once", e->total,
             af_config_str(app->cfg, "fetch.providers"), e->concurrency);

    double last_flush = af_monotonic_seconds(), last_renew = last_flush;
    for (;;) {
        double now = af_monotonic_seconds();
        int stopping = af_app_stop_requested();
        if (!stopping && !e->exhausted && e->n_jobs <= e->window / 2 &&
            claim_more(e, err) != 0)
            goto done;
        /* Decoded previews. */
        for (struct af_verify_item *item = af_verify_take_done(e->verify), *next; item;
             item = next) {
            next = item->next;
            on_verified(item->user, now);
        }
        /* Move every idle job along. */
        double next_wake = now + 0.25;
        for (int i = 0; i < e->n_jobs; i++) {
            struct job *j = e->jobs[i];
            if (j->busy || j->phase == P_FINISHED)
                continue;
            if (stopping) {
                /* Nothing new starts: the chain is incomplete, ask again next run. */
                mark_transient(j, 0);
                count(e, "interrupted");
                finish(e, j);
                continue;
            }
            if (j->ready_at > now) {
                if (j->ready_at < next_wake)
                    next_wake = j->ready_at;
                continue;
            }
            if (j->phase != P_NEXT_PROVIDER && af_http_multi_running(e->http) >= e->concurrency)
                continue; /* a completion wakes the poll */
            advance(e, j, now);
            if (!j->busy && j->phase != P_FINISHED && j->ready_at < next_wake)
                next_wake = j->ready_at > now ? j->ready_at : now;
        }
        /* Finished jobs leave the window. */
        int w = 0;
        for (int i = 0; i < e->n_jobs; i++) {
            struct job *j = e->jobs[i];
            if (j->phase == P_FINISHED) {
                e->finished[e->n_finished] = &j->result;
                e->finished_jobs[e->n_finished++] = j;
            } else {
                e->jobs[w++] = j;
            }
        }
        e->n_jobs = w;
        int last = e->n_jobs == 0 && (e->exhausted || stopping);
        if (e->n_finished >= 64 || (e->n_finished && (now - last_flush > 0.5 || last))) {
            if (flush(e, err) != 0)
                goto done;
            last_flush = now;
        }
        if (now - last_renew > e->lease_seconds / 3.0) {
            if (af_fetch_renew_claims(e->db, e->worker, e->lease_seconds, err) != 0)
                goto done;
            last_renew = now;
        }
        progress(e);
        if (last)
            break;
        double timeout = next_wake - af_monotonic_seconds();
        if (timeout < 0)
            timeout = 0;
        if (af_http_multi_poll(e->http, timeout, err) < 0)
            goto done;
    }
    if (save_pauses(e, err) != 0)
        goto done;
    if (e->credentials_rejected)
        *exit_code = AF_EXIT_CREDENTIALS;
    else if (e->failed > 0 && !af_app_stop_requested())
        *exit_code = AF_EXIT_FAILURE;
    log_info("done: %lld track(s), %lld stored, %lld no preview, %lld not found, %lld bad audio,"
             " %lld errors", e->done, e->stored, e->no_preview, e->not_found, e->bad_audio,
             e->errors);
    if (e->failed > 0)
        log_warn("%lld track(s) failed: a provider kept failing (see `af-db status`); they are"
                 " asked again at the next run", e->failed);
    rc = 0;
done:
    if (rc != 0)
        for (int i = 0; i < e->n_jobs; i++)
            e->jobs[i]->busy = 0;
    af_verify_pool_free(e->verify); /* before the jobs whose bytes it may read */
    af_http_multi_free(e->http);
    for (int i = 0; i < e->n_jobs; i++) {
        struct job *j = e->jobs[i];
        af_fetch_result_clear(&j->result);
        af_fetch_track_clear(&j->track);
        free(j->preview_url);
        af_http_response_free(&j->audio);
        free(j);
    }
    if (rc != 0) {
        for (int i = 0; i < e->n_finished; i++) {
            af_fetch_result_clear(e->finished[i]);
            af_fetch_track_clear(&e->finished_jobs[i]->track);
            free(e->finished_jobs[i]->preview_url);
            af_http_response_free(&e->finished_jobs[i]->audio);
            free(e->finished_jobs[i]);
        }
    }
    for (int i = 0; i < e->n_providers; i++)
        af_rate_limiter_destroy(&e->providers[i].rl);
    free(e->jobs);
    free(e->finished);
    free(e->finished_jobs);
    memset(e->token, 0, sizeof e->token);
    free(e);
    return rc;
}
