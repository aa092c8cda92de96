/*
 * fetch_deezer.c — Deezer API formats for af-fetch: /track/isrc:X and
 * /search URLs; answers that are a page ({"data":[...],"total":N}), a single
 * track, or an error object sent with HTTP 200 or 404 (code 4 quota, 700 busy,
 * 800 no data; a plain string on unknown routes).
 * Preview URLs are signed and expire: the caller downloads them at once.
 */
#include "fetch_json.h"
#include "fetch_providers.h"
#include "http.h"

char *af_deezer_isrc_url(const char *api_url, const char *isrc)
{
    char *escaped = af_http_escape(isrc);
    if (!escaped)
        return NULL;
    size_t len = strlen(api_url) + strlen(escaped) + 32;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s/track/isrc:%s", api_url, escaped);
    free(escaped);
    return url;
}

char *af_deezer_search_url(const char *api_url, const char *artist, const char *title, int limit)
{
    char q[1200];
    char a[512], t[512];
    size_t w = 0;
    for (const char *p = artist ? artist : ""; *p && w + 1 < sizeof a; p++)
        if (*p != '"')
            a[w++] = *p;
    a[w] = '\0';
    w = 0;
    for (const char *p = title ? title : ""; *p && w + 1 < sizeof t; p++)
        if (*p != '"')
            t[w++] = *p;
    t[w] = '\0';
    snprintf(q, sizeof q, "artist:\"%s\" track:\"%s\"", a, t);
    char *escaped = af_http_escape(q);
    if (!escaped)
        return NULL;
    size_t len = strlen(api_url) + strlen(escaped) + 48;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s/search?limit=%d&q=%s", api_url, limit, escaped);
    free(escaped);
    return url;
}

static void add_track(json_t *item, struct af_fetch_results *out)
{
    if (!json_is_object(item))
        return;
    struct af_fetch_candidate *c = fj_add(out);
    if (!c)
        return;
    fj_id(item, "id", c->id, sizeof c->id);
    c->title = fj_strdup(item, "title");
    /* readable:false (not available here) still carries a preview URL: skip it. */
    if (!json_is_false(json_object_get(item, "readable")))
        c->preview_url = fj_strdup(item, "preview");
    c->duration = fj_number(item, "duration", 0);
    c->artists = fj_strdup(json_object_get(item, "artist"), "name");
    json_t *isrc = json_object_get(item, "isrc");
    if (json_is_string(isrc))
        snprintf(c->isrc, sizeof c->isrc, "%s", json_string_value(isrc));
}

int af_deezer_parse(const char *body, size_t len, struct af_fetch_results *out,
                    enum af_fetch_answer *answer, af_err *err)
{
    memset(out, 0, sizeof *out);
    *answer = AF_ANSWER_OK;
    json_t *root = fj_load(body, len, err);
    if (!root)
        return -1;
    json_t *error = json_object_get(root, "error");
    if (json_is_string(error)) { /* {"error":"Not Found"}: a route Deezer does not know */
        af_err_set(err, "Deezer error: %s", json_string_value(error));
        *answer = AF_ANSWER_API_ERROR;
        json_decref(root);
        return 0;
    }
    if (error) {
        long long code = (long long)fj_number(error, "code", -1);
        json_t *message = json_object_get(error, "message");
        af_err_set(err, "Deezer error %lld: %s", code,
                   json_is_string(message) ? json_string_value(message) : "(no message)");
        *answer = code == 4     ? AF_ANSWER_QUOTA
                  : code == 700 ? AF_ANSWER_BUSY
                  : code == 800 ? AF_ANSWER_NO_DATA
                                : AF_ANSWER_API_ERROR;
        json_decref(root);
        return 0;
    }
    json_t *data = json_object_get(root, "data");
    if (json_is_array(data)) {
        size_t i;
        json_t *item;
        json_array_foreach(data, i, item) add_track(item, out);
    } else if (json_object_get(root, "id") && json_object_get(root, "title")) {
        add_track(root, out); /* /track/isrc:X answers with the track itself */
    } else {
        json_decref(root);
        return af_err_set(err, "answer is neither a page of tracks, a track nor an error");
    }
    json_decref(root);
    return 0;
}
