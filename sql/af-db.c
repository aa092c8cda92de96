/*
 * af-db — administers the AudioFiler database: applies the schema migrations
 * in sql/ and reports where every track is in the pipeline.
 *
 *   af-db migrate   apply missing migrations (a no-op when up to date)
 *   af-db status    tracks per pipeline stage and state, and each program's last run
 *   af-db version   schema version of the database and of this program
 *   af-db conninfo  the connection string the programs would use, password masked
 *   af-db roles     create the worker and reader roles and grant them (060_roles.sql)
 *   af-db move-audio  move stored audio between the database and the directory store
 *   af-db prune-audio drop the audio of tracks whose features are stored
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "audio_store.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "migrate.h"
#include "status_report.h"

static const char usage[] =
    "Usage: af-db [OPTION]... COMMAND\n"
    "Administer the AudioFiler database.\n"
    "\n"
    "Commands:\n"
    "  migrate   apply the schema migrations this program carries that the database\n"
    "            lacks, each in its own transaction; a second run does nothing\n"
    "  status    print how many tracks are in each pipeline stage and state, the top\n"
    "            failure reasons, and the last run of every program\n"
    "  version   print the database's schema version and this program's\n"
    "  conninfo  print the connection string the programs would use (from --db, the\n"
    "            PG* environment, [database] conninfo or the default), as libpq parses\n"
    "            it, with any password shown as ***; connects to nothing\n"
    "  roles     create (when missing) and grant the database roles of a deployment:\n"
    "            the worker role (the stages: read and write data, no DDL) and the\n"
    "            reader role (SELECT on every table and view, also on the views of\n"
    "            feature sets made later); the owner is the role that ran af-db\n"
    "            migrate. Run it as the owner (with CREATEROLE) or as a superuser,\n"
    "            after af-db migrate; it is idempotent. See README \"Database roles\".\n"
    "\n"
    "Options of roles:\n"
    "      --worker ROLE        name of the worker role (default audiofiler_worker)\n"
    "      --reader ROLE        name of the reader role (default audiofiler_reader)\n"
    "      --add-worker LOGIN   make LOGIN a member of the worker role (created as a\n"
    "                           LOGIN role without password when missing); repeatable\n"
    "      --add-reader LOGIN   the same for the reader role; repeatable\n"
    "\n"
    "  move-audio   move the audio bytes kept elsewhere to where --to says (default:\n"
    "               [audio] store): 'directory' writes every database-held file to\n"
    "               [audio] directory (DIR/ab/cd/<sha256>) and drops it from the\n"
    "               database; 'database' reads every directory-held file back into the\n"
    "               database and deletes it from the directory\n"
    "  prune-audio  drop the audio (database bytes or directory files) of every file\n"
    "               whose tracks all have features of the feature set (--feature-set,\n"
    "               default [extract] feature_set): what [audio] store = none does as\n"
    "               af-extract goes; such tracks cannot get a new feature set later\n"
    "\n"
    "Options of move-audio and prune-audio:\n"
    "      --to database|directory  where move-audio moves the audio\n"
    "      --feature-set NAME       the feature set prune-audio requires\n";

enum {
    OPT_WORKER = AF_OPT_FIRST_PROGRAM_OPTION,
    OPT_READER,
    OPT_ADD_WORKER,
    OPT_ADD_READER,
    OPT_TO,
    OPT_FEATURE_SET
};
static const char *move_to, *prune_feature_set;

#define MAX_MEMBERS 32
static const char *worker_role = "audiofiler_worker", *reader_role = "audiofiler_reader";
static struct member {
    const char *login, **group;
} members[MAX_MEMBERS];
static int n_members;

static int run_migrate(struct af_app *app, af_err *err)
{
    int applied;
    if (af_migrate_apply(app->db, &applied, err) != 0)
        return -1;
    /* Only now does the runs table surely exist to record this invocation in. */
    app->run = af_run_begin(app->db, app->program, app->argc, app->argv, err);
    if (!app->run)
        return -1;
    af_run_count(app->run, "migrations_applied", applied);
    if (applied == 0)
        log_info("schema is up to date at version %d; nothing to do",
                 af_migrate_latest_version());
    else
        log_info("applied %d migration(s); schema is at version %d", applied,
                 af_migrate_latest_version());
    return 0;
}

