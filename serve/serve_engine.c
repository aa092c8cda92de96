/* serve_engine.c — af-serve's API without HTTP; see serve_engine.h. */
#include "serve_engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "../fetch/fetch_lookup.h"
#include "../train/embeddings.h"
#include "../train/predictor.h"

#define SIMILAR_K 8

struct serve_engine {
    struct af_app *app;
    PGconn *db; /* this engine's own connection: an engine serves one request at a time */
    bool db_lost; /* db_ready found it gone and could not reconnect yet (logged once) */
    af_stored_model stored;
    af_ensemble net;
    bool mean_log; /* the model's aggregation of a file's windows (predictor.h) */
    struct af_feature_params params;
    struct af_frame_ctx *ctx;
    struct af_analyser an;
    bool have_an, have_embeddings;
    struct af_lookup *lookup; /* NULL: no provider configured, search answers 503 */
    char lookup_error[256];
    struct preview_cache *cache; /* shared by the engines, locked */
};

static int fail(json_t **out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(json_t **out, int status, const char *fmt, ...)
{
    char msg[AF_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *out = json_pack("{s:s}", "error", msg);
    return status;
}

/* A database failure: 503 when the connection is gone, else 500. */
static int db_fail(json_t **out, const af_err *err)
{
    return fail(out, err->code == 3 ? 503 : 500, "database: %s", err->msg);
}

/* The connection, checked before a request uses the database (af_db_ensure): after
 * the server restarted, the next request reconnects, instead of every request failing
 * with 503 until af-serve is restarted.  Losing and regaining it are logged. */
static int db_ready(struct serve_engine *e, af_err *err)
{
    int rc = af_db_ensure(e->db, err);
    if (rc < 0) {
        if (!e->db_lost)
            log_warn("lost the database connection: %s (trying again at the next request)",
                     err->msg);
        e->db_lost = true;
        return -1;
    }
    if (rc == 1) {
        char target[512];
        af_db_describe(e->db, target, sizeof target);
        log_info("the database connection was lost; re-established it to %s", target);
        e->db_lost = false;
    }
    return 0;
}

int serve_engine_open(struct serve_engine **out, struct af_app *app, const char *model,
                      struct preview_cache *cache, af_err *err)
{
    struct serve_engine *e = calloc(1, sizeof *e);
    if (!e)
        return af_err_set(err, "out of memory");
    e->app = app;
    e->cache = cache;
    if (!(e->db = af_db_connect(af_db_choose_conninfo(app->db_flag, af_config_str(
                                                          app->cfg, "database.conninfo")),
                                err)))
        goto fail;
    if (af_model_load_checked(e->db, model, &e->stored, &e->net, &e->mean_log, &e->params,
                              err) != 0 ||
        !(e->ctx = af_frame_ctx_new(err)) || af_analyser_init(&e->an, e->ctx, &e->params, err) != 0)
        goto fail;
    e->have_an = true;
    char id[24];
    snprintf(id, sizeof id, "%lld", e->stored.id);
    const char *p[] = {id};
    PGresult *res = af_db_query(e->db, "SELECT EXISTS (SELECT 1 FROM track_embeddings WHERE"
                                         " model_id = $1)", 1, p, err);
    if (!res)
        goto fail;
    e->have_embeddings = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    af_err lerr = {0};
    if (af_lookup_open(&e->lookup, app->cfg, &lerr) != 0) {
        snprintf(e->lookup_error, sizeof e->lookup_error, "%.250s", lerr.msg);
        log_warn("searching is off: %s", lerr.msg);
    }
    *out = e;
    return 0;
fail:
    serve_engine_close(e);
    return -1;
}

void serve_engine_close(struct serve_engine *e)
{
    if (!e)
        return;
    af_lookup_close(e->lookup);
    if (e->have_an)
        af_analyser_destroy(&e->an);
    af_frame_ctx_free(e->ctx);
    af_ensemble_free(&e->net);
    af_stored_model_free(&e->stored);
    if (e->db)
        PQfinish(e->db);
    free(e);
}

static json_t *genres_json(const struct serve_engine *e)
{
    json_t *g = json_array();
    for (int i = 0; i < e->stored.n_genres; i++)
        json_array_append_new(g, json_string(e->stored.genres[i]));
    return g;
}

/* 503 while the database is unreachable: then neither similar tracks nor predictions
 * (which list them) nor corrections work. */
int serve_status(struct serve_engine *e, json_t **out)
{
    af_err err = {0};
    bool db = db_ready(e, &err) == 0;
    *out = json_pack("{s:I,s:o,s:b,s:s?,s:b,s:b,s:s?}", "model", (json_int_t)e->stored.id,
                     "genres", genres_json(e), "database", db, "database_error",
                     db ? NULL : err.msg, "similar", db && e->have_embeddings, "search",
                     e->lookup != NULL, "search_error", e->lookup ? NULL : e->lookup_error);
    return db ? 200 : 503;
}

static json_t *hit_json(const struct af_lookup_hit *h)
{
    char artists[512];
    snprintf(artists, sizeof artists, "%s", h->c.artists ? h->c.artists : "");
    for (char *c = artists; (c = strchr(c, '\n'));)
        *c = ',';
    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:f,s:f,s:b,s:s?}", "provider", h->provider, "id",
                     h->c.id, "artist", artists, "title", h->c.title ? h->c.title : "", "isrc",
                     h->c.isrc[0] ? h->c.isrc : NULL, "duration", h->c.duration, "score",
                     round(h->score * 1000) / 1000, "preview", h->c.preview_url != NULL, "cover",
                     h->cover_url[0] ? h->cover_url : NULL);
}

