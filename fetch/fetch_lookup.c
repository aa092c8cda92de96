/* fetch_lookup.c — an interactive look-up at the preview providers; see fetch_lookup.h. */
#include "fetch_lookup.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "exitcode.h"
#include "fetch_config.h"
#include "fetch_match.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"

struct provider {
    enum af_fetch_provider kind;
    const char *api_url;
    struct af_rate_limiter rl;
};

struct af_lookup {
    struct af_http_client *http;
    struct provider providers[3];
    int n_providers;
    struct af_fetch_settings set; /* as af-fetch asks */
    const char *client_id, *client_secret;
    char token[1024];
    double token_expires;
    uint64_t seed;
};

int af_lookup_open(struct af_lookup **out, const struct af_config *cfg, af_err *err)
{
    struct af_lookup *lk = calloc(1, sizeof *lk);
    if (!lk)
        return af_err_set(err, "out of memory");
    struct af_http_options ho;
    af_fetch_http_options(cfg, &ho);
    af_fetch_read_settings(cfg, &lk->set);
    lk->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    const char *list = af_config_str(cfg, "fetch.providers");
    enum af_fetch_provider kinds[AF_FETCH_PROVIDERS];
    int n = af_fetch_parse_providers(list, kinds, err);
    if (n < 0) {
        af_lookup_close(lk);
        return af_err_prefix(err, "[fetch] providers: ");
    }
    for (int i = 0; i < n; i++) {
        if (kinds[i] == AF_FETCH_SPOTIFY &&
            !af_spotify_credentials(&lk->client_id, &lk->client_secret)) {
            log_info("spotify: not asked (SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are "
                     "not both set)");
            continue;
        }
        struct provider *p = &lk->providers[lk->n_providers++];
        p->kind = kinds[i];
        p->api_url = af_fetch_provider_setup(cfg, p->kind, &p->rl);
    }
    if (lk->n_providers == 0) {
        af_lookup_close(lk);
        return af_err_set_code(err, AF_EXIT_USAGE, "no preview provider to ask ([fetch] providers: '%s')",
                               list);
    }
    if (!(lk->http = af_http_client_new(&ho, err))) {
        af_lookup_close(lk);
        return -1;
    }
    *out = lk;
    return 0;
}

void af_lookup_close(struct af_lookup *lk)
{
    if (!lk)
        return;
    for (int i = 0; i < lk->n_providers; i++)
        af_rate_limiter_destroy(&lk->providers[i].rl);
    af_http_client_free(lk->http);
    memset(lk->token, 0, sizeof lk->token);
    free(lk);
}

void af_lookup_split(const char *text, char *artist, size_t artist_len, char *title,
                     size_t title_len)
{
    const char *sep = strstr(text, " - ");
    if (!sep) {
        snprintf(artist, artist_len, "%s", "");
        snprintf(title, title_len, "%s", text);
        return;
    }
    snprintf(artist, artist_len, "%.*s", (int)(sep - text), text);
    snprintf(title, title_len, "%s", sep + 3);
}

/* GET with the provider's token bucket, retrying transport failures, 429 and 5xx with
 * backoff (429: its Retry-After, unless longer than max_retry_after).  0 when a
 * response arrived (any status). */
static int get(struct af_lookup *lk, struct provider *p, const char *url,
               const char *const *headers, struct af_http_response *resp, af_err *err)
{
    for (int attempt = 0;; attempt++) {
        if (p)
            af_rate_limiter_take(&p->rl);
        int rc = af_http_get(lk->http, url, headers, resp, err);
        bool retry = rc != 0 || resp->status == 429 || resp->status >= 500;
        if (!retry || attempt >= lk->set.max_retries)
            return rc;
        double wait =
            af_backoff_seconds(attempt + 1, lk->set.retry_base, lk->set.retry_max, &lk->seed);
        if (rc == 0 && resp->status == 429 && resp->retry_after_seconds >= 0) {
            if (resp->retry_after_seconds > lk->set.max_retry_after)
                return 0; /* the caller reports the 429 */
            wait = resp->retry_after_seconds;
        }
        if (rc == 0)
            af_http_response_free(resp);
        af_sleep_seconds(wait);
    }
}

