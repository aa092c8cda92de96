/* run.c — run records in the runs table; see run.h. */
#include "run.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "strbuf.h"
#include "utf8text.h"

#define MAX_COUNTERS 64

struct counter {
    char name[48];
    long long value;
};

/* Heartbeat: a thread with its own connection writes heartbeat_at and the counters
 * every AF_RUN_HEARTBEAT_SECONDS (default 30; the main connection may be inside a
 * transaction, busy, or in another thread's hands).  A run whose heartbeat is
 * older than STALE_HEARTBEATS intervals, or whose process is gone from this host,
 * is marked crashed by the next run to begin. */
#define DEFAULT_HEARTBEAT_SECONDS 30
#define STALE_HEARTBEATS 10

struct af_run {
    PGconn *conn;
    long long id;
    pthread_mutex_t lock;
    int n_counters;
    struct counter counters[MAX_COUNTERS];

    pthread_t heartbeat;
    int heartbeat_running, stopping;
    pthread_cond_t wake;
    int interval;
    char **keywords, **values; /* the main connection's parameters, for the thread's own */
};

/* Whether arg mentions a password option ("password =", "sslpassword=", any case). */
static int mentions_password(const char *arg)
{
    for (const char *p = strcasestr(arg, "password"); p; p = strcasestr(p + 1, "password")) {
        const char *q = p + strlen("password");
        q += strspn(q, " \t");
        if (*q == '=')
            return 1;
    }
    return 0;
}

/* arg with the password of a URL's user:password@ authority replaced by ***. */
static char *mask_url_userinfo(const char *arg)
{
    char *out = strdup(arg);
    const char *scheme = out ? strstr(out, "://") : NULL;
    if (!scheme)
        return out;
    char *authority = (char *)scheme + 3;
    size_t authority_len = strcspn(authority, "/?#");
    char *at = memrchr(authority, '@', authority_len);
    char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
    if (!colon)
        return out;
    char *masked = malloc(strlen(out) + 4);
    if (masked)
        sprintf(masked, "%.*s:***%s", (int)(colon - out), out, at);
    free(out);
    return masked;
}

char *af_run_mask_secrets(const char *arg)
{
    /* --db=CONNINFO: the option name stays, the value is masked. */
    const char *eq = strchr(arg, '=');
    if (strncmp(arg, "--", 2) == 0 && eq && eq > arg + 2 &&
        strspn(arg + 2, "abcdefghijklmnopqrstuvwxyz-") == (size_t)(eq - arg - 2)) {
        char *value = af_run_mask_secrets(eq + 1);
        char *out = value ? malloc((size_t)(eq - arg) + strlen(value) + 2) : NULL;
        if (out)
            sprintf(out, "%.*s%s", (int)(eq - arg + 1), arg, value);
        free(value);
        return out;
    }
    /* A connection string: as libpq parses it, whatever its spelling. */
    if (af_db_conninfo_has_secret(arg))
        return af_db_mask_conninfo(arg);
    /* Not one libpq can parse, but it names a password: keep none of it. */
    if (mentions_password(arg))
        return strdup("***");
    return mask_url_userinfo(arg);
}

/* argv as a PostgreSQL text[] literal, secrets masked, each element quoted and
 * escaped; bytes that are not UTF-8 (a Latin-1 file name) as \xHH, since text
 * refuses them. */
