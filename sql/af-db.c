/*
 * af-db — administers the AudioFiler database: applies the schema migrations
 * in sql/ and reports where every track is in the pipeline.
 *
 *   af-db migrate   apply missing migrations (a no-op when up to date)
 *   af-db status    tracks per pipeline stage and state, and each program's last run
 *   af-db version   schema version of the database and of this program
 *   af-db conninfo  the connection string the programs would use, password masked
 *   af-db roles     create the worker and reader roles and grant them (060_roles.sql)
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
    "      --add-reader LOGIN   the same for the reader role; repeatable\n";

enum { OPT_WORKER = AF_OPT_FIRST_PROGRAM_OPTION, OPT_READER, OPT_ADD_WORKER, OPT_ADD_READER };

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
                               "the database connection string is not valid: %s", problem);
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
    else
        af_app_usage_error(&app, "unknown command '%s'", command);

    af_err err = {0};
    /* migrate and version must work on any schema; status needs the current one. */
    enum af_app_flags flags = handler == af_status_report_print ? AF_APP_DB : AF_APP_DB_ANY_SCHEMA;
    if (handler == run_conninfo)
        flags = AF_APP_NO_DB;
    if (n_members && handler != run_roles)
        af_app_usage_error(&app, "--add-worker and --add-reader belong to the roles command");
    if (af_app_start(&app, flags, &err) != 0 || handler(&app, &err) != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
