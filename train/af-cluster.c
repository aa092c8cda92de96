/*
 * af-cluster — k-means clusters of the collection, without the labels: over a
 * model's track embeddings (track_embeddings, stored by af-train) or over the
 * standardised track feature vectors (track_features, af-extract's).  k is given, or
 * chosen in a range by the mean silhouette.  Each run and every track's cluster are
 * stored (cluster_runs, track_clusters, sql/052), and cluster_label_counts sets the
 * clusters against the labels in SQL.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "db.h"
#include "exitcode.h"
#include "kmeans.h"
#include "log.h"
#include "model_describe.h"
#include "model_store.h"
#include "strbuf.h"
#include "table.h"

static const char usage[] =
    "Usage: af-cluster [OPTION]...\n"
    "Cluster the collection's tracks with k-means and store each track's cluster.\n"
    "\n"
    "What is clustered:\n"
    "  -m, --model ID|NAME|default|latest\n"
    "                         the track embeddings of this model: an id, a name, the\n"
    "                         default model (af-train --promote) or the newest\n"
    "                         (default: default)\n"
    "      --features         the track feature vectors instead, standardised per feature\n"
    "      --feature-set NAME with --features (default: [extract] feature_set)\n"
    "How:\n"
    "  -k N                   exactly N clusters\n"
    "      --k-range MIN-MAX  try every k in the range, keep the best mean silhouette\n"
    "                         (default 2-10; used when -k is not given)\n"
    "      --restarts N       k-means++ restarts per k, the lowest inertia kept (default 5)\n"
    "      --max-iter N       Lloyd iterations per restart (default 100)\n"
    "      --seed N           seed of the k-means++ draws (default 42)\n"
    "      --silhouette-rows N  rows the silhouette is measured on, spread evenly over\n"
    "                         the tracks (default 2000; 0 = all, exact but O(n^2))\n"
    "\n"
    "Prints the silhouette of each k tried and, per cluster, its size and the labels of\n"
    "its tracks. SQL: track_clusters_labelled, cluster_label_counts.\n"
    "Exit code 1: nothing to cluster (no embeddings or features), or fewer tracks than k.\n";

enum {
    OPT_FEATURES = AF_OPT_FIRST_PROGRAM_OPTION, OPT_FEATURE_SET, OPT_K_RANGE, OPT_RESTARTS,
    OPT_MAX_ITER, OPT_SEED, OPT_SIL_ROWS
};

struct options {
    const char *model_spec, *feature_set;
    bool features;
    int k, k_min, k_max, restarts, max_iter;
    long long seed;
    long sil_rows;
};

struct points {
    size_t n, cap;
    int dim;
    long long *track;
    float *x;
    long long model_id;
    int feature_set_id;
};

static void points_free(struct points *p)
{
    free(p->track);
    free(p->x);
}

/* Numbers of a cube "(a, b)" or an array "{a,b}" text; -1 on a malformed value. */
static int parse_numbers(const char *s, float *out, int cap)
{
    int n = 0;
    while (*s) {
        if (strchr("(){}, ", *s)) {
            s++;
            continue;
        }
        char *end;
        double v = strtod(s, &end);
        if (end == s || n == cap || !isfinite(v))
            return -1;
        out[n++] = (float)v;
        s = end;
    }
    return n;
}

static int add_point(struct points *p, long long track, const char *text, af_err *err)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 1024;
        long long *t = realloc(p->track, cap * sizeof *t);
        if (t)
            p->track = t;
        float *x = t ? realloc(p->x, cap * (size_t)p->dim * sizeof *x) : NULL;
        if (!x)
            return af_err_set(err, "out of memory");
        p->x = x;
        p->cap = cap;
    }
    int got = parse_numbers(text, p->x + p->n * (size_t)p->dim, p->dim);
    if (got != p->dim)
        return af_err_set(err, "track %lld: its vector has %s values, %d expected", track,
                          got < 0 ? "unreadable or non-finite" : "another number of", p->dim);
    p->track[p->n++] = track;
    return 0;
}

