/*
 * af-train — the train stage: loads the window vectors of the labelled
 * tracks (or a CSV file), trains the genre classifier (mlp.h) on the stored
 * leakage-free train/val/test split or by artist-grouped K-fold
 * cross-validation, evaluates it, and stores model, training history and
 * evaluation in one transaction.  Also lists and shows stored models.
 *
 * What is written when: the split assignment of new tracks is committed once
 * the data passed every check (so a bad input writes nothing); the model, its
 * epochs and its evaluations are written together at the end, or not at all.
 * SIGINT/SIGTERM: training stops after the current epoch; a single training
 * run then stores its best model so far, marked "interrupted" in its
 * hyperparameters (af-train --list shows it); an interrupted cross-validation
 * stores nothing (its figures would be incomplete).
 */
#include <cblas.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "csv.h"
#include "dataset.h"
#include "dataset_db.h"
#include "embeddings.h"
#include "db.h"
#include "evaluation.h"
#include "exitcode.h"
#include "log.h"
#include "model_store.h"
#include "ratelimit.h"
#include "splits_db.h"
#include "trainer.h"

static const char usage[] =
    "Usage: af-train [OPTION]...\n"
    "       af-train --list | --show ID\n"
    "Train the genre classifier on the window features of the labelled tracks, evaluate it\n"
    "on the test split (or by cross-validation) and store model and evaluation.\n"
    "\n"
    "Data:\n"
    "      --feature-set NAME   feature set to learn from (default: [extract] feature_set)\n"
    "      --split-scheme NAME  train/val/test assignment to use and extend\n"
    "                           (default: [train] split_scheme)\n"
    "      --folds K            artist-grouped K-fold cross-validation instead of the test split\n"
    "      --csv FILE           train on FILE (track_id,label,split,f0,...) instead of the database\n"
    "      --export-csv FILE    write the training data to FILE in that format, then stop\n"
    "Network and training (defaults: [train] in the configuration):\n"
    "      --hidden LIST        hidden layer sizes, e.g. 256,128,64\n"
    "      --dropout P          dropout probability\n"
    "      --learning-rate R    Adam learning rate\n"
    "      --batch-size N       examples per mini-batch\n"
    "      --epochs N           epochs at most\n"
    "      --patience N         stop after N epochs without a better validation loss\n"
    "      --l2 X               L2 penalty on the weights\n"
    "      --class-weights / --no-class-weights\n"
    "                           weight genres inversely to their frequency\n"
    "      --seed N             seed of every random choice (same seed and data, same model)\n"
    "      --threads N          OpenBLAS threads (default: [train] threads)\n"
    "Models:\n"
    "      --list               list the stored models\n"
    "      --show ID            show a stored model ('latest' for the newest)\n"
    "\n"
    "Bad input (no training data, a genre without training tracks, NaN or infinite\n"
    "features, vectors of the wrong length) stops with an error and writes nothing.\n"
    "SIGINT/SIGTERM stop training after the current epoch: the best model so far is\n"
    "stored, marked interrupted (cross-validation: nothing is stored).\n";

enum {
    OPT_FEATURE_SET = AF_OPT_FIRST_PROGRAM_OPTION, OPT_SCHEME, OPT_FOLDS, OPT_CSV, OPT_EXPORT,
    OPT_HIDDEN, OPT_DROPOUT, OPT_LR, OPT_BATCH, OPT_EPOCHS, OPT_PATIENCE, OPT_L2, OPT_CW,
    OPT_NO_CW, OPT_SEED, OPT_THREADS, OPT_LIST, OPT_SHOW
};

struct job {
    struct af_app *app;
    int folds;
    const char *csv, *export_csv;
    af_feature_set_info fs;
    af_split_scheme_row scheme;
    int taxonomy;
    af_dataset ds;
    af_train_options opt;
    int threads;
};

static bool stop_requested(void) { return af_app_stop_requested(); }

