/*
 * af-predict — genre predictions for audio files with a stored model: each
 * file goes through the same analysis code as af-extract (analysis.h), every
 * window gets class probabilities, the file gets their mean, and the top
 * genres are printed (or written as JSON).
 *
 * A model is refused when the feature code that runs here would not compute
 * the numbers it was trained on: its stored feature-set parameters (which
 * include the definition name and the number of values) must equal this
 * program's for the same window, hop and excerpt, and its input width must be
 * AF_N_FEATURES.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "analysis.h"
#include "app.h"
#include "db.h"
#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "mlp.h"
#include "model_store.h"
#include "embeddings.h"
#include "../fetch/fetch_lookup.h"
#include "predictor.h"
#include "scaler.h"
#include "table.h"
#include "ensemble.h"

static const char usage[] =
    "Usage: af-predict [OPTION]... FILE...\n"
    "       af-predict [OPTION]... --search \"ARTIST - TITLE\" | --deezer-id ID | --isrc ISRC\n"
    "Predict the genre of audio files, or of a song found by name at the preview\n"
    "providers, with a model trained by af-train.\n"
    "\n"
    "Options:\n"
    "  -m, --model ID|NAME|default|latest\n"
    "                         the model: an id, a name (af-train --name), the default\n"
    "                         model (af-train --promote; the first finished model until\n"
    "                         one is promoted) or the newest one (default: default)\n"
    "      --top N            genres shown per file (default 3)\n"
    "      --windows          also show the prediction of every window (how it moves\n"
    "                         through the file)\n"
    "      --json             write JSON to standard output instead of text\n"
    "      --search TEXT      find \"artist - title\" at the providers of [fetch] providers\n"
    "                         (Deezer and iTunes need no key; Spotify needs\n"
    "                         SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET), list the\n"
    "                         candidates, take the best match with a preview, download\n"
    "                         the preview (checked as af-fetch does) and classify it\n"
    "      --deezer-id ID     the same for one Deezer track\n"
    "      --isrc ISRC        the same for a recording code (Spotify and Deezer)\n"
    "      --pick N           take candidate N of the list instead of the best match\n"
    "      --embedding        also output the file's embedding: the mean over its windows\n"
    "                         of the last hidden layer of the model's first network\n"
    "                         (member 0 of the ensemble, on the ensemble's standardised\n"
    "                         input), the space af-similar searches (JSON: \"embedding\",\n"
    "                         an array of numbers)\n"
    "\n"
    "Searches use af-fetch's rate limits, timeouts, retries and audio checks ([fetch],\n"
    "[spotify], [deezer], [itunes] in the configuration); nothing is stored. Text and\n"
    "JSON name the track found, the preview's source and the model (\"model\",\n"
    "\"model_name\"). A deleted model is refused.\n"
    "The file's probabilities aggregate its windows' as the model was evaluated: the mean\n"
    "of the probabilities, or of their logarithms (renormalised). A model trained\n"
    "on features computed differently from this program's is refused. Exit code 1 when a\n"
    "file cannot be decoded (the others are still predicted).\n";

enum {
    OPT_TOP = AF_OPT_FIRST_PROGRAM_OPTION, OPT_WINDOWS, OPT_JSON, OPT_EMBEDDING, OPT_SEARCH,
    OPT_DEEZER_ID, OPT_ISRC, OPT_PICK
};

struct predictor {
    af_stored_model stored;
    af_ensemble net;
    bool mean_log;
    struct af_feature_params params;
    int top;
    bool windows, json, embedding;
};

static int load_model(struct af_app *app, const char *spec, struct predictor *p, af_err *err)
{
    return af_model_load_checked(app->db, spec, &p->stored, &p->net, &p->mean_log, &p->params,
                                 err);
}

/* Indices of the top n probabilities, best first. */
static void top_n(const float *probs, int k, int n, int *idx)
{
    for (int i = 0; i < n; i++) {
        int best = -1;
        for (int c = 0; c < k; c++) {
            bool taken = false;
            for (int j = 0; j < i; j++)
                taken |= idx[j] == c;
            if (!taken && (best < 0 || probs[c] > probs[best]))
                best = c;
        }
        idx[i] = best;
    }
}

static json_t *json_top(const struct predictor *p, const float *probs, int n, const int *idx)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:f}", "genre", p->stored.genres[idx[i]],
                                           "probability", (double)probs[idx[i]]));
    return a;
}

static void print_top(const struct predictor *p, const float *probs, int n, const int *idx)
{
    for (int i = 0; i < n; i++)
        printf("%s%s %.3f", i ? ", " : "", p->stored.genres[idx[i]], (double)probs[idx[i]]);
}

