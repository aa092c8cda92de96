/* run.c — run records in the runs table; see run.h. */
#include "run.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "strbuf.h"

#define MAX_COUNTERS 64

struct counter {
    char name[48];
    long long value;
};

struct af_run {
    PGconn *conn;
    long long id;
    pthread_mutex_t lock;
    int n_counters;
    struct counter counters[MAX_COUNTERS];
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

/* argv as a PostgreSQL text[] literal, secrets masked, each element quoted and escaped. */
static char *arguments_literal(int argc, char **argv)
{
    af_sb b = {0};
    af_sb_puts(&b, "{");
    for (int i = 0; i < argc; i++) {
        char *masked = af_run_mask_secrets(argv[i]);
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

struct af_run *af_run_begin(PGconn *conn, const char *program, int argc, char **argv,
                            af_err *err)
{
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
                                "INSERT INTO runs (program, version, arguments, host, pid)"
                                " VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
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
    int rc = af_db_command(run->conn, "UPDATE runs SET counters = $1 WHERE run_id = $2", 2,
                           params, err);
    free(counters);
    return rc;
}

void af_run_end(struct af_run *run, const char *status, const char *error)
{
    if (!run)
        return;
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
