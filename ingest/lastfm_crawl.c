/* lastfm_crawl.c — the Last.fm crawl: top tracks per seed tag, then top tags per track. */
#include "lastfm_crawl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "lastfm_api.h"
#include "lastfm_json.h"
#include "log.h"
#include "run.h"

#define PER_PAGE "50"

struct cursor {
    int next_page;
    int total_pages; /* -1 unknown */
};

static int load_cursor(struct ingest_ctx *ctx, const char *tag, struct cursor *cur, af_err *err)
{
    char age[32];
    snprintf(age, sizeof age, "%.6f", af_config_double(ctx->app->cfg, "lastfm.cache_max_age_days"));
    const char *p[] = {tag, age};
    PGresult *res = af_db_query(ctx->db,
                                "SELECT next_page, coalesce(total_pages, -1),"
                                " updated_at < now() - $2::float8 * interval '1 day'"
                                " FROM lastfm_crawl_cursors WHERE tag = $1", 2, p, err);
    if (!res)
        return -1;
    cur->next_page = 1;
    cur->total_pages = -1;
    if (PQntuples(res) == 1) {
        cur->next_page = atoi(PQgetvalue(res, 0, 0));
        cur->total_pages = atoi(PQgetvalue(res, 0, 1));
        /* A finished crawl older than the cache age starts again to pick up changes. */
        int finished = cur->total_pages >= 0 && cur->next_page > cur->total_pages;
        if (finished && PQgetvalue(res, 0, 2)[0] == 't') {
            cur->next_page = 1;
            cur->total_pages = -1;
        }
    }
    PQclear(res);
    return 0;
}

/* Stores one page's tracks and moves the cursor, in one transaction. */
static int store_page(struct ingest_ctx *ctx, const char *tag, int page,
                      const struct lfm_top_tracks *t, long *new_tracks, af_err *err)
{
    if (af_db_begin(ctx->db, err) != 0)
        return -1;
    for (int i = 0; i < t->n_tracks; i++) {
        const struct lfm_track *lt = &t->tracks[i];
        struct ingest_track it = {.artist = lt->artist, .title = lt->name, .mbid = lt->mbid,
                                  .duration_seconds = lt->duration_seconds};
        char track_id[24];
        bool created;
        if (ingest_track_upsert(ctx, &it, track_id, &created, err) != 0)
            goto fail;
        /* The source key: Last.fm's URL of the track, else artist - title. */
        char fallback[1024];
        snprintf(fallback, sizeof fallback, "%s - %s", lt->artist, lt->name);
        const char *p[] = {track_id, lt->url ? lt->url : fallback,
                           ctx->run_id[0] ? ctx->run_id : NULL};
        if (af_db_command(ctx->db,
                          "INSERT INTO track_sources (track_id, source, source_key, run_id)"
                          " VALUES ($1, 'lastfm_api', $2, $3) ON CONFLICT DO NOTHING",
                          3, p, err) != 0)
            goto fail;
        if (created) {
            (*new_tracks)++;
            af_run_count(ctx->run, "tracks", 1);
        }
    }
    char next[16], total[16], seen[16];
    snprintf(next, sizeof next, "%d", page + 1);
    snprintf(total, sizeof total, "%d", t->total_pages);
    snprintf(seen, sizeof seen, "%d", t->n_tracks);
    const char *p[] = {tag, next, total, seen, ctx->run_id[0] ? ctx->run_id : NULL};
    if (af_db_command(ctx->db,
                      "INSERT INTO lastfm_crawl_cursors (tag, next_page, total_pages, tracks_seen,"
                      " run_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tag) DO UPDATE SET"
                      " next_page = EXCLUDED.next_page, total_pages = EXCLUDED.total_pages,"
                      " tracks_seen = CASE WHEN EXCLUDED.next_page = 2 THEN EXCLUDED.tracks_seen"
                      "   ELSE lastfm_crawl_cursors.tracks_seen + EXCLUDED.tracks_seen END,"
                      " started_at = CASE WHEN EXCLUDED.next_page = 2 THEN now()"
                      "   ELSE lastfm_crawl_cursors.started_at END,"
                      " updated_at = now(), run_id = EXCLUDED.run_id",
                      5, p, err) != 0)
        goto fail;
    return af_db_commit(ctx->db, err);
fail:
    af_db_rollback(ctx->db);
    return -1;
}

