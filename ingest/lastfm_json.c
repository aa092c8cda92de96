/* lastfm_json.c — Last.fm response parsing with all its quirks; see lastfm_json.h. */
#include "lastfm_json.h"

#include <stdbool.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t lfm_list_size(const json_t *list)
{
    if (json_is_array(list))
        return json_array_size(list);
    if (json_is_object(list))
        return 1;
    return 0; /* missing, null, "" or anything else: empty */
}

json_t *lfm_list_get(const json_t *list, size_t i)
{
    if (json_is_array(list))
        return json_array_get(list, i);
    if (json_is_object(list) && i == 0)
        return (json_t *)list;
    return NULL;
}

double lfm_number(const json_t *v, double fallback)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        double d = strtod(s, &end);
        if (end != s && *end == '\0')
            return d;
    }
    if (json_is_object(v)) /* {"#text": "0", ...} */
        return lfm_number(json_object_get(v, "#text"), fallback);
    return fallback;
}

const char *lfm_text(const json_t *v)
{
    const char *s = NULL;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_object(v)) {
        s = lfm_text(json_object_get(v, "#text"));
        if (!s)
            s = lfm_text(json_object_get(v, "name"));
    }
    return s && *s ? s : NULL;
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static json_t *load(const char *body, size_t len, af_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        af_err_set(err, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                   jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        af_err_set(err, "malformed response: not a JSON object");
        return NULL;
    }
    return root;
}

/* 1 when root is an error body (api filled). */
static int api_error(const json_t *root, struct lfm_api_error *api)
{
    json_t *code = json_object_get(root, "error");
    if (!code)
        return 0;
    api->code = (int)lfm_number(code, -1);
    const char *message = lfm_text(json_object_get(root, "message"));
    snprintf(api->message, sizeof api->message, "%s", message ? message : "(no message)");
    return 1;
}

int lfm_check_body(const char *body, size_t len, struct lfm_api_error *api, af_err *err)
{
    json_t *root = load(body, len, err);
    if (!root)
        return -1;
    int rc = api_error(root, api) ? LFM_API_ERROR : 0;
    json_decref(root);
    return rc;
}

/* Parses a response down to its payload object root[key]: -1 (err set) for bad JSON or a
 * missing payload, LFM_API_ERROR (api set) for an error body, else 0 with *root to
 * json_decref once done. */
static int open_payload(const char *body, size_t len, const char *key, const char *method,
                        json_t **root, json_t **payload, struct lfm_api_error *api, af_err *err)
{
    *root = load(body, len, err);
    if (!*root)
        return -1;
    if (api_error(*root, api)) {
        json_decref(*root);
        return LFM_API_ERROR;
    }
    *payload = json_object_get(*root, key);
    if (!json_is_object(*payload)) {
        json_decref(*root);
        return af_err_set(err, "malformed %s response: no \"%s\" object", method, key);
    }
    return 0;
}

/* True when list is one of the forms a Last.fm list takes: an array, a bare object
 * (one element), or empty (missing, null, ""); else err says what came instead. */
static bool list_shape_ok(const json_t *list, const char *key, af_err *err)
{
    if (!list || json_is_array(list) || json_is_object(list) || json_is_null(list) ||
        (json_is_string(list) && !*json_string_value(list)))
        return true;
    af_err_set(err, "response of the wrong shape: \"%s\" is %s, not a list", key,
               json_is_string(list) ? "a string" : json_is_number(list) ? "a number" : "a boolean");
    return false;
}

