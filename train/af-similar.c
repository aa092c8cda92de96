/*
 * af-similar — the tracks of the collection nearest to a track, an audio file or a
 * search, in a model's embedding space (embeddings.h): af-train stores every track's
 * embedding in track_embeddings, and PostgreSQL answers the k nearest with the cube
 * extension's GiST index (af_similar_to, sql/051) without scanning the table.
 *
 *   af-similar TRACK_ID        a track of the collection (itself left out)
 *   af-similar FILE            an audio file, analysed and embedded as af-predict does
 *   af-similar --search "artist - title"   a track of the collection found by name
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "analysis.h"
#include "app.h"
#include "db.h"
#include "embeddings.h"
#include "exitcode.h"
#include "../fetch/fetch_lookup.h"
#include "log.h"
#include "model_describe.h"
#include "predictor.h"
#include "table.h"

static const char usage[] =
    "Usage: af-similar [OPTION]... TRACK_ID | FILE\n"
    "       af-similar [OPTION]... --search \"ARTIST - TITLE\"\n"
    "List the tracks of the collection nearest to a track, an audio file or a search, in\n"
    "the embedding space of a model (its last hidden layer, stored by af-train).\n"
    "\n"
    "Options:\n"
    "  -m, --model ID|NAME|default|latest\n"
    "                         the model: an id, a name (af-train --name), the default\n"
    "                         model (af-train --promote) or the newest (default: default)\n"
    "  -k, --count N          how many tracks (default 10, at most 1000)\n"
    "      --search TEXT      find the query track in the collection by \"artist - title\"\n"
    "                         (exact after normalisation, else the closest containing the\n"
    "                         words); a song not in the collection is looked up at the\n"
    "                         preview providers as af-predict --search does, and its\n"
    "                         preview embedded\n"
    "      --json             write JSON to standard output instead of a table\n"
    "\n"
    "The distance is Euclidean between embeddings (cube's <->), answered by PostgreSQL's\n"
    "GiST index on track_embeddings. SQL: SELECT * FROM af_similar_tracks(model, track, k).\n"
    "Exit code 1: unknown track, no match, a file that cannot be decoded, or a model\n"
    "without embeddings.\n";

enum { OPT_SEARCH = AF_OPT_FIRST_PROGRAM_OPTION, OPT_JSON };

struct query {
    const char *model_spec;
    long long model;
    struct af_model_identity identity; /* the model used, said in the output */
    int k;
    const char *search;
    bool json;
};

static int model_has_embeddings(PGconn *db, long long model, af_err *err)
{
    char m[24];
    snprintf(m, sizeof m, "%lld", model);
    const char *p[] = {m};
    PGresult *res = af_db_query(db, "SELECT EXISTS (SELECT 1 FROM track_embeddings"
                                    " WHERE model_id = $1)", 1, p, err);
    if (!res)
        return -1;
    bool has = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!has)
        return af_err_set(err, "model %lld has no stored embeddings (trained from a CSV file, "
                               "before embeddings existed, or with a last hidden layer wider "
                               "than %d units): retrain it with af-train",
                          model, AF_EMBEDDING_MAX_DIM);
    return 0;
}

/* "artist - title" -> the best matching track of the collection that has an
 * embedding under model (a track added by a correction has no audio yet: the
 * providers may still have it). */
