/*
 * fetch_spotify.c — Spotify Web API formats for af-fetch: the search URL, the
 * client-credentials token answer, error bodies and the search answer
 * ({"tracks":{"items":[...]}} with preview_url possibly null).
 */
#include "fetch_json.h"
#include "fetch_providers.h"

#include "base64.h"
#include "http.h"

/* Quotes would end a field filter early: drop them. */
static void strip_quotes(const char *in, char *out, size_t len)
{
    size_t w = 0;
    for (; *in && w + 1 < len; in++)
        if (*in != '"')
            out[w++] = *in;
    out[w] = '\0';
}

char *af_spotify_search_url(const char *api_url, const char *market, const char *artist,
                            const char *title, const char *isrc, int limit)
{
    char q[1200], a[512], t[512];
    if (isrc && *isrc) {
        snprintf(q, sizeof q, "isrc:%s", isrc);
    } else {
        strip_quotes(artist ? artist : "", a, sizeof a);
        strip_quotes(title ? title : "", t, sizeof t);
        snprintf(q, sizeof q, "track:\"%s\" artist:\"%s\"", t, a);
    }
    char *escaped = af_http_escape(q);
    char *mk = af_http_escape(market ? market : "");
    if (!escaped || !mk) {
        free(escaped);
        free(mk);
        return NULL;
    }
    size_t len = strlen(api_url) + strlen(escaped) + strlen(mk) + 80;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s/search?type=track%s%s&limit=%d&q=%s", api_url,
                 mk[0] ? "&market=" : "", mk, limit, escaped);
    free(escaped);
    free(mk);
    return url;
}

bool af_spotify_credentials(const char **client_id, const char **client_secret)
{
    *client_id = getenv("SPOTIFY_CLIENT_ID");
    *client_secret = getenv("SPOTIFY_CLIENT_SECRET");
    return *client_id && **client_id && *client_secret && **client_secret;
}

int af_spotify_basic_auth(const char *client_id, const char *client_secret, char *header,
                          size_t size)
{
    char pair[512], encoded[800];
    snprintf(pair, sizeof pair, "%s:%s", client_id, client_secret);
    int rc = af_base64_encode(pair, strlen(pair), encoded, sizeof encoded);
    if (rc == 0 && (size_t)snprintf(header, size, "Authorization: Basic %s", encoded) >= size)
        rc = -1;
    if (rc != 0 && size > 0)
        memset(header, 0, size);
    memset(pair, 0, sizeof pair);
    memset(encoded, 0, sizeof encoded);
    return rc;
}

int af_spotify_parse_token(const char *body, size_t len, char *token, size_t token_len,
                           double *expires_in, af_err *err)
{
    json_t *root = fj_load(body, len, err);
    if (!root)
        return af_err_prefix(err, "token: ");
    json_t *access = json_object_get(root, "access_token");
    int rc = 0;
    if (!json_is_string(access) || json_string_length(access) == 0 ||
        json_string_length(access) >= token_len) {
        rc = af_err_set(err, "token answer has no usable access_token");
    } else {
        snprintf(token, token_len, "%s", json_string_value(access));
        *expires_in = fj_number(root, "expires_in", 3600);
    }
    json_decref(root);
    return rc;
}

void af_spotify_error_message(const char *body, size_t len, char *buf, size_t buf_len)
{
    buf[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    json_t *e = json_object_get(root, "error");
    if (json_is_object(e)) {
        json_t *m = json_object_get(e, "message");
        if (json_is_string(m))
            snprintf(buf, buf_len, "%s", json_string_value(m));
    } else if (json_is_string(e)) {
        json_t *d = json_object_get(root, "error_description");
        snprintf(buf, buf_len, "%s%s%s", json_string_value(e), json_is_string(d) ? ": " : "",
                 json_is_string(d) ? json_string_value(d) : "");
    }
    json_decref(root);
}

int af_spotify_parse_search(const char *body, size_t len, struct af_fetch_results *out,
                            af_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = fj_load(body, len, err);
    if (!root)
        return -1;
    json_t *items = json_object_get(json_object_get(root, "tracks"), "items");
    if (!json_is_array(items)) {
        json_decref(root);
        return af_err_set(err, "search answer has no tracks.items list");
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (!json_is_object(item))
            continue;
        struct af_fetch_candidate *c = fj_add(out);
        if (!c)
            break;
        fj_id(item, "id", c->id, sizeof c->id);
        c->title = fj_strdup(item, "name");
        c->preview_url = fj_strdup(item, "preview_url");
        c->duration = fj_number(item, "duration_ms", 0) / 1000.0;
        json_t *isrc = json_object_get(json_object_get(item, "external_ids"), "isrc");
        if (json_is_string(isrc))
            snprintf(c->isrc, sizeof c->isrc, "%s", json_string_value(isrc));
        size_t total = 0, j;
        json_t *artist;
        json_t *artists = json_object_get(item, "artists");
        json_array_foreach(artists, j, artist) {
            json_t *name = json_object_get(artist, "name");
            if (json_is_string(name))
                total += json_string_length(name) + 1;
        }
        c->artists = calloc(1, total + 1);
        if (c->artists) {
            json_array_foreach(artists, j, artist) {
                json_t *name = json_object_get(artist, "name");
                if (!json_is_string(name))
                    continue;
                if (c->artists[0])
                    strcat(c->artists, "\n");
                strcat(c->artists, json_string_value(name));
            }
        }
    }
    json_decref(root);
    return 0;
}
