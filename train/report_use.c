/* report_use.c — af-report's dataset, corrections, PCA map and hyperparameter sections;
 * see report_use.h. */
#include "report_use.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "model_store.h"
#include "report_spectro.h"

static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* A query's rows as an HTML table under headers (n_cols of them). */
static int table(PGconn *db, const char *sql, const char *id, const char *const *headers,
                 int n_cols, af_sb *out, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(db, sql, 1, p, err);
    if (!res)
        return -1;
    af_sb_puts(out, "<table><thead><tr>");
    for (int c = 0; c < n_cols; c++) {
        af_sb_puts(out, "<th>");
        af_sb_html(out, headers[c]);
        af_sb_puts(out, "</th>");
    }
    af_sb_puts(out, "</tr></thead><tbody>\n");
    for (int r = 0; r < PQntuples(res); r++) {
        af_sb_puts(out, "<tr>");
        for (int c = 0; c < n_cols && c < PQnfields(res); c++) {
            af_sb_puts(out, "<td>");
            af_sb_html(out, PQgetvalue(res, r, c));
            af_sb_puts(out, "</td>");
        }
        af_sb_puts(out, "</tr>\n");
    }
    af_sb_puts(out, "</tbody></table>\n");
    PQclear(res);
    return 0;
}

static int dataset(PGconn *db, const char *id, af_sb *out, af_err *err)
{
    af_sb_puts(out, "<h2>Dataset</h2>\n<p>Tracks per genre and split of the model's split "
                    "scheme, under its taxonomy version (labelled and selected), and where "
                    "their labels came from (<i>correction</i>: set by a person with af-label "
                    "or af-serve).</p>\n");
    static const char *h1[] = {"genre", "train", "val", "test", "all"};
    if (table(db,
              "SELECT g.name, count(*) FILTER (WHERE s.split = 'train'),"
              "       count(*) FILTER (WHERE s.split = 'val'), count(*) FILTER (WHERE s.split = 'test'),"
              "       count(*)"
              "  FROM models m JOIN track_labels l ON l.taxonomy_version = m.taxonomy_version"
              "  JOIN genres g ON g.genre_id = l.genre_id"
              "  JOIN track_splits s ON s.split_scheme_id = m.split_scheme_id AND s.track_id = l.track_id"
              " WHERE m.model_id = $1::bigint AND l.status = 'labelled' AND l.selected"
              "   AND g.name = ANY (m.genres)"
              " GROUP BY g.name ORDER BY g.name",
              id, h1, 5, out, err) != 0)
        return -1;
    static const char *h2[] = {"label source", "tracks", "of which corrections"};
    return table(db,
                 "SELECT coalesce(array_to_string(l.sources, ' + '), '-'), count(*),"
                 "       count(*) FILTER (WHERE 'correction' = ANY (l.sources))"
                 "  FROM models m JOIN track_labels l ON l.taxonomy_version = m.taxonomy_version"
                 " WHERE m.model_id = $1::bigint AND l.status = 'labelled' AND l.selected"
                 " GROUP BY 1 ORDER BY 2 DESC",
                 id, h2, 3, out, err);
}

int af_pca2(const float *x, size_t n, int dim, double *xy, af_err *err)
{
    if (n == 0 || dim < 1)
        return af_err_set(err, "PCA: no data");
    double *c = malloc(n * (size_t)dim * sizeof *c), *v = malloc((size_t)dim * sizeof *v);
    double *w = malloc((size_t)dim * sizeof *w), *mean = calloc((size_t)dim, sizeof *mean);
    if (!c || !v || !w || !mean) {
        free(c), free(v), free(w), free(mean);
        return af_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < dim; j++)
            mean[j] += x[i * (size_t)dim + (size_t)j] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < dim; j++)
            c[i * (size_t)dim + (size_t)j] = x[i * (size_t)dim + (size_t)j] - mean[j];
    for (int axis = 0; axis < 2; axis++) {
        /* Power iteration on C^T C without forming it; a fixed start for determinism. */
        for (int j = 0; j < dim; j++)
            v[j] = 1.0 / sqrt((double)dim) * (1 + 0.01 * j);
        for (int it = 0; it < 200; it++) {
            memset(w, 0, (size_t)dim * sizeof *w);
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < dim; j++)
                    s += c[i * (size_t)dim + (size_t)j] * v[j];
                for (int j = 0; j < dim; j++)
                    w[j] += s * c[i * (size_t)dim + (size_t)j];
            }
            double norm = 0;
            for (int j = 0; j < dim; j++)
                norm += w[j] * w[j];
            norm = sqrt(norm);
            if (norm == 0)
                break;
            for (int j = 0; j < dim; j++)
                v[j] = w[j] / norm;
        }
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < dim; j++)
                s += c[i * (size_t)dim + (size_t)j] * v[j];
            xy[i * 2 + (size_t)axis] = s;
            for (int j = 0; j < dim; j++) /* deflate: remove this axis */
                c[i * (size_t)dim + (size_t)j] -= s * v[j];
        }
    }
    free(c), free(v), free(w), free(mean);
    return 0;
}

