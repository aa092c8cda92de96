/*
 * status_report.c — `af-db status`: where every track is in the pipeline.
 *
 * A track moves ingest → label → fetch → extract; each stage's row counts the
 * tracks it has done, those still waiting for it, and those it gave up on.
 * "Waiting" only counts tracks the previous stage has finished.
 */
#include "status_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "table.h"

/* The newest taxonomy version is the one labels are read under. */
#define LATEST_TAXONOMY "(SELECT max(taxonomy_version) FROM taxonomy_versions)"

static const char stage_counts_sql[] =
    "WITH labelled AS ("
    "  SELECT track_id FROM track_labels"
    "  WHERE taxonomy_version = " LATEST_TAXONOMY " AND status = 'labelled' AND selected)"
    " SELECT 'ingest', (SELECT count(*) FROM tracks), 0, 0, 'tracks known'"
    " UNION ALL SELECT 'label',"
    "  (SELECT count(*) FROM track_labels WHERE taxonomy_version = " LATEST_TAXONOMY
    "     AND status = 'labelled'),"
    "  (SELECT count(*) FROM tracks t WHERE EXISTS (SELECT 1 FROM raw_tags r WHERE r.track_id = t.track_id)"
    "     AND NOT EXISTS (SELECT 1 FROM track_labels l WHERE l.track_id = t.track_id"
    "       AND l.taxonomy_version = " LATEST_TAXONOMY ")),"
    "  (SELECT count(*) FROM track_labels WHERE taxonomy_version = " LATEST_TAXONOMY
    "     AND status <> 'labelled'),"
    "  'labelled / tagged, not labelled yet / excluded'"
    " UNION ALL SELECT 'fetch',"
    "  (SELECT count(*) FROM labelled l JOIN track_audio a USING (track_id)),"
    "  (SELECT count(*) FROM labelled l WHERE NOT EXISTS (SELECT 1 FROM track_audio a WHERE a.track_id = l.track_id)"
    "     AND NOT EXISTS (SELECT 1 FROM fetch_outcomes o WHERE o.track_id = l.track_id"
    "       AND (o.recheck_after IS NULL OR o.recheck_after > now()))),"
    "  (SELECT count(*) FROM labelled l WHERE NOT EXISTS (SELECT 1 FROM track_audio a WHERE a.track_id = l.track_id)"
    "     AND EXISTS (SELECT 1 FROM fetch_outcomes o WHERE o.track_id = l.track_id"
    "       AND (o.recheck_after IS NULL OR o.recheck_after > now()))),"
    "  'labelled tracks with audio / to fetch / no preview found'"
    " UNION ALL SELECT 'extract ' || f.name,"
    "  (SELECT count(*) FROM extraction_jobs j WHERE j.feature_set_id = f.feature_set_id AND j.status = 'done'),"
    "  (SELECT count(*) FROM track_audio a WHERE NOT EXISTS (SELECT 1 FROM extraction_jobs j"
    "     WHERE j.track_id = a.track_id AND j.feature_set_id = f.feature_set_id AND j.status <> 'running')),"
    "  (SELECT count(*) FROM extraction_jobs j WHERE j.feature_set_id = f.feature_set_id AND j.status = 'failed'),"
    "  'tracks with features / with audio, waiting / failed'"
    " FROM feature_sets f"
    " UNION ALL SELECT 'train', (SELECT count(*) FROM models), 0, 0, 'models trained'";

static const char failure_reasons_sql[] =
    "SELECT stage, reason, n FROM ("
    /* Ingest: problems still open, by source and reason, each item once however often
     * a re-run met it; a folder file stored since is no longer a problem. */
    " SELECT 'ingest' AS stage, source || ': ' || problem AS reason, count(DISTINCT item) AS n"
    "  FROM ingest_problems p WHERE NOT (source = 'folder'"
    "   AND EXISTS (SELECT 1 FROM folder_files f WHERE f.path = p.item)) GROUP BY 2"
    " UNION ALL SELECT 'label', status || coalesce(': ' || reason, '') AS reason, count(*) AS n"
    "  FROM track_labels WHERE taxonomy_version = " LATEST_TAXONOMY " AND status <> 'labelled'"
    "  GROUP BY 2"
    " UNION ALL SELECT 'fetch', provider || ': ' || outcome, count(*) FROM fetch_outcomes o"
    "  WHERE NOT EXISTS (SELECT 1 FROM track_audio a WHERE a.track_id = o.track_id) GROUP BY 2"
    " UNION ALL SELECT 'extract', left(coalesce(error, 'unknown'), 70), count(*)"
    "  FROM extraction_jobs WHERE status = 'failed' GROUP BY 2) r"
    " ORDER BY stage, n DESC, reason";

static const char last_runs_sql[] =
    "SELECT DISTINCT ON (program) program, status,"
    " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    " coalesce(to_char(finished_at - started_at, 'HH24:MI:SS'), '-'),"
    " counters::text, coalesce(left(error, 60), '')"
    " FROM runs WHERE run_id <> $1 ORDER BY program, started_at DESC";

/* Prints the rows of sql as a table; the query may use $1, the current run's id. */
static int print_query_table(struct af_app *app, const char *title, const char *sql,
                             int n_columns, const char *const *headers, int max_per_first_column,
                             af_err *err)
{
    char run_id[24];
    snprintf(run_id, sizeof run_id, "%lld", af_run_id(app->run));
    const char *params[] = {run_id};
    int n_params = strstr(sql, "$1") ? 1 : 0;
    PGresult *res = af_db_query(app->db, sql, n_params, params, err);
    if (!res)
        return -1;
    struct af_table *table = af_table_new(n_columns, headers);
    const char *cells[16];
    int shown_for_key = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        int same_key = row > 0 && strcmp(PQgetvalue(res, row, 0), PQgetvalue(res, row - 1, 0)) == 0;
        shown_for_key = same_key ? shown_for_key + 1 : 0;
        if (max_per_first_column && shown_for_key >= max_per_first_column)
            continue;
        for (int c = 0; c < n_columns; c++)
            cells[c] = PQgetvalue(res, row, c);
        af_table_add(table, cells);
    }
    printf("%s\n", title);
    if (PQntuples(res) == 0)
        printf("  (none)\n");
    else
        af_table_print(table, stdout);
    printf("\n");
    af_table_free(table);
    PQclear(res);
    return 0;
}

int af_status_report_print(struct af_app *app, af_err *err)
{
    static const char *stage_headers[] = {"stage", "done", "pending", "failed", "meaning"};
    static const char *reason_headers[] = {"stage", "reason", "items"};
    static const char *run_headers[] = {"program", "status", "started (UTC)", "duration",
                                        "counters", "error"};
    if (print_query_table(app, "Tracks per stage", stage_counts_sql, 5, stage_headers, 0,
                          err) != 0 ||
        print_query_table(app, "Top failure reasons", failure_reasons_sql, 3,
                          reason_headers, 5, err) != 0 ||
        print_query_table(app, "Last run of each program", last_runs_sql, 6, run_headers, 0,
                          err) != 0)
        return -1;
    return 0;
}
