/* trainer.c — one early-stopped training run; see trainer.h. */
#include "trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"

int af_parse_hidden(const char *text, int *n, int *widths, af_err *err)
{
    *n = 0;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (*p == '\0' || strcmp(p, "0") == 0)
        return 0;
    for (;;) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w <= 0 || w > AF_MLP_MAX_WIDTH)
            return af_err_set(err, "hidden layers '%s': expected comma-separated sizes "
                                   "between 1 and %d, like 256,128,64", text, AF_MLP_MAX_WIDTH);
        if (*n == AF_MLP_MAX_HIDDEN)
            return af_err_set(err, "hidden layers '%s': at most %d layers", text,
                              AF_MLP_MAX_HIDDEN);
        widths[(*n)++] = (int)w;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return af_err_set(err, "hidden layers '%s': expected comma-separated sizes, "
                                   "like 256,128,64", text);
        p++;
    }
}

static int make_class_weights(const af_grouped *g, int n_classes, float **out, af_err *err)
{
    size_t *counts = calloc((size_t)n_classes, sizeof *counts);
    float *w = malloc((size_t)n_classes * sizeof *w);
    if (!counts || !w) {
        free(counts);
        free(w);
        return af_err_set(err, "out of memory");
    }
    af_grouped_class_counts(g, 0, n_classes, counts);
    for (int c = 0; c < n_classes; c++)
        w[c] = counts[c] ? (float)((double)g->n[0] / ((double)n_classes * (double)counts[c]))
                         : 0.0f;
    free(counts);
    *out = w;
    return 0;
}

/* Accuracy over the validation tracks: a track's windows are consecutive
 * rows (dataset order within a bucket); its prediction is the argmax of the
 * mean of their probabilities. */
static int val_track_accuracy(af_mlp *m, const af_grouped *g, double *acc, af_err *err)
{
    size_t n = g->n[1], s = g->start[1];
    int k = af_mlp_n_classes(m), dim = af_mlp_n_inputs(m);
    float *p = malloc((n ? n : 1) * (size_t)k * sizeof *p);
    double *sum = calloc((size_t)k, sizeof *sum);
    if (!p || !sum) {
        free(p);
        free(sum);
        return af_err_set(err, "out of memory");
    }
    int rc = af_mlp_forward(m, g->x + s * (size_t)dim, n, p, err);
    size_t tracks = 0, right = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        for (int c = 0; c < k; c++)
            sum[c] += p[i * (size_t)k + (size_t)c];
        if (i + 1 < n && g->track[s + i + 1] == g->track[s + i])
            continue;
        int best = 0;
        for (int c = 1; c < k; c++)
            best = sum[c] > sum[best] ? c : best;
        right += best == g->y[s + i];
        tracks++;
        memset(sum, 0, (size_t)k * sizeof *sum);
    }
    *acc = tracks ? (double)right / (double)tracks : 0.0;
    free(p);
    free(sum);
    return rc;
}

/* One member: a fresh network with the member's seed, trained epoch by
 * epoch with early stopping on the validation loss, left at its best epoch.
 * The first member's epochs go into res->epochs. */
static int train_member(const af_grouped *g, const af_mlp_config *cfg, const af_train_options *opt,
                        int member, af_train_result *res, af_mlp **out, af_err *err)
{
    af_mlp *m = NULL;
    af_mlp_early_stop es = {0};
    int rc = -1;
    if (af_mlp_create(&m, cfg, err) != 0 || af_mlp_early_stop_init(&es, m, opt->patience, err) != 0)
        goto out;
    const float *xv = g->x + g->start[1] * (size_t)cfg->n_inputs;
    const int *yv = g->y + g->start[1];
    char who[64] = "";
    if (opt->members > 1)
        snprintf(who, sizeof who, "%s%snet %d/%d: ", opt->label ? opt->label : "",
                 opt->label ? ", " : "", member + 1, opt->members);
    else if (opt->label)
        snprintf(who, sizeof who, "%s: ", opt->label);
    for (int e = 1; e <= opt->max_epochs; e++) {
        double t0 = af_monotonic_seconds();
        af_mlp_stats tr, va;
        if (af_mlp_train_epoch(m, g->x, g->y, g->n[0], res->class_weights, &tr, err) != 0 ||
            af_mlp_evaluate(m, xv, yv, g->n[1], res->class_weights, &va, err) != 0) {
            af_err_prefix(err, "epoch %d", e);
            goto out;
        }
        double seconds = af_monotonic_seconds() - t0;
        res->total_epochs++;
        if (member == 0) {
            af_epoch_record *r = &res->epochs[e - 1];
            *r = (af_epoch_record){tr.loss, tr.accuracy, va.loss, va.accuracy, seconds};
            res->n_epochs = e;
        }
        bool stop = false;
        double criterion = va.loss;
        if (opt->stop_on_track_accuracy) {
            double acc;
            if (val_track_accuracy(m, g, &acc, err) != 0)
                goto out;
            criterion = (1.0 - acc) + 0.01 * va.loss;
        }
        if (af_mlp_early_stop_update(&es, m, e, criterion, &stop, err) != 0)
            goto out;
        char extra[200];
        snprintf(extra, sizeof extra, "%strain loss %.4f acc %.3f, val loss %.4f acc %.3f, %.2f s",
                 who, tr.loss, tr.accuracy, va.loss, va.accuracy, seconds);
        af_progress("epochs", e, opt->max_epochs, extra);
        log_debug("epoch %d %s", e, extra);
        if (stop) {
            log_debug("early stop after epoch %d: no better validation loss for %d epochs", e,
                      opt->patience);
            break;
        }
        if (opt->stop && opt->stop()) {
            res->interrupted = true;
            break;
        }
    }
    af_progress_end();
    if (af_mlp_early_stop_restore(&es, m, err) != 0)
        goto out;
    if (member == 0)
        res->best_epoch = es.best_epoch;
    *out = m;
    m = NULL;
    rc = 0;
out:
    af_mlp_early_stop_free(&es);
    af_mlp_free(m);
    return rc;
}

