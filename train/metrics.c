/* metrics.c — confusion-matrix metrics and track-level aggregation; see
 * metrics.h for the conventions (0 for undefined, sklearn's averages). */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

int af_confusion_init(af_confusion *cm, int n_classes, af_err *err)
{
    cm->n_classes = 0;
    cm->counts = NULL;
    if (n_classes < 1 || n_classes > 65536)
        return af_err_set(err, "metrics: class count must be in 1..65536 (got %d)", n_classes);
    cm->counts = calloc((size_t)n_classes * (size_t)n_classes, sizeof *cm->counts);
    if (!cm->counts)
        return af_err_set(err, "metrics: out of memory for %d classes", n_classes);
    cm->n_classes = n_classes;
    return 0;
}

void af_confusion_free(af_confusion *cm)
{
    free(cm->counts);
    cm->counts = NULL;
    cm->n_classes = 0;
}

static int in_range(const af_confusion *cm, int c) { return c >= 0 && c < cm->n_classes; }

int af_confusion_add(af_confusion *cm, const int *truth, const int *predicted, size_t n,
                     af_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!in_range(cm, truth[i]) || !in_range(cm, predicted[i]))
            return af_err_set(err, "metrics: pair %zu (truth %d, predicted %d) is not in 0..%d",
                              i, truth[i], predicted[i], cm->n_classes - 1);
    for (size_t i = 0; i < n; i++)
        cm->counts[(size_t)truth[i] * (size_t)cm->n_classes + (size_t)predicted[i]]++;
    return 0;
}

size_t af_confusion_at(const af_confusion *cm, int truth, int predicted)
{
    if (!in_range(cm, truth) || !in_range(cm, predicted))
        return 0;
    return cm->counts[(size_t)truth * (size_t)cm->n_classes + (size_t)predicted];
}

size_t af_confusion_total(const af_confusion *cm)
{
    size_t total = 0;
    for (size_t i = 0; i < (size_t)cm->n_classes * (size_t)cm->n_classes; i++)
        total += cm->counts[i];
    return total;
}

static double ratio(size_t num, size_t den) { return den ? (double)num / (double)den : 0.0; }

static void one_class(const af_confusion *cm, int c, af_class_metrics *m)
{
    size_t support = 0, predicted = 0;
    for (int o = 0; o < cm->n_classes; o++) {
        support += af_confusion_at(cm, c, o);
        predicted += af_confusion_at(cm, o, c);
    }
    size_t hits = af_confusion_at(cm, c, c);
    m->support = support;
    m->predicted = predicted;
    m->precision = ratio(hits, predicted);
    m->recall = ratio(hits, support);
    double sum = m->precision + m->recall;
    m->f1 = sum > 0.0 ? 2.0 * m->precision * m->recall / sum : 0.0;
}

void af_metrics_per_class(const af_confusion *cm, af_class_metrics *out)
{
    for (int c = 0; c < cm->n_classes; c++)
        one_class(cm, c, &out[c]);
}

double af_metrics_accuracy(const af_confusion *cm)
{
    size_t hits = 0;
    for (int c = 0; c < cm->n_classes; c++)
        hits += af_confusion_at(cm, c, c);
    return ratio(hits, af_confusion_total(cm));
}

/* Mean of recall (balanced) or F1 over the classes that take part: present in
 * the truth, or (for F1) also only in the predictions. */
static double class_average(const af_confusion *cm, int use_f1)
{
    double sum = 0.0;
    int used = 0;
    for (int c = 0; c < cm->n_classes; c++) {
        af_class_metrics m;
        one_class(cm, c, &m);
        if (m.support == 0 && !(use_f1 && m.predicted > 0))
            continue; /* the class takes no part in this evaluation */
        sum += use_f1 ? m.f1 : m.recall;
        used++;
    }
    return used ? sum / used : 0.0;
}

double af_metrics_balanced_accuracy(const af_confusion *cm) { return class_average(cm, 0); }
double af_metrics_macro_f1(const af_confusion *cm) { return class_average(cm, 1); }

void af_metrics_argmax(const float *probs, size_t n, int n_classes, int *pred)
{
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * (size_t)n_classes;
        int best = 0;
        for (int c = 1; c < n_classes; c++)
            if (p[c] > p[best])
                best = c;
        pred[i] = best;
    }
}

int af_metrics_aggregate_tracks(const float *window_probs, const size_t *track_of_window,
                                size_t n_windows, int n_classes, size_t n_tracks,
                                float *track_probs, int *track_pred, af_err *err)
{
    if (n_classes < 1)
        return af_err_set(err, "metrics: class count must be positive (got %d)", n_classes);
    for (size_t w = 0; w < n_windows; w++)
        if (track_of_window[w] >= n_tracks)
            return af_err_set(err, "metrics: window %zu belongs to track %zu of %zu", w,
                              track_of_window[w], n_tracks);
    size_t k = (size_t)n_classes;
    /* double sums: a long track has hundreds of windows */
    double *sum = calloc(n_tracks * k + 1, sizeof *sum);
    size_t *count = calloc(n_tracks + 1, sizeof *count);
    if (!sum || !count) {
        free(sum);
        free(count);
        return af_err_set(err, "metrics: out of memory for %zu tracks", n_tracks);
    }
    for (size_t w = 0; w < n_windows; w++) {
        size_t t = track_of_window[w];
        for (size_t c = 0; c < k; c++)
            sum[t * k + c] += window_probs[w * k + c];
        count[t]++;
    }
    for (size_t t = 0; t < n_tracks; t++) {
        for (size_t c = 0; c < k; c++)
            track_probs[t * k + c] = count[t] ? (float)(sum[t * k + c] / (double)count[t]) : 0.0f;
        if (count[t])
            af_metrics_argmax(track_probs + t * k, 1, n_classes, &track_pred[t]);
        else
            track_pred[t] = -1;
    }
    free(sum);
    free(count);
    return 0;
}
