/* feature_set.c — registering and checking feature sets; see feature_set.h. */
#include "feature_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "log.h"

/* The names as a PostgreSQL text[] literal; they are plain identifiers, no quoting needed. */
static char *names_literal(void)
{
    size_t count;
    const char *const *names = af_feature_names(&count);
    size_t len = 3;
    for (size_t i = 0; i < count; i++)
        len += strlen(names[i]) + 1;
    char *out = malloc(len), *w = out;
    if (!out)
        return NULL;
    *w++ = '{';
    for (size_t i = 0; i < count; i++)
        w += sprintf(w, "%s%s", i ? "," : "", names[i]);
    *w++ = '}';
    *w = '\0';
    return out;
}

/* Inserts the set unless it exists; *created says whether this call made it. */
static int find_or_create(PGconn *conn, const char *name, const char *params_json,
                          const char *names, int *id, int *matches, int *created, af_err *err)
{
    const char *params[] = {name, params_json, names};
    PGresult *res = af_db_query(conn,
                                "INSERT INTO feature_sets (name, parameters, feature_names)"
                                " VALUES ($1, $2::jsonb, $3::text[]) ON CONFLICT (name) DO NOTHING"
                                " RETURNING feature_set_id",
                                3, params, err);
    if (!res)
        return -1;
    *created = PQntuples(res) == 1;
    PQclear(res);
    res = af_db_query(conn,
                                "SELECT feature_set_id, parameters = $2::jsonb"
                                " AND feature_names = $3::text[]"
                                " FROM feature_sets WHERE name = $1",
                                3, params, err);
    if (!res)
        return -1;
    *id = atoi(PQgetvalue(res, 0, 0));
    *matches = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return 0;
}

int af_feature_set_register(PGconn *conn, const struct af_feature_params *params,
                            int *feature_set_id, af_err *err)
{
    char *params_json = af_feature_params_json(params, err);
    char *names = names_literal();
    int matches = 0, created = 0, rc = -1;
    /* One transaction: the set and its views appear together, or not at all (a concurrent
     * worker waits on the unique name and then finds both). */
    if (params_json && names && af_db_begin(conn, err) == 0) {
        if (find_or_create(conn, params->name, params_json, names, feature_set_id, &matches,
                           &created, err) == 0) {
            if (!matches) {
                af_err_set_code(err, AF_EXIT_USAGE,
                                "feature set '%s' exists with other parameters or feature names; "
                                "give the new parameters a new set name with --feature-set",
                                params->name);
            } else if (!created) {
                rc = 0;
            } else {
                char id[16];
                snprintf(id, sizeof id, "%d", *feature_set_id);
                const char *p[] = {id};
                rc = af_db_command(conn, "SELECT create_feature_views($1)", 1, p, err);
            }
        }
        if (rc == 0)
            rc = af_db_commit(conn, err);
        if (rc != 0)
            af_db_rollback(conn);
    }
    free(params_json);
    free(names);
    return rc;
}