/* A call that failed for good (call: -1 with err's message, or LFM_API_ERROR with api's)
 * is counted in *failed and stored in ingest_problems; err is then cleared. */
static int record_failed_call(struct ingest_ctx *ctx, const char *item, int call,
                              const struct lfm_api_error *api, long *failed, af_err *err)
{
    char detail[AF_ERR_MAX + 64];
    if (call == -1)
        snprintf(detail, sizeof detail, "%s", err->msg);
    else
        snprintf(detail, sizeof detail, "error %d: %s", api->code, api->message);
    af_err_clear(err);
    (*failed)++;
    return ingest_problem(ctx, "lastfm_api", item, call == -1 ? "request_failed" : "api_error",
                          detail, err);
}

/* Crawls one seed tag from its cursor. Returns 0, 1 when a stop was requested, -1 on a
 * fatal error; a page that fails for good ends this tag's crawl (counted in *failed). */
static int crawl_tag(struct ingest_ctx *ctx, struct lfm_client *client, const char *tag,
                     long *failed, af_err *err)
{
    int max_pages = (int)af_config_int(ctx->app->cfg, "lastfm.pages_per_tag");
    struct cursor cur;
    if (load_cursor(ctx, tag, &cur, err) != 0)
        return -1;
    long new_tracks = 0;
    int pages = 0;
    for (int page = cur.next_page;; page++) {
        int last = cur.total_pages < 0 ? max_pages
                                       : (cur.total_pages < max_pages ? cur.total_pages : max_pages);
        if (page > last)
            break;
        if (af_app_stop_requested())
            return 1;
        char page_text[16];
        snprintf(page_text, sizeof page_text, "%d", page);
        const char *params[] = {"tag", tag, "page", page_text, "limit", PER_PAGE, NULL};
        char *body;
        size_t len;
        struct lfm_api_error api;
        int cached;
        int rc = lfm_client_call(client, "tag.getTopTracks", params, &body, &len, &api, &cached,
                                 err);
        if (rc == LFM_STOPPED)
            return 1;
        if (rc == -1 && err->code)
            return -1;
        char item[600];
        snprintf(item, sizeof item, "tag.getTopTracks tag=%s page=%d", tag, page);
        if (rc == -1 || rc == LFM_API_ERROR) {
            if (record_failed_call(ctx, item, rc, &api, failed, err) != 0)
                return -1;
            log_warn("tag '%s': stopping at page %d; the next run resumes there", tag, page);
            return 0;
        }
        struct lfm_top_tracks tracks;
        af_err perr = {0};
        rc = lfm_parse_top_tracks(body, len, &tracks, &api, &perr);
        free(body);
        if (rc != 0) {
            /* Not understood: the cursor stays, the cached body goes (the next run asks
             * again), and the run ends with exit 1. */
            (*failed)++;
            if (lfm_client_forget(client, "tag.getTopTracks", params, err) != 0 ||
                ingest_problem(ctx, "lastfm_api", item, "malformed_response", perr.msg, err) != 0)
                return -1;
            log_warn("tag '%s': stopping at page %d; the next run asks for it again", tag, page);
            return 0;
        }
        if (tracks.n_skipped)
            af_run_count(ctx->run, "items_without_name", tracks.n_skipped);
        if (tracks.n_unknown_artist)
            af_run_count(ctx->run, "unknown_artist", tracks.n_unknown_artist);
        if (store_page(ctx, tag, page, &tracks, &new_tracks, err) != 0) {
            lfm_top_tracks_free(&tracks);
            return -1;
        }
        pages++;
        af_run_count(ctx->run, "pages", 1);
        cur.total_pages = tracks.total_pages;
        int empty = tracks.n_tracks == 0 && tracks.n_skipped == 0;
        lfm_top_tracks_free(&tracks);
        char extra[300];
        snprintf(extra, sizeof extra, "tag '%s', page %d of %d", tag, page, cur.total_pages);
        af_progress("pages", (long)af_run_counter(ctx->run, "pages"), 0, extra);
        if (empty)
            break; /* an unknown tag, or past the end */
    }
    log_info("tag '%s': %d page(s) fetched, %ld new track(s)", tag, pages, new_tracks);
    return 0;
}