static int load(PGconn *db, const struct options *o, struct points *p, af_err *err)
{
    char id[24];
    PGresult *res;
    if (o->features) {
        const char *fp[] = {o->feature_set};
        res = af_db_query(db, "SELECT feature_set_id, cardinality(feature_names) FROM feature_sets"
                              " WHERE name = $1", 1, fp, err);
        if (!res)
            return -1;
        if (PQntuples(res) != 1) {
            PQclear(res);
            return af_err_set_code(err, AF_EXIT_USAGE, "feature set '%s': no such feature set",
                                   o->feature_set);
        }
        p->feature_set_id = atoi(PQgetvalue(res, 0, 0));
        p->dim = atoi(PQgetvalue(res, 0, 1));
        PQclear(res);
        snprintf(id, sizeof id, "%d", p->feature_set_id);
        const char *q[] = {id};
        res = af_db_query(db, "SELECT track_id, feature_values::text FROM track_features"
                              " WHERE feature_set_id = $1 ORDER BY track_id", 1, q, err);
    } else {
        struct af_model_identity used;
        char text[200];
        if (af_model_resolve(db, o->model_spec, &p->model_id, err) != 0 ||
            af_model_identity(db, p->model_id, &used, err) != 0)
            return -1;
        af_model_identity_text(&used, text, sizeof text);
        printf("Embeddings of %s\n", text);
        snprintf(id, sizeof id, "%lld", p->model_id);
        const char *q[] = {id};
        res = af_db_query(db, "SELECT track_id, embedding::text, cube_dim(embedding)"
                              " FROM track_embeddings WHERE model_id = $1 ORDER BY track_id",
                          1, q, err);
        if (res && PQntuples(res) > 0)
            p->dim = atoi(PQgetvalue(res, 0, 2));
    }
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++)
        rc = add_point(p, atoll(PQgetvalue(res, i, 0)), PQgetvalue(res, i, 1), err);
    PQclear(res);
    if (rc == 0 && p->n == 0)
        rc = o->features ? af_err_set(err, "feature set '%s' has no track features: run "
                                           "af-extract first", o->feature_set)
                         : af_err_set(err, "model %lld has no stored embeddings: retrain it "
                                           "with af-train", p->model_id);
    return rc;
}

/* Renumbers clusters by size, largest first (ties: the lower old number). */
static void order_by_size(af_kmeans_result *r, size_t n)
{
    int k = r->k;
    size_t *size = calloc((size_t)k, sizeof *size);
    int *order = malloc((size_t)k * sizeof *order), *rank = malloc((size_t)k * sizeof *rank);
    if (!size || !order || !rank)
        goto out;
    for (size_t i = 0; i < n; i++)
        size[r->assign[i]]++;
    for (int m = 0; m < k; m++)
        order[m] = m;
    for (int a = 1; a < k; a++)
        for (int b = a; b > 0 && size[order[b]] > size[order[b - 1]]; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int m = 0; m < k; m++)
        rank[order[m]] = m;
    for (size_t i = 0; i < n; i++)
        r->assign[i] = rank[r->assign[i]];
out:
    free(size);
    free(order);
    free(rank);
}