static int read_options(struct job *j, af_err *err)
{
    const struct af_config *cfg = j->app->cfg;
    af_mlp_config_default(&j->opt.cfg, 1, 2);
    if (af_parse_hidden(af_config_str(cfg, "train.hidden_layers"), &j->opt.cfg.n_hidden,
                        j->opt.cfg.hidden, err) != 0) {
        err->code = AF_EXIT_USAGE;
        return -1;
    }
    j->opt.cfg.dropout = (float)af_config_double(cfg, "train.dropout");
    j->opt.cfg.learning_rate = (float)af_config_double(cfg, "train.learning_rate");
    j->opt.cfg.batch_size = (int)af_config_int(cfg, "train.batch_size");
    j->opt.cfg.l2 = (float)af_config_double(cfg, "train.l2");
    j->opt.cfg.seed = (uint64_t)af_config_int(cfg, "train.seed");
    j->opt.max_epochs = (int)af_config_int(cfg, "train.max_epochs");
    j->opt.patience = (int)af_config_int(cfg, "train.patience");
    j->opt.class_weights = af_config_bool(cfg, "train.class_weights");
    j->opt.stop = stop_requested;
    j->threads = (int)af_config_int(cfg, "train.threads");
    if (j->folds && j->csv)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "--folds groups tracks by artist, which a CSV file does not "
                               "carry: use the database or the CSV file's splits");
    if (j->csv && j->export_csv)
        return af_err_set_code(err, AF_EXIT_USAGE, "--csv and --export-csv exclude each other");
    return 0;
}

/* Counts tracks per genre per bucket and complains: a genre without training
 * tracks makes training impossible; one without validation or test tracks
 * only gets a warning. */
static int check_buckets(const af_dataset *ds, const int *bucket, const char *what, af_err *err)
{
    size_t *counts = calloc((size_t)ds->n_classes * 4, sizeof *counts);
    if (!counts)
        return af_err_set(err, "out of memory");
    size_t total[4] = {0};
    for (size_t t = 0; t < ds->n_tracks; t++) {
        counts[ds->track_class[t] * 4 + bucket[t]]++;
        total[bucket[t]]++;
    }
    static const char *const names[] = {"training", "validation", "test"};
    int rc = 0;
    for (int b = 0; b < 3 && rc == 0; b++)
        if (total[b] == 0)
            rc = af_err_set(err, "%s: no track in the %s split (%zu labelled track(s) in all): "
                                 "more tracks or artists are needed",
                            what, names[b], ds->n_tracks);
    for (int c = 0; c < ds->n_classes && rc == 0; c++) {
        if (counts[c * 4 + 0] == 0)
            rc = af_err_set(err, "%s: genre '%s' has no track in the training split (%zu "
                                 "validation, %zu test): it cannot be learnt; add tracks of "
                                 "other artists of this genre",
                            what, ds->classes[c], counts[c * 4 + 1], counts[c * 4 + 2]);
        for (int b = 1; b < 3 && rc == 0; b++)
            if (counts[c * 4 + b] == 0)
                log_warn("%s: genre '%s' has no track in the %s split", what, ds->classes[c],
                         names[b]);
    }
    free(counts);
    return rc;
}

static int check_data(struct job *j, af_err *err)
{
    af_dataset *ds = &j->ds;
    if (ds->n_windows == 0)
        return af_err_set(err, "empty training set: no labelled, selected track has windows "
                               "of feature set '%s'%s",
                          j->fs.name, j->csv ? " (the CSV file has no rows)" : "");
    if (ds->n_classes < 2)
        return af_err_set(err, "only one genre ('%s') in the data: at least two are needed",
                          ds->classes[0]);
    int *bucket = malloc(ds->n_tracks * sizeof *bucket);
    if (!bucket)
        return af_err_set(err, "out of memory");
    int rc = 0;
    if (!j->folds) {
        for (size_t t = 0; t < ds->n_tracks; t++)
            bucket[t] = ds->track_split[t];
        rc = check_buckets(ds, bucket, "split", err);
    }
    for (int k = 0; k < j->folds && rc == 0; k++) {
        char what[32];
        snprintf(what, sizeof what, "fold %d", k);
        for (size_t t = 0; t < ds->n_tracks; t++)
            bucket[t] = ds->track_fold[t] == k ? 2 : ds->track_split[t] == AF_SPLIT_VAL ? 1 : 0;
        rc = check_buckets(ds, bucket, what, err);
    }
    free(bucket);
    return rc;
}