static int search_hits(struct serve_engine *e, const struct af_lookup_query *q,
                       struct af_lookup_hits *hits, json_t **out)
{
    if (!e->lookup)
        return fail(out, 503, "searching is off: %s", e->lookup_error);
    af_err err = {0};
    if (af_lookup_search(e->lookup, q, hits, &err) != 0)
        return fail(out, 502, "%s", err.msg);
    af_run_count(e->app->run, "searches", 1);
    return 0;
}

int serve_search(struct serve_engine *e, const char *text, json_t **out)
{
    if (!text || !*text || strlen(text) > 300)
        return fail(out, 400, "q: give \"artist - title\" (at most 300 characters)");
    char artist[320], title[320];
    af_lookup_split(text, artist, sizeof artist, title, sizeof title);
    struct af_lookup_query q = {.artist = artist, .title = title};
    struct af_lookup_hits hits = {0};
    int status = search_hits(e, &q, &hits, out);
    if (status)
        return status;
    json_t *list = json_array();
    for (int i = 0; i < hits.n; i++)
        json_array_append_new(list, hit_json(&hits.items[i]));
    *out = json_pack("{s:s,s:o,s:i}", "q", text, "candidates", list, "providers_failed",
                     hits.providers_failed);
    af_lookup_hits_free(&hits);
    return 200;
}

/* ---- classification ---- */

/* The similar tracks of an embedding, as JSON (an empty list without embeddings). */
static json_t *similar_json(struct serve_engine *e, const float *emb, af_err *err)
{
    json_t *list = json_array();
    if (!e->have_embeddings)
        return list;
    char *cube = af_cube_literal(emb, af_ensemble_embedding_dim(&e->net));
    char model[24], k[8];
    snprintf(model, sizeof model, "%lld", e->stored.id);
    snprintf(k, sizeof k, "%d", SIMILAR_K);
    const char *p[] = {model, cube, k};
    PGresult *res = cube ? af_db_query(e->db,
                                       "SELECT track_id, coalesce(artist, ''), coalesce(title, ''),"
                                       " label, distance FROM af_similar_to($1, $2::cube, $3, NULL)",
                                       3, p, err)
                         : NULL;
    free(cube);
    if (!res) {
        json_decref(list);
        return NULL;
    }
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:s,s:s?,s:f}", "track_id",
                            (json_int_t)atoll(PQgetvalue(res, i, 0)), "artist",
                            PQgetvalue(res, i, 1), "title", PQgetvalue(res, i, 2), "label",
                            PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3), "distance",
                            round(atof(PQgetvalue(res, i, 4)) * 1e4) / 1e4));
    PQclear(res);
    return list;
}

