/*
 * af-report — writes a stored model's training curves, confusion matrices and
 * per-genre scores as one self-contained HTML file (report_html.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "model_describe.h"
#include "model_store.h"
#include "report_html.h"
#include "report_use.h"

static const char usage[] =
    "Usage: af-report [OPTION]... [--model SPEC] [-o FILE]\n"
    "Write an HTML report of a stored model: training curves, confusion matrices, per-genre\n"
    "precision/recall/F1. The file is self-contained (inline SVG, no external assets).\n"
    "\n"
    "Options:\n"
    "  -m, --model SPEC       the model: an id, a name (af-train --name), 'default' or\n"
    "                         'latest' (default: default, as af-predict)\n"
    "  -o, --output FILE      the HTML file to write ('-' = standard output;\n"
    "                         default: model-ID.html in the current directory)\n";

struct report_data {
    af_stored_model model;
    char *pretty;
    af_report_curve *curves;
    int n_curves;
    double *values; /* backing store of all curves */
    af_report_eval_row *evals;
    int n_evals;
    long *confusion[2];
    PGresult *compare_res, *wrong_res; /* the rows' strings point into these */
    af_report_compare_row *compare;
    int n_compare;
    af_report_wrong_row *wrong;
    int n_wrong;
    long n_predicted;
};

static void report_data_free(struct report_data *d)
{
    af_stored_model_free(&d->model);
    free(d->pretty);
    free(d->curves);
    free(d->values);
    free(d->evals);
    free(d->confusion[0]);
    free(d->confusion[1]);
    free(d->compare);
    free(d->wrong);
    PQclear(d->compare_res);
    PQclear(d->wrong_res);
}

/* The network's and the baselines' mean scores (network first). */
static int load_compare(PGconn *db, const char *id, struct report_data *d, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(
        db,
        "SELECT classifier, avg(accuracy) FILTER (WHERE level = 'window'),"
        " avg(accuracy) FILTER (WHERE level = 'track'),"
        " coalesce(stddev_samp(accuracy) FILTER (WHERE level = 'track'), 0),"
        " avg(balanced_accuracy) FILTER (WHERE level = 'track')"
        " FROM evaluations WHERE model_id = $1::bigint GROUP BY classifier"
        " ORDER BY array_position(ARRAY['network', 'logreg', 'svm'], classifier)",
        1, p, err);
    if (!res)
        return -1;
    d->compare_res = res;
    d->n_compare = PQntuples(res);
    d->compare = calloc((size_t)d->n_compare + 1, sizeof *d->compare);
    if (!d->compare)
        return af_err_set(err, "out of memory");
    for (int r = 0; r < d->n_compare; r++)
        d->compare[r] = (af_report_compare_row){PQgetvalue(res, r, 0), atof(PQgetvalue(res, r, 1)),
                                                atof(PQgetvalue(res, r, 2)),
                                                atof(PQgetvalue(res, r, 3)),
                                                atof(PQgetvalue(res, r, 4))};
    return 0;
}

/* The network's wrong tracks, least confident about the truth first. */
static int load_wrong(PGconn *db, const char *id, struct report_data *d, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(
        db,
        "SELECT coalesce(fold, -1), artist, title, track_id, true_genre, predicted_genre,"
        " confidence, true_genre_probability, count(*) OVER ()"
        " FROM prediction_details WHERE model_id = $1::bigint AND classifier = 'network'"
        " ORDER BY correct, true_genre_probability, track_id",
        1, p, err);
    if (!res)
        return -1;
    d->wrong_res = res;
    int n = PQntuples(res);
    d->n_predicted = n ? atol(PQgetvalue(res, 0, 8)) : 0;
    d->wrong = calloc((size_t)n + 1, sizeof *d->wrong);
    if (!d->wrong)
        return af_err_set(err, "out of memory");
    for (int r = 0; r < n; r++) {
        if (strcmp(PQgetvalue(res, r, 4), PQgetvalue(res, r, 5)) == 0)
            break; /* the correct ones come last */
        d->wrong[d->n_wrong++] = (af_report_wrong_row){
            atoi(PQgetvalue(res, r, 0)),
            PQgetisnull(res, r, 1) ? NULL : PQgetvalue(res, r, 1),
            PQgetisnull(res, r, 2) ? NULL : PQgetvalue(res, r, 2),
            atoll(PQgetvalue(res, r, 3)), PQgetvalue(res, r, 4), PQgetvalue(res, r, 5),
            atof(PQgetvalue(res, r, 6)), atof(PQgetvalue(res, r, 7))};
    }
    return 0;
}