/* Validation loss of the whole ensemble (class-weighted as in training). */
static int ensemble_val_loss(af_train_result *res, const af_grouped *g, int n_classes,
                             double *loss, af_err *err)
{
    size_t n = g->n[1];
    float *p = malloc((n ? n : 1) * (size_t)n_classes * sizeof *p);
    if (!p)
        return af_err_set(err, "out of memory");
    int dim = af_ensemble_n_inputs(&res->model);
    if (af_ensemble_forward(&res->model, g->x + g->start[1] * (size_t)dim, n, p, err) != 0) {
        free(p);
        return -1;
    }
    double sum = 0.0, wsum = 0.0;
    for (size_t i = 0; i < n; i++) {
        int y = g->y[g->start[1] + i];
        double w = res->class_weights ? res->class_weights[y] : 1.0;
        float q = p[i * (size_t)n_classes + (size_t)y];
        sum -= w * log(q > 1e-12f ? (double)q : 1e-12);
        wsum += w;
    }
    *loss = wsum > 0.0 ? sum / wsum : 0.0;
    free(p);
    return 0;
}

int af_train_run(af_grouped *g, int dim, int n_classes, const af_train_options *opt,
                 af_train_result *res, af_err *err)
{
    memset(res, 0, sizeof *res);
    if (g->n[0] == 0)
        return af_err_set(err, "no training windows");
    if (g->n[1] == 0)
        return af_err_set(err, "no validation windows (early stopping needs them)");
    int members = opt->members < 1 ? 1 : opt->members;
    if (members > AF_ENSEMBLE_MAX)
        return af_err_set(err, "ensemble of %d networks: at most %d", members, AF_ENSEMBLE_MAX);
    af_mlp_config cfg = opt->cfg;
    cfg.n_inputs = dim;
    cfg.n_classes = n_classes;
    size_t used = g->n[0] + g->n[1] + g->n[2];
    int rc = -1;
    if (opt->scaler) {
        if (opt->scaler->dim != dim) {
            af_err_set(err, "scaler: %d features for %d", opt->scaler->dim, dim);
            goto out;
        }
        if (af_scaler_copy(&res->model.scaler, opt->scaler, err) != 0)
            goto out;
    } else if ((opt->rankgauss_knots > 0
                    ? af_scaler_fit_rankgauss(&res->model.scaler, g->x, g->n[0], dim,
                                              opt->rankgauss_knots, err)
                    : af_scaler_fit(&res->model.scaler, g->x, g->n[0], dim, err)) != 0) {
        goto out;
    }
    af_scaler_apply(&res->model.scaler, g->x, used);
    if (opt->class_weights && make_class_weights(g, n_classes, &res->class_weights, err) != 0)
        goto out;
    res->epochs = calloc((size_t)opt->max_epochs, sizeof *res->epochs);
    if (!res->epochs) {
        af_err_set(err, "out of memory");
        goto out;
    }
    af_train_options o = *opt;
    o.members = members;
    for (int i = 0; i < members && !res->interrupted; i++) {
        cfg.seed = opt->cfg.seed + (uint64_t)i;
        if (train_member(g, &cfg, &o, i, res, &res->model.members[i], err) != 0)
            goto out;
        res->model.n = i + 1;
        if (i + 1 < members && opt->stop && opt->stop())
            res->interrupted = true;
    }
    if (ensemble_val_loss(res, g, n_classes, &res->best_val_loss, err) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        af_train_result_free(res);
    return rc;
}

void af_train_result_free(af_train_result *res)
{
    af_ensemble_free(&res->model);
    free(res->epochs);
    free(res->class_weights);
    memset(res, 0, sizeof *res);
}