/* Database data: split assignment and loading in one transaction, committed
 * only when the data passed the checks. */
static int load_from_db(struct job *j, af_err *err)
{
    PGconn *db = j->app->db;
    const struct af_config *cfg = j->app->cfg;
    long assigned = 0;
    if (af_db_begin(db, err) != 0)
        return -1;
    if (af_newest_taxonomy(db, &j->taxonomy, err) != 0)
        goto fail;
    if (j->taxonomy == 0) {
        af_err_set(err, "empty training set: no genre taxonomy and no labels yet (run af-ingest "
                        "label first)");
        goto fail;
    }
    if (af_splits_scheme(db, af_config_str(cfg, "train.split_scheme"),
                         af_config_double(cfg, "train.train_fraction"),
                         af_config_double(cfg, "train.val_fraction"), j->folds, &j->scheme,
                         err) != 0 ||
        af_splits_assign(db, &j->scheme, j->taxonomy, &assigned, err) != 0)
        goto fail;
    if (assigned)
        log_info("assigned %ld new track(s) to splits of scheme '%s'", assigned,
                 af_config_str(cfg, "train.split_scheme"));
    af_run_count(j->app->run, "tracks_assigned", assigned);
    if (af_dataset_load_db(db, &j->fs, j->scheme.id, j->taxonomy, 4096, &j->ds, err) != 0)
        goto fail;
    if (!j->export_csv && check_data(j, err) != 0)
        goto fail;
    return af_db_commit(db, err);
fail:
    af_db_rollback(db);
    return -1;
}

static int load_data(struct job *j, af_err *err)
{
    double started = af_monotonic_seconds();
    if (af_feature_set_lookup(j->app->db, af_config_str(j->app->cfg, "extract.feature_set"),
                              &j->fs, err) != 0)
        return -1;
    if (j->csv) {
        FILE *in = fopen(j->csv, "r");
        if (!in)
            return af_err_set(err, "cannot open %s: %m", j->csv);
        int rc = af_csv_read(in, j->csv, &j->ds, err);
        fclose(in);
        if (rc != 0)
            return -1;
        if (j->ds.dim != j->fs.dim)
            return af_err_set(err, "%s has %d features per row, feature set '%s' has %d "
                                   "(mismatched dimensions)",
                              j->csv, j->ds.dim, j->fs.name, j->fs.dim);
        if (check_data(j, err) != 0)
            return -1;
    } else if (load_from_db(j, err) != 0) {
        return -1;
    }
    log_info("loaded %zu windows of %zu tracks, %d genres, %d features in %.2f s",
             j->ds.n_windows, j->ds.n_tracks, j->ds.n_classes, j->ds.dim,
             af_monotonic_seconds() - started);
    af_run_count(j->app->run, "windows", (long long)j->ds.n_windows);
    af_run_count(j->app->run, "tracks", (long long)j->ds.n_tracks);
    return 0;
}

static int export_csv(struct job *j, af_err *err)
{
    FILE *out = fopen(j->export_csv, "w");
    if (!out)
        return af_err_set(err, "cannot create %s: %m", j->export_csv);
    int rc = af_csv_write(out, &j->ds, err);
    if (fclose(out) != 0 && rc == 0)
        rc = af_err_set(err, "writing %s: %m", j->export_csv);
    if (rc == 0)
        log_info("wrote %zu windows of %zu tracks to %s", j->ds.n_windows, j->ds.n_tracks,
                 j->export_csv);
    return rc;
}

/* Everything a run produced, for storing. */
struct outcome {
    int n_runs;               /* 1, or the number of folds */
    af_train_result *results; /* per run */
    af_eval *evals;           /* per run: window, track */
    size_t n_windows[3];      /* of the single run */
    int weights_from;         /* the run whose weights are stored */
};

static void outcome_free(struct outcome *o)
{
    for (int r = 0; r < o->n_runs; r++) {
        af_train_result_free(&o->results[r]);
        af_eval_free(&o->evals[2 * r]);
        af_eval_free(&o->evals[2 * r + 1]);
    }
    free(o->results);
    free(o->evals);
}

