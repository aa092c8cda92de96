/* lastfm_api.c — cached, rate-limited, retrying Last.fm API calls; see lastfm_api.h. */
#include "lastfm_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "normalise.h"
#include "ratelimit.h"
#include "run.h"

struct lfm_client {
    struct ingest_ctx *ctx;
    struct af_http_client *http;
    struct af_rate_limiter limiter;
    char *base_url;
    char *api_key;
    char max_age_days[32];
    int max_retries;
    double backoff_seconds;
    double rate_limit_pause_seconds;
    double max_pause_seconds; /* cap on a server-requested pause (Retry-After) */
    uint64_t seed;
};

struct lfm_client *lfm_client_new(struct ingest_ctx *ctx, af_err *err)
{
    const struct af_config *cfg = ctx->app->cfg;
    const char *key = getenv("LASTFM_API_KEY");
    if (!key || !*key) {
        af_err_set_code(err, AF_EXIT_USAGE,
                        "LASTFM_API_KEY is not set: export your Last.fm API key in the "
                        "environment (it is never read from a file or the command line)");
        return NULL;
    }
    struct lfm_client *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->ctx = ctx;
    struct af_http_options options;
    af_http_default_options(&options);
    options.timeout_seconds = af_config_double(cfg, "lastfm.timeout_seconds");
    if (options.connect_timeout_seconds > options.timeout_seconds)
        options.connect_timeout_seconds = options.timeout_seconds;
    options.low_speed_seconds = 0; /* small bodies: the total timeout is enough */
    c->http = af_http_client_new(&options, err);
    if (!c->http) {
        free(c);
        return NULL;
    }
    af_rate_limiter_init(&c->limiter, af_config_double(cfg, "lastfm.requests_per_second"), 1);
    c->base_url = strdup(af_config_str(cfg, "lastfm.api_url"));
    c->api_key = af_http_escape(key);
    if (!c->base_url || !c->api_key)
        abort();
    snprintf(c->max_age_days, sizeof c->max_age_days, "%.6f",
             af_config_double(cfg, "lastfm.cache_max_age_days"));
    c->max_retries = (int)af_config_int(cfg, "lastfm.max_retries");
    c->backoff_seconds = af_config_double(cfg, "lastfm.backoff_seconds");
    c->rate_limit_pause_seconds = af_config_double(cfg, "lastfm.rate_limit_pause_seconds");
    c->max_pause_seconds = af_config_double(cfg, "lastfm.max_pause_seconds");
    c->seed = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)c << 16);
    return c;
}

void lfm_client_free(struct lfm_client *c)
{
    if (!c)
        return;
    af_http_client_free(c->http);
    af_rate_limiter_destroy(&c->limiter);
    free(c->base_url);
    if (c->api_key)
        memset(c->api_key, 0, strlen(c->api_key));
    free(c->api_key);
    free(c);
}