static int spotify_token(struct af_lookup *lk, af_err *err)
{
    if (lk->token[0] && af_monotonic_seconds() < lk->token_expires)
        return 0;
    char header[900];
    af_spotify_basic_auth(lk->client_id, lk->client_secret, header, sizeof header);
    const char *headers[] = {header, NULL};
    struct af_http_response resp;
    int rc = af_http_post_form(lk->http, lk->set.accounts_url, headers,
                               "grant_type=client_credentials", &resp, err);
    memset(header, 0, sizeof header);
    if (rc != 0)
        return af_err_prefix(err, "token request");
    double expires_in = 0;
    if (resp.status != 200) {
        char msg[300];
        af_spotify_error_message(resp.body, resp.body_len, msg, sizeof msg);
        af_err_set_code(err, resp.status == 400 || resp.status == 401 ? AF_EXIT_CREDENTIALS : 0,
                        "the token endpoint answered HTTP %ld (%s)", resp.status,
                        msg[0] ? msg : "no message");
        rc = -1;
    } else {
        rc = af_spotify_parse_token(resp.body, resp.body_len, lk->token, sizeof lk->token,
                                    &expires_in, err);
        lk->token_expires = af_monotonic_seconds() + expires_in * 0.9;
    }
    af_http_response_free(&resp);
    return rc;
}

/* The request URL of one provider for the query, or NULL when it cannot answer it. */
static char *search_url(struct af_lookup *lk, const struct provider *p,
                        const struct af_lookup_query *q)
{
    const char *artist = q->artist ? q->artist : "";
    const char *title = q->title ? q->title : "";
    if (q->deezer_id) {
        if (p->kind != AF_FETCH_DEEZER)
            return NULL;
        char *url = malloc(strlen(p->api_url) + 32);
        if (url)
            sprintf(url, "%s/track/%lld", p->api_url, atoll(q->deezer_id));
        return url;
    }
    if (q->isrc && p->kind == AF_FETCH_ITUNES)
        return NULL; /* the iTunes Search API has no ISRC look-up */
    if (p->kind == AF_FETCH_SPOTIFY)
        return af_spotify_search_url(p->api_url, lk->set.spotify_market, artist, title, q->isrc,
                                     lk->set.search_results);
    if (p->kind == AF_FETCH_DEEZER)
        return q->isrc ? af_deezer_isrc_url(p->api_url, q->isrc)
                       : af_deezer_search_url(p->api_url, artist, title, lk->set.search_results);
    return af_itunes_search_url(p->api_url, lk->set.itunes_country, artist, title,
                                lk->set.search_results);
}

static int parse(const struct provider *p, const struct af_http_response *resp,
                 struct af_fetch_results *r, af_err *err)
{
    /* Deezer's error object comes with HTTP 200 or 404 alike: its body decides. */
    if (p->kind == AF_FETCH_DEEZER && (resp->status == 200 || resp->status == 404)) {
        enum af_fetch_answer answer;
        if (af_deezer_parse(resp->body, resp->body_len, r, &answer, err) != 0)
            return -1;
        if (answer == AF_ANSWER_NO_DATA)
            return 0; /* no such track: no results */
        return answer == AF_ANSWER_OK ? 0 : -1;
    }
    if (resp->status != 200) {
        char msg[300];
        af_spotify_error_message(resp->body, resp->body_len, msg, sizeof msg);
        return af_err_set(err, "HTTP %ld%s%s", resp->status, msg[0] ? ": " : "", msg);
    }
    return p->kind == AF_FETCH_SPOTIFY ? af_spotify_parse_search(resp->body, resp->body_len, r, err)
                              : af_itunes_parse_search(resp->body, resp->body_len, r, err);
}

static double score(const struct af_lookup_query *q, const struct af_fetch_candidate *c)
{
    if (q->deezer_id)
        return 1.0;
    if (q->isrc)
        return c->isrc[0] && strcasecmp(q->isrc, c->isrc) == 0 ? 1.0 : 0.95;
    if (!q->artist || !q->artist[0])
        return af_match_similarity(q->title ? q->title : "", c->title ? c->title : "");
    return af_match_score(q->artist, q->title ? q->title : "", 0, c->artists,
                          c->title ? c->title : "", c->duration);
}