/* 0 done, 1 the file failed (reported). */
static int predict_file(struct predictor *p, struct af_analyser *an, const char *path,
                        const char *name, json_t *results)
{
    struct af_analysis a;
    af_err err = {0};
    int k = p->stored.n_genres, n = p->top < k ? p->top : k;
    if (af_analyse_file(an, path, false, &a, &err) != 0) {
        log_error("%s: %s", name, err.msg);
        if (results)
            json_array_append_new(results, json_pack("{s:s,s:s}", "file", name, "error", err.msg));
        return 1;
    }
    size_t rows = a.windows.rows;
    float *x = malloc(rows * AF_N_FEATURES * sizeof *x);
    float *probs = malloc(rows * (size_t)k * sizeof *probs);
    float *mean = calloc((size_t)k, sizeof *mean);
    int *idx = malloc((size_t)n * sizeof *idx);
    int rc = 1, emb_dim = 0;
    float *emb = NULL;
    if (!x || !probs || !mean || !idx) {
        log_error("%s: out of memory", name);
        goto out;
    }
    memcpy(x, a.windows.data, rows * AF_N_FEATURES * sizeof *x);
    af_scaler_apply(&p->net.scaler, x, rows);
    if (af_ensemble_forward(&p->net, x, rows, probs, &err) != 0) {
        log_error("%s: %s", name, err.msg);
        goto out;
    }
    af_predict_aggregate(probs, rows, k, p->mean_log, mean);
    top_n(mean, k, n, idx);
    if (p->embedding) {
        emb_dim = af_ensemble_embedding_dim(&p->net);
        if (!(emb = malloc((size_t)emb_dim * sizeof *emb)) ||
            af_embed_ensemble_windows(&p->net, a.windows.data, rows, emb, &err) != 0) {
            log_error("%s: embedding: %s", name, emb ? err.msg : "out of memory");
            goto out;
        }
    }
    if (results) {
        json_t *all = json_object();
        for (int c = 0; c < k; c++)
            json_object_set_new(all, p->stored.genres[c], json_real(mean[c]));
        json_t *o = json_pack("{s:s,s:I,s:s?,s:b,s:f,s:f,s:I,s:o,s:o}", "file", name, "model",
                              (json_int_t)p->stored.id, "model_name",
                              p->stored.name[0] ? p->stored.name : NULL, "model_default",
                              (int)p->stored.is_default, "excerpt_start", a.excerpt_start,
                              "excerpt_seconds", a.excerpt_seconds, "n_windows",
                              (json_int_t)rows, "top", json_top(p, mean, n, idx),
                              "probabilities", all);
        if (p->windows) {
            json_t *ws = json_array();
            for (size_t w = 0; w < rows; w++) {
                const float *pw = probs + w * (size_t)k;
                top_n(pw, k, n, idx);
                json_array_append_new(
                    ws, json_pack("{s:I,s:f,s:o}", "window", (json_int_t)w, "start_seconds",
                                  a.excerpt_start + (double)w * p->params.hop_seconds, "top",
                                  json_top(p, pw, n, idx)));
            }
            json_object_set_new(o, "windows", ws);
        }
        if (emb) {
            json_t *e = json_array();
            for (int j = 0; j < emb_dim; j++)
                json_array_append_new(e, json_real(emb[j]));
            json_object_set_new(o, "embedding", e);
        }
        json_array_append_new(results, o);
    } else {
        printf("%s: ", name);
        print_top(p, mean, n, idx);
        printf("\n");
        if (p->windows) {
            for (size_t w = 0; w < rows; w++) {
                const float *pw = probs + w * (size_t)k;
                top_n(pw, k, n, idx);
                printf("  %7.1f s  ", a.excerpt_start + (double)w * p->params.hop_seconds);
                print_top(p, pw, n, idx);
                printf("\n");
            }
        }
        if (emb) {
            printf("  embedding (%d):", emb_dim);
            for (int j = 0; j < emb_dim; j++)
                printf(" %.6g", (double)emb[j]);
            printf("\n");
        }
    }
    rc = 0;
out:
    free(x);
    free(probs);
    free(mean);
    free(idx);
    free(emb);
    af_analysis_free(&a);
    return rc;
}

struct search {
    const char *text, *deezer_id, *isrc;
    int pick; /* 1-based; 0 = the best match */
};

