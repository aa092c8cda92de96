/* Unit tests of db.c, migrate.c and run.c against the real test server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "exitcode.h"
#include "migrate.h"
#include "run.h"
#include "testdb.h"

static const char *conninfo;

static PGconn *connect_test_db(void)
{
    af_err err = {0};
    PGconn *conn = af_db_connect(conninfo, &err);
    if (!conn)
        fail_msg("%s", err.msg);
    return conn;
}

static void unreachable_server_names_target_not_password(void **state)
{
    af_err err = {0};
    PGconn *conn = af_db_connect(
        "host=/nonexistent/socketdir dbname=music user=ana password=pa55word", &err);
    assert_null(conn);
    assert_int_equal(err.code, AF_EXIT_DB_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "database music as user ana on /nonexistent/socketdir"));
    assert_null(strstr(err.msg, "pa55word"));
}

/* A connection string that does not parse is a usage error (2), not an unavailable
 * database (3). */
static void malformed_conninfo_is_a_usage_error(void **state)
{
    af_err err = {0};
    PGconn *conn = af_db_connect("host='unterminated dbname=x", &err);
    assert_null(conn);
    assert_int_equal(err.code, AF_EXIT_USAGE);
    assert_non_null(strstr(err.msg, "malformed database connection string"));
    conn = af_db_connect("nosuchoption=1", &err);
    assert_null(conn);
    assert_int_equal(err.code, AF_EXIT_USAGE);
}

static void conninfo_precedence(void **state)
{
    assert_string_equal(af_db_choose_conninfo("dbname=flag", "dbname=conf"), "dbname=flag");
    /* tests/run exports PG* variables, so the environment wins over the configuration. */
    assert_string_equal(af_db_choose_conninfo(NULL, "dbname=conf"), "connect_timeout=10");
    assert_string_equal(af_db_choose_conninfo("", NULL), "connect_timeout=10");
}

static void migrated_schema_passes_the_check(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    assert_int_equal(af_migrate_check_schema(conn, &err), 0);
    int applied = -1;
    assert_int_equal(af_migrate_apply(conn, &applied, &err), 0);
    assert_int_equal(applied, 0);
    PQfinish(conn);
}

static void newer_schema_is_refused(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    assert_int_equal(af_db_begin(conn, &err), 0);
    assert_int_equal(af_db_command(conn,
                                   "INSERT INTO schema_migrations (version, name, checksum)"
                                   " VALUES (9999, '9999_future', '')",
                                   0, NULL, &err),
                     0);
    assert_int_equal(af_migrate_check_schema(conn, &err), -1);
    assert_int_equal(err.code, AF_EXIT_SCHEMA);
    assert_non_null(strstr(err.msg, "newer than this program"));
    af_db_rollback(conn);
    PQfinish(conn);
}

static void edited_migration_is_detected(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    assert_int_equal(af_db_begin(conn, &err), 0);
    assert_int_equal(
        af_db_command(conn, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
                      0, NULL, &err),
        0);
    int applied;
    assert_int_equal(af_migrate_apply(conn, &applied, &err), -1);
    assert_non_null(strstr(err.msg, "applied with different content"));
    af_db_rollback(conn);
    PQfinish(conn);
}

static void failed_statement_reports_server_message(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    assert_null(af_db_query(conn, "SELECT * FROM no_such_table", 0, NULL, &err));
    assert_int_equal(err.code, AF_EXIT_FAILURE);
    assert_non_null(strstr(err.msg, "no_such_table"));
    PQfinish(conn);
}

static void parameters_are_never_interpolated(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    const char *params[] = {"x'); DROP TABLE runs; --"};
    PGresult *res = af_db_query(conn, "SELECT $1::text", 1, params, &err);
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), params[0]);
    PQclear(res);
    PQfinish(conn);
}

static void copy_round_trip_and_failure_rolls_back(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    assert_int_equal(af_db_command(conn, "CREATE TEMP TABLE t (a int, b text)", 0, NULL, &err), 0);
    assert_int_equal(af_db_copy_begin(conn, "COPY t (a, b) FROM STDIN", &err), 0);
    const char rows[] = "1\tone\n2\ttwo\n";
    assert_int_equal(af_db_copy_put(conn, rows, strlen(rows), &err), 0);
    assert_int_equal(af_db_copy_end(conn, &err), 0);
    /* A bad row fails the whole COPY, and the table keeps only the good earlier rows. */
    assert_int_equal(af_db_begin(conn, &err), 0);
    assert_int_equal(af_db_copy_begin(conn, "COPY t (a, b) FROM STDIN", &err), 0);
    const char bad[] = "3\tthree\nnot-a-number\tfour\n";
    af_db_copy_put(conn, bad, strlen(bad), &err);
    assert_int_equal(af_db_copy_end(conn, &err), -1);
    assert_non_null(strstr(err.msg, "COPY failed"));
    af_db_rollback(conn);
    PGresult *res = af_db_query(conn, "SELECT count(*) FROM t", 0, NULL, &err);
    assert_string_equal(PQgetvalue(res, 0, 0), "2");
    PQclear(res);
    PQfinish(conn);
}

