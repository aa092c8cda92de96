/* report_html.c — the self-contained HTML model report; see report_html.h. */
#include "report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"

static const char *const fold_colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                           "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

/* A line chart of train (dashed) and validation (solid) series of every curve. */
static void chart(af_sb *b, const af_report *r, const char *title, int accuracy)
{
    const double W = 640, H = 300, L = 60, R = 20, T = 30, B = 45;
    int max_n = 1;
    double ymax = accuracy ? 1.0 : 0.0;
    for (int c = 0; c < r->n_curves; c++) {
        const af_report_curve *cv = &r->curves[c];
        if (cv->n > max_n)
            max_n = cv->n;
        if (!accuracy)
            for (int e = 0; e < cv->n; e++) {
                if (isfinite(cv->train_loss[e]) && cv->train_loss[e] > ymax)
                    ymax = cv->train_loss[e];
                if (isfinite(cv->val_loss[e]) && cv->val_loss[e] > ymax)
                    ymax = cv->val_loss[e];
            }
    }
    if (ymax <= 0)
        ymax = 1;
    double pw = W - L - R, ph = H - T - B;
    af_sb_printf(b, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                    "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
                 W, H, W, H);
    af_sb_html(b, title);
    af_sb_printf(b, "\">\n<text x=\"%.0f\" y=\"18\" font-size=\"14\" font-weight=\"bold\">", L);
    af_sb_html(b, title);
    af_sb_puts(b, "</text>\n");
    for (int i = 0; i <= 4; i++) {
        double v = ymax * i / 4, y = T + ph - ph * i / 4;
        af_sb_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                        "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.2f</text>\n",
                     L, y, L + pw, y, L - 6, y + 4, v);
    }
    int step = max_n <= 10 ? 1 : max_n <= 50 ? 5 : max_n <= 200 ? 20 : max_n / 10;
    for (int e = 1; e <= max_n; e += step) {
        double x = L + (max_n == 1 ? pw / 2 : pw * (e - 1) / (max_n - 1));
        af_sb_printf(b, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%d</text>\n",
                     x, T + ph + 16, e);
    }
    af_sb_printf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\">epoch</text>\n",
                 L + pw / 2, H - 6);
    af_sb_printf(b, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                    "stroke=\"#888\"/>\n", L, T, pw, ph);
    for (int c = 0; c < r->n_curves; c++) {
        const af_report_curve *cv = &r->curves[c];
        const char *colour = fold_colours[c % 8];
        for (int s = 0; s < 2; s++) {
            const double *v = accuracy ? (s ? cv->val_acc : cv->train_acc)
                                       : (s ? cv->val_loss : cv->train_loss);
            af_sb_printf(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                         s ? "val" : "train", colour, s ? "" : " stroke-dasharray=\"5,4\"");
            for (int e = 0; e < cv->n; e++) {
                double val = isfinite(v[e]) ? v[e] : 0;
                double x = L + (max_n == 1 ? pw / 2 : pw * e / (max_n - 1));
                double y = T + ph - ph * (val > ymax ? 1 : val / ymax);
                af_sb_printf(b, "%s%.1f,%.1f", e ? " " : "", x, y);
            }
            af_sb_puts(b, "\"/>\n");
        }
    }
    /* legend */
    double lx = L + pw - 170, ly = T + 8;
    af_sb_printf(b, "<g font-size=\"11\"><line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                    "stroke=\"#333\" stroke-width=\"2\" stroke-dasharray=\"5,4\"/>"
                    "<text x=\"%.0f\" y=\"%.0f\">training</text>"
                    "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\" "
                    "stroke-width=\"2\"/><text x=\"%.0f\" y=\"%.0f\">validation</text></g>\n",
                 lx, ly, lx + 24, ly, lx + 28, ly + 4, lx + 90, ly, lx + 114, ly, lx + 118, ly + 4);
    if (r->n_curves > 1)
        for (int c = 0; c < r->n_curves; c++)
            af_sb_printf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" fill=\"%s\">fold %d</text>\n",
                         lx + 60 * (c % 3), ly + 18 + 14 * (c / 3), fold_colours[c % 8],
                         r->curves[c].fold);
    af_sb_puts(b, "</svg>\n");
}