static void print_hits(const struct af_lookup_hits *h)
{
    printf("Candidates:\n");
    static const char *headers[] = {"#", "provider", "id", "artist", "title", "score", "preview"};
    struct af_table *t = af_table_new(7, headers);
    for (int i = 0; i < h->n; i++) {
        const struct af_fetch_candidate *c = &h->items[i].c;
        char artists[256];
        snprintf(artists, sizeof artists, "%s", c->artists ? c->artists : "");
        for (char *q = artists; (q = strchr(q, '\n'));)
            *q = ',';
        af_table_addf(t, "%d\t%s\t%s\t%s\t%s\t%.2f\t%s", i + 1, h->items[i].provider, c->id,
                      artists, c->title ? c->title : "", h->items[i].score,
                      c->preview_url ? "yes" : "no");
    }
    af_table_print(t, stdout);
    af_table_free(t);
}

static json_t *json_hit(const struct af_lookup_hit *h)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:f,s:f,s:b,s:s?}", "provider", h->provider, "id",
                     h->c.id, "artist", h->c.artists ? h->c.artists : "", "title",
                     h->c.title ? h->c.title : "", "isrc", h->c.isrc[0] ? h->c.isrc : NULL,
                     "duration", h->c.duration, "score", h->score, "preview",
                     h->c.preview_url != NULL, "cover", h->cover_url[0] ? h->cover_url : NULL);
}