static int train_one(struct job *j, int fold, struct outcome *o, af_err *err)
{
    af_dataset *ds = &j->ds;
    int r = fold < 0 ? 0 : fold;
    int *bucket = malloc(ds->n_tracks * sizeof *bucket);
    if (!bucket)
        return af_err_set(err, "out of memory");
    for (size_t t = 0; t < ds->n_tracks; t++)
        bucket[t] = fold < 0                 ? ds->track_split[t]
                    : ds->track_fold[t] == fold ? 2
                    : ds->track_split[t] == AF_SPLIT_VAL ? 1
                                                         : 0;
    af_grouped g;
    char label[32];
    snprintf(label, sizeof label, "fold %d", fold);
    af_train_options opt = j->opt;
    opt.label = fold < 0 ? NULL : label;
    int rc = af_dataset_group(ds, bucket, fold < 0, &g, err);
    free(bucket);
    if (rc != 0)
        return -1;
    if (fold >= 0)
        log_info("fold %d of %d: %zu training, %zu validation, %zu test windows", fold, j->folds,
                 g.n[0], g.n[1], g.n[2]);
    else
        log_info("%zu training, %zu validation, %zu test windows", g.n[0], g.n[1], g.n[2]);
    memcpy(o->n_windows, g.n, sizeof o->n_windows);
    rc = af_train_run(&g, ds->dim, ds->n_classes, &opt, &o->results[r], err);
    if (rc == 0) {
        af_run_count(j->app->run, "epochs", o->results[r].n_epochs);
        rc = af_evaluate(o->results[r].model, &g, 2, ds->track_class, ds->n_tracks, fold,
                         &o->evals[2 * r], err);
    }
    af_grouped_free(&g);
    return rc;
}

static json_t *hyperparameters(const struct job *j, const struct outcome *o)
{
    const af_mlp_config *c = &j->opt.cfg;
    const af_train_result *best = &o->results[o->weights_from];
    json_t *hidden = json_array(), *cw = json_null();
    for (int i = 0; i < c->n_hidden; i++)
        json_array_append_new(hidden, json_integer(c->hidden[i]));
    if (best->class_weights) {
        cw = json_array();
        for (int k = 0; k < j->ds.n_classes; k++)
            json_array_append_new(cw, json_real(best->class_weights[k]));
    }
    int epochs = 0;
    for (int r = 0; r < o->n_runs; r++)
        epochs += o->results[r].n_epochs;
    json_t *h = json_pack(
        "{s:o,s:f,s:f,s:i,s:i,s:i,s:f,s:b,s:o,s:I,s:i,s:s,s:i,s:i,s:f,s:b,s:i,s:I,s:I,s:s}",
        "hidden_layers", hidden, "dropout", (double)c->dropout, "learning_rate",
        (double)c->learning_rate, "batch_size", c->batch_size, "max_epochs", j->opt.max_epochs,
        "patience", j->opt.patience, "l2", (double)c->l2, "class_weights",
        (int)j->opt.class_weights, "class_weight_values", cw, "seed", (json_int_t)c->seed,
        "threads", j->threads, "data", j->csv ? "csv" : "db", "epochs", epochs, "best_epoch",
        best->best_epoch, "best_val_loss", best->best_val_loss, "interrupted",
        (int)best->interrupted, "n_features", j->ds.dim, "n_tracks", (json_int_t)j->ds.n_tracks,
        "n_windows", (json_int_t)j->ds.n_windows, "activation", "relu");
    if (!h)
        return NULL;
    if (j->csv)
        json_object_set_new(h, "csv_file", json_string(j->csv));
    else
        json_object_set_new(h, "split", json_pack("{s:f,s:f,s:f}", "train", j->scheme.scheme.train,
                                                  "val", j->scheme.scheme.val, "test",
                                                  j->scheme.scheme.test));
    if (j->folds) {
        json_object_set_new(h, "folds", json_integer(j->folds));
        json_object_set_new(h, "weights_from_fold", json_integer(o->weights_from));
        json_object_set_new(h, "note", json_string("cross-validation: the stored weights are "
                                                   "those of the fold with the lowest "
                                                   "validation loss"));
    } else {
        json_object_set_new(h, "split_windows",
                            json_pack("{s:I,s:I,s:I}", "train", (json_int_t)o->n_windows[0],
                                      "val", (json_int_t)o->n_windows[1], "test",
                                      (json_int_t)o->n_windows[2]));
    }
    if (best->interrupted)
        json_object_set_new(h, "note",
                            json_string("interrupted by a signal: the best epoch before the "
                                        "stop, not a finished training"));
    return h;
}