/* Windows' and mean probabilities, the embedding and the nearest tracks of the audio
 * in data -> a JSON object. */
static int classify(struct serve_engine *e, const char *data, size_t size, json_t **out)
{
    char path[] = "/tmp/af-serve-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return fail(out, 500, "cannot write a temporary file: %m");
    bool written = write(fd, data, size) == (ssize_t)size;
    close(fd);
    struct af_analysis a;
    af_err err = {0};
    int rc = written ? af_analyse_file(&e->an, path, false, &a, &err) : -1;
    unlink(path);
    if (!written)
        return fail(out, 500, "cannot write a temporary file");
    if (rc != 0)
        return fail(out, 422, "the audio cannot be analysed: %s", err.msg);
    size_t rows = a.windows.rows;
    int k = e->stored.n_genres, dim = af_ensemble_embedding_dim(&e->net);
    float *x = malloc(rows * AF_N_FEATURES * sizeof *x);
    float *probs = malloc(rows * (size_t)k * sizeof *probs);
    float *emb = malloc((size_t)dim * sizeof *emb);
    float *agg = malloc((size_t)k * sizeof *agg);
    int status = 500;
    if (!x || !probs || !emb || !agg) {
        status = fail(out, 500, "out of memory");
        goto done;
    }
    memcpy(x, a.windows.data, rows * AF_N_FEATURES * sizeof *x);
    af_scaler_apply(&e->net.scaler, x, rows);
    if (af_ensemble_forward(&e->net, x, rows, probs, &err) != 0 ||
        af_embed_ensemble_windows(&e->net, a.windows.data, rows, emb, &err) != 0) {
        status = fail(out, 500, "%s", err.msg);
        goto done;
    }
    json_t *mean = json_object(), *windows = json_array();
    af_predict_aggregate(probs, rows, k, e->mean_log, agg);
    for (int c = 0; c < k; c++)
        json_object_set_new(mean, e->stored.genres[c], json_real(round(agg[c] * 1e4) / 1e4));
    for (size_t w = 0; w < rows; w++) {
        json_t *pw = json_array();
        for (int c = 0; c < k; c++)
            json_array_append_new(pw, json_real(round(probs[w * (size_t)k + (size_t)c] * 1e4) / 1e4));
        json_array_append_new(windows, json_pack("{s:f,s:o}", "start_seconds",
                                                 a.excerpt_start + (double)w * e->params.hop_seconds,
                                                 "probabilities", pw));
    }
    json_t *similar = similar_json(e, emb, &err);
    if (!similar) {
        json_decref(mean);
        json_decref(windows);
        status = db_fail(out, &err);
        goto done;
    }
    *out = json_pack("{s:I,s:o,s:o,s:o,s:o,s:f,s:f}", "model", (json_int_t)e->stored.id, "genres",
                     genres_json(e), "probabilities", mean, "windows", windows, "similar",
                     similar, "excerpt_start", a.excerpt_start, "excerpt_seconds",
                     a.excerpt_seconds);
    af_run_count(e->app->run, "predictions", 1);
    status = 200;
done:
    free(x);
    free(probs);
    free(emb);
    free(agg);
    af_analysis_free(&a);
    return status;
}

/* The collection's track for a found song, if any: by provider id, ISRC, or artist and
 * title after normalisation.  *label gets its current label (may stay ""). */