static int store(struct af_app *app, const struct options *o, const struct points *p,
                 const af_kmeans_result *r, double silhouette, json_t *params,
                 long long *run_id, af_err *err)
{
    char model[24], fs[16], k[16], sil[32], inertia[32], n[24], run[24];
    snprintf(model, sizeof model, "%lld", p->model_id);
    snprintf(fs, sizeof fs, "%d", p->feature_set_id);
    snprintf(k, sizeof k, "%d", r->k);
    snprintf(sil, sizeof sil, "%.6f", silhouette);
    snprintf(inertia, sizeof inertia, "%.9g", r->inertia);
    snprintf(n, sizeof n, "%zu", p->n);
    snprintf(run, sizeof run, "%lld", af_run_id(app->run));
    char *pj = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    const char *q[] = {o->features ? "features" : "embeddings",
                       o->features ? NULL : model,
                       o->features ? fs : NULL,
                       k,
                       o->k ? "given" : "silhouette",
                       r->k >= 2 ? sil : NULL,
                       inertia,
                       n,
                       pj,
                       af_run_id(app->run) ? run : NULL};
    if (af_db_begin(app->db, err) != 0) {
        free(pj);
        return -1;
    }
    PGresult *res = af_db_query(app->db,
                                "INSERT INTO cluster_runs (source, model_id, feature_set_id, k,"
                                " k_chosen_by, silhouette, inertia, n_tracks, parameters, run_id)"
                                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                                " RETURNING cluster_run_id",
                                10, q, err);
    free(pj);
    if (!res)
        goto fail;
    *run_id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    af_sb b = {0};
    for (size_t i = 0; i < p->n; i++)
        af_sb_printf(&b, "%lld\t%lld\t%d\t%.6g\n", *run_id, p->track[i], r->assign[i],
                     (double)r->distance[i]);
    int rc = af_sb_ok(&b) ? 0 : af_err_set(err, "out of memory");
    if (rc == 0)
        rc = af_db_copy_begin(app->db, "COPY track_clusters (cluster_run_id, track_id, cluster,"
                                       " distance) FROM STDIN", err);
    if (rc == 0)
        rc = af_db_copy_put(app->db, b.s, b.len, err);
    if (rc == 0)
        rc = af_db_copy_end(app->db, err);
    af_sb_free(&b);
    if (rc == 0 && af_db_commit(app->db, err) == 0)
        return 0;
fail:
    af_db_rollback(app->db);
    return -1;
}

static int summarise(struct af_app *app, long long run_id, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", run_id);
    const char *q[] = {id};
    PGresult *res = af_db_query(
        app->db,
        "SELECT cluster, sum(tracks)::bigint,"
        "       string_agg(label || ' ' || tracks, ', ' ORDER BY tracks DESC, label)"
        "  FROM cluster_label_counts WHERE cluster_run_id = $1"
        " GROUP BY cluster ORDER BY cluster",
        1, q, err);
    if (!res)
        return -1;
    static const char *headers[] = {"cluster", "tracks", "labels"};
    struct af_table *t = af_table_from_result(res, headers);
    PQclear(res);
    printf("\nCluster run %lld (SQL: SELECT * FROM cluster_label_counts WHERE cluster_run_id = "
           "%lld):\n", run_id, run_id);
    af_table_print(t, stdout);
    af_table_free(t);
    return 0;
}