static int run_version(struct af_app *app, af_err *err)
{
    int current;
    if (af_migrate_current_version(app->db, &current, err) != 0)
        return -1;
    printf("database schema version: %d\nprogram schema version:  %d\n", current,
           af_migrate_latest_version());
    return 0;
}

static int run_conninfo(struct af_app *app, af_err *err)
{
    const char *conninfo =
        af_db_choose_conninfo(app->db_flag, af_config_str(app->cfg, "database.conninfo"));
    char problem[512];
    if (af_db_conninfo_problem(conninfo, problem, sizeof problem) != 0)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "malformed database connection string: %s", problem);
    char *masked = af_db_mask_conninfo(conninfo);
    if (!masked)
        return af_err_set(err, "out of memory");
    printf("%s\n", masked);
    free(masked);
    return 0;
}

static int run_roles(struct af_app *app, af_err *err)
{
    int current;
    if (af_migrate_current_version(app->db, &current, err) != 0)
        return -1;
    if (current < 60)
        return af_err_set_code(err, AF_EXIT_SCHEMA,
                               "the database schema is at version %d: run 'af-db migrate' first",
                               current);
    const char *params[] = {worker_role, reader_role};
    if (af_db_begin(app->db, err) != 0)
        return -1;
    if (af_db_command(app->db, "SELECT af_setup_roles($1, $2)", 2, params, err) != 0)
        goto fail;
    for (int i = 0; i < n_members; i++) {
        const char *member[] = {members[i].login, *members[i].group};
        if (af_db_command(app->db, "SELECT af_add_role_member($1, $2)", 2, member, err) != 0)
            goto fail;
    }
    if (af_db_commit(app->db, err) != 0)
        goto fail;
    log_info("roles: worker %s (data only), reader %s (SELECT, also on later views)%s",
             worker_role, reader_role, n_members ? "; members added" : "");
    for (int i = 0; i < n_members; i++)
        log_info("roles: %s is a member of %s", members[i].login, *members[i].group);
    return 0;
fail:
    af_db_rollback(app->db);
    return af_err_prefix(err, "af-db roles (needs the owner with CREATEROLE, or a superuser)");
}

/* Moves one file (row of a move_batch query: sha256, and bytes for the directory)
 * and counts it in *moved; -1 stops the move. */
typedef int move_one_fn(struct af_app *app, PGresult *res, int row, int *moved, af_err *err);

/* To the directory: the file is written, then the database forgets the bytes. */
static int move_one_to_directory(struct af_app *app, PGresult *res, int row, int *moved,
                                 af_err *err)
{
    const unsigned char *sha = (const unsigned char *)PQgetvalue(res, row, 0);
    if (af_audio_store_write_file(af_audio_store_directory(), sha, PQgetvalue(res, row, 1),
                                  (size_t)PQgetlength(res, row, 1), err) != 0)
        return -1;
    const char *p[] = {(const char *)sha};
    const int l[] = {32}, f[] = {1};
    PGresult *u = af_db_query_binary(app->db,
                                     "UPDATE audio SET bytes = NULL, stored = 'directory'"
                                     " WHERE sha256 = $1 AND stored = 'database'",
                                     1, p, l, f, 0, err);
    if (!u)
        return -1;
    *moved += atoi(PQcmdTuples(u));
    PQclear(u);
    return 0;
}