/* Search, choose, download, classify.  0 done, 1 no usable match (reported). */
static int predict_search(struct af_app *app, struct predictor *p, struct af_analyser *an,
                          const struct search *s, json_t *results, af_err *err)
{
    char artist[512], title[512];
    af_lookup_split(s->text ? s->text : "", artist, sizeof artist, title, sizeof title);
    struct af_lookup_query q = {.artist = artist, .title = title, .isrc = s->isrc,
                                .deezer_id = s->deezer_id};
    struct af_lookup *lk = NULL;
    struct af_lookup_hits hits = {0};
    char *audio = NULL, path[] = "/tmp/af-predict-XXXXXX";
    int fd = -1, rc = -1;
    size_t size = 0;
    struct af_verify_item v;
    if (af_lookup_open(&lk, app->cfg, err) != 0 || af_lookup_search(lk, &q, &hits, err) != 0)
        goto out;
    af_run_count(app->run, "candidates", hits.n);
    if (!p->json)
        print_hits(&hits);
    int chosen = s->pick ? s->pick - 1 : af_lookup_best(lk, &hits);
    if (s->pick && chosen >= hits.n) {
        af_err_set(err, "--pick %d: only %d candidate(s)", s->pick, hits.n);
        goto out;
    }
    if (chosen < 0) {
        af_err_set(err, "no candidate with a preview matches well enough (%d candidate(s); "
                        "[fetch] min_match_score; --pick N takes one anyway)", hits.n);
        goto out;
    }
    const struct af_lookup_hit *h = &hits.items[chosen];
    if (af_lookup_preview(lk, h, &audio, &size, &v, err) != 0)
        goto out;
    if ((fd = mkstemp(path)) < 0 || write(fd, audio, size) != (ssize_t)size) {
        af_err_set(err, "%s: cannot write the preview: %m", path);
        goto out;
    }
    char name[600], redacted[1024];
    snprintf(name, sizeof name, "%s - %s", h->c.artists ? h->c.artists : "",
             h->c.title ? h->c.title : "");
    for (char *c = name; (c = strchr(c, '\n'));)
        *c = ',';
    af_http_redact_url(h->c.preview_url, redacted, sizeof redacted);
    if (!p->json)
        printf("Track: %s (%s %s, match %.2f)\nPreview: %s, %s, %.1f s, %zu bytes\n"
               "Model: %lld\n",
               name, h->provider, h->c.id, h->score, h->provider,
               v.codec[0] ? v.codec : "unchecked", v.duration, size, p->stored.id);
    rc = predict_file(p, an, path, name, results);
    if (rc == 0 && results) {
        json_t *o = json_array_get(results, json_array_size(results) - 1);
        json_t *cands = json_array();
        for (int i = 0; i < hits.n; i++)
            json_array_append_new(cands, json_hit(&hits.items[i]));
        json_object_set_new(o, "track", json_hit(h));
        json_object_set_new(o, "preview",
                            json_pack("{s:s,s:s,s:s,s:f,s:I}", "source", h->provider, "url",
                                      redacted, "codec", v.codec, "duration", v.duration,
                                      "bytes", (json_int_t)size));
        json_object_set_new(o, "candidates", cands);
    }
    if (rc != 0)
        af_err_set(err, "the preview of %s could not be analysed", name);
    rc = rc == 0 ? 0 : -1;
out:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(audio);
    af_lookup_hits_free(&hits);
    af_lookup_close(lk);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"model", required_argument, NULL, 'm'},
                                            {"top", required_argument, NULL, OPT_TOP},
                                            {"windows", no_argument, NULL, OPT_WINDOWS},
                                            {"json", no_argument, NULL, OPT_JSON},
                                            {"embedding", no_argument, NULL, OPT_EMBEDDING},
                                            {"search", required_argument, NULL, OPT_SEARCH},
                                            {"deezer-id", required_argument, NULL, OPT_DEEZER_ID},
                                            {"isrc", required_argument, NULL, OPT_ISRC},
                                            {"pick", required_argument, NULL, OPT_PICK},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-predict", usage, argc, argv);
    struct predictor p = {.top = 3};
    const char *model = "default";
    struct search search = {0};
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "m:", options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case 'm': model = optarg; break;
        case OPT_TOP:
            p.top = (int)af_app_parse_count(&app, "--top", optarg, 1);
            if (p.top > 1000)
                af_app_usage_error(&app, "--top: at most 1000");
            break;
        case OPT_WINDOWS: p.windows = true; break;
        case OPT_JSON: p.json = true; break;
        case OPT_EMBEDDING: p.embedding = true; break;
        case OPT_SEARCH:
            if (!*optarg)
                af_app_usage_error(&app, "--search: give \"ARTIST - TITLE\" or a title");
            search.text = optarg;
            break;
        case OPT_DEEZER_ID:
            if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg) || strlen(optarg) > 18)
                af_app_usage_error(&app, "--deezer-id: '%s' is not a Deezer track id (digits)",
                                   optarg);
            search.deezer_id = optarg;
            break;
        case OPT_ISRC:
            if (strlen(optarg) != 12 || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "abcdefghijklmnopqrstuvwxyz0123456789") != 12)
                af_app_usage_error(&app, "--isrc: '%s' is not an ISRC (12 letters and digits)",
                                   optarg);
            search.isrc = optarg;
            break;
        case OPT_PICK: search.pick = (int)af_app_parse_count(&app, "--pick", optarg, 1); break;
        }
    }
    bool searching = search.text || search.deezer_id || search.isrc;
    if ((search.text != NULL) + (search.deezer_id != NULL) + (search.isrc != NULL) > 1)
        af_app_usage_error(&app, "give one of --search, --deezer-id and --isrc");
    if (searching && optind < argc)
        af_app_usage_error(&app, "files and --search/--deezer-id/--isrc do not mix");
    if (search.pick && !searching)
        af_app_usage_error(&app, "--pick belongs to --search, --deezer-id or --isrc");
    if (!searching && optind == argc)
        af_app_usage_error(&app, "no audio file given");
    af_err err = {0};
    /* The database first: a model is needed before any decoding is worth doing. */
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    struct af_frame_ctx *ctx = NULL;
    struct af_analyser analyser;
    bool have_analyser = false;
    int rc = load_model(&app, model, &p, &err);
    if (rc == 0 && !(ctx = af_frame_ctx_new(&err)))
        rc = -1;
    if (rc == 0 && (rc = af_analyser_init(&analyser, ctx, &p.params, &err)) == 0)
        have_analyser = true;
    if (rc == 0 && !p.json)
        printf("Model %lld%s%s%s%s\n", p.stored.id, p.stored.name[0] ? " '" : "", p.stored.name,
               p.stored.name[0] ? "'" : "", p.stored.is_default ? " (the default model)" : "");
    int failed = 0, files = 0;
    json_t *results = p.json && rc == 0 ? json_array() : NULL;
    if (rc == 0 && searching) {
        rc = predict_search(&app, &p, &analyser, &search, results, &err);
        files++;
    }
    for (int i = optind; rc == 0 && i < argc && !af_app_stop_requested(); i++) {
        failed += predict_file(&p, &analyser, argv[i], argv[i], results);
        files++;
        af_run_count(app.run, "files", 1);
    }
    if (results) {
        json_dumpf(results, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(results);
    }
    fflush(stdout);
    if (have_analyser)
        af_analyser_destroy(&analyser);
    af_frame_ctx_free(ctx);
    af_ensemble_free(&p.net);
    af_stored_model_free(&p.stored);
    if (rc != 0)
        return af_app_fail(&app, &err);
    af_run_count(app.run, "files_failed", failed);
    if (failed)
        log_warn("%d of %d file(s) failed", failed, files);
    return af_app_finish(&app, failed ? AF_EXIT_FAILURE : AF_EXIT_OK,
                         failed ? "some files failed" : NULL);
}
