/* trainer.c — one early-stopped training run; see trainer.h. */
#include "trainer.h"

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

int af_train_run(af_grouped *g, int dim, int n_classes, const af_train_options *opt,
                 af_train_result *res, af_err *err)
{
    memset(res, 0, sizeof *res);
    if (g->n[0] == 0)
        return af_err_set(err, "no training windows");
    if (g->n[1] == 0)
        return af_err_set(err, "no validation windows (early stopping needs them)");
    af_mlp_config cfg = opt->cfg;
    cfg.n_inputs = dim;
    cfg.n_classes = n_classes;
    size_t used = g->n[0] + g->n[1] + g->n[2];
    af_mlp_early_stop es = {0};
    int rc = -1;
    if (af_scaler_fit(&res->scaler, g->x, g->n[0], dim, err) != 0)
        goto out;
    af_scaler_apply(&res->scaler, g->x, used);
    if (opt->class_weights && make_class_weights(g, n_classes, &res->class_weights, err) != 0)
        goto out;
    res->epochs = calloc((size_t)opt->max_epochs, sizeof *res->epochs);
    if (!res->epochs) {
        af_err_set(err, "out of memory");
        goto out;
    }
    if (af_mlp_create(&res->model, &cfg, err) != 0 ||
        af_mlp_early_stop_init(&es, res->model, opt->patience, err) != 0)
        goto out;
    const float *xv = g->x + g->start[1] * (size_t)dim;
    const int *yv = g->y + g->start[1];
    for (int e = 1; e <= opt->max_epochs; e++) {
        double t0 = af_monotonic_seconds();
        af_mlp_stats tr, va;
        if (af_mlp_train_epoch(res->model, g->x, g->y, g->n[0], res->class_weights, &tr, err) !=
                0 ||
            af_mlp_evaluate(res->model, xv, yv, g->n[1], res->class_weights, &va, err) != 0) {
            af_err_prefix(err, "epoch %d", e);
            goto out;
        }
        af_epoch_record *r = &res->epochs[e - 1];
        r->train_loss = tr.loss;
        r->train_accuracy = tr.accuracy;
        r->val_loss = va.loss;
        r->val_accuracy = va.accuracy;
        r->seconds = af_monotonic_seconds() - t0;
        res->n_epochs = e;
        bool stop = false;
        if (af_mlp_early_stop_update(&es, res->model, e, va.loss, &stop, err) != 0)
            goto out;
        char extra[200];
        snprintf(extra, sizeof extra, "%s%strain loss %.4f acc %.3f, val loss %.4f acc %.3f, %.2f s",
                 opt->label ? opt->label : "", opt->label ? ": " : "", tr.loss, tr.accuracy,
                 va.loss, va.accuracy, r->seconds);
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
    if (af_mlp_early_stop_restore(&es, res->model, err) != 0)
        goto out;
    res->best_epoch = es.best_epoch;
    res->best_val_loss = es.best_loss;
    rc = 0;
out:
    af_mlp_early_stop_free(&es);
    if (rc != 0)
        af_train_result_free(res);
    return rc;
}

void af_train_result_free(af_train_result *res)
{
    af_mlp_free(res->model);
    af_scaler_free(&res->scaler);
    free(res->epochs);
    free(res->class_weights);
    memset(res, 0, sizeof *res);
}