static void heatmap(af_sb *b, const af_report *r, const long *cm, const char *title)
{
    int k = r->n_genres;
    const double cell = k <= 12 ? 44 : 28, left = 120, top = 110;
    double w = left + cell * k + 20, h = top + cell * k + 40;
    af_sb_printf(b, "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                    "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
                 w, h, w, h);
    af_sb_html(b, title);
    af_sb_puts(b, "\">\n<text x=\"4\" y=\"18\" font-size=\"14\" font-weight=\"bold\">");
    af_sb_html(b, title);
    af_sb_printf(b, "</text>\n<text x=\"%.0f\" y=\"36\" font-size=\"11\" text-anchor=\"middle\">"
                    "predicted genre</text>\n", left + cell * k / 2);
    for (int c = 0; c < k; c++) {
        double x = left + cell * c + cell / 2;
        af_sb_printf(b, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" transform=\"rotate(-45 %.1f %.0f)\">",
                     x, top - 6, x, top - 6);
        af_sb_html(b, r->genres[c]);
        af_sb_puts(b, "</text>\n");
    }
    for (int t = 0; t < k; t++) {
        long row = 0;
        for (int p = 0; p < k; p++)
            row += cm[t * k + p];
        af_sb_printf(b, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">",
                     left - 6, top + cell * t + cell / 2 + 4);
        af_sb_html(b, r->genres[t]);
        af_sb_puts(b, "</text>\n");
        for (int p = 0; p < k; p++) {
            long v = cm[t * k + p];
            double share = row ? (double)v / (double)row : 0;
            /* white -> dark blue */
            int red = (int)lround(255 - share * (255 - 8)), green = (int)lround(255 - share * (255 - 48)),
                blue = (int)lround(255 - share * (255 - 107));
            af_sb_printf(b, "<rect class=\"cell\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                            "fill=\"rgb(%d,%d,%d)\" stroke=\"#fff\"><title>",
                         left + cell * p, top + cell * t, cell, cell, red, green, blue);
            af_sb_html(b, r->genres[t]);
            af_sb_puts(b, " predicted as ");
            af_sb_html(b, r->genres[p]);
            af_sb_printf(b, ": %ld (%.0f%%)</title></rect>"
                            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"%s\">%ld</text>\n",
                         v, 100 * share, left + cell * p + cell / 2, top + cell * t + cell / 2 + 4,
                         share > 0.5 ? "#fff" : "#000", v);
        }
    }
    af_sb_printf(b, "<text x=\"4\" y=\"%.0f\" font-size=\"11\">rows: true genre; colour: share of "
                    "the row</text>\n</svg>\n", h - 10);
}

static void per_class_table(af_sb *b, const af_report *r, const long *cm)
{
    af_confusion c;
    af_err err = {0};
    if (af_confusion_init(&c, r->n_genres, &err) != 0)
        return;
    for (int t = 0; t < r->n_genres; t++)
        for (int p = 0; p < r->n_genres; p++)
            c.counts[t * r->n_genres + p] = (size_t)cm[t * r->n_genres + p];
    af_class_metrics *m = calloc((size_t)r->n_genres, sizeof *m);
    if (m) {
        af_metrics_per_class(&c, m);
        af_sb_puts(b, "<table class=\"per-class\"><thead><tr><th>genre</th><th>precision</th>"
                      "<th>recall</th><th>F1</th><th>support</th><th>predicted</th></tr></thead><tbody>\n");
        for (int g = 0; g < r->n_genres; g++) {
            af_sb_puts(b, "<tr><td>");
            af_sb_html(b, r->genres[g]);
            af_sb_printf(b, "</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%zu</td><td>%zu</td></tr>\n",
                         m[g].precision, m[g].recall, m[g].f1, m[g].support, m[g].predicted);
        }
        af_sb_printf(b, "</tbody><tfoot><tr><td>all</td><td colspan=\"2\">accuracy %.3f, "
                        "balanced %.3f</td><td>macro %.3f</td><td>%zu</td><td></td></tr></tfoot></table>\n",
                     af_metrics_accuracy(&c), af_metrics_balanced_accuracy(&c), af_metrics_macro_f1(&c),
                     af_confusion_total(&c));
    }
    free(m);
    af_confusion_free(&c);
}

static void comparison(af_sb *b, const af_report *r)
{
    if (r->n_compare < 2)
        return;
    af_sb_puts(b, "<h2>Network against the baselines</h2>\n<p>Same rows, same standardised "
                  "features; mean over the folds.</p>\n<table class=\"compare\"><thead><tr>"
                  "<th>classifier</th><th>window accuracy</th><th>track accuracy</th>"
                  "<th>track sd</th><th>track balanced accuracy</th></tr></thead><tbody>\n");
    int best = 1;
    for (int i = 0; i < r->n_compare; i++) {
        const af_report_compare_row *c = &r->compare[i];
        if (i > 0 && c->track_accuracy > r->compare[best].track_accuracy)
            best = i;
        af_sb_puts(b, "<tr><td>");
        af_sb_html(b, c->classifier);
        af_sb_printf(b, "</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>\n",
                     c->window_accuracy, c->track_accuracy, c->track_sd, c->track_balanced);
    }
    double margin = r->compare[0].track_accuracy - r->compare[best].track_accuracy;
    af_sb_printf(b, "</tbody></table>\n<p class=\"verdict\"><b>%s</b> by %.1f points of track "
                    "accuracy over the best baseline (", margin >= 0 ? "The network wins" :
                    "The network loses", 100.0 * (margin < 0 ? -margin : margin));
    af_sb_html(b, r->compare[best].classifier);
    af_sb_puts(b, ").</p>\n");
}