static int collection_track(struct serve_engine *e, const struct af_lookup_hit *h, long long *id,
                            char *label, size_t label_len, af_err *err)
{
    const char *p[] = {h->provider, h->c.id, h->c.isrc[0] ? h->c.isrc : NULL,
                       h->c.artists ? h->c.artists : "", h->c.title ? h->c.title : ""};
    PGresult *res = af_db_query(
        e->db,
        "SELECT t.track_id, coalesce((SELECT g.name FROM track_labels l JOIN genres g USING (genre_id)"
        "        WHERE l.track_id = t.track_id AND l.status = 'labelled'"
        "        ORDER BY l.taxonomy_version DESC LIMIT 1), '')"
        "  FROM tracks t"
        " WHERE ($1 = 'deezer' AND t.deezer_id::text = $2) OR ($1 = 'itunes' AND t.itunes_id::text = $2)"
        "    OR ($1 = 'spotify' AND t.spotify_id = $2) OR t.isrc = $3"
        "    OR (af_norm_key(t.artist) = af_norm_key(split_part($4, E'\\n', 1))"
        "        AND af_norm_key(t.title) = af_norm_key($5))"
        " ORDER BY t.track_id LIMIT 1",
        5, p, err);
    if (!res)
        return -1;
    *id = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    snprintf(label, label_len, "%s", PQntuples(res) ? PQgetvalue(res, 0, 1) : "");
    PQclear(res);
    return 0;
}

int serve_predict_query(struct serve_engine *e, const char *text, int pick,
                        const char *deezer_id, json_t **out)
{
    if ((!text || !*text) && !deezer_id)
        return fail(out, 400, "give q=\"artist - title\" or deezer_id=ID");
    if (text && strlen(text) > 300)
        return fail(out, 400, "q: at most 300 characters");
    if (deezer_id && (!*deezer_id || strspn(deezer_id, "0123456789") != strlen(deezer_id) ||
                      strlen(deezer_id) > 18))
        return fail(out, 400, "deezer_id: digits expected");
    af_err err = {0};
    if (db_ready(e, &err) != 0) /* before a download the answer could not use */
        return db_fail(out, &err);
    char artist[320] = "", title[320] = "";
    if (!deezer_id)
        af_lookup_split(text, artist, sizeof artist, title, sizeof title);
    struct af_lookup_query q = {.artist = artist, .title = title, .deezer_id = deezer_id};
    struct af_lookup_hits hits = {0};
    int status = search_hits(e, &q, &hits, out);
    if (status)
        return status;
    int chosen = pick > 0 ? pick - 1 : af_lookup_best(e->lookup, &hits);
    if (chosen < 0 || chosen >= hits.n) {
        status = pick > 0 ? fail(out, 400, "pick %d: only %d candidate(s)", pick, hits.n)
                          : fail(out, 404, "no candidate with a preview matches well enough "
                                           "(%d candidate(s))", hits.n);
        af_lookup_hits_free(&hits);
        return status;
    }
    const struct af_lookup_hit *h = &hits.items[chosen];
    char key[96];
    snprintf(key, sizeof key, "%s:%s", h->provider, h->c.id);
    struct af_verify_item v = {0};
    char *data = NULL, content_type[32];
    size_t size = 0;
    if (!preview_cache_get(e->cache, key, &data, &size, content_type)) {
        if (af_lookup_preview(e->lookup, h, &data, &size, &v, &err) != 0) {
            af_lookup_hits_free(&hits);
            /* 422: the preview came but is not usable audio; 502: it did not come. */
            return fail(out, v.failure[0] ? 422 : 502, "%s", err.msg);
        }
        /* the cache takes the download; this request works on its own copy */
        preview_cache_put(e->cache, key, data, size, v.codec);
        if (!preview_cache_get(e->cache, key, &data, &size, content_type)) {
            af_lookup_hits_free(&hits);
            return fail(out, 500, "out of memory");
        }
    }
    status = classify(e, data, size, out);
    free(data);
    if (status == 200) {
        long long track = 0;
        char label[64];
        if (collection_track(e, h, &track, label, sizeof label, &err) != 0) {
            json_decref(*out);
            af_lookup_hits_free(&hits);
            return db_fail(out, &err);
        }
        char url[160];
        snprintf(url, sizeof url, "/api/preview?key=%s", key);
        json_object_set_new(*out, "track", hit_json(h));
        json_object_set_new(*out, "preview", json_pack("{s:s,s:s,s:s}", "source", h->provider,
                                                       "url", url, "content_type",
                                                       content_type));
        json_object_set_new(*out, "collection_track",
                            track ? json_pack("{s:I,s:s?}", "track_id", (json_int_t)track,
                                              "label", label[0] ? label : NULL)
                                  : json_null());
    }
    af_lookup_hits_free(&hits);
    return status;
}

