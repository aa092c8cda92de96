/* evaluation.c — window- and track-level scores of a model; see evaluation.h. */
#include "evaluation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "strbuf.h"
#include "table.h"

void af_eval_compute(af_eval *e)
{
    e->n = af_confusion_total(&e->cm);
    e->accuracy = af_metrics_accuracy(&e->cm);
    e->balanced_accuracy = af_metrics_balanced_accuracy(&e->cm);
    e->macro_f1 = af_metrics_macro_f1(&e->cm);
    af_metrics_per_class(&e->cm, e->per_class);
}

static int eval_init(af_eval *e, int level, int fold, int n_classes, af_err *err)
{
    memset(e, 0, sizeof *e);
    e->level = level;
    e->fold = fold;
    e->per_class = calloc((size_t)n_classes, sizeof *e->per_class);
    if (!e->per_class)
        return af_err_set(err, "out of memory");
    return af_confusion_init(&e->cm, n_classes, err);
}

void af_eval_free(af_eval *e)
{
    free(e->per_class);
    free(e->pred_track);
    free(e->pred_class);
    free(e->pred_probs);
    af_confusion_free(&e->cm);
    memset(e, 0, sizeof *e);
}

/* Track scores from window scores: the mean, or the renormalised mean of the
 * logarithms (floored at 1e-7 so that one zero cannot veto a genre). */
static int aggregate(const float *scores, const size_t *track, size_t n, int k, size_t n_tracks,
                     int aggregation, float *track_probs, int *track_pred, af_err *err)
{
    if (aggregation != AF_AGG_MEAN_LOG)
        return af_metrics_aggregate_tracks(scores, track, n, k, n_tracks, track_probs, track_pred,
                                           err);
    float *logs = malloc((n ? n : 1) * (size_t)k * sizeof *logs);
    if (!logs)
        return af_err_set(err, "out of memory");
    for (size_t i = 0; i < n * (size_t)k; i++)
        logs[i] = logf(scores[i] > 1e-7f ? scores[i] : 1e-7f);
    int rc = af_metrics_aggregate_tracks(logs, track, n, k, n_tracks, track_probs, track_pred, err);
    free(logs);
    for (size_t t = 0; rc == 0 && t < n_tracks; t++) {
        if (track_pred[t] < 0)
            continue;
        float *p = track_probs + t * (size_t)k, top = p[track_pred[t]], sum = 0.0f;
        for (int c = 0; c < k; c++)
            sum += p[c] = expf(p[c] - top);
        for (int c = 0; c < k; c++)
            p[c] /= sum;
    }
    return rc;
}

int af_evaluate_scores(const float *probs, int k, const af_grouped *g, int b,
                       const int *track_class, size_t n_tracks, int fold, int aggregation,
                       af_eval out[2], af_err *err)
{
    size_t n = g->n[b];
    float *track_probs = malloc((n_tracks ? n_tracks : 1) * (size_t)k * sizeof *track_probs);
    int *pred = malloc((n ? n : 1) * sizeof *pred);
    int *track_pred = malloc((n_tracks ? n_tracks : 1) * sizeof *track_pred);
    int *truth = malloc((n_tracks ? n_tracks : 1) * sizeof *truth);
    int rc = -1;
    memset(out, 0, 2 * sizeof *out);
    if (!track_probs || !pred || !track_pred || !truth) {
        af_err_set(err, "out of memory");
        goto out;
    }
    if (eval_init(&out[0], AF_EVAL_WINDOW, fold, k, err) != 0 ||
        eval_init(&out[1], AF_EVAL_TRACK, fold, k, err) != 0)
        goto out;
    af_metrics_argmax(probs, n, k, pred);
    if (af_confusion_add(&out[0].cm, g->y + g->start[b], pred, n, err) != 0 ||
        aggregate(probs, g->track + g->start[b], n, k, n_tracks, aggregation, track_probs,
                  track_pred, err) != 0)
        goto out;
    af_eval *te = &out[1];
    size_t nt = 0;
    for (size_t t = 0; t < n_tracks; t++)
        nt += track_pred[t] >= 0;
    te->pred_track = malloc((nt ? nt : 1) * sizeof *te->pred_track);
    te->pred_class = malloc((nt ? nt : 1) * sizeof *te->pred_class);
    te->pred_probs = malloc((nt ? nt : 1) * (size_t)k * sizeof *te->pred_probs);
    if (!te->pred_track || !te->pred_class || !te->pred_probs) {
        af_err_set(err, "out of memory");
        goto out;
    }
    nt = 0;
    for (size_t t = 0; t < n_tracks; t++)
        if (track_pred[t] >= 0) {
            te->pred_track[nt] = t;
            te->pred_class[nt] = track_pred[t];
            memcpy(te->pred_probs + nt * (size_t)k, track_probs + t * (size_t)k,
                   (size_t)k * sizeof *track_probs);
            truth[nt++] = track_class[t];
        }
    if (af_confusion_add(&te->cm, truth, te->pred_class, nt, err) != 0)
        goto out;
    af_eval_compute(&out[0]);
    af_eval_compute(&out[1]);
    rc = 0;
out:
    if (rc != 0) {
        af_eval_free(&out[0]);
        af_eval_free(&out[1]);
    }
    free(track_probs);
    free(pred);
    free(track_pred);
    free(truth);
    return rc;
}

