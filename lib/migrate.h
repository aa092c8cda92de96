/*
 * migrate.h — applies the numbered migrations in sql/ (embedded into every program).
 *
 * Each migration runs in its own transaction and is recorded in schema_migrations
 * with a checksum of its text; a second run is a no-op.  Concurrent runs (several
 * hosts starting at once) are serialised by an advisory lock.
 */
#ifndef AF_MIGRATE_H
#define AF_MIGRATE_H

#include <libpq-fe.h>

#include "error.h"

/* The highest migration version this program carries. */
int af_migrate_latest_version(void);

/* The database's version; 0 when no migration was ever applied. */
int af_migrate_current_version(PGconn *conn, int *version, af_err *err);

/* Applies what is missing; *applied receives how many were applied. Refuses a database
 * newer than this program, and one whose applied migrations differ from ours. */
int af_migrate_apply(PGconn *conn, int *applied, af_err *err);

/* Refuses a schema older or newer than this program's migrations (AF_EXIT_SCHEMA).
 * Here, not in db.c: the schema's version is the migrations' business, and db.c,
 * which migrate.c builds on, then knows nothing of migrations (no include cycle). */
int af_migrate_check_schema(PGconn *conn, af_err *err);

#endif