static int store(struct job *j, struct outcome *o, long long *model_id, af_err *err)
{
    af_train_result *best = &o->results[o->weights_from];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (af_mlp_serialise(best->model, &best->scaler, &buf, &len, err) != 0)
        return -1;
    json_t *h = hyperparameters(j, o);
    char *hp = h ? json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(h);
    size_t rows = 0;
    for (int r = 0; r < o->n_runs; r++)
        rows += (size_t)o->results[r].n_epochs;
    int *fold = malloc((rows ? rows : 1) * sizeof *fold);
    int *number = malloc((rows ? rows : 1) * sizeof *number);
    af_epoch_record *epochs = malloc((rows ? rows : 1) * sizeof *epochs);
    int rc = -1;
    if (!hp || !fold || !number || !epochs) {
        af_err_set(err, "out of memory");
        goto out;
    }
    size_t i = 0;
    for (int r = 0; r < o->n_runs; r++)
        for (int e = 0; e < o->results[r].n_epochs; e++, i++) {
            fold[i] = r;
            number[i] = e + 1;
            epochs[i] = o->results[r].epochs[e];
        }
    af_model_record rec = {
        .feature_set_id = j->fs.id,
        .split_scheme_id = j->csv ? 0 : j->scheme.id,
        .taxonomy_version = j->csv ? 0 : j->taxonomy,
        .genres = j->ds.classes,
        .n_genres = j->ds.n_classes,
        .hyperparameters = hp,
        .weights = buf,
        .weights_len = len,
        .run_id = af_run_id(j->app->run),
        .n_epoch_rows = rows,
        .epoch_fold = fold,
        .epoch_number = number,
        .epochs = epochs,
        .n_evals = 2 * o->n_runs,
        .evals = o->evals,
    };
    if (af_db_begin(j->app->db, err) != 0)
        goto out;
    if (af_model_store(j->app->db, &rec, model_id, err) != 0 ||
        af_db_commit(j->app->db, err) != 0) {
        af_db_rollback(j->app->db);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    free(hp);
    free(fold);
    free(number);
    free(epochs);
    return rc;
}

static int train(struct job *j, af_err *err)
{
    struct outcome o = {0};
    o.n_runs = j->folds ? j->folds : 1;
    o.results = calloc((size_t)o.n_runs, sizeof *o.results);
    o.evals = calloc((size_t)o.n_runs * 2, sizeof *o.evals);
    int rc = o.results && o.evals ? 0 : af_err_set(err, "out of memory");
    for (int r = 0; r < o.n_runs && rc == 0; r++) {
        rc = train_one(j, j->folds ? r : -1, &o, err);
        if (rc == 0 && j->folds && (o.results[r].interrupted || af_app_stop_requested()))
            rc = af_err_set(err, "interrupted during fold %d of %d: cross-validation is "
                                 "incomplete, nothing stored",
                            r, j->folds);
        if (rc == 0 && r > 0 && o.results[r].best_val_loss < o.results[o.weights_from].best_val_loss)
            o.weights_from = r;
    }
    long long model_id = 0;
    if (rc == 0)
        rc = store(j, &o, &model_id, err);
    /* Similar tracks and clusters (embeddings.h): every track's embedding under it. */
    if (rc == 0 && !j->csv)
        rc = af_embeddings_after_training(j->app->db, j->app->run, model_id, j->fs.id,
                                          o.results[o.weights_from].model,
                                          &o.results[o.weights_from].scaler, err);
    if (rc == 0) {
        printf("Model %lld: %d genres, %d features, %zu tracks, %zu windows%s\n\n", model_id,
               j->ds.n_classes, j->ds.dim, j->ds.n_tracks, j->ds.n_windows,
               o.results[0].interrupted ? " (interrupted: best epoch so far)" : "");
        if (j->folds) {
            printf("Cross-validation, %d folds (held-out fold per row):\n", j->folds);
            af_eval_print_folds(stdout, o.evals, j->folds);
        } else {
            printf("Test split (best epoch %d of %d):\n", o.results[0].best_epoch,
                   o.results[0].n_epochs);
            af_eval_print(stdout, o.evals, j->ds.classes);
        }
        fflush(stdout);
        log_info("stored model %lld", model_id);
    }
    if (o.results && o.evals) /* runs never trained are zeroed: freeing them is a no-op */
        outcome_free(&o);
    else {
        free(o.results);
        free(o.evals);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        AF_APP_LONG_OPTIONS,
        {"feature-set", required_argument, NULL, OPT_FEATURE_SET},
        {"split-scheme", required_argument, NULL, OPT_SCHEME},
        {"folds", required_argument, NULL, OPT_FOLDS},
        {"csv", required_argument, NULL, OPT_CSV},
        {"export-csv", required_argument, NULL, OPT_EXPORT},
        {"hidden", required_argument, NULL, OPT_HIDDEN},
        {"dropout", required_argument, NULL, OPT_DROPOUT},
        {"learning-rate", required_argument, NULL, OPT_LR},
        {"batch-size", required_argument, NULL, OPT_BATCH},
        {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"patience", required_argument, NULL, OPT_PATIENCE},
        {"l2", required_argument, NULL, OPT_L2},
        {"class-weights", no_argument, NULL, OPT_CW},
        {"no-class-weights", no_argument, NULL, OPT_NO_CW},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"list", no_argument, NULL, OPT_LIST},
        {"show", required_argument, NULL, OPT_SHOW},
        {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-train", usage, argc, argv);
    struct job j = {.app = &app};
    bool list = false;
    const char *show = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_FEATURE_SET: af_app_override(&app, "extract.feature_set", optarg, "--feature-set"); break;
        case OPT_SCHEME: af_app_override(&app, "train.split_scheme", optarg, "--split-scheme"); break;
        case OPT_FOLDS: j.folds = (int)af_app_parse_count(&app, "--folds", optarg, 2); break;
        case OPT_CSV: j.csv = optarg; break;
        case OPT_EXPORT: j.export_csv = optarg; break;
        case OPT_HIDDEN: af_app_override(&app, "train.hidden_layers", optarg, "--hidden"); break;
        case OPT_DROPOUT: af_app_override(&app, "train.dropout", optarg, "--dropout"); break;
        case OPT_LR: af_app_override(&app, "train.learning_rate", optarg, "--learning-rate"); break;
        case OPT_BATCH: af_app_override(&app, "train.batch_size", optarg, "--batch-size"); break;
        case OPT_EPOCHS: af_app_override(&app, "train.max_epochs", optarg, "--epochs"); break;
        case OPT_PATIENCE: af_app_override(&app, "train.patience", optarg, "--patience"); break;
        case OPT_L2: af_app_override(&app, "train.l2", optarg, "--l2"); break;
        case OPT_CW: af_app_override(&app, "train.class_weights", "true", "--class-weights"); break;
        case OPT_NO_CW: af_app_override(&app, "train.class_weights", "false", "--no-class-weights"); break;
        case OPT_SEED: af_app_override(&app, "train.seed", optarg, "--seed"); break;
        case OPT_THREADS: af_app_override(&app, "train.threads", optarg, "--threads"); break;
        case OPT_LIST: list = true; break;
        case OPT_SHOW: show = optarg; break;
        }
    }
    if (optind != argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    if (list || show) {
        long long id = 0;
        if ((list && af_model_list(app.db, stdout, &err) != 0) ||
            (show && (af_model_resolve(app.db, show, &id, &err) != 0 ||
                      af_model_show(app.db, id, stdout, &err) != 0)))
            return af_app_fail(&app, &err);
        return af_app_finish(&app, AF_EXIT_OK, NULL);
    }
    int rc = read_options(&j, &err);
    if (rc == 0) {
        openblas_set_num_threads(j.threads);
        rc = load_data(&j, &err);
    }
    if (rc == 0)
        rc = j.export_csv ? export_csv(&j, &err) : train(&j, &err);
    af_dataset_free(&j.ds);
    af_feature_set_info_free(&j.fs);
    if (rc != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