int af_evaluate(af_ensemble *m, const af_grouped *g, int b, const int *track_class,
                size_t n_tracks, int fold, int aggregation, af_eval out[2], af_err *err)
{
    int k = af_ensemble_n_classes(m), dim = af_ensemble_n_inputs(m);
    size_t n = g->n[b];
    float *probs = malloc((n ? n : 1) * (size_t)k * sizeof *probs);
    memset(out, 0, 2 * sizeof *out);
    if (!probs)
        return af_err_set(err, "out of memory");
    int rc = n ? af_ensemble_forward(m, g->x + g->start[b] * (size_t)dim, n, probs, err) : 0;
    if (rc == 0)
        rc = af_evaluate_scores(probs, k, g, b, track_class, n_tracks, fold, aggregation, out,
                                err);
    free(probs);
    return rc;
}

char *af_eval_per_class_json(const af_eval *e, char *const *classes)
{
    json_t *o = json_object();
    int bad = !o;
    for (int c = 0; !bad && c < e->cm.n_classes; c++) {
        const af_class_metrics *m = &e->per_class[c];
        json_t *v = json_pack("{s:f,s:f,s:f,s:I,s:I}", "precision", m->precision, "recall",
                              m->recall, "f1", m->f1, "support", (json_int_t)m->support,
                              "predicted", (json_int_t)m->predicted);
        bad = !v || json_object_set_new(o, classes[c], v) != 0;
    }
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    return s;
}

char *af_eval_confusion_literal(const af_eval *e)
{
    af_sb b = {0};
    int k = e->cm.n_classes;
    af_sb_puts(&b, "{");
    for (int t = 0; t < k; t++) {
        af_sb_puts(&b, t ? ",{" : "{");
        for (int p = 0; p < k; p++)
            af_sb_printf(&b, "%s%zu", p ? "," : "", af_confusion_at(&e->cm, t, p));
        af_sb_puts(&b, "}");
    }
    af_sb_puts(&b, "}");
    if (!af_sb_str(&b)) {
        af_sb_free(&b);
        return NULL;
    }
    return b.s;
}

void af_eval_print(FILE *out, const af_eval ev[2], char *const *classes)
{
    static const char *const head[] = {"level", "n", "accuracy", "balanced acc.", "macro-F1"};
    struct af_table *t = af_table_new(5, head);
    for (int l = 0; l < 2; l++)
        af_table_addf(t, "%s\t%zu\t%.4f\t%.4f\t%.4f", l ? "track" : "window", ev[l].n,
                      ev[l].accuracy, ev[l].balanced_accuracy, ev[l].macro_f1);
    af_table_print(t, out);
    af_table_free(t);

    fputs("\nPer genre (track level):\n", out);
    static const char *const head2[] = {"genre", "precision", "recall", "F1", "support"};
    t = af_table_new(5, head2);
    for (int c = 0; c < ev[1].cm.n_classes; c++) {
        const af_class_metrics *m = &ev[1].per_class[c];
        af_table_addf(t, "%s\t%.3f\t%.3f\t%.3f\t%zu", classes[c], m->precision, m->recall, m->f1,
                      m->support);
    }
    af_table_print(t, out);
    af_table_free(t);

    int k = ev[1].cm.n_classes;
    fputs("\nConfusion matrix (tracks; rows = true genre, columns = predicted):\n", out);
    const char **h = calloc((size_t)k + 1, sizeof *h);
    const char **cells = calloc((size_t)k + 1, sizeof *cells);
    char (*num)[24] = calloc((size_t)k, sizeof *num);
    if (h && cells && num) {
        h[0] = "";
        for (int c = 0; c < k; c++)
            h[c + 1] = classes[c];
        t = af_table_new(k + 1, h);
        for (int r = 0; r < k; r++) {
            cells[0] = classes[r];
            for (int c = 0; c < k; c++) {
                snprintf(num[c], sizeof num[c], "%zu", af_confusion_at(&ev[1].cm, r, c));
                cells[c + 1] = num[c];
            }
            af_table_add(t, cells);
        }
        af_table_print(t, out);
        af_table_free(t);
    }
    free(h);
    free(cells);
    free(num);
}

static void mean_sd(const af_eval *evals, int n_folds, int level, int which, double *mean,
                    double *sd)
{
    double s = 0, s2 = 0;
    for (int f = 0; f < n_folds; f++) {
        const af_eval *e = &evals[f * 2 + level];
        double v = which == 0 ? e->accuracy : which == 1 ? e->balanced_accuracy : e->macro_f1;
        s += v;
        s2 += v * v;
    }
    *mean = s / n_folds;
    double var = n_folds > 1 ? (s2 - s * s / n_folds) / (n_folds - 1) : 0;
    *sd = var > 0 ? sqrt(var) : 0;
}

void af_eval_print_folds(FILE *out, const af_eval *evals, int n_folds)
{
    static const char *const head[] = {"fold", "level", "n", "accuracy", "balanced acc.",
                                       "macro-F1"};
    struct af_table *t = af_table_new(6, head);
    for (int f = 0; f < n_folds; f++)
        for (int l = 0; l < 2; l++) {
            const af_eval *e = &evals[f * 2 + l];
            af_table_addf(t, "%d\t%s\t%zu\t%.4f\t%.4f\t%.4f", f, l ? "track" : "window", e->n,
                          e->accuracy, e->balanced_accuracy, e->macro_f1);
        }
    for (int l = 0; l < 2; l++) {
        double m[3], sd[3];
        for (int w = 0; w < 3; w++)
            mean_sd(evals, n_folds, l, w, &m[w], &sd[w]);
        af_table_addf(t, "mean +- sd\t%s\t-\t%.4f +- %.4f\t%.4f +- %.4f\t%.4f +- %.4f",
                      l ? "track" : "window", m[0], sd[0], m[1], sd[1], m[2], sd[2]);
    }
    af_table_print(t, out);
    af_table_free(t);
}
