/*
 * af-label — corrections of track labels by people:
 *
 *   af-label set TRACK GENRE [--by NAME] [--note TEXT]
 *   af-label clear TRACK [--by NAME]
 *   af-label list [--all]
 *
 * A correction is stored in label_corrections (sql/050), a source of its own with
 * who, when and why.  It does not touch track_labels: the next `af-ingest label`
 * applies it over every tag source (af_apply_corrections), so the next af-train
 * learns from it.  af-serve records corrections into the same table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "run.h"
#include "table.h"
#include "utf8text.h"

static const char usage[] =
    "Usage: af-label set TRACK GENRE [--by NAME] [--note TEXT]\n"
    "       af-label clear TRACK [--by NAME]\n"
    "       af-label list [--all]\n"
    "Correct the genre label of a track.\n"
    "\n"
    "TRACK is a track id (tracks.track_id) or a Million Song Dataset id (TR...).\n"
    "GENRE is a genre name of the taxonomy (config/genres.conf), e.g. 'rock'.\n"
    "\n"
    "Commands:\n"
    "  set     record that TRACK has GENRE; replaces the track's earlier correction\n"
    "  clear   withdraw the track's correction (kept as history)\n"
    "  list    the active corrections (--all: the withdrawn ones too)\n"
    "\n"
    "Options:\n"
    "      --by NAME     who corrects (default: $USER)\n"
    "      --note TEXT   why (stored with the correction)\n"
    "      --all         list: include withdrawn corrections\n"
    "\n"
    "A correction takes effect at the next `af-ingest label`, where it takes precedence\n"
    "over every tag source (the label's source is then 'correction'); the next af-train\n"
    "learns from it. Exit code 1: unknown track or genre, or nothing to clear.\n";

enum { OPT_BY = AF_OPT_FIRST_PROGRAM_OPTION, OPT_NOTE, OPT_ALL };

struct label_args {
    const char *by, *note;
    bool all;
};

/* TRACK (id or MSD id) -> track id as text, or an error naming it. */
static int find_track(PGconn *db, const char *spec, char id[24], af_err *err)
{
    const char *p[] = {spec};
    PGresult *res = af_db_query(db,
                                "SELECT track_id FROM tracks WHERE msd_track_id = $1"
                                " OR ($1 ~ '^[0-9]{1,18}$' AND track_id = $1::bigint)",
                                1, p, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!found)
        return af_err_set(err, "track '%s': no such track (give a track id or an MSD id)", spec);
    return 0;
}

