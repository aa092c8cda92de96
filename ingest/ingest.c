/* ingest.c — the context, problem records and track merging shared by af-ingest's commands. */
#include "ingest.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "normalise.h"
#include "utf8text.h"
#include "run.h"

#define MAX_PROBLEM_LINES 100

void ingest_ctx_init(struct ingest_ctx *ctx, struct af_app *app)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->app = app;
    ctx->db = app->db;
    ctx->run = app->run;
    if (app->run)
        snprintf(ctx->run_id, sizeof ctx->run_id, "%lld", af_run_id(app->run));
}

/* Replaces every non-ASCII byte by '?' when the text is not valid UTF-8. */
static void make_valid_utf8(char *text)
{
    if (af_utf8_valid(text, strlen(text)))
        return;
    for (char *s = text; *s; s++)
        if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
            *s = '?';
}

int ingest_problem(struct ingest_ctx *ctx, const char *source, const char *item,
                   const char *problem, const char *detail, af_err *err)
{
    return ingest_problem_bytes(ctx, source, item, NULL, problem, detail, err);
}

int ingest_problem_bytes(struct ingest_ctx *ctx, const char *source, const char *item,
                         const char *item_bytes, const char *problem, const char *detail,
                         af_err *err)
{
    /* The item and detail may quote invalid input: log and store valid UTF-8 only. */
    char safe_item[1024], safe_detail[1024];
    snprintf(safe_item, sizeof safe_item, "%s", item);
    snprintf(safe_detail, sizeof safe_detail, "%s", detail ? detail : "");
    make_valid_utf8(safe_item);
    make_valid_utf8(safe_detail);
    if (ctx->problems_logged < MAX_PROBLEM_LINES)
        log_warn("%s: %s%s%s", safe_item, problem, detail ? ": " : "", detail ? safe_detail : "");
    else if (ctx->problems_logged == MAX_PROBLEM_LINES)
        log_warn("more problems: no longer logged one by one (see the ingest_problems table)");
    ctx->problems_logged++;
    af_run_count(ctx->run, problem, 1);
    /* item_bytes only when they say more than item (a name that is not UTF-8). */
    if (item_bytes && strcmp(item_bytes, safe_item) == 0)
        item_bytes = NULL;
    const char *params[] = {ctx->run_id[0] ? ctx->run_id : NULL, source, safe_item, problem,
                            detail ? safe_detail : NULL, item_bytes};
    int lengths[] = {0, 0, 0, 0, 0, item_bytes ? (int)strlen(item_bytes) : 0};
    int formats[] = {0, 0, 0, 0, 0, 1};
    PGresult *res = af_db_query_binary(ctx->db,
                                       "INSERT INTO ingest_problems (run_id, source, item, problem,"
                                       " detail, item_bytes) VALUES ($1, $2, $3, $4, $5, $6)",
                                       6, params, lengths, formats, 0, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static int single_id(PGresult *res, char track_id[24])
{
    int found = PQntuples(res) > 0;
    if (found)
        snprintf(track_id, 24, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found;
}

int ingest_track_upsert(struct ingest_ctx *ctx, const struct ingest_track *t, char track_id[24],
                        bool *created, af_err *err)
{
    char key[1024];
    size_t key_len = af_match_key(t->artist, t->title, key, sizeof key);
    const char *match_key = key_len ? key : NULL;
    const char *mbid = t->mbid && *t->mbid ? t->mbid : NULL;
    char duration[32] = "";
    if (t->duration_seconds > 0)
        snprintf(duration, sizeof duration, "%.3f", t->duration_seconds);
    *created = false;
    PGresult *res;
    int found = 0;
    if (t->msd_track_id) {
        const char *p[] = {t->msd_track_id};
        if (!(res = af_db_query(ctx->db, "SELECT track_id FROM tracks WHERE msd_track_id = $1", 1,
                                p, err)))
            return -1;
        found = single_id(res, track_id);
    }
    if (!found && mbid) {
        /* The same MusicBrainz recording, whatever its spelling in each source. */
        const char *p[] = {mbid, t->msd_track_id};
        if (!(res = af_db_query(ctx->db,
                                "SELECT track_id FROM tracks WHERE musicbrainz_id = $1"
                                " AND ($2::text IS NULL OR msd_track_id IS NULL)"
                                " ORDER BY track_id LIMIT 1", 2, p, err)))
            return -1;
        found = single_id(res, track_id);
    }
    if (!found && match_key) {
        /* A track of another source with the same artist and title, not a different MSD track. */
        const char *p[] = {match_key, t->msd_track_id};
        if (!(res = af_db_query(ctx->db,
                                "SELECT track_id FROM tracks WHERE match_key = $1"
                                " AND ($2::text IS NULL OR msd_track_id IS NULL)"
                                " ORDER BY track_id LIMIT 1", 2, p, err)))
            return -1;
        found = single_id(res, track_id);
    }
    if (!found) {
        const char *p[] = {t->msd_track_id, t->artist, t->title, match_key, mbid,
                           duration[0] ? duration : NULL};
        if (!(res = af_db_query(ctx->db,
                                "INSERT INTO tracks (msd_track_id, artist, title, match_key,"
                                " musicbrainz_id, duration_seconds) VALUES ($1, $2, $3, $4, $5, $6)"
                                " RETURNING track_id", 6, p, err)))
            return -1;
        single_id(res, track_id);
        *created = true;
        return 0;
    }
    const char *p[] = {track_id, t->msd_track_id, t->artist, t->title, match_key, mbid,
                       duration[0] ? duration : NULL};
    return af_db_command(ctx->db,
                         "UPDATE tracks SET msd_track_id = coalesce(msd_track_id, $2),"
                         " artist = coalesce(artist, $3), title = coalesce(title, $4),"
                         " match_key = coalesce(match_key, $5),"
                         " musicbrainz_id = coalesce(musicbrainz_id, $6),"
                         " duration_seconds = coalesce(duration_seconds, $7::real), updated_at = now()"
                         " WHERE track_id = $1 AND ((msd_track_id IS NULL AND $2::text IS NOT NULL)"
                         "  OR (artist IS NULL AND $3::text IS NOT NULL)"
                         "  OR (title IS NULL AND $4::text IS NOT NULL)"
                         "  OR (match_key IS NULL AND $5::text IS NOT NULL)"
                         "  OR (musicbrainz_id IS NULL AND $6::text IS NOT NULL)"
                         "  OR (duration_seconds IS NULL AND $7::real IS NOT NULL))",
                         7, p, err);
}