int serve_predict_upload(struct serve_engine *e, const char *data, size_t size, json_t **out)
{
    if (size == 0)
        return fail(out, 400, "empty body: send the audio file as the request body");
    af_err err = {0};
    if (db_ready(e, &err) != 0)
        return db_fail(out, &err);
    int status = classify(e, data, size, out);
    if (status == 200)
        json_object_set_new(*out, "upload_bytes", json_integer((json_int_t)size));
    return status;
}

char *serve_preview(struct serve_engine *e, const char *key, size_t *size,
                   char content_type[32])
{
    char *data = NULL;
    return key && preview_cache_get(e->cache, key, &data, size, content_type) ? data : NULL;
}

int serve_similar(struct serve_engine *e, const char *track, int k, json_t **out)
{
    if (!track || !*track || strspn(track, "0123456789") != strlen(track) || strlen(track) > 18)
        return fail(out, 400, "track: a track id (digits) expected");
    if (k < 1 || k > 100)
        return fail(out, 400, "k: 1..100");
    if (!e->have_embeddings)
        return fail(out, 404, "model %lld has no stored embeddings", e->stored.id);
    af_err err = {0};
    if (db_ready(e, &err) != 0)
        return db_fail(out, &err);
    char model[24], ks[8];
    snprintf(model, sizeof model, "%lld", e->stored.id);
    snprintf(ks, sizeof ks, "%d", k);
    const char *p[] = {model, track, ks};
    PGresult *res = af_db_query(e->db,
                                "SELECT EXISTS (SELECT 1 FROM track_embeddings WHERE model_id = $1"
                                " AND track_id = $2)", 2, p, &err);
    if (!res)
        return db_fail(out, &err);
    bool known = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!known)
        return fail(out, 404, "track %s has no embedding under model %lld", track, e->stored.id);
    res = af_db_query(e->db,
                      "SELECT track_id, coalesce(artist, ''), coalesce(title, ''), label, distance"
                      " FROM af_similar_tracks($1, $2, $3)", 3, p, &err);
    if (!res)
        return db_fail(out, &err);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:s,s:s?,s:f}", "track_id",
                            (json_int_t)atoll(PQgetvalue(res, i, 0)), "artist",
                            PQgetvalue(res, i, 1), "title", PQgetvalue(res, i, 2), "label",
                            PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3), "distance",
                            atof(PQgetvalue(res, i, 4))));
    PQclear(res);
    *out = json_pack("{s:I,s:I,s:o}", "model", (json_int_t)e->stored.id, "track",
                     (json_int_t)atoll(track), "similar", list);
    return 200;
}

/* ---- corrections ---- */

#define WEB_TEXT_MAX 300 /* characters of a song's artist or title */

/* A song from outside the collection that a correction names ("track"): checked before
 * it can become a track, since an empty artist or an id its provider never gives made a
 * track that nothing matched and af-fetch could not find. */
struct web_track {
    const char *provider;
    char id[64], isrc[16]; /* as in struct af_fetch_candidate */
    char artist[4 * WEB_TEXT_MAX + 1], title[4 * WEB_TEXT_MAX + 1]; /* UTF-8, trimmed */
};

#define DIGITS "0123456789"
#define ALNUM DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* The providers' track ids as the collection stores them: tracks.deezer_id and
 * itunes_id are bigint (at most 18 digits, as deezer_id= and the insert below take
 * them), Spotify's are base-62 text. */
static const struct {
    const char *provider, *chars, *what;
    size_t max;
} id_formats[] = {
    {"deezer", DIGITS, "a Deezer track id is a decimal number", 18},
    {"itunes", DIGITS, "an iTunes track id is a decimal number", 18},
    {"spotify", ALNUM, "a Spotify track id is letters and digits", 63},
};