static int load_curves(PGconn *db, const char *id, struct report_data *d, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(db,
                                "SELECT fold, train_loss, val_loss, train_accuracy, val_accuracy,"
                                " seconds FROM training_epochs WHERE model_id = $1::bigint"
                                " ORDER BY fold, epoch",
                                1, p, err);
    if (!res)
        return -1;
    int rows = PQntuples(res);
    d->values = malloc((size_t)(rows ? rows : 1) * 5 * sizeof *d->values);
    d->curves = calloc((size_t)(rows ? rows : 1), sizeof *d->curves);
    if (!d->values || !d->curves) {
        PQclear(res);
        return af_err_set(err, "out of memory");
    }
    /* Column-major per series: series s of all rows at values[s * rows ...]. */
    for (int r = 0; r < rows; r++) {
        int fold = atoi(PQgetvalue(res, r, 0));
        if (d->n_curves == 0 || d->curves[d->n_curves - 1].fold != fold) {
            af_report_curve *c = &d->curves[d->n_curves++];
            c->fold = fold;
            c->train_loss = d->values + 0 * (size_t)rows + r;
            c->val_loss = d->values + 1 * (size_t)rows + r;
            c->train_acc = d->values + 2 * (size_t)rows + r;
            c->val_acc = d->values + 3 * (size_t)rows + r;
            c->seconds = d->values + 4 * (size_t)rows + r;
        }
        d->curves[d->n_curves - 1].n++;
        for (int s = 0; s < 5; s++)
            d->values[(size_t)s * (size_t)rows + (size_t)r] =
                PQgetisnull(res, r, s + 1) ? 0 : atof(PQgetvalue(res, r, s + 1));
    }
    PQclear(res);
    return 0;
}

/* "{{1,2},{3,4}}" added into cm (k x k). */
static int add_confusion(const char *text, int k, long *cm)
{
    int i = 0;
    for (const char *s = text; *s;) {
        if (*s >= '0' && *s <= '9') {
            char *end;
            long v = strtol(s, &end, 10);
            if (i >= k * k)
                return -1;
            cm[i++] += v;
            s = end;
        } else {
            s++;
        }
    }
    return i == k * k ? 0 : -1;
}

static int load_evals(PGconn *db, const char *id, struct report_data *d, af_err *err)
{
    const char *p[] = {id};
    PGresult *res = af_db_query(db,
                                "SELECT coalesce(fold, -1), level = 'track', n_examples, accuracy,"
                                " balanced_accuracy, macro_f1, confusion_matrix::text"
                                " FROM evaluations WHERE model_id = $1::bigint"
                                " AND classifier = 'network' ORDER BY fold NULLS FIRST, level DESC",
                                1, p, err);
    if (!res)
        return -1;
    int k = d->model.n_genres;
    d->n_evals = PQntuples(res);
    d->evals = calloc((size_t)(d->n_evals ? d->n_evals : 1), sizeof *d->evals);
    if (!d->evals) {
        PQclear(res);
        return af_err_set(err, "out of memory");
    }
    for (int r = 0; r < d->n_evals; r++) {
        af_report_eval_row *e = &d->evals[r];
        e->fold = atoi(PQgetvalue(res, r, 0));
        e->track_level = PQgetvalue(res, r, 1)[0] == 't';
        e->n = atol(PQgetvalue(res, r, 2));
        e->accuracy = atof(PQgetvalue(res, r, 3));
        e->balanced_accuracy = atof(PQgetvalue(res, r, 4));
        e->macro_f1 = atof(PQgetvalue(res, r, 5));
        long **cm = &d->confusion[e->track_level];
        if (!*cm && !(*cm = calloc((size_t)k * (size_t)k, sizeof **cm))) {
            PQclear(res);
            return af_err_set(err, "out of memory");
        }
        if (add_confusion(PQgetvalue(res, r, 6), k, *cm) != 0) {
            PQclear(res);
            return af_err_set(err, "model %s: a confusion matrix is not %d x %d", id, k, k);
        }
    }
    PQclear(res);
    return 0;
}