static int search_track(PGconn *db, const char *text, const char *model, char track[24],
                        af_err *err)
{
    const char *sep = strstr(text, " - ");
    char artist[512] = "", title[512];
    if (sep)
        snprintf(artist, sizeof artist, "%.*s", (int)(sep - text), text);
    snprintf(title, sizeof title, "%s", sep ? sep + 3 : text);
    const char *p[] = {artist, title, model};
    PGresult *res = af_db_query(
        db,
        "WITH embedded AS (SELECT t.* FROM tracks t JOIN track_embeddings e"
        "                   ON e.track_id = t.track_id AND e.model_id = $3::bigint)"
        "SELECT track_id, coalesce(artist, ''), coalesce(title, '') FROM embedded"
        " WHERE (af_norm_key(artist) = af_norm_key($1) OR $1 = '')"
        "   AND af_norm_key(title) = af_norm_key($2)"
        " UNION ALL (SELECT track_id, coalesce(artist, ''), coalesce(title, '') FROM embedded"
        "   WHERE coalesce(artist, '') ILIKE '%' || $1 || '%' AND coalesce(title, '') ILIKE '%' || $2 || '%'"
        "   ORDER BY length(coalesce(artist, '') || coalesce(title, '')), track_id)"
        " LIMIT 1",
        3, p, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(track, 24, "%s", PQgetvalue(res, 0, 0));
        log_info("--search \"%s\": track %s, %s - %s", text, track, PQgetvalue(res, 0, 1),
                 PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    if (!found)
        return af_err_set(err, "--search \"%s\": no track of the collection with an embedding "
                               "under model %s matches", text, model);
    return 0;
}

/* An audio file -> its embedding as a cube literal (malloc'd). */
static char *file_point(struct af_app *app, const struct query *q, const char *path, af_err *err)
{
    af_stored_model stored = {0};
    af_ensemble net = {0};
    bool mean_log;
    struct af_feature_params params;
    struct af_frame_ctx *ctx = NULL;
    struct af_analyser an;
    bool have_an = false, have_a = false;
    struct af_analysis a;
    float *emb = NULL;
    char *cube = NULL;
    if (af_model_load_checked(app->db, q->model_spec, &stored, &net, &mean_log, &params, err) != 0)
        goto out;
    if (!(ctx = af_frame_ctx_new(err)) || af_analyser_init(&an, ctx, &params, err) != 0)
        goto out;
    have_an = true;
    if (af_analyse_file(&an, path, false, &a, err) != 0) {
        af_err_prefix(err, "%s", path);
        goto out;
    }
    have_a = true;
    int dim = af_ensemble_embedding_dim(&net);
    if (!(emb = malloc((size_t)dim * sizeof *emb))) {
        af_err_set(err, "out of memory");
        goto out;
    }
    if (af_embed_ensemble_windows(&net, a.windows.data, a.windows.rows, emb, err) != 0 ||
        !(cube = af_cube_literal(emb, dim)))
        af_err_prefix(err, "%s: embedding", path);
out:
    free(emb);
    if (have_a)
        af_analysis_free(&a);
    if (have_an)
        af_analyser_destroy(&an);
    af_frame_ctx_free(ctx);
    af_ensemble_free(&net);
    af_stored_model_free(&stored);
    return cube;
}

/* A song not in the collection: the providers' best match, its preview embedded.
 * Returns the cube literal (malloc'd) and names the song in what. */
static char *provider_point(struct af_app *app, const struct query *q, char *what,
                            size_t what_len, af_err *err)
{
    char artist[512], title[512], path[] = "/tmp/af-similar-XXXXXX";
    af_lookup_split(q->search, artist, sizeof artist, title, sizeof title);
    struct af_lookup_query lq = {.artist = artist, .title = title};
    struct af_lookup *lk = NULL;
    struct af_lookup_hits hits = {0};
    struct af_verify_item v;
    char *audio = NULL, *point = NULL;
    size_t size = 0;
    int fd = -1;
    if (af_lookup_open(&lk, app->cfg, err) != 0 || af_lookup_search(lk, &lq, &hits, err) != 0)
        goto out;
    int best = af_lookup_best(lk, &hits);
    if (best < 0) {
        af_err_set(err, "--search \"%s\": no track of the collection matches, nor a song with "
                        "a preview at the providers", q->search);
        goto out;
    }
    const struct af_lookup_hit *h = &hits.items[best];
    if (af_lookup_preview(lk, h, &audio, &size, &v, err) != 0)
        goto out;
    if ((fd = mkstemp(path)) < 0 || write(fd, audio, size) != (ssize_t)size) {
        af_err_set(err, "%s: cannot write the preview: %m", path);
        goto out;
    }
    snprintf(what, what_len, "%s - %s (%s %s preview)", h->c.artists ? h->c.artists : "",
             h->c.title ? h->c.title : "", h->provider, h->c.id);
    for (char *c = what; (c = strchr(c, '\n'));)
        *c = ',';
    point = file_point(app, q, path, err);
out:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(audio);
    af_lookup_hits_free(&hits);
    af_lookup_close(lk);
    return point;
}

static int print_neighbours(PGresult *res, const struct query *q, const char *what)
{
    int n = PQntuples(res);
    if (q->json) {
        json_t *list = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(
                list, json_pack("{s:I,s:s,s:s,s:o,s:f}", "track_id",
                                (json_int_t)atoll(PQgetvalue(res, i, 0)), "artist",
                                PQgetvalue(res, i, 1), "title", PQgetvalue(res, i, 2), "label",
                                PQgetisnull(res, i, 3) ? json_null()
                                                       : json_string(PQgetvalue(res, i, 3)),
                                "distance", atof(PQgetvalue(res, i, 4))));
        json_t *o = json_pack("{s:I,s:s?,s:b,s:s,s:o}", "model", (json_int_t)q->model,
                              "model_name", q->identity.name[0] ? q->identity.name : NULL,
                              "model_default", q->identity.is_default, "query", what,
                              "similar", list);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(o);
        return 0;
    }
    char used[200];
    af_model_identity_text(&q->identity, used, sizeof used);
    printf("Nearest tracks to %s, by %s:\n", what, used);
    static const char *headers[] = {"rank", "track", "artist", "title", "label", "distance"};
    struct af_table *t = af_table_new(6, headers);
    for (int i = 0; i < n; i++)
        af_table_addf(t, "%d\t%s\t%s\t%s\t%s\t%.4f", i + 1, PQgetvalue(res, i, 0),
                      PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                      PQgetisnull(res, i, 3) ? "-" : PQgetvalue(res, i, 3),
                      atof(PQgetvalue(res, i, 4)));
    af_table_print(t, stdout);
    af_table_free(t);
    return 0;
}

static int similar(struct af_app *app, struct query *q, const char *arg, af_err *err)
{
    if (af_model_resolve(app->db, q->model_spec, &q->model, err) != 0 ||
        af_model_identity(app->db, q->model, &q->identity, err) != 0 ||
        model_has_embeddings(app->db, q->model, err) != 0)
        return -1;
    char model[24], k[16], track[24] = "", what[600];
    snprintf(model, sizeof model, "%lld", q->model);
    snprintf(k, sizeof k, "%d", q->k);
    char *point = NULL;
    struct stat st;
    bool from_provider = false;
    if (q->search) {
        af_err local = {0};
        if (search_track(app->db, q->search, model, track, &local) != 0) {
            if (local.code == 3)
                return af_err_set_code(err, 3, "%s", local.msg);
            log_info("%s; asking the providers", local.msg);
            if (!(point = provider_point(app, q, what, sizeof what, err)))
                return -1;
            from_provider = true;
        }
    } else if (strspn(arg, "0123456789") == strlen(arg) && strlen(arg) <= 18) {
        snprintf(track, sizeof track, "%s", arg);
    } else if (stat(arg, &st) == 0) {
        if (!(point = file_point(app, q, arg, err)))
            return -1;
    } else {
        return af_err_set(err, "%s: neither a track id nor a readable file", arg);
    }
    PGresult *res;
    if (point) {
        if (!from_provider)
            snprintf(what, sizeof what, "%s", arg);
        const char *p[] = {model, point, k};
        res = af_db_query(app->db, "SELECT * FROM af_similar_to($1, $2::cube, $3, NULL)", 3, p,
                          err);
        free(point);
    } else {
        const char *p[] = {model, track, k};
        res = af_db_query(app->db,
                          "SELECT t.artist, t.title, e.track_id IS NOT NULL FROM tracks t"
                          " LEFT JOIN track_embeddings e ON e.track_id = t.track_id"
                          "  AND e.model_id = $1 WHERE t.track_id = $2",
                          2, p, err);
        if (!res)
            return -1;
        bool known = PQntuples(res) == 1, embedded = known && PQgetvalue(res, 0, 2)[0] == 't';
        snprintf(what, sizeof what, "track %s%s%s%s%s", track, known ? " (" : "",
                 known ? PQgetvalue(res, 0, 0) : "", known ? " - " : "",
                 known ? PQgetvalue(res, 0, 1) : "");
        if (known)
            strncat(what, ")", sizeof what - strlen(what) - 1);
        PQclear(res);
        if (!known)
            return af_err_set(err, "track %s: no such track", track);
        if (!embedded)
            return af_err_set(err, "track %s has no embedding under model %lld (no features "
                                   "when the model was trained)", track, q->model);
        res = af_db_query(app->db, "SELECT * FROM af_similar_tracks($1, $2, $3)", 3, p, err);
    }
    if (!res)
        return -1;
    print_neighbours(res, q, what);
    PQclear(res);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"model", required_argument, NULL, 'm'},
                                            {"count", required_argument, NULL, 'k'},
                                            {"search", required_argument, NULL, OPT_SEARCH},
                                            {"json", no_argument, NULL, OPT_JSON},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-similar", usage, argc, argv);
    struct query q = {.model_spec = "default", .k = 10};
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "m:k:", options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case 'm': q.model_spec = optarg; break;
        case 'k':
            q.k = (int)af_app_parse_count(&app, "--count", optarg, 1);
            if (q.k > 1000)
                af_app_usage_error(&app, "--count: at most 1000");
            break;
        case OPT_SEARCH:
            if (!*optarg)
                af_app_usage_error(&app, "--search: give \"ARTIST - TITLE\" or a title");
            q.search = optarg;
            break;
        case OPT_JSON: q.json = true; break;
        default: af_app_usage_error(&app, "unexpected option");
        }
    }
    int n_args = argc - optind;
    if (q.search ? n_args != 0 : n_args != 1)
        af_app_usage_error(&app, "give one TRACK_ID or FILE, or --search TEXT");
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    int rc = similar(&app, &q, q.search ? NULL : argv[optind], &err);
    fflush(stdout);
    if (rc != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
