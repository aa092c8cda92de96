/* predictor.c — loading a stored model for audio files; see predictor.h. */
#include "predictor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dataset.h"
#include "db.h"

/* The stored feature parameters -> ours, or a clear refusal. */
static int check_features(PGconn *db, const af_stored_model *m, const af_ensemble *net,
                          struct af_feature_params *params, af_err *err)
{
    if (!m->feature_params)
        return af_err_set(err, "model %lld records no feature parameters: it cannot be checked "
                               "against this program's features; retrain it", m->id);
    json_error_t jerr;
    json_t *fp = json_loads(m->feature_params, 0, &jerr);
    af_feature_params_init(params);
    if (fp) {
        snprintf(params->name, sizeof params->name, "%.15s", m->feature_set);
        params->window_seconds = json_number_value(json_object_get(fp, "window_seconds"));
        params->hop_seconds = json_number_value(json_object_get(fp, "hop_seconds"));
        params->excerpt_seconds = json_number_value(json_object_get(fp, "excerpt_seconds"));
    }
    const char *definition = fp ? json_string_value(json_object_get(fp, "definition")) : NULL;
    char stored_def[64];
    snprintf(stored_def, sizeof stored_def, "%s", definition ? definition : "?");
    json_int_t stored_n = fp ? json_integer_value(json_object_get(fp, "n_features")) : 0;
    json_decref(fp);
    af_err ignored = {0};
    char *ours = af_feature_params_check(params, &ignored) == 0
                     ? af_feature_params_json(params, &ignored)
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
    if (!same || af_ensemble_n_inputs(net) != AF_N_FEATURES)
        return af_err_set(err,
                          "model %lld does not match this program's feature code: it was "
                          "trained on feature set '%s' (definition %s, %lld features, %d model "
                          "inputs), computed with other parameters than this program's feature "
                          "code (definition %s, %d features) computes; retrain it on features "
                          "extracted by this version",
                          m->id, m->feature_set, stored_def, (long long)stored_n,
                          af_ensemble_n_inputs(net), AF_FEATURE_SET_NAME, AF_N_FEATURES);
    return 0;
}

int af_model_load_checked(PGconn *db, const char *spec, af_stored_model *stored,
                          af_ensemble *net, bool *mean_log, struct af_feature_params *params,
                          af_err *err)
{
    long long id;
    if (af_model_resolve(db, spec, &id, err) != 0 || af_model_load(db, id, stored, err) != 0)
        return -1;
    if (af_ensemble_deserialise(stored->weights, stored->weights_len, net, err) != 0)
        return af_err_prefix(err, "model %lld", id);
    if (af_ensemble_n_classes(net) != stored->n_genres)
        return af_err_set(err, "model %lld: %d outputs but %d genres stored", id,
                          af_ensemble_n_classes(net), stored->n_genres);
    json_t *h = json_loads(stored->hyperparameters ? stored->hyperparameters : "{}", 0, NULL);
    const char *agg = json_string_value(json_object_get(h, "aggregation"));
    *mean_log = agg && strcmp(agg, "mean_log") == 0;
    json_decref(h);
    if (net->scaler.dim != af_ensemble_n_inputs(net))
        return af_err_set(err, "model %lld carries no feature standardiser", id);
    return check_features(db, stored, net, params, err);
}

void af_predict_aggregate(const float *probs, size_t rows, int k, bool mean_log, float *out)
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
        out[c] = mean_log ? (float)exp(sum[c] / (double)rows - top) : (float)(sum[c] / (double)rows);
        total += out[c];
    }
    for (int c = 0; mean_log && c < k; c++)
        out[c] /= (float)total;
}
