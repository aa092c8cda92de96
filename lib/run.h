/*
 * run.h — run records: every invocation of every program leaves a row in `runs`
 * (program, version, arguments without secrets, host, pid, start, end, status,
 * counters, error).  Counters are kept in memory (thread-safe), written every
 * AF_RUN_HEARTBEAT_SECONDS (30) with heartbeat_at by a thread with its own
 * connection, and when the run ends; a run that ends without saying so (SIGKILL,
 * a crash, a lost database) is marked 'crashed' by the next one (af_run_mark_crashed).
 */
#ifndef AF_RUN_H
#define AF_RUN_H

#include <libpq-fe.h>

#include "error.h"

struct af_run;

/* Inserts the row (status 'running'). Arguments are stored with secrets masked. */
struct af_run *af_run_begin(PGconn *conn, const char *program, int argc, char **argv,
                            af_err *err);
long long af_run_id(const struct af_run *run);

/* Adds delta to the named counter (created at 0). Thread-safe. */
void af_run_count(struct af_run *run, const char *counter, long long delta);
long long af_run_counter(const struct af_run *run, const char *counter);

int af_run_flush(struct af_run *run, af_err *err);

/* Marks as 'crashed' the runs still 'running' whose process is gone: on this host,
 * their pid is not alive; anywhere, their heartbeat (see run.c) stopped long ago.
 * af_run_begin does it first; af-db status too.  *marked = how many. */
int af_run_mark_crashed(PGconn *conn, long *marked, af_err *err);

/* Writes end time, status ('succeeded', 'failed', 'interrupted'), counters and error
 * (may be NULL), then frees the run. The connection may be dead: then only frees. */
void af_run_end(struct af_run *run, const char *status, const char *error);

/* Masks secrets in one argument (passwords in conninfo strings and URLs); the result
 * is written to buf. Exposed for tests. */
void af_run_mask_secrets(const char *arg, char *buf, size_t len);

#endif
