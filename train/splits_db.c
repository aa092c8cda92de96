/* splits_db.c — stored split schemes and stable assignments; see splits_db.h. */
#include "splits_db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "strbuf.h"

uint64_t af_split_salt_for(const char *name)
{
    if (strcmp(name, "default") == 0)
        return AF_SPLIT_DEFAULT_SALT;
    /* The name hashed like an artist, under the default salt. */
    return af_split_group_hash(name, 0, AF_SPLIT_DEFAULT_SALT);
}

int af_splits_scheme(PGconn *conn, const char *name, double train, double val, int folds,
                     af_split_scheme_row *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    out->scheme.train = train;
    out->scheme.val = val;
    out->scheme.test = 1.0 - train - val;
    out->scheme.salt = af_split_salt_for(name);
    if (!name[0])
        return af_err_set_code(err, AF_EXIT_USAGE, "the split scheme needs a name");
    if (out->scheme.test < 0.005)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "train and validation fractions %g + %g leave no test split",
                               train, val);
    char params[256], salt[32];
    snprintf(salt, sizeof salt, "%llu", (unsigned long long)out->scheme.salt);
    snprintf(params, sizeof params,
             "{\"train\": %.6g, \"val\": %.6g, \"test\": %.6g, \"salt\": \"%s\", "
             "\"hash\": \"fnv1a64+splitmix64 of the normalised artist\"}",
             train, val, out->scheme.test, salt);
    const char *p[] = {name, params};
    if (af_db_command(conn,
                      "INSERT INTO split_schemes (name, parameters) VALUES ($1, $2::jsonb)"
                      " ON CONFLICT (name) DO NOTHING",
                      2, p, err) != 0)
        return -1;
    PGresult *res = af_db_query(conn,
                                "SELECT split_scheme_id, (parameters->>'train')::float8,"
                                " (parameters->>'val')::float8, parameters->>'salt',"
                                " coalesce((parameters->>'folds')::int, 0)"
                                " FROM split_schemes WHERE name = $1 FOR UPDATE",
                                1, p, err);
    if (!res)
        return -1;
    out->id = atoi(PQgetvalue(res, 0, 0));
    double st = atof(PQgetvalue(res, 0, 1)), sv = atof(PQgetvalue(res, 0, 2));
    int same_salt = strcmp(PQgetvalue(res, 0, 3), salt) == 0;
    out->folds = atoi(PQgetvalue(res, 0, 4));
    PQclear(res);
    if (fabs(st - train) > 1e-6 || fabs(sv - val) > 1e-6 || !same_salt)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "split scheme '%s' exists with other parameters (train/val "
                               "fractions %g/%g%s); choose another scheme name (--split-scheme) "
                               "for %g/%g",
                               name, st, sv, same_salt ? "" : ", another hash salt", train, val);
    if (folds > 0 && out->folds > 0 && out->folds != folds)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "split scheme '%s' has %d folds; choose another scheme name "
                               "(--split-scheme) for %d folds",
                               name, out->folds, folds);
    if (folds > 0 && out->folds == 0) {
        char k[16], id[16];
        snprintf(k, sizeof k, "%d", folds);
        snprintf(id, sizeof id, "%d", out->id);
        const char *q[] = {id, k};
        if (af_db_command(conn,
                          "UPDATE split_schemes SET parameters = parameters ||"
                          " jsonb_build_object('folds', $2::int) WHERE split_scheme_id = $1",
                          2, q, err) != 0)
            return -1;
        out->folds = folds;
    }
    return 0;
}