/* Numbers of a cube's text "(a, b, ...)" or an array's "{a,b}" into out (dim values);
 * the count read. */
static int cube_values(const char *s, float *out, int dim)
{
    int n = 0;
    while (*s && n < dim) {
        if (strchr("(){}, ", *s)) {
            s++;
            continue;
        }
        char *end;
        out[n++] = strtof(s, &end);
        if (end == s)
            return -1;
        s = end;
    }
    return n;
}

/* A test-split track the network predicted wrongly (pca_map's columns 6 and 7). */
static bool misclassified(const PGresult *res, int row)
{
    return !PQgetisnull(res, row, 7) && PQgetvalue(res, row, 7)[0] == 't';
}

/* The tooltip of a map point: artist - title, its label and the model's prediction. */
static void point_title(const PGresult *res, int row, af_sb *out)
{
    const char *label = PQgetvalue(res, row, 2);
    af_sb_puts(out, "<title>");
    af_sb_html(out, PQgetvalue(res, row, 4));
    af_sb_puts(out, " - ");
    af_sb_html(out, PQgetvalue(res, row, 5));
    af_sb_puts(out, ": label ");
    af_sb_html(out, label[0] ? label : "none");
    if (!PQgetisnull(res, row, 6)) {
        af_sb_puts(out, ", predicted ");
        af_sb_html(out, PQgetvalue(res, row, 6));
    }
    af_sb_puts(out, "</title>");
}