static char *arguments_literal(int argc, char **argv)
{
    af_sb b = {0};
    af_sb_puts(&b, "{");
    for (int i = 0; i < argc; i++) {
        char *secret_masked = af_run_mask_secrets(argv[i]);
        char *masked = secret_masked ? af_utf8_escaped(secret_masked) : NULL;
        free(secret_masked);
        if (!masked) {
            af_sb_free(&b);
            return NULL;
        }
        af_sb_puts(&b, i ? ",\"" : "\"");
        for (const char *c = masked; *c; c++)
            af_sb_printf(&b, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
        af_sb_puts(&b, "\"");
        free(masked);
    }
    af_sb_puts(&b, "}");
    const char *text = af_sb_str(&b);
    char *out = text ? strdup(text) : NULL;
    af_sb_free(&b);
    return out;
}

static int heartbeat_seconds(void)
{
    const char *env = getenv("AF_RUN_HEARTBEAT_SECONDS");
    int v = env && *env ? atoi(env) : DEFAULT_HEARTBEAT_SECONDS;
    return v > 0 ? v : DEFAULT_HEARTBEAT_SECONDS;
}

static char *counters_json(struct af_run *run);

/* The main connection's parameters (with a connect timeout), for a second one. */
static int copy_conninfo(struct af_run *run)
{
    PQconninfoOption *opts = PQconninfo(run->conn);
    if (!opts)
        return -1;
    size_t n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n += o->val != NULL;
    run->keywords = calloc(n + 2, sizeof *run->keywords);
    run->values = calloc(n + 2, sizeof *run->values);
    size_t i = 0;
    for (PQconninfoOption *o = opts; run->keywords && run->values && o->keyword; o++) {
        if (!o->val || strcmp(o->keyword, "connect_timeout") == 0)
            continue;
        run->keywords[i] = strdup(o->keyword);
        run->values[i++] = strdup(o->val);
    }
    if (run->keywords && run->values) {
        run->keywords[i] = strdup("connect_timeout");
        run->values[i] = strdup("10");
    }
    PQconninfoFree(opts);
    return run->keywords && run->values ? 0 : -1;
}

static void free_conninfo(struct af_run *run)
{
    for (size_t i = 0; run->keywords && run->keywords[i]; i++) {
        free(run->keywords[i]);
        free(run->values[i]);
    }
    free(run->keywords);
    free(run->values);
}

static void beat(struct af_run *run, PGconn **conn)
{
    if (!*conn || PQstatus(*conn) != CONNECTION_OK) {
        PQfinish(*conn);
        *conn = PQconnectdbParams((const char *const *)run->keywords,
                                  (const char *const *)run->values, 0);
        if (PQstatus(*conn) != CONNECTION_OK)
            return; /* the database is away: try again next time */
        PQclear(PQexec(*conn, "SET statement_timeout = '10s'")); /* af_run_end joins us */
        af_err ignored = {0};
        af_db_watch_peer(*conn, &ignored); /* best effort, as the beat itself */
    }
    char *counters = counters_json(run);
    char id[24];
    snprintf(id, sizeof id, "%lld", run->id);
    const char *params[] = {counters, id};
    PGresult *res = PQexecParams(*conn,
                                 "UPDATE runs SET heartbeat_at = now(), counters = $1"
                                 " WHERE run_id = $2 AND status = 'running'",
                                 2, NULL, params, NULL, NULL, 0);
    PQclear(res);
    free(counters);
}

static void *heartbeat_main(void *arg)
{
    struct af_run *run = arg;
    PGconn *conn = NULL;
    pthread_mutex_lock(&run->lock);
    while (!run->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += run->interval;
        pthread_cond_timedwait(&run->wake, &run->lock, &until);
        if (run->stopping)
            break;
        pthread_mutex_unlock(&run->lock);
        beat(run, &conn);
        pthread_mutex_lock(&run->lock);
    }
    pthread_mutex_unlock(&run->lock);
    PQfinish(conn);
    return NULL;
}

static void start_heartbeat(struct af_run *run)
{
    run->interval = heartbeat_seconds();
    pthread_cond_init(&run->wake, NULL);
    if (copy_conninfo(run) == 0 && pthread_create(&run->heartbeat, NULL, heartbeat_main, run) == 0)
        run->heartbeat_running = 1;
    else
        log_warn("run %lld: no heartbeat thread; a crash of this run is noticed only on this host",
                 run->id);
}

static void stop_heartbeat(struct af_run *run)
{
    if (run->heartbeat_running) {
        pthread_mutex_lock(&run->lock);
        run->stopping = 1;
        pthread_cond_signal(&run->wake);
        pthread_mutex_unlock(&run->lock);
        pthread_join(run->heartbeat, NULL);
    }
    pthread_cond_destroy(&run->wake);
    free_conninfo(run);
}

int af_run_mark_crashed(PGconn *conn, long *marked, af_err *err)
{
    *marked = 0;
    char host[256] = "unknown", stale[24];
    gethostname(host, sizeof host - 1);
    snprintf(stale, sizeof stale, "%d", STALE_HEARTBEATS * heartbeat_seconds());
    const char *params[] = {host};
    PGresult *res = af_db_query(conn,
                                "SELECT run_id, pid FROM runs WHERE status = 'running' AND host = $1",
                                1, params, err);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples(res); r++) {
        pid_t pid = (pid_t)atoi(PQgetvalue(res, r, 1));
        if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge) */
        const char *p[] = {PQgetvalue(res, r, 0)};
        PGresult *up = af_db_query(conn,
                                   "UPDATE runs SET status = 'crashed',"
                                   " finished_at = coalesce(heartbeat_at, started_at),"
                                   " error = 'the process ended without recording its end"
                                   " (killed, crashed or lost its database); counters as of its"
                                   " last heartbeat' WHERE run_id = $1 AND status = 'running'"
                                   " RETURNING run_id",
                                   1, p, err);
        if (!up) {
            PQclear(res);
            return -1;
        }
        *marked += PQntuples(up);
        PQclear(up);
    }
    PQclear(res);
    const char *p2[] = {stale};
    res = af_db_query(conn,
                      "UPDATE runs SET status = 'crashed', finished_at = heartbeat_at,"
                      " error = format('no heartbeat since %s: the process on %s is gone',"
                      "                to_char(heartbeat_at, 'YYYY-MM-DD HH24:MI:SS'), host)"
                      " WHERE status = 'running'"
                      " AND heartbeat_at < now() - make_interval(secs => $1::int) RETURNING run_id",
                      1, p2, err);
    if (!res)
        return -1;
    *marked += PQntuples(res);
    PQclear(res);
    return 0;
}