/* Last.fm's corrected name, or NULL when it is the name asked with. */
static const char *correction(const char *answered, const char *asked)
{
    return answered && strcmp(answered, asked) != 0 ? answered : NULL;
}

static int store_tags(struct ingest_ctx *ctx, const char *track_id, const char *artist,
                      const char *title, const struct lfm_top_tags *t, af_err *err)
{
    if (af_db_begin(ctx->db, err) != 0)
        return -1;
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    /* autocorrect=1: the names Last.fm answered for go beside the stored ones. */
    const char *names[] = {track_id, correction(t->artist, artist), correction(t->track, title)};
    if (af_db_command(ctx->db,
                      "UPDATE tracks SET lastfm_artist = $2, lastfm_title = $3, updated_at = now()"
                      " WHERE track_id = $1 AND (lastfm_artist IS DISTINCT FROM $2"
                      "  OR lastfm_title IS DISTINCT FROM $3)", 3, names, err) != 0)
        goto fail;
    if (names[1] || names[2])
        af_run_count(ctx->run, "names_corrected", 1);
    for (int i = 0; i < t->n_tags; i++) {
        char weight[32];
        snprintf(weight, sizeof weight, "%g", t->tags[i].count);
        const char *p[] = {track_id, t->tags[i].name, weight, run};
        if (af_db_command(ctx->db,
                          "INSERT INTO raw_tags (track_id, source, tag, weight, run_id)"
                          " VALUES ($1, 'lastfm_api', $2, $3, $4) ON CONFLICT (track_id, source, tag)"
                          " DO UPDATE SET weight = EXCLUDED.weight, run_id = EXCLUDED.run_id",
                          4, p, err) != 0)
            goto fail;
    }
    char n[16];
    snprintf(n, sizeof n, "%d", t->n_tags);
    const char *p[] = {track_id, t->n_tags ? "tagged" : "no_tags", n, run};
    if (af_db_command(ctx->db,
                      "INSERT INTO lastfm_tag_lookups (track_id, outcome, n_tags, run_id)"
                      " VALUES ($1, $2, $3, $4) ON CONFLICT (track_id) DO UPDATE SET"
                      " outcome = EXCLUDED.outcome, n_tags = EXCLUDED.n_tags, detail = NULL,"
                      " looked_up_at = now(), run_id = EXCLUDED.run_id", 4, p, err) != 0)
        goto fail;
    af_run_count(ctx->run, "tags", t->n_tags);
    af_run_count(ctx->run, t->n_tags ? "tracks_tagged" : "tracks_without_tags", 1);
    return af_db_commit(ctx->db, err);
fail:
    af_db_rollback(ctx->db);
    return -1;
}

static int record_not_found(struct ingest_ctx *ctx, const char *track_id, const char *item,
                            const struct lfm_api_error *api, af_err *err)
{
    const char *p[] = {track_id, api->message, ctx->run_id[0] ? ctx->run_id : NULL};
    if (af_db_command(ctx->db,
                      "INSERT INTO lastfm_tag_lookups (track_id, outcome, detail, run_id)"
                      " VALUES ($1, 'not_found', $2, $3) ON CONFLICT (track_id) DO UPDATE SET"
                      " outcome = 'not_found', n_tags = 0, detail = EXCLUDED.detail,"
                      " looked_up_at = now(), run_id = EXCLUDED.run_id", 3, p, err) != 0)
        return -1;
    char detail[300];
    snprintf(detail, sizeof detail, "error 6: %s", api->message);
    return ingest_problem(ctx, "lastfm_api", item, "not_found", detail, err);
}