static int pca_map(PGconn *db, const char *id, af_sb *out, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(
        db,
        "SELECT e.embedding::text, cube_dim(e.embedding), coalesce(lab.name, ''), m.genres,"
        "       coalesce(t.artist, ''), coalesce(t.title, ''), p.predicted_genre,"
        "       p.predicted_genre <> p.true_genre"
        "  FROM track_embeddings e JOIN models m USING (model_id)"
        "  LEFT JOIN tracks t ON t.track_id = e.track_id"
        "  LEFT JOIN predictions p ON p.model_id = e.model_id AND p.track_id = e.track_id"
        "        AND p.classifier = 'network' AND p.fold IS NULL"
        "  LEFT JOIN LATERAL (SELECT g.name FROM track_labels l JOIN genres g USING (genre_id)"
        "                      WHERE l.track_id = e.track_id AND l.status = 'labelled'"
        "                      ORDER BY l.taxonomy_version DESC LIMIT 1) lab ON true"
        " WHERE e.model_id = $1::bigint ORDER BY e.track_id LIMIT 20000",
        1, p, err);
    if (!res)
        return -1;
    size_t n = (size_t)PQntuples(res);
    af_sb_puts(out, "<h2>Map of the tracks</h2>\n");
    if (n < 3) {
        af_sb_puts(out, "<p>No embeddings stored for this model (see af-train).</p>\n");
        PQclear(res);
        return 0;
    }
    int dim = atoi(PQgetvalue(res, 0, 1));
    float *x = malloc(n * (size_t)dim * sizeof *x);
    double *xy = malloc(n * 2 * sizeof *xy);
    int rc = x && xy ? 0 : af_err_set(err, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++)
        if (cube_values(PQgetvalue(res, (int)i, 0), x + i * (size_t)dim, dim) != dim)
            rc = af_err_set(err, "an embedding of model %s is malformed", id);
    if (rc == 0)
        rc = af_pca2(x, n, dim, xy, err);
    if (rc == 0) {
        double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
        for (size_t i = 0; i < n; i++)
            for (int a = 0; a < 2; a++) {
                lo[a] = fmin(lo[a], xy[i * 2 + (size_t)a]);
                hi[a] = fmax(hi[a], xy[i * 2 + (size_t)a]);
            }
        af_sb_printf(out, "<p>The %zu tracks' embeddings (the last hidden layer, %d values) on "
                          "their first two principal axes, coloured by label (grey: unlabelled); "
                          "ringed: test tracks the model got wrong. Hover a point for its "
                          "track."
                          "</p>\n<svg width=\"720\" height=\"460\" viewBox=\"0 0 720 460\" "
                          "role=\"img\" aria-label=\"PCA map\"><rect width=\"460\" height=\"460\" "
                          "fill=\"#fff\" stroke=\"#ccc\"/>\n", n, dim);
        /* the model's genres, for colours and the legend */
        char genres[1024];
        int n_wrong = 0;
        snprintf(genres, sizeof genres, "%s", PQgetvalue(res, 0, 3));
        for (size_t i = 0; i < n; i++) {
            const char *label = PQgetvalue(res, (int)i, 2);
            const char *colour = "#bbb";
            char key[80];
            snprintf(key, sizeof key, "%s", label);
            int g = 0;
            for (char *save = NULL, *t = strtok_r(genres, "{},\"", &save); t;
                 t = strtok_r(NULL, "{},\"", &save), g++)
                if (label[0] && strcmp(t, key) == 0)
                    colour = colours[g % 10];
            snprintf(genres, sizeof genres, "%s", PQgetvalue(res, 0, 3));
            double px = 10 + 440 * (xy[i * 2] - lo[0]) / (hi[0] - lo[0] > 0 ? hi[0] - lo[0] : 1);
            double py = 450 - 440 * (xy[i * 2 + 1] - lo[1]) / (hi[1] - lo[1] > 0 ? hi[1] - lo[1] : 1);
            af_sb_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" "
                              "fill-opacity=\"0.7\">", px, py, colour);
            point_title(res, (int)i, out);
            af_sb_puts(out, "</circle>\n");
            if (misclassified(res, (int)i)) {
                n_wrong++;
                af_sb_printf(out, "<circle class=\"misclassified\" cx=\"%.1f\" cy=\"%.1f\" "
                                  "r=\"6\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\">",
                             px, py);
                point_title(res, (int)i, out);
                af_sb_puts(out, "</circle>\n");
            }
        }
        int g = 0;
        for (char *save = NULL, *t = strtok_r(genres, "{},\"", &save); t;
             t = strtok_r(NULL, "{},\"", &save), g++) {
            af_sb_printf(out, "<circle cx=\"480\" cy=\"%d\" r=\"5\" fill=\"%s\"/><text x=\"492\" "
                              "y=\"%d\" font-size=\"12\">", 20 + 18 * g, colours[g % 10],
                         24 + 18 * g);
            af_sb_html(out, t);
            af_sb_puts(out, "</text>\n");
        }
        af_sb_printf(out, "<circle cx=\"480\" cy=\"%d\" r=\"6\" fill=\"none\" stroke=\"#000\" "
                          "stroke-width=\"1.5\"/><text x=\"492\" y=\"%d\" font-size=\"12\">"
                          "misclassified (%d, test split)</text>\n",
                     30 + 18 * g, 34 + 18 * g, n_wrong);
        af_sb_puts(out, "</svg>\n");
    }
    free(x);
    free(xy);
    PQclear(res);
    return rc;
}

static int hyperparameters(PGconn *db, const char *id, af_sb *out, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(db, "SELECT hyperparameters::text FROM models WHERE model_id = $1::bigint",
                                1, p, err);
    if (!res)
        return -1;
    json_t *h = json_loads(PQntuples(res) ? PQgetvalue(res, 0, 0) : "{}", 0, NULL);
    PQclear(res);
    af_sb_puts(out, "<h2>Hyperparameters (table)</h2>\n<table><thead><tr><th>parameter</th>"
                    "<th>value</th></tr></thead><tbody>\n");
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        if (json_is_object(v))
            continue; /* nested objects (feature parameters) stay in the JSON below */
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        af_sb_puts(out, "<tr><td>");
        af_sb_html(out, key);
        af_sb_puts(out, "</td><td>");
        af_sb_html(out, text ? text : "?");
        af_sb_puts(out, "</td></tr>\n");
        free(text);
    }
    af_sb_puts(out, "</tbody></table>\n");
    json_decref(h);
    return 0;
}

