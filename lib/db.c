/* db.c — PostgreSQL connection, parameterised queries, COPY and locks; see db.h. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "paths.h"
#include "strbuf.h"

const char *af_db_embedded_conninfo(void)
{
    /* Installed: the distribution's cluster on libpq's default socket, as the user
     * the program runs as (the Debian package's service runs as audiofiler). */
    if (!af_paths_in_tree())
        return "dbname=audiofiler connect_timeout=10";
    static char conninfo[4200];
    if (!conninfo[0])
        snprintf(conninfo, sizeof conninfo,
                 "host=%s/var/run dbname=audiofiler user=audiofiler connect_timeout=10",
                 af_paths_project());
    return conninfo;
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

/* A value for a key=value conninfo: bare when it can be, else single-quoted with
 * backslash escapes (libpq's own quoting rules). */
static void append_conninfo_value(af_sb *b, const char *value)
{
    int bare = *value != '\0';
    for (const char *c = value; *c; c++)
        if (*c == ' ' || *c == '\'' || *c == '\\' || (unsigned char)*c < 0x20)
            bare = 0;
    if (bare) {
        af_sb_puts(b, value);
        return;
    }
    af_sb_puts(b, "'");
    for (const char *c = value; *c; c++)
        af_sb_printf(b, "%s%c", *c == '\'' || *c == '\\' ? "\\" : "", *c);
    af_sb_puts(b, "'");
}

/* libpq marks the options it never displays (password, sslpassword) with '*'. */
static int is_secret(const PQconninfoOption *o) { return o->dispchar && strchr(o->dispchar, '*'); }

char *af_db_mask_conninfo(const char *conninfo)
{
    PQconninfoOption *options = PQconninfoParse(conninfo ? conninfo : "", NULL);
    if (!options)
        return NULL;
    af_sb b = {0};
    for (PQconninfoOption *o = options; o->keyword; o++) {
        if (!o->val)
            continue;
        af_sb_printf(&b, "%s%s=", b.len ? " " : "", o->keyword);
        if (is_secret(o))
            af_sb_puts(&b, "***");
        else
            append_conninfo_value(&b, o->val);
    }
    PQconninfoFree(options);
    const char *text = af_sb_str(&b);
    char *masked = text ? strdup(text) : NULL;
    af_sb_free(&b);
    return masked;
}

int af_db_conninfo_has_secret(const char *conninfo)
{
    PQconninfoOption *options = PQconninfoParse(conninfo ? conninfo : "", NULL);
    int found = 0;
    for (PQconninfoOption *o = options; o && o->keyword; o++)
        if (o->val && is_secret(o))
            found = 1;
    PQconninfoFree(options);
    return found;
}

int af_db_conninfo_problem(const char *conninfo, char *buf, size_t len)
{
    char *message = NULL;
    PQconninfoOption *options = PQconninfoParse(conninfo ? conninfo : "", &message);
    if (options) {
        PQconninfoFree(options);
        if (len)
            buf[0] = '\0';
        return 0;
    }
    /* libpq quotes the offending piece, which may be part of a secret or the whole URI. */
    size_t w = 0;
    int quoted = 0;
    for (const char *c = message ? message : "out of memory"; *c && w + 4 < len; c++) {
        if (*c == '"') {
            if (!quoted) {
                memcpy(buf + w, "\"...", 4);
                w += 4;
            } else {
                buf[w++] = '"';
            }
            quoted = !quoted;
            continue;
        }
        if (quoted)
            continue;
        if (*c == '\n')
            break;
        buf[w++] = *c;
    }
    if (len)
        buf[w < len ? w : len - 1] = '\0';
    PQfreemem(message);
    return -1;
}

static int dead_peer_seconds = AF_DB_DEFAULT_DEAD_PEER_SECONDS;

void af_db_set_dead_peer_seconds(int seconds) { dead_peer_seconds = seconds > 0 ? seconds : 0; }

