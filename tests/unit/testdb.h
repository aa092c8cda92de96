/*
 * testdb.h — a fresh, migrated database per unit test program, on the server
 * that tests/run set up (PG* environment). Header-only: include it once.
 *
 *   const char *conninfo = testdb_create("db");   // database af_unit_db_<pid>, migrated
 *   ...
 *   testdb_drop();
 */
#ifndef AF_TESTDB_H
#define AF_TESTDB_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"
#include "migrate.h"

static char testdb_name[128];
static char testdb_conninfo[256];

static void testdb_admin(const char *sql)
{
    PGconn *admin = PQconnectdb("dbname=postgres connect_timeout=10");
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "testdb: cannot connect to the test server: %s", PQerrorMessage(admin));
        exit(1);
    }
    PGresult *res = PQexec(admin, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "testdb: %s: %s", sql, PQerrorMessage(admin));
        exit(1);
    }
    PQclear(res);
    PQfinish(admin);
}

static void testdb_drop(void)
{
    if (!testdb_name[0])
        return;
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", testdb_name);
    testdb_admin(sql);
    testdb_name[0] = '\0';
}

/* Creates and migrates a database; returns its conninfo. */
static const char *testdb_create(const char *label)
{
    snprintf(testdb_name, sizeof testdb_name, "af_unit_%s_%d", label, (int)getpid());
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", testdb_name);
    testdb_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", testdb_name);
    testdb_admin(sql);
    snprintf(testdb_conninfo, sizeof testdb_conninfo, "dbname=%s connect_timeout=10", testdb_name);
    af_err err = {0};
    PGconn *conn = af_db_connect(testdb_conninfo, &err);
    int applied = 0;
    if (!conn || af_migrate_apply(conn, &applied, &err) != 0) {
        fprintf(stderr, "testdb: %s\n", err.msg);
        exit(1);
    }
    PQfinish(conn);
    return testdb_conninfo;
}

#endif
