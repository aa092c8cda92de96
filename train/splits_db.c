/* splits_db.c — stored split schemes and stable assignments; see splits_db.h. */
#include "splits_db.h"

#include <math.h>
#include <stdbool.h>
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

/* One labelled track, with what the scheme already says about it. */
struct entry {
    char key[160];      /* grouping key: normalised artist, or "\x01<track id>" */
    long long track_id;
    int genre;          /* index into the genre list */
    int split, fold;    /* stored or newly placed; -1 when none */
    bool new_split, new_fold; /* placed by this run: to be written */
    size_t group;       /* index of its group */
};

static int by_key(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->track_id > y->track_id) - (x->track_id < y->track_id);
}

static int split_index(const char *name)
{
    for (int s = 0; s < AF_SPLIT_COUNT; s++)
        if (strcmp(name, af_split_name((enum af_split)s)) == 0)
            return s;
    return -1;
}

/* Reads every labelled track with its stored split and fold; genres become 0..n-1. */
static int load_entries(PGconn *conn, const af_split_scheme_row *scheme, int taxonomy_version,
                        struct entry **out, size_t *n, int *n_genres, af_err *err)
{
    char id[16], tax[16];
    snprintf(id, sizeof id, "%d", scheme->id);
    snprintf(tax, sizeof tax, "%d", taxonomy_version);
    const char *p[] = {id, tax};
    PGresult *res = af_db_query(
        conn,
        "SELECT l.track_id, t.artist, dense_rank() OVER (ORDER BY l.genre_id) - 1,"
        " coalesce(s.split, ''), coalesce(s.fold, -1)"
        " FROM track_labels l JOIN tracks t USING (track_id)"
        " LEFT JOIN track_splits s ON s.split_scheme_id = $1 AND s.track_id = l.track_id"
        " WHERE l.taxonomy_version = $2 AND l.status = 'labelled'",
        2, p, err);
    if (!res)
        return -1;
    *n = (size_t)PQntuples(res);
    *out = calloc(*n ? *n : 1, sizeof **out);
    *n_genres = 0;
    if (!*out) {
        PQclear(res);
        return af_err_set(err, "out of memory");
    }
    for (size_t r = 0; r < *n; r++) {
        struct entry *e = &(*out)[r];
        e->track_id = atoll(PQgetvalue(res, (int)r, 0));
        const char *artist = PQgetisnull(res, (int)r, 1) ? NULL : PQgetvalue(res, (int)r, 1);
        if (af_split_artist_known(artist))
            af_split_normalise_artist(artist, e->key, sizeof e->key);
        else
            snprintf(e->key, sizeof e->key, "\x01%lld", e->track_id);
        e->genre = atoi(PQgetvalue(res, (int)r, 2));
        e->split = split_index(PQgetvalue(res, (int)r, 3));
        e->fold = atoi(PQgetvalue(res, (int)r, 4));
        if (e->genre + 1 > *n_genres)
            *n_genres = e->genre + 1;
    }
    PQclear(res);
    return 0;
}

/* Groups consecutive entries with one key (entries sorted by key): a group's genre is
 * the one most of its tracks have; its split and fold are the stored ones, if any. */
static af_split_group *make_groups(struct entry *e, size_t n, int n_genres, bool folds,
                                   uint64_t salt, size_t *n_groups)
{
    af_split_group *groups = calloc(n ? n : 1, sizeof *groups);
    int *votes = calloc((size_t)(n_genres ? n_genres : 1), sizeof *votes);
    *n_groups = 0;
    for (size_t i = 0; groups && votes && i < n;) {
        af_split_group *g = &groups[*n_groups];
        g->bucket = -1;
        memset(votes, 0, (size_t)n_genres * sizeof *votes);
        size_t j = i;
        for (; j < n && strcmp(e[j].key, e[i].key) == 0; j++) {
            e[j].group = *n_groups;
            votes[e[j].genre]++;
            int stored = folds ? e[j].fold : e[j].split;
            if (stored >= 0)
                g->bucket = stored;
        }
        for (int k = 0; k < n_genres; k++)
            if (votes[k] > votes[g->genre])
                g->genre = k;
        g->size = (int)(j - i);
        g->hash = e[i].key[0] == '\x01' ? af_split_group_hash(NULL, e[i].track_id, salt)
                                        : af_split_group_hash(e[i].key, 0, salt);
        (*n_groups)++;
        i = j;
    }
    free(votes);
    return groups;
}

