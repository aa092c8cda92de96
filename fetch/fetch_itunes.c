/*
 * fetch_itunes.c — iTunes Search API formats for af-fetch: the /search URL
 * and the answer {"resultCount":N,"results":[...]} (previewUrl is AAC in .m4a,
 * trackTimeMillis in ms, no ISRC); errors are HTTP 400 {"errorMessage": "..."}.
 */
#include "fetch_json.h"
#include "fetch_providers.h"
#include "http.h"

char *af_itunes_search_url(const char *api_url, const char *country, const char *artist,
                           const char *title, int limit)
{
    char term[1200];
    snprintf(term, sizeof term, "%s %s", artist ? artist : "", title ? title : "");
    char *escaped = af_http_escape(term);
    char *cc = af_http_escape(country ? country : "");
    if (!escaped || !cc) {
        free(escaped);
        free(cc);
        return NULL;
    }
    size_t len = strlen(api_url) + strlen(escaped) + strlen(cc) + 80;
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%s/search?media=music&entity=song%s%s&limit=%d&term=%s", api_url,
                 cc[0] ? "&country=" : "", cc, limit, escaped);
    free(escaped);
    free(cc);
    return url;
}

void af_itunes_error_message(const char *body, size_t len, char *buf, size_t buf_len)
{
    buf[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *m = json_object_get(root, "errorMessage");
    if (json_is_string(m))
        snprintf(buf, buf_len, "%s", json_string_value(m));
    json_decref(root);
}

int af_itunes_parse_search(const char *body, size_t len, struct af_fetch_results *out,
                           af_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = fj_load(body, len, err);
    if (!root)
        return -1;
    json_t *results = json_object_get(root, "results");
    if (!json_is_array(results)) {
        json_decref(root);
        return af_err_set(err, "search answer has no results list");
    }
    size_t i;
    json_t *item;
    json_array_foreach(results, i, item) {
        if (!json_is_object(item))
            continue;
        json_t *kind = json_object_get(item, "kind");
        if (json_is_string(kind) && strcmp(json_string_value(kind), "song") != 0)
            continue;
        struct af_fetch_candidate *c = fj_add(out);
        if (!c)
            break;
        fj_id(item, "trackId", c->id, sizeof c->id);
        c->title = fj_strdup(item, "trackName");
        c->artists = fj_strdup(item, "artistName");
        c->preview_url = fj_strdup(item, "previewUrl");
        c->duration = fj_number(item, "trackTimeMillis", 0) / 1000.0;
    }
    json_decref(root);
    return 0;
}