static int lookup_tags(struct ingest_ctx *ctx, struct lfm_client *client,
                       const struct lastfm_crawl_options *o, long *failed, af_err *err)
{
    char age[32], limit[32];
    snprintf(age, sizeof age, "%.6f", af_config_double(ctx->app->cfg, "lastfm.cache_max_age_days"));
    snprintf(limit, sizeof limit, "%ld", o->max_lookups > 0 ? o->max_lookups : -1);
    const char *p[] = {o->all_untagged ? "t" : "f", age, limit};
    PGresult *res = af_db_query(
        ctx->db,
        "SELECT t.track_id, t.artist, t.title FROM tracks t"
        " WHERE t.artist IS NOT NULL AND t.title IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM raw_tags r WHERE r.track_id = t.track_id)"
        " AND ($1::bool OR EXISTS (SELECT 1 FROM track_sources s WHERE s.track_id = t.track_id"
        "      AND s.source = 'lastfm_api'))"
        " AND NOT EXISTS (SELECT 1 FROM lastfm_tag_lookups l WHERE l.track_id = t.track_id"
        "      AND l.looked_up_at > now() - $2::float8 * interval '1 day')"
        " ORDER BY t.track_id LIMIT CASE WHEN $3::bigint < 0 THEN NULL ELSE $3::bigint END",
        3, p, err);
    if (!res)
        return -1;
    int n = PQntuples(res);
    log_info("track.getTopTags for %d track(s) without tags", n);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (af_app_stop_requested()) {
            rc = 1;
            break;
        }
        const char *track_id = PQgetvalue(res, i, 0);
        const char *artist = PQgetvalue(res, i, 1), *title = PQgetvalue(res, i, 2);
        const char *params[] = {"artist", artist, "track", title, "autocorrect", "1", NULL};
        char item[1200];
        snprintf(item, sizeof item, "track.getTopTags %s - %s", artist, title);
        char *body;
        size_t len;
        struct lfm_api_error api;
        int cached;
        int call = lfm_client_call(client, "track.getTopTags", params, &body, &len, &api, &cached,
                                   err);
        if (call == LFM_STOPPED) {
            rc = 1;
            break;
        }
        if (call == -1 && err->code) {
            rc = -1;
            break;
        }
        if (call == LFM_API_ERROR && api.code == 6) {
            af_run_count(ctx->run, "not_found_tracks", 1);
            if (record_not_found(ctx, track_id, item, &api, err) != 0)
                rc = -1;
            continue;
        }
        if (call != 0) {
            if (record_failed_call(ctx, item, call, &api, failed, err) != 0)
                rc = -1;
            continue;
        }
        struct lfm_top_tags tags;
        af_err perr = {0};
        int parsed = lfm_parse_top_tags(body, len, &tags, &api, &perr);
        free(body);
        if (parsed != 0) {
            (*failed)++;
            if (lfm_client_forget(client, "track.getTopTags", params, err) != 0 ||
                ingest_problem(ctx, "lastfm_api", item, "malformed_response", perr.msg, err) != 0)
                rc = -1;
            continue;
        }
        if (tags.n_bad_counts) {
            char detail[300];
            snprintf(detail, sizeof detail, "%d tag(s) with a count that is NaN, infinite or "
                     "negative skipped (first: %s)", tags.n_bad_counts, tags.bad_count);
            (*failed)++; /* values of the answer were not loaded: some items failed */
            if (ingest_problem(ctx, "lastfm_api", item, "bad_tag_weight", detail, err) != 0)
                rc = -1;
        }
        if (rc == 0 && store_tags(ctx, track_id, artist, title, &tags, err) != 0)
            rc = -1;
        lfm_top_tags_free(&tags);
        af_progress("tracks", i + 1, n, "track.getTopTags");
    }
    PQclear(res);
    return rc;
}

int ingest_lastfm(struct ingest_ctx *ctx, const struct lastfm_crawl_options *o,
                  long *failed_items, af_err *err)
{
    *failed_items = 0;
    struct lfm_client *client = lfm_client_new(ctx, err);
    if (!client)
        return -1;
    /* Each page and lookup commits; losing the last few to a server crash only means
     * asking again, so do not wait for the disk on every commit. */
    int rc = af_db_command(ctx->db, "SET synchronous_commit = off", 0, NULL, err);
    if (rc == 0 && o->crawl) {
        if (o->n_tags > 0) {
            for (int i = 0; i < o->n_tags && rc == 0; i++)
                rc = crawl_tag(ctx, client, o->tags[i], failed_items, err);
        } else {
            for (int g = 0; g < o->taxonomy->n_genres && rc == 0; g++)
                for (int s = 0; s < o->taxonomy->genres[g].n_seeds && rc == 0; s++)
                    rc = crawl_tag(ctx, client, o->taxonomy->genres[g].seeds[s], failed_items,
                                   err);
        }
    }
    if (rc == 0 && o->toptags)
        rc = lookup_tags(ctx, client, o, failed_items, err);
    af_progress_end();
    lfm_client_free(client);
    if (rc == 1)
        log_info("stopped on request; the next run resumes where this one stopped");
    return rc < 0 ? -1 : 0;
}