/* Sleeps, waking early (returning -1) when a stop is requested. */
static int wait_seconds(double seconds)
{
    double until = af_monotonic_seconds() + seconds;
    for (;;) {
        if (af_app_stop_requested())
            return -1;
        double left = until - af_monotonic_seconds();
        if (left <= 0)
            return 0;
        af_sleep_seconds(left < 0.1 ? left : 0.1);
    }
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* "method?name=value&..." (the cache key) and the URL without the key. */
static int build_request(const struct lfm_client *c, const char *method,
                         const char *const *params, struct af_buf *key, struct af_buf *url)
{
    char m[64];
    snprintf(m, sizeof m, "%s", method);
    lower(m);
    af_buf_append(key, m, strlen(m));
    af_buf_append(url, c->base_url, strlen(c->base_url));
    af_buf_append(url, strchr(c->base_url, '?') ? "&method=" : "?method=",
                  strchr(c->base_url, '?') ? 8 : 8);
    af_buf_append(url, method, strlen(method));
    for (int i = 0; params && params[i]; i += 2) {
        char *value = af_http_escape(params[i + 1]);
        if (!value)
            abort();
        af_buf_append(key, i == 0 ? "?" : "&", 1);
        af_buf_append(key, params[i], strlen(params[i]));
        af_buf_append(key, "=", 1);
        af_buf_append(key, value, strlen(value));
        af_buf_append(url, "&", 1);
        af_buf_append(url, params[i], strlen(params[i]));
        af_buf_append(url, "=", 1);
        af_buf_append(url, value, strlen(value));
        free(value);
    }
    af_buf_append(url, "&format=json", 12);
    return 0;
}

static int cache_get(struct lfm_client *c, const char *key, char **body, size_t *len,
                     struct lfm_api_error *api, int *found, af_err *err)
{
    *found = 0;
    const char *params[] = {key, c->max_age_days};
    PGresult *res = af_db_query(c->ctx->db,
                                "SELECT body, lastfm_error FROM lastfm_responses"
                                " WHERE request_key = $1"
                                " AND fetched_at > now() - $2::float8 * interval '1 day'",
                                2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        *found = 1;
        *len = (size_t)PQgetlength(res, 0, 0);
        *body = malloc(*len + 1);
        if (!*body)
            abort();
        memcpy(*body, PQgetvalue(res, 0, 0), *len + 1);
        if (!PQgetisnull(res, 0, 1)) {
            af_err tmp = {0};
            if (lfm_check_body(*body, *len, api, &tmp) != LFM_API_ERROR)
                api->code = atoi(PQgetvalue(res, 0, 1));
            *found = 2; /* a cached error answer */
        }
    }
    PQclear(res);
    return 0;
}

static int cache_put(struct lfm_client *c, const char *key, const char *method, long status,
                     int lastfm_error, const char *body, af_err *err)
{
    char m[64], st[24], le[16];
    snprintf(m, sizeof m, "%s", method);
    lower(m);
    snprintf(st, sizeof st, "%ld", status);
    snprintf(le, sizeof le, "%d", lastfm_error);
    const char *params[] = {key, m, st, lastfm_error ? le : NULL, body,
                            c->ctx->run_id[0] ? c->ctx->run_id : NULL};
    return af_db_command(c->ctx->db,
                         "INSERT INTO lastfm_responses (request_key, method, http_status,"
                         " lastfm_error, body, run_id) VALUES ($1, $2, $3, $4, $5, $6)"
                         " ON CONFLICT (request_key) DO UPDATE SET method = EXCLUDED.method,"
                         " http_status = EXCLUDED.http_status, lastfm_error = EXCLUDED.lastfm_error,"
                         " body = EXCLUDED.body, fetched_at = now(), run_id = EXCLUDED.run_id",
                         6, params, err);
}

int lfm_client_call(struct lfm_client *c, const char *method, const char *const *params,
                    char **body, size_t *len, struct lfm_api_error *api, int *from_cache,
                    af_err *err)
{
    struct af_buf key = {0}, url = {0};
    build_request(c, method, params, &key, &url);
    char shown[1024]; /* what we say in messages: never the key */
    snprintf(shown, sizeof shown, "%s", key.data);
    af_buf_append(&url, "&api_key=", 9);
    af_buf_append(&url, c->api_key, strlen(c->api_key));
    *body = NULL;
    *from_cache = 0;
    int rc = -1, found;
    if (cache_get(c, key.data, body, len, api, &found, err) != 0)
        goto done;
    if (found) {
        *from_cache = 1;
        af_run_count(c->ctx->run, "cache_hits", 1);
        rc = found == 2 ? LFM_API_ERROR : 0;
        if (rc == LFM_API_ERROR) {
            free(*body);
            *body = NULL;
        }
        goto done;
    }
    char last_problem[AF_ERR_MAX + 64] = "no attempt";
    for (int attempt = 0; attempt <= c->max_retries; attempt++) {
        if (attempt > 0) {
            af_run_count(c->ctx->run, "retries", 1);
            double wait = af_backoff_seconds(attempt, c->backoff_seconds,
                                             60 * c->backoff_seconds, &c->seed);
            log_debug("%s: retry %d in %.2f s after: %s", shown, attempt, wait, last_problem);
            if (wait_seconds(wait) != 0) {
                rc = LFM_STOPPED;
                goto done;
            }
        }
        af_rate_limiter_take(&c->limiter);
        af_run_count(c->ctx->run, "requests", 1);
        struct af_http_response response;
        af_err http_err = {0};
        if (af_http_get(c->http, url.data, NULL, &response, &http_err) != 0) {
            /* The message quotes the URL, already redacted by http.c. */
            snprintf(last_problem, sizeof last_problem, "%s", http_err.msg);
            continue;
        }
        af_err parse_err = {0};
        int checked = lfm_check_body(response.body, response.body_len, api, &parse_err);
        if (response.status == 429 || (checked == LFM_API_ERROR && api->code == 29)) {
            double pause = response.retry_after_seconds > 0 ? response.retry_after_seconds
                                                             : c->rate_limit_pause_seconds;
            if (pause > c->max_pause_seconds) {
                /* "Retry-After: 999999" or a date in 2099 would sleep for days. */
                log_warn("Last.fm asks for a pause of %.0f s (Retry-After); capped at [lastfm]"
                         " max_pause_seconds = %.0f s", pause, c->max_pause_seconds);
                af_run_count(c->ctx->run, "pauses_capped", 1);
                pause = c->max_pause_seconds;
            }
            af_run_count(c->ctx->run, "rate_limited", 1);
            log_warn("Last.fm says we are asking too fast (%s): pausing %.1f s",
                     response.status == 429 ? "HTTP 429" : "error 29", pause);
            af_http_response_free(&response);
            snprintf(last_problem, sizeof last_problem, "rate limited");
            if (wait_seconds(pause) != 0) {
                rc = LFM_STOPPED;
                goto done;
            }
            attempt--; /* a pause asked for by the server is not a failure */
            if (af_run_counter(c->ctx->run, "rate_limited") > 1000) {
                af_err_set(err, "%s: rate limited more than 1000 times; giving up", shown);
                goto done;
            }
            continue;
        }
        if (checked == LFM_API_ERROR) {
            int code = api->code;
            if (code == 10 || code == 26) {
                af_http_response_free(&response);
                af_err_set_code(err, AF_EXIT_CREDENTIALS,
                                "Last.fm rejected the API key (error %d: %s): the key in "
                                "LASTFM_API_KEY is %s", code, api->message,
                                code == 26 ? "suspended" : "invalid");
                goto done;
            }
            if (code == 8 || code == 11 || code == 16 || response.status >= 500) {
                snprintf(last_problem, sizeof last_problem, "error %d: %s (HTTP %ld)", code,
                         api->message, response.status);
                af_http_response_free(&response);
                continue;
            }
            if (code == 6 && cache_put(c, key.data, method, response.status, code,
                                       response.body, err) != 0) {
                af_http_response_free(&response);
                goto done;
            }
            af_http_response_free(&response);
            rc = LFM_API_ERROR;
            goto done;
        }
        if (checked != 0 || response.status >= 500) {
            snprintf(last_problem, sizeof last_problem, "HTTP %ld%s%s", response.status,
                     checked != 0 ? ", " : "", checked != 0 ? parse_err.msg : "");
            af_http_response_free(&response);
            continue;
        }
        if (response.status >= 400) {
            af_err_set(err, "%s: HTTP %ld", shown, response.status);
            af_http_response_free(&response);
            goto done;
        }
        if (cache_put(c, key.data, method, response.status, 0, response.body, err) != 0) {
            af_http_response_free(&response);
            goto done;
        }
        *body = response.body;
        *len = response.body_len;
        rc = 0;
        goto done;
    }
    af_err_set(err, "%s: gave up after %d attempts; last: %s", shown, c->max_retries + 1,
               last_problem);
done:
    af_buf_free(&key);
    memset(url.data, 0, url.len);
    af_buf_free(&url);
    return rc;
}

int lfm_client_forget(struct lfm_client *c, const char *method, const char *const *params,
                      af_err *err)
{
    struct af_buf key = {0}, url = {0};
    build_request(c, method, params, &key, &url);
    const char *p[] = {key.data};
    int rc = af_db_command(c->ctx->db, "DELETE FROM lastfm_responses WHERE request_key = $1", 1,
                           p, err);
    af_buf_free(&key);
    af_buf_free(&url);
    return rc;
}
