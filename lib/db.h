/*
 * db.h — talking to PostgreSQL (libpq), the only channel between stages.
 *
 * Which database: --db CONNINFO, else the standard libpq environment (PGHOST,
 * PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSERVICE) when any of it is set,
 * else [database] conninfo from the configuration, else the project's embedded
 * cluster (scripts/db) on its Unix socket under var/run.
 *
 * Every query is parameterised (af_db_query / af_db_command); no SQL text is
 * ever assembled from data.  Failures set err->code to AF_EXIT_DB_UNAVAILABLE
 * when the connection is gone, so that a stage fails with exit code 3 and the
 * next run resumes.
 */
#ifndef AF_DB_H
#define AF_DB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "error.h"

/* The conninfo of the embedded cluster: host=<project>/var/run dbname=audiofiler user=audiofiler */
const char *af_db_embedded_conninfo(void);

/* Picks the conninfo by the precedence above; flag and configured may be NULL or "". */
const char *af_db_choose_conninfo(const char *flag, const char *configured);

/* "database audiofiler as user audiofiler on /x/var/run:5432" — never the password. */
void af_db_describe(PGconn *conn, char *buf, size_t len);

/* Connects, or fails with AF_EXIT_DB_UNAVAILABLE and a message naming the target. */
PGconn *af_db_connect(const char *conninfo, af_err *err);

/* Runs a parameterised statement that returns rows. Returns NULL on failure. */
PGresult *af_db_query(PGconn *conn, const char *sql, int n_params, const char *const *params,
                      af_err *err);
/* Same for a statement whose rows (if any) are not wanted. */
int af_db_command(PGconn *conn, const char *sql, int n_params, const char *const *params,
                  af_err *err);
/* Binary variant for bytea and similar: lengths and formats as in PQexecParams;
 * binary_result asks for every column in binary. */
PGresult *af_db_query_binary(PGconn *conn, const char *sql, int n_params,
                             const char *const *params, const int *lengths, const int *formats,
                             int binary_result, af_err *err);

int af_db_begin(PGconn *conn, af_err *err);
int af_db_commit(PGconn *conn, af_err *err);
/* Never fails loudly: used on error paths. */
void af_db_rollback(PGconn *conn);

/* COPY ... FROM STDIN in text format: begin, put rows (already escaped), end. */
int af_db_copy_begin(PGconn *conn, const char *copy_sql, af_err *err);
int af_db_copy_put(PGconn *conn, const char *data, size_t len, af_err *err);
int af_db_copy_end(PGconn *conn, af_err *err);

/* Takes a session-level advisory lock named after a stage without waiting.
 * Returns 0 when taken, -1 with AF_EXIT_LOCKED when another session holds it. */
int af_db_try_stage_lock(PGconn *conn, const char *stage, af_err *err);

#endif