static void stage_lock_is_exclusive(void **state)
{
    PGconn *first = connect_test_db(), *second = connect_test_db();
    af_err err = {0};
    assert_int_equal(af_db_try_stage_lock(first, "extract", &err), 0);
    assert_int_equal(af_db_try_stage_lock(second, "extract", &err), -1);
    assert_int_equal(err.code, AF_EXIT_LOCKED);
    assert_non_null(strstr(err.msg, "another extract run holds the stage lock"));
    assert_int_equal(af_db_try_stage_lock(second, "fetch", &err), 0);
    PQfinish(first); /* the lock dies with its session, once the server has noticed */
    int taken = -1;
    for (int tries = 0; tries < 200 && taken != 0; tries++) {
        taken = af_db_try_stage_lock(second, "extract", &err);
        if (taken != 0)
            usleep(10000);
    }
    assert_int_equal(taken, 0);
    PQfinish(second);
}

static void run_record_lifecycle(void **state)
{
    PGconn *conn = connect_test_db();
    af_err err = {0};
    char *argv[] = {"af-test", "--db", "host=x password=hunter2", "--limit", "5"};
    struct af_run *run = af_run_begin(conn, "af-test", 5, argv, &err);
    assert_non_null(run);
    long long id = af_run_id(run);
    af_run_count(run, "tracks", 3);
    af_run_count(run, "tracks", 2);
    af_run_count(run, "failed", 1);
    assert_int_equal(af_run_counter(run, "tracks"), 5);
    af_run_end(run, "failed", "something broke");
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", id);
    const char *params[] = {id_text};
    PGresult *res = af_db_query(conn,
                                "SELECT program, status, counters->>'tracks', counters->>'failed',"
                                " error, arguments::text, finished_at IS NOT NULL, version"
                                " FROM runs WHERE run_id = $1",
                                1, params, &err);
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), "af-test");
    assert_string_equal(PQgetvalue(res, 0, 1), "failed");
    assert_string_equal(PQgetvalue(res, 0, 2), "5");
    assert_string_equal(PQgetvalue(res, 0, 3), "1");
    assert_string_equal(PQgetvalue(res, 0, 4), "something broke");
    assert_null(strstr(PQgetvalue(res, 0, 5), "hunter2"));
    assert_non_null(strstr(PQgetvalue(res, 0, 5), "password=***"));
    assert_string_equal(PQgetvalue(res, 0, 6), "t");
    assert_string_equal(PQgetvalue(res, 0, 7), AF_VERSION);
    PQclear(res);
    PQfinish(conn);
}

/* A run that dies without recording its end (SIGKILL, a crash) keeps the counters of
 * its last heartbeat, and is marked crashed once its process is gone (it stayed
 * 'running' for ever, with no counters). */
static void crashed_run_keeps_counters_and_is_marked(void **state)
{
    setenv("AF_RUN_HEARTBEAT_SECONDS", "1", 1);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        PGconn *conn = connect_test_db();
        af_err err = {0};
        char *argv[] = {"af-crash"};
        struct af_run *run = af_run_begin(conn, "af-crash", 1, argv, &err);
        if (!run)
            _exit(3);
        af_run_count(run, "tracks_done", 7);
        sleep(3);
        _exit(0); /* no af_run_end: as if killed */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    PGconn *conn = connect_test_db();
    af_err err = {0};
    PGresult *res = af_db_query(conn,
                                "SELECT status, counters->>'tracks_done', heartbeat_at > started_at"
                                " FROM runs WHERE program = 'af-crash'",
                                0, NULL, &err);
    assert_non_null(res);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "running");
    assert_string_equal(PQgetvalue(res, 0, 1), "7");
    assert_string_equal(PQgetvalue(res, 0, 2), "t");
    PQclear(res);
    long marked = 0;
    assert_int_equal(af_run_mark_crashed(conn, &marked, &err), 0);
    assert_true(marked >= 1);
    res = af_db_query(conn, "SELECT status, error FROM runs WHERE program = 'af-crash'", 0, NULL,
                      &err);
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), "crashed");
    assert_non_null(strstr(PQgetvalue(res, 0, 1), "ended without recording its end"));
    PQclear(res);
    PQfinish(conn);
    unsetenv("AF_RUN_HEARTBEAT_SECONDS");
}

static void secrets_are_masked(void **state)
{
    char buf[256];
    af_run_mask_secrets("host=db password=abc user=x", buf, sizeof buf);
    assert_string_equal(buf, "host=db password=*** user=x");
    af_run_mask_secrets("postgresql://ana:s3cret@db.example/music", buf, sizeof buf);
    assert_string_equal(buf, "postgresql://ana:***@db.example/music");
    af_run_mask_secrets("--limit", buf, sizeof buf);
    assert_string_equal(buf, "--limit");
}

int main(void)
{
    conninfo = testdb_create("db");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unreachable_server_names_target_not_password),
        cmocka_unit_test(malformed_conninfo_is_a_usage_error),
        cmocka_unit_test(conninfo_precedence),
        cmocka_unit_test(migrated_schema_passes_the_check),
        cmocka_unit_test(newer_schema_is_refused),
        cmocka_unit_test(edited_migration_is_detected),
        cmocka_unit_test(failed_statement_reports_server_message),
        cmocka_unit_test(parameters_are_never_interpolated),
        cmocka_unit_test(copy_round_trip_and_failure_rolls_back),
        cmocka_unit_test(stage_lock_is_exclusive),
        cmocka_unit_test(run_record_lifecycle),
        cmocka_unit_test(crashed_run_keeps_counters_and_is_marked),
        cmocka_unit_test(secrets_are_masked),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_drop();
    return failed;
}