/* Keepalive probes start after a third of the time and come every sixth, so that the
 * last unanswered probe ends the connection at about dead_peer_seconds; tcp_user_timeout
 * covers the case where data is in flight (keepalives are not sent then). */
struct peer_timing {
    char idle[16], interval[16], count[16], user_timeout_ms[24];
};

static void peer_timing(struct peer_timing *t)
{
    int s = dead_peer_seconds, idle = s / 3 > 0 ? s / 3 : 1, interval = s / 6 > 0 ? s / 6 : 1;
    int count = (s - idle) / interval > 0 ? (s - idle) / interval : 1;
    snprintf(t->idle, sizeof t->idle, "%d", idle);
    snprintf(t->interval, sizeof t->interval, "%d", interval);
    snprintf(t->count, sizeof t->count, "%d", count);
    snprintf(t->user_timeout_ms, sizeof t->user_timeout_ms, "%lld", (long long)s * 1000);
}

int af_db_watch_peer(PGconn *conn, af_err *err)
{
    const char *host = PQhost(conn);
    if (dead_peer_seconds == 0 || !host || host[0] == '/' || host[0] == '@' || host[0] == '\0')
        return 0; /* a Unix socket has no silent peer to detect */
    struct peer_timing t;
    peer_timing(&t);
    const char *params[] = {t.idle, t.interval, t.count, t.user_timeout_ms};
    return af_db_command(conn,
                         "SELECT set_config('tcp_keepalives_idle', $1, false),"
                         " set_config('tcp_keepalives_interval', $2, false),"
                         " set_config('tcp_keepalives_count', $3, false),"
                         " set_config('tcp_user_timeout', $4, false)",
                         4, params, err);
}

/* libpq's own parameters for the client half; the conninfo, expanded last, overrides them. */
static PGconn *connect_with_peer_timing(const char *conninfo)
{
    struct peer_timing t;
    peer_timing(&t);
    const char *keywords[] = {"keepalives_idle", "keepalives_interval", "keepalives_count",
                              "tcp_user_timeout", "dbname", NULL};
    const char *values[] = {t.idle, t.interval, t.count, t.user_timeout_ms, conninfo, NULL};
    int first = dead_peer_seconds > 0 ? 0 : 4;
    return PQconnectdbParams(keywords + first, values + first, 1);
}

/* What every new session gets (af_db_connect's, and af_db_ensure's after a reset). */
static int start_session(PGconn *conn, af_err *err)
{
    PQsetClientEncoding(conn, "UTF8");
    return af_db_watch_peer(conn, err);
}

PGconn *af_db_connect(const char *conninfo, af_err *err)
{
    /* A connection string that does not parse is the caller's mistake, not an
     * unavailable database: usage error (2), not 3; libpq's reason is shown without
     * what it quotes (a piece of the password, or the whole URI). */
    char problem[512];
    if (af_db_conninfo_problem(conninfo, problem, sizeof problem) != 0) {
        af_err_set_code(err, AF_EXIT_USAGE, "malformed database connection string: %s", problem);
        return NULL;
    }
    PGconn *conn = connect_with_peer_timing(conninfo);
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
    PQsetNoticeProcessor(conn, log_server_notice, NULL);
    if (start_session(conn, err) != 0) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

int af_db_ensure(PGconn *conn, af_err *err)
{
    if (PQstatus(conn) == CONNECTION_OK) {
        PQclear(PQexec(conn, "SELECT 1"));
        if (PQstatus(conn) == CONNECTION_OK)
            return 0;
    }
    /* PQreset keeps the notice processor; the session's settings are made again. */
    PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK) {
        char target[512], why[512];
        af_db_describe(conn, target, sizeof target);
        first_line(PQerrorMessage(conn), why, sizeof why);
        return af_err_set_code(err, AF_EXIT_DB_UNAVAILABLE, "cannot reconnect to %s: %s", target,
                               why);
    }
    return start_session(conn, err) == 0 ? 1 : -1;
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
