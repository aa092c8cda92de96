/* db.c — PostgreSQL connection, parameterised queries, COPY and locks; see db.h. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"

const char *af_db_embedded_conninfo(void)
{
    return "host=" AF_PROJECT_DIR "/var/run dbname=audiofiler user=audiofiler "
           "connect_timeout=10";
}

static int libpq_environment_set(void)
{
    static const char *vars[] = {"PGHOST", "PGHOSTADDR", "PGPORT",     "PGDATABASE",
                                 "PGUSER", "PGPASSWORD", "PGSERVICE", NULL};
    for (int i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return 1;
    }
    return 0;
}

const char *af_db_choose_conninfo(const char *flag, const char *configured)
{
    if (flag && *flag)
        return flag;
    if (libpq_environment_set())
        return "connect_timeout=10";
    if (configured && *configured)
        return configured;
    return af_db_embedded_conninfo();
}

void af_db_describe(PGconn *conn, char *buf, size_t len)
{
    const char *host = PQhost(conn), *port = PQport(conn);
    const char *db = PQdb(conn), *user = PQuser(conn);
    snprintf(buf, len, "database %s as user %s on %s%s%s", db && *db ? db : "(default)",
             user && *user ? user : "(default)", host && *host ? host : "(default socket)",
             port && *port ? ":" : "", port && *port ? port : "");
}

/* libpq messages end with a newline and sometimes carry a second line of detail. */
static void first_line(const char *message, char *buf, size_t len)
{
    snprintf(buf, len, "%s", message ? message : "");
    buf[strcspn(buf, "\n")] = '\0';
}

/* Server NOTICEs ("relation already exists, skipping") are debug chatter for us. */
static void log_server_notice(void *unused, const char *message)
{
    char line[512];
    first_line(message, line, sizeof line);
    log_debug("server: %s", line);
}

PGconn *af_db_connect(const char *conninfo, af_err *err)
{
    /* A connection string that does not parse is the caller's mistake, not an
     * unavailable database: usage error (2), not 3. */
    char *parse_error = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &parse_error);
    if (!parsed) {
        char why[512] = "out of memory";
        if (parse_error)
            first_line(parse_error, why, sizeof why);
        PQfreemem(parse_error);
        af_err_set_code(err, AF_EXIT_USAGE, "malformed database connection string: %s", why);
        return NULL;
    }
    PQconninfoFree(parsed);
    PGconn *conn = PQconnectdb(conninfo);
    if (!conn) {
        af_err_set_code(err, AF_EXIT_DB_UNAVAILABLE, "cannot connect to the database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char target[512], why[512];
        af_db_describe(conn, target, sizeof target);
        first_line(PQerrorMessage(conn), why, sizeof why);
        af_err_set_code(err, AF_EXIT_DB_UNAVAILABLE, "cannot connect to %s: %s", target, why);
        PQfinish(conn);
        return NULL;
    }
    PQsetClientEncoding(conn, "UTF8");
    PQsetNoticeProcessor(conn, log_server_notice, NULL);
    return conn;
}

/* A failed statement on a dead connection is "database unavailable", not a bug. */
static int fail_statement(PGconn *conn, PGresult *res, const char *what, af_err *err)
{
    char why[768];
    first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), why, sizeof why);
    if (!why[0])
        first_line(PQerrorMessage(conn), why, sizeof why);
    int code = PQstatus(conn) == CONNECTION_BAD ? AF_EXIT_DB_UNAVAILABLE : AF_EXIT_FAILURE;
    if (code == AF_EXIT_DB_UNAVAILABLE) {
        char target[512];
        af_db_describe(conn, target, sizeof target);
        af_err_set_code(err, code, "lost connection to %s during %s: %s", target, what, why);
    } else {
        af_err_set_code(err, code, "%s failed: %s", what, why);
    }
    PQclear(res);
    return -1;
}

PGresult *af_db_query_binary(PGconn *conn, const char *sql, int n_params,
                             const char *const *params, const int *lengths, const int *formats,
                             int binary_result, af_err *err)
{
    PGresult *res =
        PQexecParams(conn, sql, n_params, NULL, params, lengths, formats, binary_result);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
        return res;
    char what[80];
    snprintf(what, sizeof what, "query \"%.60s\"", sql);
    fail_statement(conn, res, what, err);
    return NULL;
}

PGresult *af_db_query(PGconn *conn, const char *sql, int n_params, const char *const *params,
                      af_err *err)
{
    return af_db_query_binary(conn, sql, n_params, params, NULL, NULL, 0, err);
}

int af_db_command(PGconn *conn, const char *sql, int n_params, const char *const *params,
                  af_err *err)
{
    PGresult *res = af_db_query(conn, sql, n_params, params, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int af_db_begin(PGconn *conn, af_err *err) { return af_db_command(conn, "BEGIN", 0, NULL, err); }
int af_db_commit(PGconn *conn, af_err *err) { return af_db_command(conn, "COMMIT", 0, NULL, err); }

void af_db_rollback(PGconn *conn)
{
    PQclear(PQexec(conn, "ROLLBACK"));
}

int af_db_copy_begin(PGconn *conn, const char *copy_sql, af_err *err)
{
    PGresult *res = PQexec(conn, copy_sql);
    if (PQresultStatus(res) == PGRES_COPY_IN) {
        PQclear(res);
        return 0;
    }
    return fail_statement(conn, res, "COPY", err);
}

int af_db_copy_put(PGconn *conn, const char *data, size_t len, af_err *err)
{
    if (PQputCopyData(conn, data, (int)len) == 1)
        return 0;
    return fail_statement(conn, NULL, "COPY", err);
}

int af_db_copy_end(PGconn *conn, af_err *err)
{
    if (PQputCopyEnd(conn, NULL) != 1)
        return fail_statement(conn, NULL, "COPY", err);
    PGresult *res;
    int failed = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !failed) {
            failed = 1;
            fail_statement(conn, res, "COPY", err);
            continue;
        }
        PQclear(res);
    }
    return failed ? -1 : 0;
}

int af_db_try_stage_lock(PGconn *conn, const char *stage, af_err *err)
{
    const char *params[] = {stage};
    PGresult *res = af_db_query(conn, "SELECT pg_try_advisory_lock(hashtext('audiofiler:' || $1))",
                                1, params, err);
    if (!res)
        return -1;
    int taken = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!taken)
        return af_err_set_code(err, AF_EXIT_LOCKED,
                               "another %s run holds the stage lock; exiting without doing anything",
                               stage);
    return 0;
}