struct af_run *af_run_begin(PGconn *conn, const char *program, int argc, char **argv,
                            af_err *err)
{
    long marked = 0;
    af_err mark_err = {0};
    if (af_run_mark_crashed(conn, &marked, &mark_err) != 0)
        log_warn("could not check for crashed runs: %s", mark_err.msg);
    else if (marked > 0)
        log_warn("%ld earlier run(s) had ended without recording it: marked crashed "
                 "(af-db status lists them)", marked);

    struct af_run *run = calloc(1, sizeof *run);
    char *args = arguments_literal(argc, argv);
    if (!run || !args) {
        free(run);
        free(args);
        af_err_set(err, "out of memory");
        return NULL;
    }
    char host[256] = "unknown", pid[16];
    gethostname(host, sizeof host - 1);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    const char *params[] = {program, AF_VERSION, args, host, pid};
    PGresult *res = af_db_query(conn,
                                "INSERT INTO runs (program, version, arguments, host, pid, heartbeat_at)"
                                " VALUES ($1, $2, $3, $4, $5, now()) RETURNING run_id",
                                5, params, err);
    free(args);
    if (!res) {
        free(run);
        return NULL;
    }
    run->id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    run->conn = conn;
    pthread_mutex_init(&run->lock, NULL);
    start_heartbeat(run);
    return run;
}

long long af_run_id(const struct af_run *run) { return run ? run->id : 0; }

static struct counter *find_counter(struct af_run *run, const char *name, int create)
{
    for (int i = 0; i < run->n_counters; i++)
        if (strcmp(run->counters[i].name, name) == 0)
            return &run->counters[i];
    if (!create || run->n_counters == MAX_COUNTERS)
        return NULL;
    struct counter *c = &run->counters[run->n_counters++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->value = 0;
    return c;
}

void af_run_count(struct af_run *run, const char *counter, long long delta)
{
    if (!run)
        return;
    pthread_mutex_lock(&run->lock);
    struct counter *c = find_counter(run, counter, 1);
    if (c)
        c->value += delta;
    pthread_mutex_unlock(&run->lock);
}

long long af_run_counter(const struct af_run *run, const char *counter)
{
    if (!run)
        return 0;
    struct af_run *mutable_run = (struct af_run *)run;
    pthread_mutex_lock(&mutable_run->lock);
    struct counter *c = find_counter(mutable_run, counter, 0);
    long long value = c ? c->value : 0;
    pthread_mutex_unlock(&mutable_run->lock);
    return value;
}

static char *counters_json(struct af_run *run)
{
    json_t *obj = json_object();
    pthread_mutex_lock(&run->lock);
    for (int i = 0; i < run->n_counters; i++)
        json_object_set_new(obj, run->counters[i].name, json_integer(run->counters[i].value));
    pthread_mutex_unlock(&run->lock);
    char *text = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(obj);
    return text;
}

int af_run_flush(struct af_run *run, af_err *err)
{
    if (!run)
        return 0;
    char *counters = counters_json(run);
    char id[24];
    snprintf(id, sizeof id, "%lld", run->id);
    const char *params[] = {counters, id};
    int rc = af_db_command(run->conn,
                           "UPDATE runs SET counters = $1, heartbeat_at = now() WHERE run_id = $2", 2,
                           params, err);
    free(counters);
    return rc;
}

void af_run_end(struct af_run *run, const char *status, const char *error)
{
    if (!run)
        return;
    stop_heartbeat(run);
    if (PQstatus(run->conn) == CONNECTION_OK) {
        /* A transaction left open by a failed stage would swallow this update. */
        if (PQtransactionStatus(run->conn) != PQTRANS_IDLE)
            af_db_rollback(run->conn);
        char *counters = counters_json(run);
        char id[24];
        snprintf(id, sizeof id, "%lld", run->id);
        const char *params[] = {status, counters, error, id};
        af_err err = {0};
        if (af_db_command(run->conn,
                          "UPDATE runs SET finished_at = now(), status = $1, counters = $2,"
                          " error = $3 WHERE run_id = $4",
                          4, params, &err) != 0)
            log_warn("could not record the end of run %lld: %s", run->id, err.msg);
        free(counters);
    }
    pthread_mutex_destroy(&run->lock);
    free(run);
}
