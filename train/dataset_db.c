/* dataset_db.c — streaming the training windows out of PostgreSQL; see dataset_db.h. */
#include "dataset_db.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "split.h"

#define FLOAT4OID 700

bool af_feature_set_name_ok(const char *name)
{
    if (!(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    size_t n = 0;
    for (const char *c = name; *c; c++, n++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return n <= AF_FEATURE_SET_NAME_MAX;
}

int af_feature_set_lookup(PGconn *conn, const char *name, af_feature_set_info *fs, af_err *err)
{
    memset(fs, 0, sizeof *fs);
    if (!af_feature_set_name_ok(name))
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "feature set name '%s': must start with a lower-case letter and "
                               "hold only a-z, 0-9 and _ (at most %d characters)",
                               name, AF_FEATURE_SET_NAME_MAX);
    const char *p[] = {name};
    PGresult *res = af_db_query(conn,
                                "SELECT f.feature_set_id, f.parameters::text, n.name"
                                " FROM feature_sets f, unnest(f.feature_names) WITH ORDINALITY"
                                " AS n(name, i) WHERE f.name = $1 ORDER BY n.i",
                                1, p, err);
    if (!res)
        return -1;
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "no feature set '%s' in the database (run af-extract first, or "
                               "name another with --feature-set)",
                               name);
    }
    fs->id = atoi(PQgetvalue(res, 0, 0));
    snprintf(fs->name, sizeof fs->name, "%s", name);
    fs->params_json = strdup(PQgetvalue(res, 0, 1));
    fs->names = calloc((size_t)rows, sizeof *fs->names);
    fs->dim = rows;
    int ok = fs->params_json && fs->names;
    for (int r = 0; ok && r < rows; r++)
        ok = (fs->names[r] = strdup(PQgetvalue(res, r, 2))) != NULL;
    PQclear(res);
    if (!ok) {
        af_feature_set_info_free(fs);
        return af_err_set(err, "out of memory");
    }
    return 0;
}

void af_feature_set_info_free(af_feature_set_info *fs)
{
    for (int i = 0; fs->names && i < fs->dim; i++)
        free(fs->names[i]);
    free(fs->names);
    free(fs->params_json);
    memset(fs, 0, sizeof *fs);
}

