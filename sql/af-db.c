/*
 * af-db — administers the AudioFiler database: applies the schema migrations
 * in sql/ and reports where every track is in the pipeline.
 *
 *   af-db migrate   apply missing migrations (a no-op when up to date)
 *   af-db status    tracks per pipeline stage and state, and each program's last run
 *   af-db version   schema version of the database and of this program
 *   af-db conninfo  the connection string the programs would use, password masked
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
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
    "            it, with any password shown as ***; connects to nothing\n";

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
                               "the database connection string is not valid: %s", problem);
    char *masked = af_db_mask_conninfo(conninfo);
    if (!masked)
        return af_err_set(err, "out of memory");
    printf("%s\n", masked);
    free(masked);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-db", usage, argc, argv);
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1)
        af_app_option(&app, opt, optarg);
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
    else
        af_app_usage_error(&app, "unknown command '%s'", command);

    af_err err = {0};
    /* migrate and version must work on any schema; status needs the current one. */
    enum af_app_flags flags = handler == af_status_report_print ? AF_APP_DB : AF_APP_DB_ANY_SCHEMA;
    if (handler == run_conninfo)
        flags = AF_APP_NO_DB;
    if (af_app_start(&app, flags, &err) != 0 || handler(&app, &err) != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