/* To the database: the file is read back, stored, then deleted. */
static int move_one_to_database(struct af_app *app, PGresult *res, int row, int *moved,
                                af_err *err)
{
    const unsigned char *sha = (const unsigned char *)PQgetvalue(res, row, 0);
    unsigned char *data;
    size_t len;
    af_err why = {0};
    if (af_audio_store_read_file(sha, &data, &len, &why) != 0) {
        log_warn("move-audio: %s; left where it is", why.msg);
        return 0;
    }
    const char *p[] = {(const char *)sha, (const char *)data};
    const int l[] = {32, (int)len}, f[] = {1, 1};
    PGresult *u = af_db_query_binary(app->db,
                                     "UPDATE audio SET bytes = $2, stored = 'database'"
                                     " WHERE sha256 = $1 AND stored = 'directory'",
                                     2, p, l, f, 0, err);
    free(data);
    if (!u)
        return -1;
    if (atoi(PQcmdTuples(u)) == 1) {
        char path[1200];
        af_audio_store_path(af_audio_store_directory(), sha, path, sizeof path);
        unlink(path);
        (*moved)++;
    }
    PQclear(u);
    return 0;
}

/* One step of move-audio: up to 50 files of the batch query after *last, in keyset
 * order (so that a file that cannot move is passed, not retried forever). */
static int move_batch(struct af_app *app, const char *query, move_one_fn *move_one,
                      unsigned char last[32], int *moved, int *seen, af_err *err)
{
    const char *params[] = {(const char *)last};
    const int lengths[] = {32}, formats[] = {1};
    PGresult *res = af_db_query_binary(app->db, query, 1, params, lengths, formats, 1, err);
    if (!res)
        return -1;
    *seen = PQntuples(res);
    int rc = 0;
    for (int i = 0; rc == 0 && i < *seen; i++) {
        memcpy(last, PQgetvalue(res, i, 0), 32);
        rc = move_one(app, res, i, moved, err);
    }
    PQclear(res);
    return rc;
}

static int run_move_audio(struct af_app *app, af_err *err)
{
    const char *to = move_to ? move_to : af_audio_store_name(af_audio_store_kind());
    int to_directory = strcmp(to, "directory") == 0;
    if (!to_directory && strcmp(to, "database") != 0)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "move-audio --to: '%s' is not database or directory (to drop "
                               "audio: af-db prune-audio)", to);
    if (!af_audio_store_directory()[0])
        return af_err_set_code(err, AF_EXIT_USAGE, "move-audio needs [audio] directory");
    unsigned char last[32] = {0};
    int moved = 0, seen;
    do {
        int rc = to_directory
                     ? move_batch(app,
                                  "SELECT sha256, bytes FROM audio WHERE stored = 'database'"
                                  " AND sha256 > $1 ORDER BY sha256 LIMIT 50",
                                  move_one_to_directory, last, &moved, &seen, err)
                     : move_batch(app,
                                  "SELECT sha256 FROM audio WHERE stored = 'directory'"
                                  " AND sha256 > $1 ORDER BY sha256 LIMIT 50",
                                  move_one_to_database, last, &moved, &seen, err);
        if (rc != 0)
            return -1;
    } while (seen > 0 && !af_app_stop_requested());
    af_run_count(app->run, "audio_moved", moved);
    log_info("move-audio: %d file(s) moved to the %s", moved,
             to_directory ? "directory" : "database");
    return 0;
}