/* Training and validation loss of fold 0 (or the only run) on a log-scale axis, with
 * the best epoch (lowest validation loss, the weights kept) marked. */
static int log_loss_chart(PGconn *db, const char *id, af_sb *out, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(db,
                                "SELECT epoch, train_loss, val_loss FROM training_epochs"
                                " WHERE model_id = $1::bigint AND fold = 0 ORDER BY epoch",
                                1, p, err);
    if (!res)
        return -1;
    int n = PQntuples(res), best = -1;
    double lo = INFINITY, hi = -INFINITY, best_loss = INFINITY;
    for (int i = 0; i < n; i++)
        for (int c = 1; c <= 2; c++) {
            if (PQgetisnull(res, i, c))
                continue;
            double v = atof(PQgetvalue(res, i, c));
            if (v > 0) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
            if (c == 2 && v < best_loss) {
                best_loss = v;
                best = i;
            }
        }
    if (n < 2 || !(lo < hi)) {
        PQclear(res);
        return 0;
    }
    double l0 = floor(log10(lo)), l1 = ceil(log10(hi));
    if (l1 <= l0)
        l1 = l0 + 1;
    const int W = 600, H = 300, L = 60, R = 20, T = 20, B = 40;
    af_sb_puts(out, "<h2>Loss on a log scale</h2>\n");
    af_sb_printf(out, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"log loss\">"
                      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
                      "stroke=\"#ccc\"/>\n", W, H, L, T, W - L - R, H - T - B);
    for (double d = l0; d <= l1; d++) {
        double y = T + (H - T - B) * (l1 - d) / (l1 - l0);
        af_sb_printf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                          "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">"
                          "%g</text>\n", L, W - R, y, y, L - 4, y + 4, pow(10, d));
    }
    static const char *const colour[] = {"", "#1f77b4", "#d62728"};
    static const char *const name[] = {"", "training", "validation"};
    for (int c = 1; c <= 2; c++) {
        /* A path, not a polyline: the training curves above are the page's polylines. */
        af_sb_printf(out, "<path class=\"log-loss\" fill=\"none\" stroke=\"%s\" "
                          "stroke-width=\"1.5\" d=\"", colour[c]);
        bool first = true;
        for (int i = 0; i < n; i++) {
            if (PQgetisnull(res, i, c) || atof(PQgetvalue(res, i, c)) <= 0)
                continue;
            double x = L + (double)(W - L - R) * i / (n - 1);
            double y = T + (H - T - B) * (l1 - log10(atof(PQgetvalue(res, i, c)))) / (l1 - l0);
            af_sb_printf(out, "%s%.1f,%.1f ", first ? "M" : "L", x, y);
            first = false;
        }
        af_sb_printf(out, "\"/><text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"%s\">%s</text>\n",
                     L + 10 + 90 * (c - 1), H - 8, colour[c], name[c]);
    }
    if (best >= 0) {
        double x = L + (double)(W - L - R) * best / (n - 1);
        af_sb_printf(out, "<line class=\"best-epoch\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
                          "y2=\"%d\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/><text x=\"%.1f\""
                          " y=\"%d\" font-size=\"12\" fill=\"#2ca02c\">best epoch %s "
                          "(validation loss %.4g)</text>\n",
                     x, x, T, H - B, fmin(x + 4, W - 290.0), T + 14, PQgetvalue(res, best, 0),
                     best_loss);
    }
    af_sb_puts(out, "</svg>\n");
    PQclear(res);
    return 0;
}

int af_report_use_sections(PGconn *db, long long model_id, af_sb *out, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    if (log_loss_chart(db, id, out, err) != 0 || dataset(db, id, out, err) != 0 ||
        pca_map(db, id, out, err) != 0 ||
        af_report_spectro_section(db, model_id, out, err) != 0 ||
        hyperparameters(db, id, out, err) != 0)
        return -1;
    return af_sb_ok(out) ? 0 : af_err_set(err, "out of memory");
}