int af_newest_taxonomy(PGconn *conn, int *version, af_err *err)
{
    PGresult *res =
        af_db_query(conn, "SELECT coalesce(max(taxonomy_version), 0) FROM taxonomy_versions", 0,
                    NULL, err);
    if (!res)
        return -1;
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static uint32_t be32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static int64_t be64(const char *p)
{
    return (int64_t)(((uint64_t)be32(p) << 32) | be32(p + 4));
}

/* A binary float4[] into out (dim values). */
static int parse_array(const char *p, int len, int dim, float *out, long long track, long window,
                       af_err *err)
{
    if (len < 12)
        return af_err_set(err, "track %lld window %ld: empty feature vector, the feature set "
                               "has %d values (mismatched dimensions)", track, window, dim);
    int ndim = (int)be32(p);
    uint32_t elem = be32(p + 8);
    if (ndim != 1 || elem != FLOAT4OID || len < 20)
        return af_err_set(err, "track %lld window %ld: feature vector is not a float4 vector",
                          track, window);
    int n = (int)be32(p + 12);
    if (n != dim)
        return af_err_set(err, "track %lld window %ld: %d feature values, the feature set has "
                               "%d (mismatched dimensions)", track, window, n, dim);
    if (len != 20 + 8 * n)
        return af_err_set(err, "track %lld window %ld: feature vector holds NULL values", track,
                          window);
    const char *e = p + 20;
    for (int i = 0; i < n; i++, e += 8) {
        if ((int32_t)be32(e) != 4)
            return af_err_set(err, "track %lld window %ld: feature %d is NULL", track, window, i);
        uint32_t bits = be32(e + 4);
        memcpy(&out[i], &bits, 4);
    }
    return 0;
}

/* The labelled, selected tracks that have windows, with split, fold and artist. */
static int load_tracks(PGconn *conn, const char *const *p, af_dataset *ds, af_err *err)
{
    PGresult *res = af_db_query(
        conn,
        "SELECT l.track_id, g.name, s.split, coalesce(s.fold, -1), t.artist"
        " FROM track_labels l JOIN genres g ON g.genre_id = l.genre_id"
        " JOIN tracks t ON t.track_id = l.track_id"
        " JOIN track_splits s ON s.track_id = l.track_id AND s.split_scheme_id = $2"
        " WHERE l.taxonomy_version = $1 AND l.status = 'labelled' AND l.selected"
        " AND EXISTS (SELECT 1 FROM window_features w"
        "   WHERE w.feature_set_id = $3 AND w.track_id = l.track_id)"
        " ORDER BY l.track_id",
        3, p, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        const char *split = PQgetvalue(res, r, 2);
        int s = strcmp(split, "train") == 0 ? AF_SPLIT_TRAIN
                : strcmp(split, "val") == 0 ? AF_SPLIT_VAL
                                            : AF_SPLIT_TEST;
        int cls = af_dataset_class(ds, PQgetvalue(res, r, 1), err);
        size_t t;
        rc = cls < 0 ? -1
                     : af_dataset_add_track(ds, atoll(PQgetvalue(res, r, 0)), cls, s,
                                            atoi(PQgetvalue(res, r, 3)), &t, err);
        if (rc == 0)
            rc = af_dataset_set_artist(ds, t, PQgetisnull(res, r, 4) ? NULL : PQgetvalue(res, r, 4),
                                       err);
    }
    PQclear(res);
    return rc;
}

#define WINDOW_QUERY                                                                           \
    " FROM window_features w JOIN track_labels l ON l.track_id = w.track_id"                   \
    " AND l.taxonomy_version = $1 AND l.status = 'labelled' AND l.selected"                    \
    " JOIN track_splits s ON s.track_id = w.track_id AND s.split_scheme_id = $2"               \
    " WHERE w.feature_set_id = $3"

int af_dataset_load_db(PGconn *conn, const af_feature_set_info *fs, int split_scheme_id,
                       int taxonomy_version, int chunk, af_dataset *ds, af_err *err)
{
    char tax[16], scheme[16], set[16], fetch[64];
    snprintf(tax, sizeof tax, "%d", taxonomy_version);
    snprintf(scheme, sizeof scheme, "%d", split_scheme_id);
    snprintf(set, sizeof set, "%d", fs->id);
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM af_train_windows", chunk > 0 ? chunk : 4096);
    const char *p[] = {tax, scheme, set};
    PGresult *res = af_db_query(conn, "SELECT count(*)" WINDOW_QUERY, 3, p, err);
    if (!res)
        return -1;
    size_t expect = (size_t)atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (af_dataset_init(ds, fs->dim, expect, err) != 0)
        return -1;
    if (load_tracks(conn, p, ds, err) != 0)
        goto fail;
    if (af_db_command(conn,
                      "DECLARE af_train_windows NO SCROLL CURSOR FOR"
                      " SELECT w.track_id, w.window_index, w.feature_values" WINDOW_QUERY
                      " ORDER BY w.track_id, w.window_index",
                      3, p, err) != 0)
        goto fail;
    float *row = malloc((size_t)fs->dim * sizeof *row);
    if (!row) {
        af_err_set(err, "out of memory");
        goto fail;
    }
    int failed = 0;
    for (;;) {
        res = af_db_query_binary(conn, fetch, 0, NULL, NULL, NULL, 1, err);
        if (!res) {
            failed = 1;
            break;
        }
        int rows = PQntuples(res);
        int rc = 0;
        for (int r = 0; r < rows && rc == 0; r++) {
            long long id = be64(PQgetvalue(res, r, 0));
            long window = (long)(int32_t)be32(PQgetvalue(res, r, 1));
            rc = parse_array(PQgetvalue(res, r, 2), PQgetlength(res, r, 2), fs->dim, row, id,
                             window, err);
            long t = rc == 0 ? af_dataset_find_track(ds, id) : -1;
            if (rc == 0 && t >= 0)
                rc = af_dataset_add_window(ds, (size_t)t, row, window,
                                           (const char *const *)fs->names, err);
        }
        PQclear(res);
        if (rc != 0 || rows == 0) {
            failed = rc != 0;
            break;
        }
    }
    free(row);
    if (failed)
        goto fail;
    if (af_db_command(conn, "CLOSE af_train_windows", 0, NULL, err) != 0 ||
        af_dataset_finish(ds, err) != 0)
        goto fail;
    return 0;
fail:
    af_dataset_free(ds);
    return -1;
}