/* GENRE -> genre id as text; an unknown name fails listing the known ones. */
static int find_genre(PGconn *db, const char *name, char id[16], af_err *err)
{
    const char *p[] = {name};
    PGresult *res = af_db_query(db, "SELECT genre_id FROM genres WHERE name = lower($1)", 1, p, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(id, 16, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (found)
        return 0;
    res = af_db_query(db, "SELECT coalesce(string_agg(name, ', ' ORDER BY name), '') FROM genres",
                      0, NULL, err);
    if (!res)
        return -1;
    af_err_set(err, "genre '%s': not a genre of the taxonomy (known: %s)", name,
               PQgetvalue(res, 0, 0)[0] ? PQgetvalue(res, 0, 0) : "none yet; run af-ingest label");
    PQclear(res);
    return -1;
}

static int cmd_set(struct af_app *app, const char *track, const char *genre,
                   const struct label_args *a, af_err *err)
{
    char tid[24], gid[16], run[24];
    if (find_track(app->db, track, tid, err) != 0 || find_genre(app->db, genre, gid, err) != 0)
        return -1;
    snprintf(run, sizeof run, "%lld", af_run_id(app->run));
    const char *p[] = {tid, gid, a->by, a->note, af_run_id(app->run) ? run : NULL};
    PGresult *res = af_db_query(app->db, "SELECT af_correct_label($1, $2, $3, $4, 'cli', $5)", 5,
                                p, err);
    if (!res)
        return -1;
    printf("track %s: corrected to %s by %s (correction %s); applied at the next "
           "`af-ingest label`\n",
           tid, genre, a->by, PQgetvalue(res, 0, 0));
    PQclear(res);
    af_run_count(app->run, "corrected", 1);
    return 0;
}

static int cmd_clear(struct af_app *app, const char *track, const struct label_args *a,
                     af_err *err)
{
    char tid[24];
    if (find_track(app->db, track, tid, err) != 0)
        return -1;
    const char *p[] = {tid, a->by};
    PGresult *res = af_db_query(app->db,
                                "UPDATE label_corrections SET cleared_at = now(), cleared_by = $2"
                                " WHERE track_id = $1 AND cleared_at IS NULL RETURNING correction_id",
                                2, p, err);
    if (!res)
        return -1;
    int n = PQntuples(res);
    PQclear(res);
    if (n == 0)
        return af_err_set(err, "track %s has no active correction to clear", tid);
    printf("track %s: correction withdrawn by %s; its tags decide again at the next "
           "`af-ingest label`\n",
           tid, a->by);
    af_run_count(app->run, "cleared", 1);
    return 0;
}

static int cmd_list(struct af_app *app, const struct label_args *a, af_err *err)
{
    const char *p[] = {a->all ? "t" : "f"};
    PGresult *res = af_db_query(
        app->db,
        "SELECT c.track_id, coalesce(t.artist, ''), coalesce(t.title, ''), g.name,"
        "       coalesce(cur.name, '-'), c.corrected_by,"
        "       to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
        "       coalesce(c.note, ''),"
        "       CASE WHEN c.cleared_at IS NULL THEN 'active'"
        "            ELSE 'withdrawn by ' || coalesce(c.cleared_by, '?') END"
        "  FROM label_corrections c JOIN tracks t USING (track_id) JOIN genres g USING (genre_id)"
        "  LEFT JOIN LATERAL (SELECT gg.name FROM track_labels l JOIN genres gg USING (genre_id)"
        "                      WHERE l.track_id = c.track_id ORDER BY l.taxonomy_version DESC"
        "                      LIMIT 1) cur ON true"
        " WHERE $1::boolean OR c.cleared_at IS NULL"
        " ORDER BY c.created_at, c.correction_id",
        1, p, err);
    if (!res)
        return -1;
    static const char *headers[] = {"track", "artist", "title", "genre", "label now",
                                    "by", "when (UTC)", "note", "state"};
    struct af_table *t = af_table_from_result(res, headers);
    int n = PQntuples(res);
    PQclear(res);
    af_table_print(t, stdout);
    af_table_free(t);
    printf("%d correction(s)%s\n", n, a->all ? "" : " active");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"by", required_argument, NULL, OPT_BY},
                                            {"note", required_argument, NULL, OPT_NOTE},
                                            {"all", no_argument, NULL, OPT_ALL},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-label", usage, argc, argv);
    const char *user = getenv("USER");
    struct label_args a = {.by = user && *user ? user : "unknown"};
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_BY: a.by = optarg; break;
        case OPT_NOTE: a.note = optarg; break;
        case OPT_ALL: a.all = true; break;
        default: af_app_usage_error(&app, "unexpected option");
        }
    }
    if (optind == argc)
        af_app_usage_error(&app, "missing command (set, clear or list)");
    const char *cmd = argv[optind];
    int n_args = argc - optind - 1;
    if (strcmp(cmd, "set") == 0) {
        if (n_args != 2)
            af_app_usage_error(&app, "set takes TRACK and GENRE");
    } else if (strcmp(cmd, "clear") == 0) {
        if (n_args != 1)
            af_app_usage_error(&app, "clear takes TRACK");
    } else if (strcmp(cmd, "list") == 0) {
        if (n_args != 0)
            af_app_usage_error(&app, "list takes no arguments");
    } else {
        af_app_usage_error(&app, "unknown command '%s' (set, clear or list)", cmd);
    }
    if (!*a.by)
        af_app_usage_error(&app, "--by: a name is needed");
    if (a.note && strcmp(cmd, "set") != 0)
        af_app_usage_error(&app, "--note belongs to 'set'");
    if (strcmp(cmd, "list") != 0 &&
        (!af_utf8_is_valid(a.by) || (a.note && !af_utf8_is_valid(a.note))))
        af_app_usage_error(&app, "--by and --note must be UTF-8 text");
    if (a.all && strcmp(cmd, "list") != 0)
        af_app_usage_error(&app, "--all belongs to 'list'");

    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    int rc;
    if (strcmp(cmd, "set") == 0)
        rc = cmd_set(&app, argv[optind + 1], argv[optind + 2], &a, &err);
    else if (strcmp(cmd, "clear") == 0)
        rc = cmd_clear(&app, argv[optind + 1], &a, &err);
    else
        rc = cmd_list(&app, &a, &err);
    fflush(stdout);
    if (rc != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