int lfm_parse_top_tracks(const char *body, size_t len, struct lfm_top_tracks *out,
                         struct lfm_api_error *api, af_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *root, *tracks;
    int rc = open_payload(body, len, "tracks", "tag.getTopTracks", &root, &tracks, api, err);
    if (rc != 0)
        return rc;
    json_t *attr = json_object_get(tracks, "@attr");
    json_t *list = json_object_get(tracks, "track");
    size_t n = lfm_list_size(list);
    /* The paging is what moves the crawl on: without it the page is not understood. */
    double page = lfm_number(json_object_get(attr, "page"), 1);
    double total_pages = lfm_number(json_object_get(attr, "totalPages"), NAN);
    if (!json_is_object(attr) || !isfinite(page) || !isfinite(total_pages) || page < 0 ||
        page > 1e7 || total_pages < 0 || total_pages > 1e7) {
        json_decref(root);
        return af_err_set(err, "tag.getTopTracks response of the wrong shape: no \"@attr\" with"
                               " a numeric \"totalPages\"");
    }
    if (!list_shape_ok(list, "track", err)) {
        json_decref(root);
        return -1;
    }
    out->page = (int)page;
    out->per_page = (int)lfm_number(json_object_get(attr, "perPage"), (double)n);
    out->total = (int)lfm_number(json_object_get(attr, "total"), (double)n);
    out->total_pages = (int)total_pages;
    out->tracks = calloc(n ? n : 1, sizeof *out->tracks);
    if (!out->tracks)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *item = lfm_list_get(list, i);
        const char *name = lfm_text(json_object_get(item, "name"));
        const char *artist = lfm_text(json_object_get(item, "artist"));
        if (!json_is_object(item) || !name || !artist) {
            out->n_skipped++;
            continue;
        }
        if (strcasecmp(artist, "[unknown]") == 0) {
            out->n_unknown_artist++;
            continue;
        }
        struct lfm_track *t = &out->tracks[out->n_tracks++];
        t->name = dup_or_null(name);
        t->artist = dup_or_null(artist);
        t->mbid = dup_or_null(lfm_text(json_object_get(item, "mbid")));
        t->url = dup_or_null(lfm_text(json_object_get(item, "url")));
        t->duration_seconds = lfm_number(json_object_get(item, "duration"), 0);
        t->rank = (int)lfm_number(json_object_get(json_object_get(item, "@attr"), "rank"),
                                  (double)(i + 1));
    }
    json_decref(root);
    if (n > 0 && out->n_skipped == (int)n) {
        lfm_top_tracks_free(out);
        return af_err_set(err, "tag.getTopTracks response of the wrong shape: none of its %zu"
                               " \"track\" items has a name and an artist", n);
    }
    return 0;
}

void lfm_top_tracks_free(struct lfm_top_tracks *t)
{
    for (int i = 0; i < t->n_tracks; i++) {
        free(t->tracks[i].name);
        free(t->tracks[i].artist);
        free(t->tracks[i].mbid);
        free(t->tracks[i].url);
    }
    free(t->tracks);
    memset(t, 0, sizeof *t);
}

int lfm_parse_top_tags(const char *body, size_t len, struct lfm_top_tags *out,
                       struct lfm_api_error *api, af_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *root, *toptags;
    int rc = open_payload(body, len, "toptags", "getTopTags", &root, &toptags, api, err);
    if (rc != 0)
        return rc;
    json_t *list = json_object_get(toptags, "tag");
    if (!list_shape_ok(list, "tag", err)) {
        json_decref(root);
        return -1;
    }
    size_t n = lfm_list_size(list);
    json_t *attr = json_object_get(toptags, "@attr");
    out->artist = dup_or_null(lfm_text(json_object_get(attr, "artist")));
    out->track = dup_or_null(lfm_text(json_object_get(attr, "track")));
    out->tags = calloc(n ? n : 1, sizeof *out->tags);
    if (!out->tags)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *item = lfm_list_get(list, i);
        const char *name = lfm_text(json_object_get(item, "name"));
        if (!json_is_object(item) || !name) {
            out->n_skipped++;
            continue;
        }
        double count = lfm_number(json_object_get(item, "count"), 0);
        if (!isfinite(count) || count < 0 || count > 1e15) {
            /* "NaN" or "inf" would decide labels (rock=inf beats jazz=100): never stored. */
            if (out->n_bad_counts++ == 0) {
                json_t *c = json_object_get(item, "count");
                snprintf(out->bad_count, sizeof out->bad_count, "tag \"%.80s\": count %.40s", name,
                         json_is_string(c) ? json_string_value(c) : "out of range");
            }
            continue;
        }
        struct lfm_tag *t = &out->tags[out->n_tags++];
        t->name = dup_or_null(name);
        t->count = count;
    }
    json_decref(root);
    if (n > 0 && out->n_skipped == (int)n) {
        lfm_top_tags_free(out);
        return af_err_set(err, "getTopTags response of the wrong shape: none of its %zu \"tag\""
                               " items has a name", n);
    }
    return 0;
}

void lfm_top_tags_free(struct lfm_top_tags *t)
{
    for (int i = 0; i < t->n_tags; i++)
        free(t->tags[i].name);
    free(t->tags);
    free(t->artist);
    free(t->track);
    memset(t, 0, sizeof *t);
}