/* Writes one chunk of new rows (or fold updates) from three parallel array literals. */
static int flush_rows(PGconn *conn, const char *scheme_id, af_sb *ids, af_sb *splits,
                      af_sb *folds, bool update_folds, af_err *err)
{
    af_sb_puts(ids, "}");
    af_sb_puts(splits, "}");
    af_sb_puts(folds, "}");
    if (!af_sb_ok(ids) || !af_sb_ok(splits) || !af_sb_ok(folds))
        return af_err_set(err, "out of memory");
    const char *p[] = {scheme_id, af_sb_str(ids), af_sb_str(splits), af_sb_str(folds)};
    int rc = update_folds
                 ? af_db_command(conn,
                                 "UPDATE track_splits s SET fold = u.fold"
                                 " FROM unnest($2::bigint[], $4::int[]) AS u(track_id, fold)"
                                 " WHERE s.split_scheme_id = $1 AND s.track_id = u.track_id"
                                 " AND s.fold IS NULL AND length($3) > 0",
                                 4, p, err)
                 : af_db_command(conn,
                                 "INSERT INTO track_splits (split_scheme_id, track_id, split, fold)"
                                 " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::int[])"
                                 " ON CONFLICT DO NOTHING",
                                 4, p, err);
    af_sb_free(ids);
    af_sb_free(splits);
    af_sb_free(folds);
    return rc;
}

static int assign_rows(PGconn *conn, const af_split_scheme_row *scheme, const char *select_sql,
                       int n_params, const char *const *params, bool update_folds, long *count,
                       af_err *err)
{
    PGresult *res = af_db_query(conn, select_sql, n_params, params, err);
    if (!res)
        return -1;
    char scheme_id[16];
    snprintf(scheme_id, sizeof scheme_id, "%d", scheme->id);
    af_sb ids = {0}, splits = {0}, folds = {0};
    int rc = 0, rows = PQntuples(res), in_chunk = 0;
    for (int r = 0; r < rows && rc == 0; r++) {
        long long id = atoll(PQgetvalue(res, r, 0));
        const char *artist = PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1);
        enum af_split s = af_split_assign(&scheme->scheme, artist, id);
        int fold = scheme->folds > 0 ? af_split_fold(artist, id, scheme->folds, scheme->scheme.salt)
                                     : -1;
        af_sb_printf(&ids, "%s%lld", in_chunk ? "," : "{", id);
        af_sb_printf(&splits, "%s%s", in_chunk ? "," : "{", af_split_name(s));
        if (fold >= 0)
            af_sb_printf(&folds, "%s%d", in_chunk ? "," : "{", fold);
        else
            af_sb_printf(&folds, "%sNULL", in_chunk ? "," : "{");
        if (++in_chunk == 5000 || r == rows - 1) {
            rc = flush_rows(conn, scheme_id, &ids, &splits, &folds, update_folds, err);
            in_chunk = 0;
        }
    }
    af_sb_free(&ids);
    af_sb_free(&splits);
    af_sb_free(&folds);
    PQclear(res);
    if (count)
        *count = rows;
    return rc;
}

int af_splits_assign(PGconn *conn, const af_split_scheme_row *scheme, int taxonomy_version,
                     long *assigned, af_err *err)
{
    char id[16], tax[16];
    snprintf(id, sizeof id, "%d", scheme->id);
    snprintf(tax, sizeof tax, "%d", taxonomy_version);
    const char *p[] = {id, tax};
    if (assign_rows(conn, scheme,
                    "SELECT l.track_id, t.artist FROM track_labels l JOIN tracks t USING (track_id)"
                    " WHERE l.taxonomy_version = $2 AND l.status = 'labelled'"
                    " AND NOT EXISTS (SELECT 1 FROM track_splits s"
                    "   WHERE s.split_scheme_id = $1 AND s.track_id = l.track_id)"
                    " ORDER BY l.track_id",
                    2, p, false, assigned, err) != 0)
        return af_err_prefix(err, "assigning splits");
    if (scheme->folds > 0) {
        long filled = 0;
        if (assign_rows(conn, scheme,
                        "SELECT s.track_id, t.artist FROM track_splits s JOIN tracks t USING"
                        " (track_id) WHERE s.split_scheme_id = $1 AND s.fold IS NULL",
                        1, p, true, &filled, err) != 0)
            return af_err_prefix(err, "assigning folds");
        if (filled)
            log_info("assigned folds to %ld track(s) of split scheme %d", filled, scheme->id);
    }
    return 0;
}
