/* migrate.c — schema migrations; see migrate.h. */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "migrations.h"

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int af_migrate_latest_version(void)
{
    return af_migration_count ? af_migrations[af_migration_count - 1].version : 0;
}

int af_migrate_current_version(PGconn *conn, int *version, af_err *err)
{
    /* Two statements: a query naming a missing table fails at parse time. */
    PGresult *res = af_db_query(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0,
                                NULL, err);
    if (!res)
        return -1;
    int exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    *version = 0;
    if (!exists)
        return 0;
    res = af_db_query(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
                      err);
    if (!res)
        return -1;
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* An applied migration whose text changed since means the database and the program
 * disagree about the schema: refuse rather than guess. */
static int verify_applied(PGconn *conn, af_err *err)
{
    PGresult *res = af_db_query(conn, "SELECT version, checksum FROM schema_migrations", 0, NULL,
                                err);
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        int version = atoi(PQgetvalue(res, row, 0));
        for (int i = 0; i < af_migration_count; i++) {
            if (af_migrations[i].version != version)
                continue;
            const char *params[] = {af_migrations[i].sql, PQgetvalue(res, row, 1)};
            PGresult *same = af_db_query(
                conn, "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') = $2", 2, params, err);
            if (!same) {
                PQclear(res);
                return -1;
            }
            int equal = PQgetvalue(same, 0, 0)[0] == 't';
            PQclear(same);
            if (!equal) {
                PQclear(res);
                return af_err_set_code(err, AF_EXIT_SCHEMA,
                                       "migration %s was applied with different content than "
                                       "this program carries: the schema cannot be trusted",
                                       af_migrations[i].name);
            }
        }
    }
    PQclear(res);
    return 0;
}

static int apply_one(PGconn *conn, const struct af_migration *m, af_err *err)
{
    if (af_db_begin(conn, err) != 0)
        return -1;
    PGresult *res = PQexec(conn, m->sql); /* trusted DDL from sql/, may hold many statements */
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        af_err_set_code(err, PQstatus(conn) == CONNECTION_BAD ? AF_EXIT_DB_UNAVAILABLE
                                                              : AF_EXIT_FAILURE,
                        "migration %s failed: %s", m->name, PQresultErrorMessage(res));
        err->msg[strcspn(err->msg, "\n")] = '\0';
        PQclear(res);
        af_db_rollback(conn);
        return -1;
    }
    PQclear(res);
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name, m->sql};
    if (af_db_command(conn,
                      "INSERT INTO schema_migrations (version, name, checksum)"
                      " VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))",
                      3, params, err) != 0 ||
        af_db_commit(conn, err) != 0) {
        af_db_rollback(conn);
        return -1;
    }
    log_info("applied migration %s", m->name);
    return 0;
}

static int apply_missing(PGconn *conn, int *applied, af_err *err)
{
    if (af_db_command(conn, create_table_sql, 0, NULL, err) != 0)
        return -1;
    int current;
    if (af_migrate_current_version(conn, &current, err) != 0)
        return -1;
    if (current > af_migrate_latest_version())
        return af_err_set_code(err, AF_EXIT_SCHEMA,
                               "the database schema is at version %d, newer than this program "
                               "understands (%d): upgrade AudioFiler", current,
                               af_migrate_latest_version());
    if (verify_applied(conn, err) != 0)
        return -1;
    for (int i = 0; i < af_migration_count; i++) {
        if (af_migrations[i].version <= current)
            continue;
        if (apply_one(conn, &af_migrations[i], err) != 0)
            return -1;
        (*applied)++;
    }
    return 0;
}

int af_migrate_apply(PGconn *conn, int *applied, af_err *err)
{
    *applied = 0;
    /* Serialise concurrent migrators; the lock is released whatever happens below. */
    if (af_db_command(conn, "SELECT pg_advisory_lock(hashtext('audiofiler:migrate'))", 0, NULL,
                      err) != 0)
        return -1;
    int rc = apply_missing(conn, applied, err);
    PQclear(PQexec(conn, "SELECT pg_advisory_unlock(hashtext('audiofiler:migrate'))"));
    return rc;
}

int af_migrate_check_schema(PGconn *conn, af_err *err)
{
    int current;
    if (af_migrate_current_version(conn, &current, err) != 0)
        return -1;
    int known = af_migrate_latest_version();
    if (current == known)
        return 0;
    if (current == 0)
        return af_err_set_code(err, AF_EXIT_SCHEMA,
                               "the database has no AudioFiler schema: run 'af-db migrate' first");
    if (current < known)
        return af_err_set_code(err, AF_EXIT_SCHEMA,
                               "the database schema is at version %d, this program needs %d: "
                               "run 'af-db migrate'", current, known);
    return af_err_set_code(err, AF_EXIT_SCHEMA,
                           "the database schema is at version %d, newer than this program "
                           "understands (%d): upgrade AudioFiler", current, known);
}