static bool blank(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* The string t.KEY without the white space around it into buf (len > 4 * max_chars):
 * 0, or 400 naming the field. */
static int track_text(json_t *t, const char *key, size_t max_chars, char *buf, size_t len,
                      json_t **out)
{
    const char *v = json_string_value(json_object_get(t, key));
    if (!v)
        return fail(out, 400, "track.%s: required (a string)", key);
    while (blank(*v))
        v++;
    size_t n = strlen(v), chars = 0;
    while (n && blank(v[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            return fail(out, 400, "track.%s: control characters are not allowed", key);
        chars += (c & 0xc0) != 0x80; /* UTF-8 (jansson checked it): lead bytes */
    }
    if (n == 0)
        return fail(out, 400, "track.%s: must not be empty", key);
    if (chars > max_chars || n >= len)
        return fail(out, 400, "track.%s: at most %zu characters", key, max_chars);
    memcpy(buf, v, n);
    buf[n] = '\0';
    return 0;
}

/* The id in the format of its provider. */
static int track_id_checked(json_t *t, struct web_track *w, json_t **out)
{
    for (size_t i = 0; i < sizeof id_formats / sizeof *id_formats; i++) {
        if (strcmp(w->provider, id_formats[i].provider) != 0)
            continue;
        int status = track_text(t, "id", id_formats[i].max, w->id, sizeof w->id, out);
        if (!status && strspn(w->id, id_formats[i].chars) != strlen(w->id))
            status = fail(out, 400, "track.id: '%s' is not a %s id (%s)", w->id, w->provider,
                          id_formats[i].what);
        return status;
    }
    return fail(out, 400, "track.provider: '%.40s' is not one of deezer, itunes, spotify",
                w->provider);
}

/* body.track into *w: 0, or 400 naming the first bad field. */
static int web_track_parse(json_t *t, struct web_track *w, json_t **out)
{
    if (!json_is_object(t))
        return fail(out, 400, "give track_id, or track with provider (deezer, itunes, spotify), "
                              "id, artist and title");
    if (!(w->provider = json_string_value(json_object_get(t, "provider"))))
        return fail(out, 400, "track.provider: required (deezer, itunes or spotify)");
    int status = track_id_checked(t, w, out);
    if (!status)
        status = track_text(t, "artist", WEB_TEXT_MAX, w->artist, sizeof w->artist, out);
    if (!status)
        status = track_text(t, "title", WEB_TEXT_MAX, w->title, sizeof w->title, out);
    json_t *isrc = json_object_get(t, "isrc"); /* optional: absent, null or "" */
    if (status || !isrc || json_is_null(isrc) || (json_is_string(isrc) && !json_string_length(isrc)))
        return status;
    /* An ISRC is 12 letters and digits (ISO 3901), as the providers give it. */
    const char *v = json_string_value(isrc);
    if (!v || strlen(v) != 12 || strspn(v, ALNUM) != 12)
        return fail(out, 400, "track.isrc: 12 letters and digits expected");
    memcpy(w->isrc, v, 13);
    return 0;
}

/* The track a correction is about: "track_id", or the song w found or added. */
static int correction_track(struct serve_engine *e, json_t *body, const struct web_track *w,
                            char id[24], json_t **out)
{
    af_err err = {0};
    json_t *tid = json_object_get(body, "track_id");
    if (json_is_integer(tid)) {
        snprintf(id, 24, "%lld", (long long)json_integer_value(tid));
        const char *p[] = {id};
        PGresult *res = af_db_query(e->db, "SELECT 1 FROM tracks WHERE track_id = $1", 1, p,
                                    &err);
        if (!res)
            return db_fail(out, &err);
        int n = PQntuples(res);
        PQclear(res);
        return n ? 0 : fail(out, 404, "track %s: no such track", id);
    }
    const char *provider = w->provider, *pid = w->id, *artist = w->artist, *title = w->title;
    const char *isrc = w->isrc;
    struct af_lookup_hit h = {.provider = provider};
    snprintf(h.c.id, sizeof h.c.id, "%s", pid);
    snprintf(h.c.isrc, sizeof h.c.isrc, "%s", isrc);
    h.c.artists = (char *)artist;
    h.c.title = (char *)title;
    long long found = 0;
    char label[64];
    if (collection_track(e, &h, &found, label, sizeof label, &err) != 0)
        return db_fail(out, &err);
    if (found) {
        snprintf(id, 24, "%lld", found);
        return 0;
    }
    char key[96], run[24];
    snprintf(key, sizeof key, "%s:%s", provider, pid);
    snprintf(run, sizeof run, "%lld", af_run_id(e->app->run));
    const char *p[] = {artist, title, provider, pid, *isrc ? isrc : NULL, key,
                       af_run_id(e->app->run) ? run : NULL};
    PGresult *res = af_db_query(
        e->db,
        "WITH t AS (INSERT INTO tracks (artist, title, match_key, isrc, deezer_id, itunes_id, spotify_id)"
        "  VALUES ($1, $2, af_norm_key($1) || E'\\t' || af_norm_key($2), $5,"
        "          CASE WHEN $3 = 'deezer' AND $4 ~ '^[0-9]{1,18}$' THEN $4::bigint END,"
        "          CASE WHEN $3 = 'itunes' AND $4 ~ '^[0-9]{1,18}$' THEN $4::bigint END,"
        "          CASE WHEN $3 = 'spotify' THEN $4 END) RETURNING track_id)"
        " INSERT INTO track_sources (track_id, source, source_key, run_id)"
        " SELECT track_id, 'web', $6, $7 FROM t RETURNING track_id",
        7, p, &err);
    if (!res)
        return db_fail(out, &err);
    snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    log_info("correction: added track %s (%s - %s, %s) to the collection", id, artist, title, key);
    return 0;
}

int serve_correct(struct serve_engine *e, const char *data, size_t size, json_t **out)
{
    json_error_t jerr;
    json_t *body = json_loadb(data, size, 0, &jerr);
    if (!json_is_object(body)) {
        json_decref(body);
        return fail(out, 400, "the body must be a JSON object: %s", jerr.text);
    }
    const char *genre = json_string_value(json_object_get(body, "genre"));
    const char *by = json_string_value(json_object_get(body, "by"));
    const char *note = json_string_value(json_object_get(body, "note"));
    int status = 0;
    if (!genre || !*genre)
        status = fail(out, 400, "genre: required");
    else if (!by || !*by || strlen(by) > 100)
        status = fail(out, 400, "by: your name is required (at most 100 characters)");
    else if (note && strlen(note) > 1000)
        status = fail(out, 400, "note: at most 1000 characters");
    struct web_track w = {0};
    if (!status && !json_is_integer(json_object_get(body, "track_id")))
        status = web_track_parse(json_object_get(body, "track"), &w, out);
    char gid[16], tid[24], run[24];
    af_err err = {0};
    if (!status && db_ready(e, &err) != 0)
        status = db_fail(out, &err);
    if (!status) {
        const char *p[] = {genre};
        PGresult *res = af_db_query(e->db, "SELECT genre_id FROM genres WHERE name = lower($1)",
                                    1, p, &err);
        if (!res)
            status = db_fail(out, &err);
        else if (PQntuples(res) != 1)
            status = fail(out, 400, "genre '%s': not a genre of the taxonomy", genre);
        else
            snprintf(gid, sizeof gid, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    if (!status && af_db_begin(e->db, &err) != 0)
        status = db_fail(out, &err);
    if (!status && (status = correction_track(e, body, &w, tid, out)) != 0)
        af_db_rollback(e->db);
    if (!status) {
        snprintf(run, sizeof run, "%lld", af_run_id(e->app->run));
        const char *p[] = {tid, gid, by, note, af_run_id(e->app->run) ? run : NULL};
        PGresult *res = af_db_query(e->db,
                                    "SELECT af_correct_label($1, $2, $3, $4, 'web', $5)", 5, p,
                                    &err);
        if (!res || af_db_commit(e->db, &err) != 0) {
            af_db_rollback(e->db);
            status = db_fail(out, &err);
        } else {
            *out = json_pack("{s:I,s:I,s:s,s:s}", "correction_id",
                             (json_int_t)atoll(PQgetvalue(res, 0, 0)), "track_id",
                             (json_int_t)atoll(tid), "genre", genre, "applies",
                             "at the next af-ingest label");
            status = 201;
            af_run_count(e->app->run, "corrections", 1);
        }
        PQclear(res);
    }
    json_decref(body);
    return status;
}