static int run_prune_audio(struct af_app *app, af_err *err)
{
    const char *set = prune_feature_set ? prune_feature_set
                                        : af_config_str(app->cfg, "extract.feature_set");
    const char *params[] = {set};
    PGresult *res = af_db_query(
        app->db,
        "WITH fs AS (SELECT feature_set_id FROM feature_sets WHERE name = $1),"
        " victims AS (SELECT a.sha256, a.stored FROM audio a, fs"
        "  WHERE a.stored <> 'none'"
        "  AND EXISTS (SELECT 1 FROM track_audio ta WHERE ta.sha256 = a.sha256)"
        "  AND NOT EXISTS (SELECT 1 FROM track_audio ta LEFT JOIN track_features f"
        "   ON f.track_id = ta.track_id AND f.feature_set_id = fs.feature_set_id"
        "   WHERE ta.sha256 = a.sha256 AND f.track_id IS NULL)"
        "  FOR UPDATE OF a),"
        " pruned AS (UPDATE audio SET bytes = NULL, stored = 'none' FROM victims v"
        "  WHERE audio.sha256 = v.sha256 RETURNING audio.sha256)"
        " SELECT (SELECT count(*) FROM fs), (SELECT count(*) FROM pruned),"
        "  coalesce((SELECT string_agg(encode(sha256, 'hex'), ' ') FROM victims"
        "   WHERE stored = 'directory'), '')",
        1, params, err);
    if (!res)
        return -1;
    if (atoi(PQgetvalue(res, 0, 0)) == 0) {
        PQclear(res);
        return af_err_set_code(err, AF_EXIT_USAGE, "prune-audio: no feature set named '%s'", set);
    }
    int pruned = atoi(PQgetvalue(res, 0, 1));
    /* Directory files go after the database stopped naming them. */
    char *files = strdup(PQgetvalue(res, 0, 2));
    PQclear(res);
    for (char *hex = files ? strtok(files, " ") : NULL; hex; hex = strtok(NULL, " ")) {
        unsigned char sha[32];
        for (int i = 0; i < 32; i++)
            sscanf(hex + 2 * i, "%2hhx", &sha[i]);
        char path[1200];
        af_audio_store_path(af_audio_store_directory(), sha, path, sizeof path);
        unlink(path);
    }
    free(files);
    af_run_count(app->run, "audio_pruned", pruned);
    log_info("prune-audio: dropped the audio of %d file(s) whose tracks all have features of %s",
             pruned, set);
    return 0;
}

static void add_member(struct af_app *app, const char *login, const char **group)
{
    if (n_members == MAX_MEMBERS)
        af_app_usage_error(app, "at most %d --add-worker/--add-reader", MAX_MEMBERS);
    if (!*login)
        af_app_usage_error(app, "--add-worker/--add-reader: empty role name");
    members[n_members].login = login;
    members[n_members].group = group;
    n_members++;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"worker", required_argument, NULL, OPT_WORKER},
                                            {"reader", required_argument, NULL, OPT_READER},
                                            {"add-worker", required_argument, NULL, OPT_ADD_WORKER},
                                            {"add-reader", required_argument, NULL, OPT_ADD_READER},
                                            {"to", required_argument, NULL, OPT_TO},
                                            {"feature-set", required_argument, NULL, OPT_FEATURE_SET},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-db", usage, argc, argv);
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_WORKER: worker_role = optarg; break;
        case OPT_READER: reader_role = optarg; break;
        case OPT_ADD_WORKER: add_member(&app, optarg, &worker_role); break;
        case OPT_ADD_READER: add_member(&app, optarg, &reader_role); break;
        case OPT_TO: move_to = optarg; break;
        case OPT_FEATURE_SET: prune_feature_set = optarg; break;
        default: af_app_usage_error(&app, "unknown option");
        }
    }
    if (optind != argc - 1)
        af_app_usage_error(&app, optind == argc ? "missing command" : "too many arguments");
    const char *command = argv[optind];
    int (*handler)(struct af_app *, af_err *) = NULL;
    if (strcmp(command, "migrate") == 0)
        handler = run_migrate;
    else if (strcmp(command, "status") == 0)
        handler = af_status_report_print;
    else if (strcmp(command, "version") == 0)
        handler = run_version;
    else if (strcmp(command, "conninfo") == 0)
        handler = run_conninfo;
    else if (strcmp(command, "roles") == 0)
        handler = run_roles;
    else if (strcmp(command, "move-audio") == 0)
        handler = run_move_audio;
    else if (strcmp(command, "prune-audio") == 0)
        handler = run_prune_audio;
    else
        af_app_usage_error(&app, "unknown command '%s'", command);

    af_err err = {0};
    /* migrate and version must work on any schema; status needs the current one. */
    enum af_app_flags flags = handler == af_status_report_print || handler == run_move_audio ||
                                      handler == run_prune_audio
                                  ? AF_APP_DB
                                  : AF_APP_DB_ANY_SCHEMA;
    if (handler == run_conninfo)
        flags = AF_APP_NO_DB;
    if (n_members && handler != run_roles)
        af_app_usage_error(&app, "--add-worker and --add-reader belong to the roles command");
    if (af_app_start(&app, flags, &err) != 0 || handler(&app, &err) != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