static int write_report(struct af_app *app, const char *spec, const char *path, af_err *err)
{
    char default_path[64];
    struct report_data d = {0};
    long long model_id;
    int rc = -1;
    char id[24];
    if (af_model_resolve(app->db, spec, &model_id, err) != 0 ||
        af_model_load(app->db, model_id, &d.model, err) != 0)
        goto out;
    snprintf(id, sizeof id, "%lld", model_id);
    if (!path) {
        snprintf(default_path, sizeof default_path, "model-%lld.html", model_id);
        path = default_path;
    }
    const char *p[] = {id};
    PGresult *res = af_db_query(app->db,
                                "SELECT jsonb_pretty(hyperparameters) FROM models"
                                " WHERE model_id = $1::bigint",
                                1, p, err);
    if (!res)
        goto out;
    d.pretty = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (load_curves(app->db, id, &d, err) != 0 || load_evals(app->db, id, &d, err) != 0 ||
        load_compare(app->db, id, &d, err) != 0 || load_wrong(app->db, id, &d, err) != 0)
        goto out;
    af_sb extra = {0};
    if (af_report_use_sections(app->db, model_id, &extra, err) != 0) {
        af_sb_free(&extra);
        goto out;
    }
    af_report r = {
        .extra_html = af_sb_str(&extra),
        .model_id = model_id,
        .created = d.model.created,
        .feature_set = d.model.feature_set,
        .hyperparameters = d.pretty,
        .n_genres = d.model.n_genres,
        .genres = d.model.genres,
        .n_curves = d.n_curves,
        .curves = d.curves,
        .n_evals = d.n_evals,
        .evals = d.evals,
        .confusion = {d.confusion[0], d.confusion[1]},
        .n_compare = d.n_compare,
        .compare = d.compare,
        .n_wrong = d.n_wrong,
        .wrong = d.wrong,
        .n_tracks_predicted = d.n_predicted,
    };
    af_sb html = {0};
    int built = af_report_html(&r, &html);
    af_sb_free(&extra);
    if (!built) {
        af_sb_free(&html);
        af_err_set(err, "out of memory");
        goto out;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        af_sb_free(&html);
        af_err_set(err, "cannot create %s: %m", path);
        goto out;
    }
    size_t written = fwrite(html.s, 1, html.len, f);
    int closed = f == stdout ? fflush(f) : fclose(f);
    if (written != html.len || closed != 0)
        af_err_set(err, "writing %s: %m", path);
    else
        rc = 0;
    struct af_model_identity used;
    char text[200];
    if (rc == 0 && af_model_identity(app->db, model_id, &used, err) != 0)
        rc = -1;
    if (rc == 0) {
        af_model_identity_text(&used, text, sizeof text);
        /* On stdout, unless the report itself goes there. */
        fprintf(strcmp(path, "-") == 0 ? stderr : stdout, "Report of %s written to %s\n",
                text, path);
    }
    af_sb_free(&html);
out:
    report_data_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"model", required_argument, NULL, 'm'},
                                            {"output", required_argument, NULL, 'o'},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-report", usage, argc, argv);
    const char *model = "default", *output = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "m:o:", options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case 'm': model = optarg; break;
        case 'o': output = optarg; break;
        }
    }
    if (optind != argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0 || write_report(&app, model, output, &err) != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
