/* labels.c — `af-ingest label`: taxonomy version, af_label_tracks(), summary; see labels.h. */
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "run.h"
#include "table.h"

/* Runs a labelling function that answers (status, tracks) rows and adds them to the
 * run's counters. */
static int count_statuses(struct ingest_ctx *ctx, const char *sql, int n,
                          const char *const *params, af_err *err)
{
    PGresult *res = af_db_query(ctx->db, sql, n, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        af_run_count(ctx->run, PQgetvalue(res, i, 0), atoll(PQgetvalue(res, i, 1)));
    PQclear(res);
    return 0;
}

int ingest_label(struct ingest_ctx *ctx, const struct label_options *o, af_err *err)
{
    int version;
    if (af_taxonomy_register(ctx->db, o->taxonomy, &version, err) != 0)
        return -1;
    log_info("taxonomy %s: version %d (%d genres)", o->taxonomy->path, version,
             o->taxonomy->n_genres);
    char v[16], share[32], weight[32], max[32];
    snprintf(v, sizeof v, "%d", version);
    snprintf(share, sizeof share, "%.6g", o->min_share);
    snprintf(weight, sizeof weight, "%.6g", o->min_tag_weight);
    snprintf(max, sizeof max, "%ld", o->max_per_genre);
    const char *params[] = {v, share, weight, max, ctx->run_id[0] ? ctx->run_id : NULL};
    if (af_db_begin(ctx->db, err) != 0)
        return -1;
    /* Precedence: a person's correction (af-label, sql/050) wins over every tag source. */
    const char *cp[] = {v, params[4]};
    if (count_statuses(ctx, "SELECT status, tracks FROM af_label_tracks($1, $2, $3, $4, $5)", 5,
                       params, err) != 0 ||
        count_statuses(ctx, "SELECT status, tracks FROM af_apply_corrections($1, $2)", 2, cp,
                       err) != 0) {
        af_db_rollback(ctx->db);
        return -1;
    }
    if (af_db_commit(ctx->db, err) != 0)
        return -1;
    if (!af_log_reports_wanted()) /* -q */
        return 0;

    const char *vp[] = {v};
    PGresult *res = af_db_query(
        ctx->db,
        "SELECT g.name, count(l.track_id), count(l.track_id) FILTER (WHERE l.selected)"
        " FROM genres g LEFT JOIN track_labels l ON l.genre_id = g.genre_id"
        "  AND l.taxonomy_version = $1 AND l.status = 'labelled'"
        " WHERE EXISTS (SELECT 1 FROM genre_tags gt WHERE gt.genre_id = g.genre_id"
        "               AND gt.taxonomy_version = $1)"
        " GROUP BY g.name ORDER BY g.name", 1, vp, err);
    if (!res)
        return -1;
    static const char *headers[] = {"genre", "labelled", "selected"};
    struct af_table *t = af_table_from_result(res, headers);
    PQclear(res);
    printf("Labels under taxonomy version %d (min share %.2f, at most %ld per genre%s):\n", version,
           o->min_share, o->max_per_genre, o->max_per_genre ? "" : " = no limit");
    af_table_print(t, stdout);
    af_table_free(t);
    res = af_db_query(ctx->db,
                      "SELECT status, count(*) FROM track_labels WHERE taxonomy_version = $1"
                      " GROUP BY status ORDER BY status", 1, vp, err);
    if (!res)
        return -1;
    static const char *h2[] = {"status", "tracks"};
    t = af_table_from_result(res, h2);
    PQclear(res);
    printf("\n");
    af_table_print(t, stdout);
    af_table_free(t);
    return 0;
}