static int cluster(struct af_app *app, const struct options *o, af_err *err)
{
    struct points p = {0};
    af_kmeans_result best = {0};
    double best_sil = -2;
    int rc = load(app->db, o, &p, err);
    if (rc != 0)
        goto out;
    if (o->features)
        af_standardise_columns(p.x, p.n, p.dim);
    int k_min = o->k ? o->k : o->k_min, k_max = o->k ? o->k : o->k_max;
    if ((size_t)k_min > p.n) {
        rc = af_err_set(err, "%zu track(s) to cluster: too few for k = %d", p.n, k_min);
        goto out;
    }
    if ((size_t)k_max > p.n)
        k_max = (int)p.n;
    printf("Clustering %zu tracks (%s, %d dimensions)\n", p.n,
           o->features ? "standardised features" : "embeddings", p.dim);
    json_t *per_k = json_object();
    static const char *headers[] = {"k", "silhouette", "inertia", ""};
    struct af_table *t = af_table_new(4, headers);
    for (int k = k_min; k <= k_max && !af_app_stop_requested(); k++) {
        af_kmeans_result r;
        if ((rc = af_kmeans(p.x, p.n, p.dim, k, o->restarts, o->max_iter, (uint64_t)o->seed, &r,
                            err)) != 0)
            break;
        double sil = af_silhouette(p.x, p.n, p.dim, r.assign, k, (size_t)o->sil_rows);
        char key[16];
        snprintf(key, sizeof key, "%d", k);
        json_object_set_new(per_k, key, json_real(round(sil * 1e4) / 1e4));
        af_table_addf(t, "%d\t%.4f\t%.6g\t", k, sil, r.inertia);
        if (best.k == 0 || sil > best_sil) {
            af_kmeans_result_free(&best);
            best = r;
            best_sil = sil;
        } else {
            af_kmeans_result_free(&r);
        }
    }
    if (rc == 0) {
        af_table_print(t, stdout);
        printf("k = %d (%s)\n", best.k, o->k ? "given" : "best mean silhouette");
    }
    af_table_free(t);
    if (rc != 0) {
        json_decref(per_k);
        goto out;
    }
    order_by_size(&best, p.n);
    json_t *params = json_pack("{s:I,s:i,s:i,s:i,s:i,s:I,s:o}", "seed", (json_int_t)o->seed,
                               "restarts", o->restarts, "max_iter", o->max_iter, "k_min", k_min,
                               "k_max", k_max, "silhouette_rows", (json_int_t)o->sil_rows,
                               "silhouette_per_k", per_k);
    long long run_id = 0;
    rc = store(app, o, &p, &best, best_sil, params, &run_id, err);
    json_decref(params);
    if (rc == 0) {
        af_run_count(app->run, "tracks", (long long)p.n);
        rc = summarise(app, run_id, err);
    }
out:
    af_kmeans_result_free(&best);
    points_free(&p);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        AF_APP_LONG_OPTIONS,
        {"model", required_argument, NULL, 'm'},
        {"features", no_argument, NULL, OPT_FEATURES},
        {"feature-set", required_argument, NULL, OPT_FEATURE_SET},
        {"k-range", required_argument, NULL, OPT_K_RANGE},
        {"restarts", required_argument, NULL, OPT_RESTARTS},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"seed", required_argument, NULL, OPT_SEED},
        {"silhouette-rows", required_argument, NULL, OPT_SIL_ROWS},
        {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-cluster", usage, argc, argv);
    struct options o = {.model_spec = "default", .k_min = 2, .k_max = 10, .restarts = 5,
                        .max_iter = 100, .seed = 42, .sil_rows = 2000};
    bool model_given = false;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "m:k:", options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case 'm': o.model_spec = optarg; model_given = true; break;
        case 'k': o.k = (int)af_app_parse_count(&app, "-k", optarg, 1); break;
        case OPT_FEATURES: o.features = true; break;
        case OPT_FEATURE_SET: o.feature_set = optarg; break;
        case OPT_K_RANGE:
            if (sscanf(optarg, "%d-%d", &o.k_min, &o.k_max) != 2 || o.k_min < 2 ||
                o.k_max < o.k_min || o.k_max > 1000)
                af_app_usage_error(&app, "--k-range: '%s' is not MIN-MAX with 2 <= MIN <= MAX "
                                         "<= 1000", optarg);
            break;
        case OPT_RESTARTS: o.restarts = (int)af_app_parse_count(&app, "--restarts", optarg, 1); break;
        case OPT_MAX_ITER: o.max_iter = (int)af_app_parse_count(&app, "--max-iter", optarg, 1); break;
        case OPT_SEED: o.seed = af_app_parse_count(&app, "--seed", optarg, 0); break;
        case OPT_SIL_ROWS: o.sil_rows = af_app_parse_count(&app, "--silhouette-rows", optarg, 0); break;
        default: af_app_usage_error(&app, "unexpected option");
        }
    }
    if (optind < argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    if (o.features && model_given)
        af_app_usage_error(&app, "--model and --features exclude each other");
    if (o.feature_set && !o.features)
        af_app_usage_error(&app, "--feature-set belongs to --features");
    if (o.k > 1000)
        af_app_usage_error(&app, "-k: at most 1000");
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    if (o.features && !o.feature_set)
        o.feature_set = af_config_str(app.cfg, "extract.feature_set");
    int rc = cluster(&app, &o, &err);
    fflush(stdout);
    if (rc != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
