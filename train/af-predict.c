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

#include <jansson.h>

#include "analysis.h"
#include "app.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "mlp.h"
#include "model_store.h"
#include "scaler.h"
#include "ensemble.h"
#include "dataset.h"

static const char usage[] =
    "Usage: af-predict [OPTION]... FILE...\n"
    "Predict the genre of audio files with a model trained by af-train.\n"
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
    "\n"
    "The model used is named on the first line (text) or in every result (\"model\",\n"
    "\"model_name\"). A deleted model is refused.\n"
    "The file's probabilities aggregate its windows' as the model was evaluated: the mean\n"
    "of the probabilities, or of their logarithms (renormalised). A model trained\n"
    "on features computed differently from this program's is refused. Exit code 1 when a\n"
    "file cannot be decoded (the others are still predicted).\n";

enum { OPT_TOP = AF_OPT_FIRST_PROGRAM_OPTION, OPT_WINDOWS, OPT_JSON };

struct predictor {
    af_stored_model stored;
    af_ensemble net;
    bool mean_log;
    struct af_feature_params params;
    int top;
    bool windows, json;
};

/* The stored feature parameters -> ours, or a clear refusal. */
static int check_features(PGconn *db, struct predictor *p, af_err *err)
{
    const af_stored_model *m = &p->stored;
    if (!m->feature_params)
        return af_err_set(err, "model %lld records no feature parameters: it cannot be checked "
                               "against this program's features; retrain it", m->id);
    json_error_t jerr;
    json_t *fp = json_loads(m->feature_params, 0, &jerr);
    af_feature_params_init(&p->params);
    if (fp) {
        snprintf(p->params.name, sizeof p->params.name, "%.15s", m->feature_set);
        p->params.window_seconds = json_number_value(json_object_get(fp, "window_seconds"));
        p->params.hop_seconds = json_number_value(json_object_get(fp, "hop_seconds"));
        p->params.excerpt_seconds = json_number_value(json_object_get(fp, "excerpt_seconds"));
    }
    const char *definition = fp ? json_string_value(json_object_get(fp, "definition")) : NULL;
    char stored_def[64];
    snprintf(stored_def, sizeof stored_def, "%s", definition ? definition : "?");
    json_int_t stored_n = fp ? json_integer_value(json_object_get(fp, "n_features")) : 0;
    json_decref(fp);
    af_err ignored = {0};
    char *ours = af_feature_params_check(&p->params, &ignored) == 0
                     ? af_feature_params_json(&p->params, &ignored)
                     : NULL;
    int same = 0;
    if (ours) {
        const char *q[] = {ours, m->feature_params};
        PGresult *res = af_db_query(db, "SELECT $1::jsonb = $2::jsonb", 2, q, err);
        if (!res) {
            free(ours);
            return -1;
        }
        same = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
    }
    free(ours);
    if (!same || af_ensemble_n_inputs(&p->net) != AF_N_FEATURES)
        return af_err_set(err,
                          "model %lld does not match this program's feature code: it was "
                          "trained on feature set '%s' (definition %s, %lld features, %d model "
                          "inputs), computed with other parameters than this program's feature "
                          "code (definition %s, %d features) computes; retrain it on features "
                          "extracted by this version",
                          m->id, m->feature_set, stored_def, (long long)stored_n,
                          af_ensemble_n_inputs(&p->net), AF_FEATURE_SET_NAME, AF_N_FEATURES);
    return 0;
}