static int stratify(struct entry *e, size_t n, int n_genres, const af_split_scheme_row *scheme,
                    bool folds, af_err *err)
{
    size_t n_groups;
    af_split_group *groups = make_groups(e, n, n_genres, folds, scheme->scheme.salt, &n_groups);
    if (!groups)
        return af_err_set(err, "out of memory");
    double targets[AF_SPLIT_COUNT > 64 ? AF_SPLIT_COUNT : 64];
    int buckets = folds ? scheme->folds : AF_SPLIT_COUNT;
    if (buckets > 64) {
        free(groups);
        return af_err_set_code(err, AF_EXIT_USAGE, "at most 64 folds");
    }
    for (int b = 0; b < buckets; b++)
        targets[b] = folds ? 1.0 / buckets
                           : (b == AF_SPLIT_TRAIN ? scheme->scheme.train
                              : b == AF_SPLIT_VAL ? scheme->scheme.val
                                                  : scheme->scheme.test);
    int rc = af_split_stratify(groups, n_groups, n_genres, buckets, targets, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int *value = folds ? &e[i].fold : &e[i].split;
        bool *placed = folds ? &e[i].new_fold : &e[i].new_split;
        if (*value < 0) {
            *value = groups[e[i].group].bucket;
            *placed = true;
        }
    }
    free(groups);
    return rc;
}

/* Writes the new rows (and the folds new to existing rows) in chunks of 5000. */
static int write_rows(PGconn *conn, const af_split_scheme_row *scheme, const struct entry *e,
                      size_t n, bool update_folds, long *written, af_err *err)
{
    char scheme_id[16];
    snprintf(scheme_id, sizeof scheme_id, "%d", scheme->id);
    af_sb ids = {0}, splits = {0}, folds = {0};
    int rc = 0, in_chunk = 0;
    *written = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* New rows are inserted with their fold; old rows only get a fold they lacked. */
        if (update_folds ? (e[i].new_split || !e[i].new_fold) : !e[i].new_split)
            continue;
        af_sb_printf(&ids, "%s%lld", in_chunk ? "," : "{", e[i].track_id);
        af_sb_printf(&splits, "%s%s", in_chunk ? "," : "{",
                     af_split_name((enum af_split)e[i].split));
        if (e[i].fold >= 0)
            af_sb_printf(&folds, "%s%d", in_chunk ? "," : "{", e[i].fold);
        else
            af_sb_printf(&folds, "%sNULL", in_chunk ? "," : "{");
        (*written)++;
        if (++in_chunk == 5000) {
            rc = flush_rows(conn, scheme_id, &ids, &splits, &folds, update_folds, err);
            in_chunk = 0;
        }
    }
    if (rc == 0 && in_chunk)
        rc = flush_rows(conn, scheme_id, &ids, &splits, &folds, update_folds, err);
    af_sb_free(&ids);
    af_sb_free(&splits);
    af_sb_free(&folds);
    return rc;
}

int af_splits_assign(PGconn *conn, const af_split_scheme_row *scheme, int taxonomy_version,
                     long *assigned, af_err *err)
{
    struct entry *entries = NULL;
    size_t n = 0;
    int n_genres = 0;
    long filled = 0;
    *assigned = 0;
    int rc = load_entries(conn, scheme, taxonomy_version, &entries, &n, &n_genres, err);
    if (rc == 0 && n > 0) {
        qsort(entries, n, sizeof *entries, by_key);
        rc = stratify(entries, n, n_genres, scheme, false, err);
        if (rc == 0 && scheme->folds > 0)
            rc = stratify(entries, n, n_genres, scheme, true, err);
        if (rc == 0)
            rc = write_rows(conn, scheme, entries, n, false, assigned, err);
        if (rc == 0 && scheme->folds > 0)
            rc = write_rows(conn, scheme, entries, n, true, &filled, err);
    }
    free(entries);
    if (rc != 0)
        return af_err_prefix(err, "assigning splits");
    if (filled)
        log_info("assigned folds to %ld track(s) of split scheme %d", filled, scheme->id);
    return 0;
}
