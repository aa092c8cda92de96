/*
 * serve_engine.h — what af-serve's JSON API does, without HTTP: search the providers
 * (fetch_lookup.h), classify a found song's preview or an uploaded file with the
 * model (the analysis of af-predict), list the nearest tracks of the collection
 * (af_similar_to, sql/051), record a correction (af_correct_label, sql/050).
 *
 * Each call returns the HTTP status af-serve answers with and a JSON body (success
 * or {"error": "..."}); af-serve's README section lists them.  An engine has its own
 * database connection, analyser and provider client and is used by one thread at a
 * time; af-serve keeps [serve] workers of them (serve_pool.h).  Found previews go into
 * the cache the engines share (preview_cache.h), so that the page's player (GET
 * /api/preview) and a repeated prediction do not download them again.
 */
#ifndef AF_SERVE_ENGINE_H
#define AF_SERVE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "app.h"
#include "error.h"
#include "preview_cache.h"

struct serve_engine;

/* Connects to the database (as app does), loads the model and the analyser. */
int serve_engine_open(struct serve_engine **out, struct af_app *app, const char *model,
                      struct preview_cache *cache, af_err *err);
void serve_engine_close(struct serve_engine *e);

/* GET /api/search?q=TEXT: the providers' candidates (suggestions). */
int serve_search(struct serve_engine *e, const char *q, json_t **out);
/* GET /api/predict?q=TEXT[&pick=N] or ?deezer_id=ID: find, download, classify. */
int serve_predict_query(struct serve_engine *e, const char *q, int pick, const char *deezer_id,
                        json_t **out);
/* POST /api/predict (body = an audio file): classify it. */
int serve_predict_upload(struct serve_engine *e, const char *data, size_t size, json_t **out);
/* GET /api/similar?track=ID[&k=N]. */
int serve_similar(struct serve_engine *e, const char *track, int k, json_t **out);
/* POST /api/correct (JSON body): {"genre", "by", "note", and "track_id" or "track":
 * {"provider", "id", "artist", "title", "isrc"}}; a track not in the collection is
 * added to it (source 'web'), so that af-fetch and af-train pick it up. */
int serve_correct(struct serve_engine *e, const char *body, size_t size, json_t **out);
/* GET /api/preview?key=K: a copy of a cached preview's bytes (malloc'd; NULL when
 * not cached). */
char *serve_preview(struct serve_engine *e, const char *key, size_t *size,
                    char content_type[32]);
/* GET /api/status: the model and its genres. */
int serve_status(struct serve_engine *e, json_t **out);

#endif