static int load_model(struct af_app *app, const char *spec, struct predictor *p, af_err *err)
{
    long long id;
    if (af_model_resolve(app->db, spec, &id, err) != 0 ||
        af_model_load(app->db, id, &p->stored, err) != 0)
        return -1;
    if (af_ensemble_deserialise(p->stored.weights, p->stored.weights_len, &p->net, err) != 0)
        return af_err_prefix(err, "model %lld", id);
    if (af_ensemble_n_classes(&p->net) != p->stored.n_genres)
        return af_err_set(err, "model %lld: %d outputs but %d genres stored", id,
                          af_ensemble_n_classes(&p->net), p->stored.n_genres);
    json_t *h = json_loads(p->stored.hyperparameters, 0, NULL);
    const char *agg = json_string_value(json_object_get(h, "aggregation"));
    p->mean_log = agg && strcmp(agg, "mean_log") == 0;
    json_decref(h);
    if (p->net.scaler.dim != af_ensemble_n_inputs(&p->net))
        return af_err_set(err, "model %lld carries no feature standardiser", id);
    return check_features(app->db, p, err);
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

/* The file's probabilities from its windows', as af-train evaluated the model
 * (evaluation.c: the mean, or the renormalised mean of the logarithms). */
static void aggregate(const float *probs, size_t rows, int k, bool mean_log, float *mean)
{
    double sum[AF_DATASET_MAX_CLASSES] = {0};
    for (size_t w = 0; w < rows; w++)
        for (int c = 0; c < k; c++) {
            float q = probs[w * (size_t)k + (size_t)c];
            sum[c] += mean_log ? log(q > 1e-7f ? (double)q : 1e-7) : (double)q;
        }
    double top = -INFINITY, total = 0.0;
    for (int c = 0; c < k; c++)
        top = sum[c] / (double)rows > top ? sum[c] / (double)rows : top;
    for (int c = 0; c < k; c++) {
        mean[c] = mean_log ? (float)exp(sum[c] / (double)rows - top) : (float)(sum[c] / (double)rows);
        total += mean[c];
    }
    for (int c = 0; mean_log && c < k; c++)
        mean[c] /= (float)total;
}

/* 0 done, 1 the file failed (reported). */
static int predict_file(struct predictor *p, struct af_analyser *an, const char *path,
                        json_t *results)
{
    struct af_analysis a;
    af_err err = {0};
    int k = p->stored.n_genres, n = p->top < k ? p->top : k;
    if (af_analyse_file(an, path, false, &a, &err) != 0) {
        log_error("%s: %s", path, err.msg);
        if (results)
            json_array_append_new(results, json_pack("{s:s,s:s}", "file", path, "error", err.msg));
        return 1;
    }
    size_t rows = a.windows.rows;
    float *x = malloc(rows * AF_N_FEATURES * sizeof *x);
    float *probs = malloc(rows * (size_t)k * sizeof *probs);
    float *mean = calloc((size_t)k, sizeof *mean);
    int *idx = malloc((size_t)n * sizeof *idx);
    int rc = 1;
    if (!x || !probs || !mean || !idx) {
        log_error("%s: out of memory", path);
        goto out;
    }
    memcpy(x, a.windows.data, rows * AF_N_FEATURES * sizeof *x);
    af_scaler_apply(&p->net.scaler, x, rows);
    if (af_ensemble_forward(&p->net, x, rows, probs, &err) != 0) {
        log_error("%s: %s", path, err.msg);
        goto out;
    }
    aggregate(probs, rows, k, p->mean_log, mean);
    top_n(mean, k, n, idx);
    if (results) {
        json_t *all = json_object();
        for (int c = 0; c < k; c++)
            json_object_set_new(all, p->stored.genres[c], json_real(mean[c]));
        json_t *o = json_pack("{s:s,s:I,s:s?,s:b,s:f,s:f,s:I,s:o,s:o}", "file", path, "model",
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
        json_array_append_new(results, o);
    } else {
        printf("%s: ", path);
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
    }
    rc = 0;
out:
    free(x);
    free(probs);
    free(mean);
    free(idx);
    af_analysis_free(&a);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"model", required_argument, NULL, 'm'},
                                            {"top", required_argument, NULL, OPT_TOP},
                                            {"windows", no_argument, NULL, OPT_WINDOWS},
                                            {"json", no_argument, NULL, OPT_JSON},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-predict", usage, argc, argv);
    struct predictor p = {.top = 3};
    const char *model = "default";
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
        }
    }
    if (optind == argc)
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
    for (int i = optind; rc == 0 && i < argc && !af_app_stop_requested(); i++) {
        failed += predict_file(&p, &analyser, argv[i], results);
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
