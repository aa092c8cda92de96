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

/* conninfo (key=value or a postgresql:// URI) as libpq itself parses it, rebuilt as
 * key=value pairs with every secret option (those libpq displays as '*': password,
 * sslpassword) shown as ***, so that it can be logged or stored.  Returns a malloc'd
 * string, or NULL when libpq cannot parse conninfo (it is then no conninfo at all,
 * or a malformed one: see af_db_conninfo_problem).  Masking follows libpq's parser,
 * not string matching: "password = x", quoted values, a repeated key and URIs
 * are all seen as libpq sees them. */
char *af_db_mask_conninfo(const char *conninfo);

/* Whether libpq parses conninfo and it sets a secret option (password, sslpassword). */
int af_db_conninfo_has_secret(const char *conninfo);

/* Why libpq cannot parse conninfo, safe to print: libpq's message with every quoted
 * part (which may be a piece of the password, or the whole URI) replaced by "...".
 * Returns 0 when conninfo parses (buf is then ""), -1 otherwise. */
int af_db_conninfo_problem(const char *conninfo, char *buf, size_t len);

/* Dead peers.  A worker host whose link is cut (or that loses power) leaves a
 * half-open TCP connection: its server session sits forever (the system's keepalive
 * starts after 2 hours) in whatever transaction it had open, holding its row locks, so
 * other workers taking over its expired claims block on those rows.  Every TCP
 * connection therefore asks both ends to give up on a peer that has not answered for
 * [database] dead_peer_seconds: the server ends the session (rolling back, releasing
 * the locks), the client fails with "database unavailable" instead of hanging.
 * Explicit keepalives / tcp_user_timeout in the conninfo win on the client side.
 * 0 leaves the system's TCP defaults.  Set once before connecting (af_app does). */
#define AF_DB_DEFAULT_DEAD_PEER_SECONDS 30
void af_db_set_dead_peer_seconds(int seconds);
/* The server-side half on an open connection (af_db_connect does it; lib/run.c's
 * heartbeat connection too).  A no-op on Unix sockets. */
int af_db_watch_peer(PGconn *conn, af_err *err);

/* Connects, or fails with AF_EXIT_DB_UNAVAILABLE and a message naming the target
 * (AF_EXIT_USAGE when conninfo is malformed; the message never contains it). */
PGconn *af_db_connect(const char *conninfo, af_err *err);

/* For a connection kept open between pieces of work (af-serve's engines): whether it
 * still works, by a round trip, and when it does not, a new session with the same
 * parameters and settings.  A server that restarted, or ended the session, leaves a
 * connection that fails only when next used, and libpq never reconnects by itself.
 * Returns 0 when the connection worked, 1 when it had to reconnect, -1 with
 * AF_EXIT_DB_UNAVAILABLE when the database cannot be reached (the connection stays
 * bad; the next call tries again).  The connection must not be inside a transaction. */
int af_db_ensure(PGconn *conn, af_err *err);

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