/* The cover of result `id` in a provider's answer (the parsers of fetch_providers.h
 * keep no covers; this reads the same JSON for them): Deezer album.cover_medium (or
 * its md5_image on the image CDN), iTunes artworkUrl100, Spotify the album's second
 * image (300 px) or its first. */
static void cover_of(enum af_fetch_provider kind, json_t *answer, const char *id, char *out,
                     size_t len)
{
    out[0] = '\0';
    json_t *list = kind == AF_FETCH_DEEZER   ? json_object_get(answer, "data")
                   : kind == AF_FETCH_ITUNES ? json_object_get(answer, "results")
                                    : json_object_get(json_object_get(answer, "tracks"), "items");
    size_t n = json_is_array(list) ? json_array_size(list) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_is_array(list) ? json_array_get(list, i) : answer;
        json_t *tid = json_object_get(t, kind == AF_FETCH_ITUNES ? "trackId" : "id");
        char text[64];
        if (json_is_integer(tid))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(tid));
        else
            snprintf(text, sizeof text, "%s", json_string_value(tid) ? json_string_value(tid) : "");
        if (strcmp(text, id) != 0)
            continue;
        const char *url = NULL, *md5 = NULL;
        if (kind == AF_FETCH_DEEZER) {
            url = json_string_value(json_object_get(json_object_get(t, "album"), "cover_medium"));
            md5 = json_string_value(json_object_get(t, "md5_image"));
        } else if (kind == AF_FETCH_ITUNES) {
            url = json_string_value(json_object_get(t, "artworkUrl100"));
        } else {
            json_t *images = json_object_get(json_object_get(t, "album"), "images");
            json_t *img = json_array_get(images, json_array_size(images) > 1 ? 1 : 0);
            url = json_string_value(json_object_get(img, "url"));
        }
        if (url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0))
            snprintf(out, len, "%s", url);
        else if (md5 && strspn(md5, "0123456789abcdef") == strlen(md5) && strlen(md5) == 32)
            snprintf(out, len, "https://e-cdns-images.dzcdn.net/images/cover/%s/"
                               "250x250-000000-80-0-0.jpg", md5);
        return;
    }
}

static int ask(struct af_lookup *lk, struct provider *p, const struct af_lookup_query *q,
               struct af_lookup_hits *hits, af_err *err)
{
    if (p->kind == AF_FETCH_SPOTIFY && spotify_token(lk, err) != 0)
        return -1;
    char *url = search_url(lk, p, q);
    if (!url)
        return 0;
    char auth[1100];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", lk->token);
    const char *headers[] = {auth, NULL};
    struct af_http_response resp;
    int rc = get(lk, p, url, p->kind == AF_FETCH_SPOTIFY ? headers : NULL, &resp, err);
    memset(auth, 0, sizeof auth);
    free(url);
    if (rc != 0)
        return -1;
    struct af_fetch_results r = {0};
    rc = parse(p, &resp, &r, err);
    json_t *answer = rc == 0 ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    af_http_response_free(&resp);
    if (rc != 0) {
        af_fetch_results_free(&r);
        return -1;
    }
    struct af_lookup_hit *more = realloc(hits->items, (size_t)(hits->n + r.n + 1) * sizeof *more);
    if (!more) {
        json_decref(answer);
        af_fetch_results_free(&r);
        return af_err_set(err, "out of memory");
    }
    hits->items = more;
    for (int i = 0; i < r.n; i++) {
        struct af_lookup_hit *h = &hits->items[hits->n++];
        h->provider = af_fetch_provider_names[p->kind];
        h->c = r.items[i];
        h->score = score(q, &h->c);
        cover_of(p->kind, answer, h->c.id, h->cover_url, sizeof h->cover_url);
        memset(&r.items[i], 0, sizeof r.items[i]); /* moved */
    }
    json_decref(answer);
    af_fetch_results_free(&r);
    return 0;
}

/* Best first: higher score, then with a preview; otherwise the providers' order (a
 * stable insertion sort: at most a few dozen hits). */
static bool before(const struct af_lookup_hit *x, const struct af_lookup_hit *y)
{
    if (x->score != y->score)
        return x->score > y->score;
    return x->c.preview_url && !y->c.preview_url;
}