static void misclassified(af_sb *b, const af_report *r)
{
    if (r->n_tracks_predicted == 0)
        return;
    af_sb_printf(b, "<h2>Misclassified tracks</h2>\n<p>%d of %ld evaluated tracks were "
                    "predicted wrong by the network.</p>\n", r->n_wrong, r->n_tracks_predicted);
    if (r->n_wrong == 0)
        return;
    af_sb_puts(b, "<table class=\"wrong\"><thead><tr><th>set</th><th>artist</th><th>title</th>"
                  "<th>true genre</th><th>predicted</th><th>confidence</th>"
                  "<th>p(true genre)</th></tr></thead><tbody>\n");
    for (int i = 0; i < r->n_wrong; i++) {
        const af_report_wrong_row *w = &r->wrong[i];
        if (w->fold < 0)
            af_sb_puts(b, "<tr><td>test</td><td>");
        else
            af_sb_printf(b, "<tr><td>fold %d</td><td>", w->fold);
        af_sb_html(b, w->artist ? w->artist : "?");
        af_sb_puts(b, "</td><td>");
        if (w->title)
            af_sb_html(b, w->title);
        else
            af_sb_printf(b, "track %lld", w->track_id);
        af_sb_puts(b, "</td><td>");
        af_sb_html(b, w->truth);
        af_sb_puts(b, "</td><td>");
        af_sb_html(b, w->predicted);
        af_sb_printf(b, "</td><td>%.3f</td><td>%.3f</td></tr>\n", w->confidence,
                     w->truth_probability);
    }
    af_sb_puts(b, "</tbody></table>\n");
}

int af_report_html(const af_report *r, af_sb *b)
{
    af_sb_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<title>AudioFiler model %lld</title>\n", r->model_id);
    af_sb_puts(b, "<style>body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}"
                  "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;"
                  "padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}"
                  "thead th{background:#eef}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}"
                  "svg{display:block;margin:1em 0}.charts{display:flex;flex-wrap:wrap;gap:1em}</style>\n"
                  "</head><body>\n");
    af_sb_printf(b, "<h1>Genre classifier — model %lld</h1>\n<p>Created ", r->model_id);
    af_sb_html(b, r->created ? r->created : "?");
    af_sb_puts(b, " on feature set <b>");
    af_sb_html(b, r->feature_set ? r->feature_set : "?");
    af_sb_printf(b, "</b>; %d genres: ", r->n_genres);
    for (int g = 0; g < r->n_genres; g++) {
        af_sb_puts(b, g ? ", " : "");
        af_sb_html(b, r->genres[g]);
    }
    af_sb_puts(b, ".</p>\n<h2>Evaluation</h2>\n<table class=\"summary\"><thead><tr><th>set</th>"
                  "<th>level</th><th>n</th><th>accuracy</th><th>balanced accuracy</th><th>macro-F1</th>"
                  "</tr></thead><tbody>\n");
    for (int i = 0; i < r->n_evals; i++) {
        const af_report_eval_row *e = &r->evals[i];
        if (e->fold < 0)
            af_sb_puts(b, "<tr><td>test</td>");
        else
            af_sb_printf(b, "<tr><td>fold %d</td>", e->fold);
        af_sb_printf(b, "<td>%s</td><td>%ld</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>\n",
                     e->track_level ? "track" : "window", e->n, e->accuracy, e->balanced_accuracy,
                     e->macro_f1);
    }
    af_sb_puts(b, "</tbody></table>\n");
    comparison(b, r);
    af_sb_puts(b, "<h2>Training curves</h2>\n<div class=\"charts\">\n");
    chart(b, r, "Loss (cross-entropy)", 0);
    chart(b, r, "Accuracy", 1);
    af_sb_puts(b, "</div>\n<h2>Confusion matrices</h2>\n<div class=\"charts\">\n");
    static const char *const titles[] = {"Windows", "Tracks (mean of window probabilities)"};
    for (int l = 1; l >= 0; l--)
        if (r->confusion[l])
            heatmap(b, r, r->confusion[l], titles[l]);
    af_sb_puts(b, "</div>\n");
    if (r->confusion[1]) {
        af_sb_puts(b, "<h2>Per genre (track level)</h2>\n");
        per_class_table(b, r, r->confusion[1]);
    }
    if (r->confusion[0]) {
        af_sb_puts(b, "<h2>Per genre (window level)</h2>\n");
        per_class_table(b, r, r->confusion[0]);
    }
    misclassified(b, r);
    if (r->extra_html)
        af_sb_puts(b, r->extra_html);
    af_sb_puts(b, "<h2>Hyperparameters</h2>\n<pre>");
    af_sb_html(b, r->hyperparameters ? r->hyperparameters : "{}");
    af_sb_puts(b, "</pre>\n</body></html>\n");
    return af_sb_ok(b);
}