static void sort_hits(struct af_lookup_hits *hits)
{
    for (int i = 1; i < hits->n; i++) {
        struct af_lookup_hit h = hits->items[i];
        int j = i;
        for (; j > 0 && before(&h, &hits->items[j - 1]); j--)
            hits->items[j] = hits->items[j - 1];
        hits->items[j] = h;
    }
}

int af_lookup_search(struct af_lookup *lk, const struct af_lookup_query *q,
                     struct af_lookup_hits *hits, af_err *err)
{
    memset(hits, 0, sizeof *hits);
    int asked = 0;
    for (int i = 0; i < lk->n_providers; i++) {
        struct provider *p = &lk->providers[i];
        af_err perr = {0};
        if (q->deezer_id && p->kind != AF_FETCH_DEEZER)
            continue;
        if (q->isrc && p->kind == AF_FETCH_ITUNES)
            continue;
        asked++;
        if (ask(lk, p, q, hits, &perr) == 0)
            continue;
        hits->providers_failed++;
        size_t used = strlen(hits->failures);
        snprintf(hits->failures + used, sizeof hits->failures - used, "%s%s: %s",
                 used ? "; " : "", af_fetch_provider_names[p->kind], perr.msg);
        log_warn("%s: search failed: %s", af_fetch_provider_names[p->kind], perr.msg);
        if (perr.code && !err->code)
            err->code = perr.code;
    }
    if (asked == 0)
        return af_err_set(err, "none of the configured providers can answer this look-up%s",
                          q->deezer_id ? " (--deezer-id needs deezer in [fetch] providers)" : "");
    if (hits->providers_failed == asked)
        return af_err_set_code(err, err->code, "every provider failed: %s", hits->failures);
    sort_hits(hits);
    return 0;
}

void af_lookup_hits_free(struct af_lookup_hits *hits)
{
    for (int i = 0; i < hits->n; i++) {
        free(hits->items[i].c.artists);
        free(hits->items[i].c.title);
        free(hits->items[i].c.preview_url);
    }
    free(hits->items);
    memset(hits, 0, sizeof *hits);
}

int af_lookup_best(const struct af_lookup *lk, const struct af_lookup_hits *hits)
{
    for (int i = 0; i < hits->n; i++)
        if (hits->items[i].c.preview_url && hits->items[i].score >= lk->set.min_score)
            return i;
    return -1;
}

int af_lookup_preview(struct af_lookup *lk, const struct af_lookup_hit *hit, char **data,
                      size_t *size, struct af_verify_item *v, af_err *err)
{
    *data = NULL;
    *size = 0;
    memset(v, 0, sizeof *v);
    if (!hit->c.preview_url)
        return af_err_set(err, "%s track %s has no preview", hit->provider, hit->c.id);
    struct af_http_response resp;
    if (get(lk, NULL, hit->c.preview_url, NULL, &resp, err) != 0)
        return af_err_prefix(err, "%s preview of track %s", hit->provider, hit->c.id);
    if (resp.status != 200 || strncasecmp(resp.content_type, "text/", 5) == 0 ||
        (resp.body_len > 0 && resp.body[0] == '<')) {
        if (resp.status != 200)
            af_err_set(err, "%s preview of track %s: HTTP %ld", hit->provider, hit->c.id,
                       resp.status);
        else
            af_err_set(err, "%s preview of track %s: not audio (%zu bytes of %s)",
                       hit->provider, hit->c.id, resp.body_len,
                       resp.content_type[0] ? resp.content_type : "markup");
        af_http_response_free(&resp);
        return -1;
    }
    v->data = resp.body;
    v->size = resp.body_len;
    if (lk->set.verify_audio) {
        af_verify_audio(v, lk->set.min_preview, lk->set.max_preview);
        if (!v->ok) {
            af_err_set(err, "%s preview of track %s is not usable audio (%s): %s", hit->provider,
                       hit->c.id, v->failure, v->err.msg);
            af_http_response_free(&resp);
            return -1;
        }
    }
    *data = resp.body; /* handed over */
    *size = resp.body_len;
    return 0;
}
