/*
 * af-train — the train stage: loads the window vectors of the labelled
 * tracks (or a CSV file), trains the genre classifier (an ensemble of
 * networks, trainer.h / ensemble.h) on the stored leakage-free train/val/test
 * split or by artist-grouped K-fold cross-validation (optionally tuning it on
 * the inner folds, --tune), evaluates it beside two baselines trained on the
 * same rows (baselines.h), and stores model, training history, evaluations
 * and per-track predictions in one transaction.  Also lists, shows, names,
 * promotes and deletes stored models (model_store.h).
 *
 * What is written when: the split assignment of new tracks is committed once
 * the data passed every check (so a bad input writes nothing); the model, its
 * epochs, evaluations and predictions are written together at the end, or not
 * at all, and the model becomes the default only if there was none.
 * SIGINT/SIGTERM: training stops after the current epoch; a single training
 * run then stores its best model so far, marked interrupted (never the
 * default; af-train --list shows it); an interrupted cross-validation stores
 * nothing (its figures would be incomplete).
 */
#include <cblas.h>
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "baselines.h"
#include "row_sample.h"
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
#include "rng.h"
#include "splits_db.h"
#include "table.h"
#include "trainer.h"

/* Knots per feature of the rank-gauss transform (scaler.h): 256 quantiles follow the
 * distribution of a few thousand windows closely; about 0.7 MB per model at 326 features. */
#define RANKGAUSS_KNOTS 256

static const char usage[] =
    "Usage: af-train [OPTION]...\n"
    "       af-train --list | --show MODEL | --promote MODEL | --delete MODEL\n"
    "Train the genre classifier on the window features of the labelled tracks, evaluate it\n"
    "on the test split (or by cross-validation) beside two baselines trained on the same\n"
    "rows (logistic regression, RBF SVM), and store model, evaluation and predictions.\n"
    "\n"
    "Data:\n"
    "      --feature-set NAME   feature set to learn from (default: [extract] feature_set)\n"
    "      --split-scheme NAME  train/val/test assignment to use and extend\n"
    "                           (default: [train] split_scheme)\n"
    "      --folds K            artist-grouped K-fold cross-validation instead of the test split\n"
    "                           (with --csv: folds computed from the file's artist column)\n"
    "      --csv FILE           train on FILE instead of the database: a header line\n"
    "                           track_id,label,split,artist,<feature names...>, then one line\n"
    "                           per window (what --export-csv writes). The artist column may be\n"
    "                           left out or a field left empty: such a track counts as an artist\n"
    "                           of its own in --member-val-share's draws. If the database has no\n"
    "                           feature set of that name (--feature-set NAME, else csv_<file name\n"
    "                           without extension, lower-cased, other characters _>), it is\n"
    "                           registered from the header: a fresh database is enough\n"
    "      --export-csv FILE    write the training data to FILE in that format, then stop\n"
    "Network and training (defaults: [train] in the configuration):\n"
    "      --hidden LIST        hidden layer sizes, e.g. 256,128,64\n"
    "      --dropout P          dropout probability after each hidden layer\n"
    "      --input-dropout P    dropout probability on the inputs\n"
    "      --input-noise S      standard deviation of Gaussian noise on the (standardised) inputs\n"
    "      --mixup S            blend each training window with a random other one (partner\n"
    "                           share uniform in [0, S], S <= 0.5; targets blended alike)\n"
    "      --key-shift / --no-key-shift\n"
    "                           transpose each training window by a random number of\n"
    "                           semitones (its 12 chroma rows rotated: a genre does not depend\n"
    "                           on the key); no effect without chroma01..chroma12 features\n"
    "      --learning-rate R    Adam learning rate\n"
    "      --batch-size N       examples per mini-batch\n"
    "      --epochs N           epochs at most\n"
    "      --patience N         stop after N epochs without a better validation score\n"
    "      --early-stop-on W    the validation score: loss, or track_accuracy (the validation\n"
    "                           tracks' accuracy, ties broken by the loss)\n"
    "      --l2 X               L2 penalty on the weights (weight decay)\n"
    "      --class-weights / --no-class-weights\n"
    "                           weight genres inversely to their frequency\n"
    "      --members N          networks averaged in the model (seeds seed, seed+1, ...)\n"
    "      --member-val-share F each network early-stops on its own draw of this share of the\n"
    "                           artists outside the test split (fold) and trains on the rest;\n"
    "                           0: all early-stop on the validation split\n"
    "      --inner-fold-members / --no-inner-fold-members\n"
    "                           with --folds: for each test fold, one network per other fold,\n"
    "                           early-stopped on that fold and trained on the rest, averaged\n"
    "      --input-transform T  rankgauss (each feature through its training rows' ranks to a\n"
    "                           normal score, then z-scores) or standardise (z-scores only);\n"
    "                           fitted on the training rows only, stored in the model, used by\n"
    "                           the network and the baselines alike ([train] input_transform)\n"
    "      --aggregation A      a track's probabilities from its windows': mean_prob (mean of\n"
    "                           the probabilities) or mean_log (mean of their logarithms)\n"
    "      --tune               with --folds: choose among the candidates of [train] tune_grid\n"
    "                           per test fold by inner cross-validation on the other folds (the\n"
    "                           test fold is never looked at); the choices are stored\n"
    "      --tune-grid G        candidates, ';'-separated, each 'key=value ...' changes to the\n"
    "                           configured options (hidden, dropout, input_dropout,\n"
    "                           input_noise, l2, learning_rate, members)\n"
    "      --no-baselines       skip the logistic regression and SVM (faster)\n"
    "      --baselines          train them (the default: [train] baselines), on at most\n"
    "                           [train] baseline_max_rows windows (a uniform sample)\n"
    "      --seed N             seed of every random choice (same seed, data and --threads:\n"
    "                           same model)\n"
    "      --threads N          OpenBLAS threads (default: [train] threads)\n"
    "Models (MODEL: an id, a name, 'default' or 'latest'):\n"
    "      --name NAME          name the model trained now (unique among live models)\n"
    "      --list               list the stored models (name, default, margin over baselines)\n"
    "      --show MODEL         show a stored model, its evaluation and the baselines'\n"
    "      --promote MODEL      make MODEL the default model (what af-predict uses)\n"
    "      --delete MODEL       delete MODEL's weights (its record and scores stay)\n"
    "\n"
    "The default model: the first finished model becomes the default when there is none;\n"
    "later models never replace it by themselves (--promote does). An interrupted model\n"
    "never becomes the default.\n"
    "Bad input (no training data, a genre without training tracks, NaN or infinite\n"
    "features, vectors of the wrong length) stops with an error and writes nothing.\n"
    "SIGINT/SIGTERM stop training after the current epoch: the best model so far is\n"
    "stored, marked interrupted (cross-validation: nothing is stored).\n";

enum {
    OPT_FEATURE_SET = AF_OPT_FIRST_PROGRAM_OPTION, OPT_SCHEME, OPT_FOLDS, OPT_CSV, OPT_EXPORT,
    OPT_HIDDEN, OPT_DROPOUT, OPT_LR, OPT_BATCH, OPT_EPOCHS, OPT_PATIENCE, OPT_L2, OPT_CW,
    OPT_NO_CW, OPT_SEED, OPT_THREADS, OPT_LIST, OPT_SHOW, OPT_MEMBERS, OPT_IN_DROPOUT,
    OPT_IN_NOISE, OPT_AGGREGATION, OPT_INPUT_TRANSFORM, OPT_NO_BASELINES, OPT_BASELINES, OPT_NAME, OPT_PROMOTE,
    OPT_DELETE, OPT_INNER, OPT_NO_INNER, OPT_TUNE, OPT_TUNE_GRID, OPT_STOP_ON, OPT_MIXUP,
    OPT_KEY_SHIFT, OPT_NO_KEY_SHIFT, OPT_MEMBER_VAL
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
    int aggregation;       /* AF_AGG_* */
    bool baselines;
    af_logreg_options logreg;
    af_svm_options svm;
    size_t baseline_max_rows; /* [train] baseline_max_rows, 0 = all (row_sample.h) */
    const char *name;      /* --name */
    bool inner_members;    /* cross-validation: one member per inner fold */
    double member_val_share; /* [train] member_val_share: each member draws its validation
                                artists (0: all share the validation split) */
    bool tune;             /* --tune */
    bool feature_set_given; /* --feature-set on the command line */
    bool key_shift;        /* [train] key_shift: resolved to columns once the data is loaded */
    int n_candidates;
    af_train_options candidates[16];
    char candidate_text[16][96];
};

static bool stop_requested(void) { return af_app_stop_requested(); }

/* One --tune candidate: the configured options with "key=value" changes
 * (hidden, dropout, l2, input_dropout, input_noise, learning_rate, members)
 * separated by spaces. */
static int parse_candidate(struct job *j, const char *text, af_train_options *c, af_err *err)
{
    *c = j->opt;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return af_err_set_code(err, AF_EXIT_USAGE, "tune grid '%s': '%s' is not key=value",
                                   text, tok);
        *eq = '\0';
        const char *v = eq + 1;
        char *end = NULL;
        double d = strtod(v, &end);
        bool num = end != v && *end == '\0' && isfinite(d) && d >= 0;
        if (strcmp(tok, "hidden") == 0) {
            if (af_parse_hidden(v, &c->cfg.n_hidden, c->cfg.hidden, err) != 0)
                return af_err_prefix(err, "tune grid");
        } else if (num && strcmp(tok, "dropout") == 0 && d < 1) {
            c->cfg.dropout = (float)d;
        } else if (num && strcmp(tok, "input_dropout") == 0 && d < 1) {
            c->cfg.input_dropout = (float)d;
        } else if (num && strcmp(tok, "input_noise") == 0) {
            c->cfg.input_noise = (float)d;
        } else if (num && strcmp(tok, "mixup") == 0 && d <= 0.5) {
            c->cfg.mixup = (float)d;
        } else if (num && strcmp(tok, "l2") == 0) {
            c->cfg.l2 = (float)d;
        } else if (num && strcmp(tok, "learning_rate") == 0 && d > 0) {
            c->cfg.learning_rate = (float)d;
        } else if (num && strcmp(tok, "members") == 0 && d >= 1 && d <= AF_ENSEMBLE_MAX) {
            c->members = (int)d;
        } else {
            return af_err_set_code(err, AF_EXIT_USAGE,
                                   "tune grid '%s': unknown key or bad value '%s=%s' (keys: "
                                   "hidden, dropout, input_dropout, input_noise, mixup, l2, "
                                   "learning_rate, members)", text, tok, v);
        }
    }
    return 0;
}

/* Candidate 0: the configured options; then each ';'-separated grid entry. */
static int parse_grid(struct job *j, const char *grid, af_err *err)
{
    j->candidates[0] = j->opt;
    snprintf(j->candidate_text[0], sizeof j->candidate_text[0], "configured");
    j->n_candidates = 1;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", grid);
    char *save = NULL;
    for (char *item = strtok_r(buf, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        while (*item == ' ')
            item++;
        if (!*item)
            continue;
        if (j->n_candidates == (int)(sizeof j->candidates / sizeof j->candidates[0]))
            return af_err_set_code(err, AF_EXIT_USAGE, "tune grid: at most %d candidates",
                                   j->n_candidates);
        if (parse_candidate(j, item, &j->candidates[j->n_candidates], err) != 0)
            return -1;
        snprintf(j->candidate_text[j->n_candidates], sizeof j->candidate_text[0], "%s", item);
        j->n_candidates++;
    }
    return 0;
}

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
    j->opt.members = (int)af_config_int(cfg, "train.members");
    const char *stop_on = af_config_str(cfg, "train.early_stop_on");
    if (strcmp(stop_on, "track_accuracy") == 0)
        j->opt.stop_on_track_accuracy = true;
    else if (strcmp(stop_on, "loss") != 0)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "early_stop_on '%s': expected loss or track_accuracy", stop_on);
    j->opt.cfg.input_dropout = (float)af_config_double(cfg, "train.input_dropout");
    j->opt.cfg.input_noise = (float)af_config_double(cfg, "train.input_noise");
    j->opt.cfg.mixup = (float)af_config_double(cfg, "train.mixup");
    j->key_shift = af_config_bool(cfg, "train.key_shift");
    const char *agg = af_config_str(cfg, "train.aggregation");
    if (strcmp(agg, "mean_log") == 0)
        j->aggregation = AF_AGG_MEAN_LOG;
    else if (strcmp(agg, "mean_prob") == 0)
        j->aggregation = AF_AGG_MEAN_PROB;
    else
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "aggregation '%s': expected mean_prob or mean_log", agg);
    const char *transform = af_config_str(cfg, "train.input_transform");
    if (strcmp(transform, "rankgauss") == 0)
        j->opt.rankgauss_knots = RANKGAUSS_KNOTS;
    else if (strcmp(transform, "standardise") != 0)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "input_transform '%s': expected rankgauss or standardise",
                               transform);
    j->baselines = af_config_bool(cfg, "train.baselines");
    j->inner_members = af_config_bool(cfg, "train.inner_fold_members");
    j->member_val_share = af_config_double(cfg, "train.member_val_share");
    af_logreg_options_default(&j->logreg);
    j->logreg.c = af_config_double(cfg, "train.logreg_c");
    af_svm_options_default(&j->svm);
    j->svm.c = af_config_double(cfg, "train.svm_c");
    j->baseline_max_rows = (size_t)af_config_int(cfg, "train.baseline_max_rows");
    j->opt.stop = stop_requested;
    j->threads = (int)af_config_int(cfg, "train.threads");
    if (j->tune && !j->folds)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "--tune needs --folds K: it compares candidates by inner "
                               "cross-validation on the folds outside each test fold");
    if (j->tune) {
        j->inner_members = true;
        if (parse_grid(j, af_config_str(cfg, "train.tune_grid"), err) != 0)
            return -1;
    }
    if (j->csv && j->export_csv)
        return af_err_set_code(err, AF_EXIT_USAGE, "--csv and --export-csv exclude each other");
    return 0;
}

/* Is track t held out for testing: in test fold `fold`, or without folds
 * (fold < 0) in the test split? */
static bool held_out(const struct job *j, int fold, size_t t)
{
    return fold >= 0 ? j->ds.track_fold[t] == fold : j->ds.track_split[t] == AF_SPLIT_TEST;
}

/* Do the networks early-stop on artists of their own (inner folds, or
 * member_val_share) rather than on the shared validation split? */
static bool own_validation(const struct job *j)
{
    return (j->inner_members && j->folds) || j->member_val_share > 0.0;
}

/* Counts tracks per genre per bucket and complains: a genre without training
 * tracks makes training impossible; one without validation or test tracks
 * only gets a warning.  Without a shared validation bucket (with_val false:
 * the networks draw their own), bucket 1 is not looked at. */
static int check_buckets(const af_dataset *ds, const int *bucket, bool with_val, const char *what,
                         af_err *err)
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
        if (total[b] == 0 && (b != 1 || with_val))
            rc = af_err_set(err, "%s: no track in the %s split (%zu labelled track(s) in all): "
                                 "more tracks or artists are needed",
                            what, names[b], ds->n_tracks);
    for (int c = 0; c < ds->n_classes && rc == 0; c++) {
        if (counts[c * 4 + 0] == 0)
            rc = af_err_set(err, "%s: genre '%s' has no track in the training split (%zu "
                                 "validation, %zu test): it cannot be learnt; add tracks of "
                                 "other artists of this genre",
                            what, ds->classes[c], counts[c * 4 + 1], counts[c * 4 + 2]);
        for (int b = with_val ? 1 : 2; b < 3 && rc == 0; b++)
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
    bool with_val = !own_validation(j);
    int rc = 0;
    for (int k = j->folds ? 0 : -1; k < j->folds && rc == 0; k++) {
        char what[32];
        snprintf(what, sizeof what, k < 0 ? "split" : "fold %d", k);
        for (size_t t = 0; t < ds->n_tracks; t++)
            bucket[t] = held_out(j, k, t)                                  ? 2
                        : with_val && ds->track_split[t] == AF_SPLIT_VAL ? 1
                                                                           : 0;
        rc = check_buckets(ds, bucket, with_val, what, err);
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

static int read_csv_header(const char *path, char ***names, int *n, int *first_column,
                           af_err *err)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return af_err_set(err, "cannot open %s: %m", path);
    int rc = af_csv_read_header(in, path, names, n, first_column, err);
    fclose(in);
    return rc;
}

/* --csv on a database that lacks the feature set: register it from the CSV
 * header (the feature names after track_id,label,split), under --feature-set NAME if
 * given, else csv_<file name> (csv_feature_set_name), so that the model has a feature set
 * to name. */
static int register_csv_feature_set(struct job *j, const char *name, af_err *err)
{
    char **header;
    int n;
    if (read_csv_header(j->csv, &header, &n, NULL, err) != 0)
        return -1;
    json_t *names = json_array();
    for (int k = 0; k < n; k++)
        json_array_append_new(names, json_string(header[k]));
    af_csv_free_names(header, n);
    json_t *params = json_pack("{s:s,s:s,s:I}", "source", "csv", "file", j->csv, "n_features",
                               (json_int_t)json_array_size(names));
    char *names_text = json_dumps(names, JSON_COMPACT);
    char *params_text = json_dumps(params, JSON_COMPACT);
    json_decref(names);
    json_decref(params);
    int rc = -1;
    if (!names_text || !params_text) {
        af_err_set(err, "out of memory");
    } else {
        const char *p[] = {name, params_text, names_text};
        rc = af_db_command(j->app->db,
                           "INSERT INTO feature_sets (name, parameters, feature_names)"
                           " SELECT $1, $2::jsonb, array(SELECT jsonb_array_elements_text($3::jsonb))"
                           " ON CONFLICT (name) DO NOTHING",
                           3, p, err);
    }
    free(names_text);
    free(params_text);
    if (rc == 0)
        log_info("feature set '%s' registered from the header of %s", name, j->csv);
    return rc;
}

/* The feature set name of --csv FILE without --feature-set: "csv_" and the file's
 * name without its directory and extension, lower-cased, every other character
 * '_', cut to a valid name's length ("Emotify Dev.csv" -> csv_emotify_dev). */
static void csv_feature_set_name(const char *path, char *name, size_t size)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    size_t n = (size_t)snprintf(name, size, "csv_");
    for (size_t i = 0; i < stem && n + 1 < size && n < AF_FEATURE_SET_NAME_MAX; i++) {
        char c = (char)tolower((unsigned char)base[i]);
        name[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    }
    name[n] = '\0';
}

static int lookup_feature_set(struct job *j, af_err *err)
{
    const char *name = af_config_str(j->app->cfg, "extract.feature_set");
    char csv_name[AF_FEATURE_SET_NAME_MAX + 1];
    if (j->csv && !j->feature_set_given) {
        csv_feature_set_name(j->csv, csv_name, sizeof csv_name);
        name = csv_name;
    }
    if (af_feature_set_lookup(j->app->db, name, &j->fs, err) == 0)
        return 0;
    if (!j->csv || err->code != AF_EXIT_USAGE || !af_feature_set_name_ok(name))
        return -1;
    af_feature_set_info_free(&j->fs);
    if (register_csv_feature_set(j, name, err) != 0)
        return -1;
    return af_feature_set_lookup(j->app->db, name, &j->fs, err);
}

/* A CSV's columns must be its feature set's, in order: a model trained on
 * columns swapped or renamed would be stored under that set and then fed its
 * real features.  A header of f0,f1,... (what --export-csv wrote before it
 * named the features) names nothing to check against. */
static int check_csv_columns(struct job *j, af_err *err)
{
    char **header;
    int n, first_column, generic = 0, mismatch = -1;
    if (read_csv_header(j->csv, &header, &n, &first_column, err) != 0)
        return -1;
    for (int k = 0; k < n; k++) {
        char f[16];
        snprintf(f, sizeof f, "f%d", k);
        generic += strcmp(header[k], f) == 0;
        if (mismatch < 0 && strcmp(header[k], j->fs.names[k]) != 0)
            mismatch = k;
    }
    int rc = 0;
    if (generic == n && mismatch >= 0)
        log_warn("%s: its header names no features (f0,f1,...): cannot check that its columns "
                 "are feature set '%s''s", j->csv, j->fs.name);
    else if (mismatch >= 0)
        rc = af_err_set_code(err, AF_EXIT_USAGE,
                             "%s: column %d is '%s' where feature set '%s' has '%s' (a CSV "
                             "holds its feature set's columns in their order; --feature-set "
                             "NAME registers another set)",
                             j->csv, mismatch + first_column, header[mismatch], j->fs.name,
                             j->fs.names[mismatch]);
    af_csv_free_names(header, n);
    return rc;
}

/* --folds on a CSV file: no scheme is stored for it, so its folds are computed
 * from its tracks alone (af_split_group_folds: by artist, stratified by genre),
 * the same every time the file is read. */
static int csv_folds(struct job *j, af_err *err)
{
    af_dataset *ds = &j->ds;
    size_t unknown = 0;
    for (size_t t = 0; t < ds->n_tracks; t++)
        unknown += !ds->track_artist[t] || !af_split_artist_known(ds->track_artist[t]);
    if (2 * unknown > ds->n_tracks)
        log_warn("%s: %zu of %zu tracks name no artist: each of them is a group of its own, so "
                 "tracks of one artist can land in different folds and the scores come out "
                 "higher than on unseen artists (the file's artist column gives them)",
                 j->csv, unknown, ds->n_tracks);
    if (af_split_group_folds(ds->track_group, ds->track_class, ds->n_tracks, ds->n_classes,
                             j->folds, ds->track_fold, err) != 0)
        return af_err_prefix(err, "%s", j->csv);
    log_info("%s: %d folds by artist, computed from the file", j->csv, j->folds);
    return 0;
}

static int load_data(struct job *j, af_err *err)
{
    double started = af_monotonic_seconds();
    if (lookup_feature_set(j, err) != 0)
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
        if (check_csv_columns(j, err) != 0)
            return -1;
        if (j->folds && csv_folds(j, err) != 0)
            return -1;
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

/* The key shift's columns (mlp.h): 12 equal blocks named chroma01_* .. chroma12_*, one per
 * pitch class, each holding the same statistics in the same order.  Returns the block
 * length, 0 when the feature set has no such layout. */
static int find_chroma_blocks(const af_feature_set_info *fs, int *first)
{
    int start = 0, stride = 0;
    while (start < fs->dim && strncmp(fs->names[start], "chroma01_", 9) != 0)
        start++;
    while (start + stride < fs->dim && strncmp(fs->names[start + stride], "chroma01_", 9) == 0)
        stride++;
    if (stride == 0 || start + 12 * stride > fs->dim)
        return 0;
    for (int pc = 0; pc < 12; pc++)
        for (int s = 0; s < stride; s++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "chroma%02d_", pc + 1);
            const char *name = fs->names[start + pc * stride + s];
            if (strncmp(name, prefix, 9) != 0 ||
                strcmp(name + 9, fs->names[start + s] + 9) != 0)
                return 0;
        }
    *first = start;
    return stride;
}

/* [train] key_shift into the network's options (and every --tune candidate's). */
static void resolve_key_shift(struct job *j)
{
    int first = 0, stride = j->key_shift ? find_chroma_blocks(&j->fs, &first) : 0;
    if (j->key_shift && stride == 0)
        log_warn("key_shift: feature set '%s' has no chroma01_* .. chroma12_* blocks; "
                 "training without it (--no-key-shift: no warning)", j->fs.name);
    j->opt.cfg.key_first = first;
    j->opt.cfg.key_stride = stride;
    for (int k = 0; k < j->n_candidates; k++) {
        j->candidates[k].cfg.key_first = first;
        j->candidates[k].cfg.key_stride = stride;
    }
}

static int export_csv(struct job *j, af_err *err)
{
    FILE *out = fopen(j->export_csv, "w");
    if (!out)
        return af_err_set(err, "cannot create %s: %m", j->export_csv);
    int rc = af_csv_write(out, &j->ds, (const char *const *)j->fs.names, err);
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
    af_eval *evals;           /* [(run * AF_CLF_COUNT + classifier) * 2 + level]; a
                                 classifier not evaluated has per_class NULL */
    size_t n_windows[3];      /* of the single run */
    int weights_from;         /* the run whose weights are stored */
    int *tuned;               /* --tune: per run, the chosen candidate */
    double *tune_scores;      /* --tune: [run * n_candidates + candidate] inner accuracy */
};

static af_eval *eval_at(const struct outcome *o, int run, int classifier)
{
    return &o->evals[(run * AF_CLF_COUNT + classifier) * 2];
}

static void outcome_free(struct outcome *o)
{
    for (int r = 0; r < o->n_runs; r++)
        af_train_result_free(&o->results[r]);
    for (int i = 0; i < o->n_runs * AF_CLF_COUNT * 2; i++)
        af_eval_free(&o->evals[i]);
    free(o->results);
    free(o->evals);
    free(o->tuned);
    free(o->tune_scores);
}

/* The baselines on the same standardised rows: fitted on the training and
 * validation rows (they need no early stopping), at most baseline_max_rows of
 * them (row_sample.h), scored on the test rows. */
static int run_baselines(struct job *j, const af_grouped *g, int fold, struct outcome *o, int r,
                         af_err *err)
{
    int dim = j->ds.dim, k = j->ds.n_classes;
    size_t n_fit = g->n[0] + g->n[1], n_test = g->n[2];
    const float *xt = g->x + g->start[2] * (size_t)dim;
    af_row_sample fit;
    if (af_row_sample_take(g->x, g->y, n_fit, dim, j->baseline_max_rows, j->opt.cfg.seed, &fit,
                           err) != 0)
        return af_err_prefix(err, "baselines");
    if (fit.n < n_fit)
        log_info("baselines: fitted on a uniform sample of %zu of the %zu training and "
                 "validation windows ([train] baseline_max_rows)", fit.n, n_fit);
    float *scores = malloc((n_test ? n_test : 1) * (size_t)k * sizeof *scores);
    if (!scores) {
        af_row_sample_free(&fit);
        return af_err_set(err, "out of memory");
    }
    af_logreg lr = {0};
    af_svm *svm = NULL;
    double t0 = af_monotonic_seconds();
    int rc = af_logreg_fit(&lr, fit.x, fit.y, fit.n, dim, k, &j->logreg, err);
    if (rc == 0)
        rc = af_logreg_predict(&lr, xt, n_test, scores, err);
    if (rc == 0)
        rc = af_evaluate_scores(scores, k, g, 2, j->ds.track_class, j->ds.n_tracks, fold,
                                AF_AGG_MEAN_PROB, eval_at(o, r, AF_CLF_LOGREG), err);
    double t1 = af_monotonic_seconds();
    if (rc == 0)
        rc = af_svm_fit(&svm, fit.x, fit.y, fit.n, dim, k, &j->svm, err);
    if (rc == 0)
        rc = af_svm_predict(svm, xt, n_test, scores, err);
    if (rc == 0)
        rc = af_evaluate_scores(scores, k, g, 2, j->ds.track_class, j->ds.n_tracks, fold,
                                AF_AGG_MEAN_PROB, eval_at(o, r, AF_CLF_SVM), err);
    if (rc == 0)
        log_info("%s baselines trained: logistic regression %.2f s, SVM %.2f s",
                 fold >= 0 ? "fold's" : "test split's", t1 - t0, af_monotonic_seconds() - t1);
    for (int c = AF_CLF_LOGREG; rc == 0 && c <= AF_CLF_SVM; c++)
        for (int l = 0; l < 2; l++)
            eval_at(o, r, c)[l].classifier = c;
    af_logreg_free(&lr);
    af_svm_free(svm);
    af_row_sample_free(&fit);
    free(scores);
    return rc == 0 ? 0 : af_err_prefix(err, "baselines");
}

/* Round `round` of the members that early-stop on artists of their own
 * (members_own_validation): its training (0) and validation (1) tracks, the
 * held-out ones AF_DATASET_UNUSED.  With inner-fold members, round v is inner
 * fold v (the test fold's round is skipped: returns 1); otherwise round m is
 * member m, which validates on its own draw of member_val_share of the artists
 * (split.h), salted by seed, fold and m. */
static int member_buckets(const struct job *j, int fold, int round, uint64_t seed, bool *pool,
                          bool *val, int *bucket, af_err *err)
{
    const af_dataset *ds = &j->ds;
    if (j->inner_members && fold >= 0) {
        if (round == fold)
            return 1;
        for (size_t t = 0; t < ds->n_tracks; t++)
            bucket[t] = held_out(j, fold, t)          ? AF_DATASET_UNUSED
                        : ds->track_fold[t] == round ? 1
                                                     : 0;
        return 0;
    }
    for (size_t t = 0; t < ds->n_tracks; t++)
        pool[t] = !held_out(j, fold, t);
    uint64_t salt = af_mix64(seed ^ af_mix64(((uint64_t)(uint32_t)(fold + 1) << 32) |
                                             (uint64_t)(uint32_t)round));
    if (af_split_draw_validation(ds->track_group, pool, ds->n_tracks, j->member_val_share, salt,
                                 val, NULL, err) != 0)
        return af_err_prefix(err, "member_val_share (each network's validation artists)");
    for (size_t t = 0; t < ds->n_tracks; t++)
        bucket[t] = !pool[t] ? AF_DATASET_UNUSED : val[t] ? 1 : 0;
    return 0;
}

/* Members that early-stop on artists of their own, for test fold `fold` (or,
 * fold < 0, the test split).  With inner-fold members (cross-validation
 * only): one member (or j->opt.members, by seed) per other fold, trained on
 * the remaining folds and early-stopped on that fold.  Otherwise
 * (member_val_share): j->opt.members members, each early-stopped on its own
 * draw of the artists outside the held-out set and trained on the others, so
 * that the members differ in their data, not only in their seeds, and every
 * such track trains most of them.  Every member is stopped on artists it
 * never trained on.  One standardiser, fitted on all the rows outside the
 * held-out set, serves them all.  res gets the first member's history and
 * the whole ensemble.
 *
 * `outer` holds the fold's rows, already standardised with `scaler`: each
 * inner grouping regroups them in place (dataset.h) rather than copying the
 * dataset again, and the members are trained with an identity scaler, then
 * given `scaler` (the values are those a copy standardised anew would hold). */
static int members_own_validation(struct job *j, int fold, const af_train_options *base,
                                  const af_scaler *scaler, af_grouped *outer,
                                  af_train_result *res, double *inner_score, af_err *err)
{
    size_t right = 0, seen = 0;
    af_dataset *ds = &j->ds;
    int *bucket = malloc(ds->n_tracks * sizeof *bucket);
    bool *pool = malloc(ds->n_tracks * sizeof *pool), *val = malloc(ds->n_tracks * sizeof *val);
    af_scaler identity = {.dim = ds->dim,
                          .mean = calloc((size_t)ds->dim, sizeof(float)),
                          .std = malloc((size_t)ds->dim * sizeof(float))};
    if (!bucket || !pool || !val || !identity.mean || !identity.std) {
        free(bucket);
        free(pool);
        free(val);
        af_scaler_free(&identity);
        return af_err_set(err, "out of memory");
    }
    for (int f = 0; f < ds->dim; f++)
        identity.std[f] = 1.0f;
    bool by_fold = j->inner_members && fold >= 0;
    int rounds = by_fold ? j->folds : (base->members < 1 ? 1 : base->members);
    int rc = 0;
    memset(res, 0, sizeof *res);
    for (int v = 0; v < rounds && rc == 0 && !res->interrupted; v++) {
        int skip = member_buckets(j, fold, v, base->cfg.seed, pool, val, bucket, err);
        if (skip != 0) {
            rc = skip < 0 ? -1 : 0;
            continue;
        }
        af_grouped g;
        size_t *undo;
        if (af_grouped_regroup(outer, ds->dim, bucket, &g, &undo, err) != 0) {
            rc = -1;
            break;
        }
        char label[48] = "";
        if (by_fold)
            snprintf(label, sizeof label, "fold %d, inner %d", fold, v);
        else if (fold >= 0)
            snprintf(label, sizeof label, "fold %d, net %d/%d", fold, v + 1, rounds);
        else
            snprintf(label, sizeof label, "net %d/%d", v + 1, rounds);
        af_train_options opt = *base;
        opt.label = label;
        opt.scaler = &identity; /* g is standardised with `scaler` already */
        opt.cfg.seed = base->cfg.seed + (by_fold ? 1000u * (uint64_t)v : (uint64_t)v);
        if (!by_fold)
            opt.members = 1;
        af_train_result one;
        rc = af_train_run(&g, ds->dim, ds->n_classes, &opt, &one, err);
        if (rc == 0) { /* the whole transform, rank-gauss knots included */
            af_scaler_free(&one.model.scaler);
            rc = af_scaler_copy(&one.model.scaler, scaler, err);
        }
        /* the member's track accuracy on its own validation tracks: the inner
         * cross-validation estimate --tune compares (the test fold is unused) */
        af_eval ev[2];
        if (rc == 0 && (rc = af_evaluate(&one.model, &g, 1, ds->track_class, ds->n_tracks, fold,
                                         j->aggregation, ev, err)) == 0) {
            right += (size_t)lround(ev[1].accuracy * (double)ev[1].n);
            seen += ev[1].n;
            af_eval_free(&ev[0]);
            af_eval_free(&ev[1]);
        } else if (rc == 0) {
            rc = -1;
        }
        af_grouped_restore(outer, ds->dim, &g, undo);
        if (rc != 0) {
            if (one.model.n)
                af_train_result_free(&one);
            break;
        }
        if (!res->model.n) {
            *res = one;
            continue;
        }
        for (int i = 0; i < one.model.n && res->model.n < AF_ENSEMBLE_MAX; i++) {
            res->model.members[res->model.n++] = one.model.members[i];
            one.model.members[i] = NULL;
        }
        res->total_epochs += one.total_epochs;
        res->interrupted |= one.interrupted;
        af_train_result_free(&one);
    }
    free(bucket);
    free(pool);
    free(val);
    af_scaler_free(&identity);
    if (inner_score)
        *inner_score = seen ? (double)right / (double)seen : 0.0;
    if (rc != 0)
        af_train_result_free(res);
    return rc;
}

/* --tune: every candidate of the grid is trained as the fold's inner-fold
 * members; the one with the best inner track accuracy (on the other folds,
 * never the test fold) is kept as the fold's model.  Ties: the earlier
 * candidate (the grid starts with the configured defaults). */
static int tune_fold(struct job *j, int fold, const af_scaler *sc, af_grouped *g,
                     struct outcome *o, af_err *err)
{
    double best = -1.0;
    for (int c = 0; c < j->n_candidates; c++) {
        af_train_result res;
        double score = 0.0;
        if (members_own_validation(j, fold, &j->candidates[c], sc, g, &res, &score, err) != 0)
            return af_err_prefix(err, "tuning candidate %d", c);
        log_info("fold %d: candidate %d (%s): inner track accuracy %.4f", fold, c,
                 j->candidate_text[c], score);
        o->tune_scores[fold * j->n_candidates + c] = score;
        if (score > best) {
            best = score;
            af_train_result_free(&o->results[fold]);
            o->results[fold] = res;
            o->tuned[fold] = c;
        } else {
            af_train_result_free(&res);
        }
        if (o->results[fold].interrupted)
            break;
    }
    log_info("fold %d: tuned choice %d (%s)", fold, o->tuned[fold],
             j->candidate_text[o->tuned[fold]]);
    return 0;
}

/* Training with members that early-stop on artists of their own
 * (members_own_validation): every track outside test fold `fold` (fold < 0:
 * outside the test split) is a training row of the outer grouping, and the
 * members regroup them. */
static int train_own_validation(struct job *j, int fold, struct outcome *o, af_err *err)
{
    af_dataset *ds = &j->ds;
    int r = fold < 0 ? 0 : fold;
    int *bucket = malloc(ds->n_tracks * sizeof *bucket);
    if (!bucket)
        return af_err_set(err, "out of memory");
    for (size_t t = 0; t < ds->n_tracks; t++)
        bucket[t] = held_out(j, fold, t) ? 2 : 0;
    af_grouped g;
    int rc = af_dataset_group(ds, bucket, fold < 0, &g, err);
    free(bucket);
    if (rc != 0)
        return -1;
    if (j->inner_members && fold >= 0)
        log_info("fold %d of %d: %zu training windows (in %d inner folds), %zu test windows",
                 fold, j->folds, g.n[0], j->folds - 1, g.n[2]);
    else if (fold >= 0)
        log_info("fold %d of %d: %zu training and validation windows (each network validates "
                 "on its own %.0f%% of their artists), %zu test windows", fold, j->folds, g.n[0],
                 100.0 * j->member_val_share, g.n[2]);
    else
        log_info("%zu training and validation windows (each network validates on its own "
                 "%.0f%% of their artists), %zu test windows", g.n[0],
                 100.0 * j->member_val_share, g.n[2]);
    memcpy(o->n_windows, g.n, sizeof o->n_windows);
    af_scaler sc = {0};
    rc = j->opt.rankgauss_knots > 0
             ? af_scaler_fit_rankgauss(&sc, g.x, g.n[0], ds->dim, j->opt.rankgauss_knots, err)
             : af_scaler_fit(&sc, g.x, g.n[0], ds->dim, err);
    if (rc == 0) {
        af_scaler_apply(&sc, g.x, g.n[0] + g.n[2]);
        rc = j->tune ? tune_fold(j, fold, &sc, &g, o, err)
                     : members_own_validation(j, fold, &j->opt, &sc, &g, &o->results[r], NULL,
                                              err);
    }
    if (rc == 0) {
        af_run_count(j->app->run, "epochs", o->results[r].total_epochs);
        rc = af_evaluate(&o->results[r].model, &g, 2, ds->track_class, ds->n_tracks, fold,
                         j->aggregation, eval_at(o, r, AF_CLF_NETWORK), err);
    }
    if (rc == 0 && j->baselines && !o->results[r].interrupted)
        rc = run_baselines(j, &g, fold, o, r, err);
    af_scaler_free(&sc);
    af_grouped_free(&g);
    return rc;
}

static int train_one(struct job *j, int fold, struct outcome *o, af_err *err)
{
    if (own_validation(j))
        return train_own_validation(j, fold, o, err);
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
        af_run_count(j->app->run, "epochs", o->results[r].total_epochs);
        rc = af_evaluate(&o->results[r].model, &g, 2, ds->track_class, ds->n_tracks, fold,
                         j->aggregation, eval_at(o, r, AF_CLF_NETWORK), err);
    }
    if (rc == 0 && j->baselines && !o->results[r].interrupted)
        rc = run_baselines(j, &g, fold, o, r, err);
    af_grouped_free(&g);
    return rc;
}

/* Mean and standard deviation over the runs of one classifier's accuracy. */
static void accuracy_stats(const struct outcome *o, int classifier, int level, double *mean,
                           double *sd)
{
    double s = 0.0, s2 = 0.0;
    for (int r = 0; r < o->n_runs; r++) {
        double a = eval_at(o, r, classifier)[level].accuracy;
        s += a;
        s2 += a * a;
    }
    *mean = s / o->n_runs;
    double var = o->n_runs > 1 ? (s2 - s * s / o->n_runs) / (o->n_runs - 1) : 0.0;
    *sd = var > 0.0 ? sqrt(var) : 0.0;
}

static bool has_baselines(const struct outcome *o)
{
    return eval_at(o, 0, AF_CLF_SVM)[1].per_class != NULL;
}

/* How sure a cross-validated margin is: the standard error of the per-fold difference
 * network - baseline in track accuracy (sd / sqrt(folds)); -1 with fewer than 2 folds.
 * On a few hundred tracks it is several points, and a margin within about two of them
 * says nothing about which classifier is better. */
static double margin_standard_error(const struct outcome *o, int baseline)
{
    if (o->n_runs < 2)
        return -1.0;
    double s = 0.0, s2 = 0.0;
    for (int r = 0; r < o->n_runs; r++) {
        double d = eval_at(o, r, AF_CLF_NETWORK)[AF_EVAL_TRACK].accuracy -
                   eval_at(o, r, baseline)[AF_EVAL_TRACK].accuracy;
        s += d;
        s2 += d * d;
    }
    double var = (s2 - s * s / o->n_runs) / (o->n_runs - 1);
    return var > 0.0 ? sqrt(var / o->n_runs) : 0.0;
}

/* {"network": {"track_accuracy": .., "window_accuracy": ..}, ..., "winner": "network",
 * "margin_track_accuracy": network minus the best baseline} */
static json_t *comparison(const struct outcome *o)
{
    if (!has_baselines(o))
        return NULL;
    json_t *c = json_object();
    double best = -1.0, net = 0.0, sd;
    int winner = AF_CLF_NETWORK, best_base = AF_CLF_LOGREG;
    double top = -1.0;
    for (int k = 0; k < AF_CLF_COUNT; k++) {
        double tr, wi;
        accuracy_stats(o, k, AF_EVAL_TRACK, &tr, &sd);
        accuracy_stats(o, k, AF_EVAL_WINDOW, &wi, &sd);
        json_object_set_new(c, af_classifier_name(k),
                            json_pack("{s:f,s:f}", "track_accuracy", tr, "window_accuracy", wi));
        if (k == AF_CLF_NETWORK)
            net = tr;
        else if (tr > best)
            best = tr, best_base = k;
        if (tr > top)
            top = tr, winner = k;
    }
    json_object_set_new(c, "winner", json_string(af_classifier_name(winner)));
    json_object_set_new(c, "best_baseline", json_string(af_classifier_name(best_base)));
    json_object_set_new(c, "margin_track_accuracy", json_real(net - best));
    double se = margin_standard_error(o, best_base);
    if (se >= 0.0)
        json_object_set_new(c, "margin_standard_error", json_real(se));
    return c;
}

static void print_comparison(const struct outcome *o)
{
    if (!has_baselines(o))
        return;
    static const char *const head[] = {"classifier", "window accuracy", "track accuracy",
                                       "track balanced acc."};
    struct af_table *t = af_table_new(4, head);
    double best = -1.0, net = 0.0;
    int best_base = AF_CLF_LOGREG;
    for (int k = 0; k < AF_CLF_COUNT; k++) {
        double w, wsd, tr, tsd, b = 0.0;
        accuracy_stats(o, k, AF_EVAL_WINDOW, &w, &wsd);
        accuracy_stats(o, k, AF_EVAL_TRACK, &tr, &tsd);
        for (int r = 0; r < o->n_runs; r++)
            b += eval_at(o, r, k)[1].balanced_accuracy / o->n_runs;
        if (o->n_runs > 1)
            af_table_addf(t, "%s\t%.4f +- %.4f\t%.4f +- %.4f\t%.4f", af_classifier_name(k), w, wsd,
                          tr, tsd, b);
        else
            af_table_addf(t, "%s\t%.4f\t%.4f\t%.4f", af_classifier_name(k), w, tr, b);
        if (k == AF_CLF_NETWORK)
            net = tr;
        else if (tr > best)
            best = tr, best_base = k;
    }
    printf("\nNetwork against the baselines (same %s, same standardised features):\n",
           o->n_runs > 1 ? "folds" : "split");
    af_table_print(t, stdout);
    af_table_free(t);
    printf("%s by %.1f points of track accuracy over the best baseline (%s)",
           net >= best ? "network wins" : "network LOSES", 100.0 * fabs(net - best),
           af_classifier_name(best_base));
    double se = margin_standard_error(o, best_base);
    if (se >= 0.0)
        printf("; standard error of the fold-paired difference %.1f points", 100.0 * se);
    putchar('\n');
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
        epochs += o->results[r].total_epochs;
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
    json_object_set_new(h, "members", json_integer(best->model.n));
    json_object_set_new(h, "input_dropout", json_real(c->input_dropout));
    json_object_set_new(h, "input_noise", json_real(c->input_noise));
    json_object_set_new(h, "mixup", json_real(c->mixup));
    json_object_set_new(h, "key_shift", json_boolean(c->key_stride > 0));
    json_object_set_new(h, "input_transform",
                        json_string(j->opt.rankgauss_knots > 0 ? "rankgauss" : "standardise"));
    json_object_set_new(h, "early_stop_on", json_string(j->opt.stop_on_track_accuracy
                                                            ? "track_accuracy" : "loss"));
    json_object_set_new(h, "aggregation", json_string(j->aggregation == AF_AGG_MEAN_LOG
                                                          ? "mean_log" : "mean_prob"));
    if (j->tune) {
        json_t *grid = json_array(), *tuned = json_array();
        for (int k = 0; k < j->n_candidates; k++)
            json_array_append_new(grid, json_string(j->candidate_text[k]));
        for (int r = 0; r < o->n_runs; r++) {
            json_t *scores = json_array();
            for (int k = 0; k < j->n_candidates; k++)
                json_array_append_new(scores,
                                      json_real(o->tune_scores[r * j->n_candidates + k]));
            json_array_append_new(tuned, json_pack("{s:i,s:i,s:s,s:o}", "fold", r, "choice",
                                                   o->tuned[r], "candidate",
                                                   j->candidate_text[o->tuned[r]],
                                                   "inner_track_accuracy", scores));
        }
        json_object_set_new(h, "tune_grid", grid);
        json_object_set_new(h, "tuned", tuned);
    }
    bool by_fold = j->inner_members && j->folds;
    json_object_set_new(h, "inner_fold_members", json_boolean(by_fold));
    json_object_set_new(h, "member_val_share", json_real(by_fold ? 0.0 : j->member_val_share));
    json_t *cmp = comparison(o);
    if (cmp)
        json_object_set_new(h, "comparison", cmp);
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
    } else if (own_validation(j)) {
        /* Each network drew its own validation artists from the first bucket,
         * so there is no split of its windows to report. */
        json_object_set_new(h, "split_windows",
                            json_pack("{s:I,s:I}", "train_and_val", (json_int_t)o->n_windows[0],
                                      "test", (json_int_t)o->n_windows[2]));
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
    if (af_ensemble_serialise(&best->model, &buf, &len, err) != 0)
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
        .n_evals = 2 * AF_CLF_COUNT * o->n_runs,
        .evals = o->evals,
        .track_ids = j->ds.track_id,
        .track_class = j->ds.track_class,
        .name = j->name,
        .interrupted = best->interrupted,
    };
    if (af_db_begin(j->app->db, err) != 0)
        goto out;
    bool became_default = false;
    if (af_model_store(j->app->db, &rec, model_id, err) != 0 ||
        af_model_default_if_none(j->app->db, *model_id, &became_default, err) != 0 ||
        af_db_commit(j->app->db, err) != 0) {
        af_db_rollback(j->app->db);
        goto out;
    }
    if (became_default)
        log_info("model %lld is the default model (no model was): af-predict uses it", *model_id);
    else if (best->interrupted)
        log_warn("model %lld was interrupted: it is stored for inspection but never becomes the "
                 "default", *model_id);
    else
        log_info("model %lld stored; the default model is unchanged (af-train --promote %lld "
                 "makes it the default)", *model_id, *model_id);
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
    resolve_key_shift(j);
    struct outcome o = {0};
    o.n_runs = j->folds ? j->folds : 1;
    o.results = calloc((size_t)o.n_runs, sizeof *o.results);
    o.evals = calloc((size_t)o.n_runs * 2 * AF_CLF_COUNT, sizeof *o.evals);
    o.tuned = calloc((size_t)o.n_runs, sizeof *o.tuned);
    o.tune_scores = calloc((size_t)o.n_runs * (size_t)(j->n_candidates + 1), sizeof *o.tune_scores);
    int rc = o.results && o.evals && o.tuned && o.tune_scores ? 0
                                                              : af_err_set(err, "out of memory");
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
                                          &o.results[o.weights_from].model, err);
    if (rc == 0)
        log_info("stored model %lld", model_id);
    if (rc == 0 && af_log_reports_wanted()) { /* -q: no report */
        printf("Model %lld: %d genres, %d features, %zu tracks, %zu windows%s\n\n", model_id,
               j->ds.n_classes, j->ds.dim, j->ds.n_tracks, j->ds.n_windows,
               o.results[0].interrupted ? " (interrupted: best epoch so far)" : "");
        if (j->folds) {
            af_eval *net = malloc((size_t)j->folds * 2 * sizeof *net);
            for (int r = 0; net && r < j->folds; r++)
                memcpy(&net[2 * r], eval_at(&o, r, AF_CLF_NETWORK), 2 * sizeof *net);
            printf("Cross-validation, %d folds (held-out fold per row), network:\n", j->folds);
            if (net)
                af_eval_print_folds(stdout, net, j->folds);
            free(net);
        } else {
            printf("Test split (first network's best epoch %d of %d):\n",
                   o.results[0].best_epoch, o.results[0].n_epochs);
            af_eval_print(stdout, eval_at(&o, 0, AF_CLF_NETWORK), j->ds.classes);
        }
        print_comparison(&o);
        fflush(stdout);
    }
    if (o.results && o.evals) { /* runs never trained are zeroed: freeing them is a no-op */
        outcome_free(&o);
    } else {
        free(o.results);
        free(o.evals);
        free(o.tuned);
        free(o.tune_scores);
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
        {"members", required_argument, NULL, OPT_MEMBERS},
        {"input-dropout", required_argument, NULL, OPT_IN_DROPOUT},
        {"input-noise", required_argument, NULL, OPT_IN_NOISE},
        {"aggregation", required_argument, NULL, OPT_AGGREGATION},
        {"input-transform", required_argument, NULL, OPT_INPUT_TRANSFORM},
        {"no-baselines", no_argument, NULL, OPT_NO_BASELINES},
        {"baselines", no_argument, NULL, OPT_BASELINES},
        {"name", required_argument, NULL, OPT_NAME},
        {"promote", required_argument, NULL, OPT_PROMOTE},
        {"delete", required_argument, NULL, OPT_DELETE},
        {"inner-fold-members", no_argument, NULL, OPT_INNER},
        {"member-val-share", required_argument, NULL, OPT_MEMBER_VAL},
        {"no-inner-fold-members", no_argument, NULL, OPT_NO_INNER},
        {"tune", no_argument, NULL, OPT_TUNE},
        {"tune-grid", required_argument, NULL, OPT_TUNE_GRID},
        {"early-stop-on", required_argument, NULL, OPT_STOP_ON},
        {"mixup", required_argument, NULL, OPT_MIXUP},
        {"key-shift", no_argument, NULL, OPT_KEY_SHIFT},
        {"no-key-shift", no_argument, NULL, OPT_NO_KEY_SHIFT},
        {"list", no_argument, NULL, OPT_LIST},
        {"show", required_argument, NULL, OPT_SHOW},
        {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-train", usage, argc, argv);
    struct job j = {.app = &app};
    bool list = false;
    const char *show = NULL, *promote = NULL, *delete = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_FEATURE_SET:
            af_app_override(&app, "extract.feature_set", optarg, "--feature-set");
            j.feature_set_given = true;
            break;
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
        case OPT_MEMBERS: af_app_override(&app, "train.members", optarg, "--members"); break;
        case OPT_IN_DROPOUT: af_app_override(&app, "train.input_dropout", optarg, "--input-dropout"); break;
        case OPT_IN_NOISE: af_app_override(&app, "train.input_noise", optarg, "--input-noise"); break;
        case OPT_MEMBER_VAL: af_app_override(&app, "train.member_val_share", optarg, "--member-val-share"); break;
        case OPT_AGGREGATION: af_app_override(&app, "train.aggregation", optarg, "--aggregation"); break;
        case OPT_INPUT_TRANSFORM: af_app_override(&app, "train.input_transform", optarg, "--input-transform"); break;
        case OPT_NO_BASELINES: af_app_override(&app, "train.baselines", "false", "--no-baselines"); break;
        case OPT_BASELINES: af_app_override(&app, "train.baselines", "true", "--baselines"); break;
        case OPT_NAME: j.name = optarg; break;
        case OPT_PROMOTE: promote = optarg; break;
        case OPT_DELETE: delete = optarg; break;
        case OPT_INNER: af_app_override(&app, "train.inner_fold_members", "true", "--inner-fold-members"); break;
        case OPT_NO_INNER: af_app_override(&app, "train.inner_fold_members", "false", "--no-inner-fold-members"); break;
        case OPT_TUNE: j.tune = true; break;
        case OPT_TUNE_GRID: af_app_override(&app, "train.tune_grid", optarg, "--tune-grid"); break;
        case OPT_STOP_ON: af_app_override(&app, "train.early_stop_on", optarg, "--early-stop-on"); break;
        case OPT_MIXUP: af_app_override(&app, "train.mixup", optarg, "--mixup"); break;
        case OPT_KEY_SHIFT: af_app_override(&app, "train.key_shift", "true", "--key-shift"); break;
        case OPT_NO_KEY_SHIFT: af_app_override(&app, "train.key_shift", "false", "--no-key-shift"); break;
        case OPT_LIST: list = true; break;
        case OPT_SHOW: show = optarg; break;
        }
    }
    if (optind != argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    if (promote || delete) {
        long long id = 0;
        const char *spec = promote ? promote : delete;
        if (promote && delete)
            af_app_usage_error(&app, "--promote and --delete exclude each other");
        if (af_model_resolve(app.db, spec, &id, &err) != 0 ||
            (promote && af_model_promote(app.db, id, &err) != 0) ||
            (delete && af_model_delete(app.db, id, stdout, &err) != 0))
            return af_app_fail(&app, &err);
        if (promote)
            printf("model %lld is now the default model (af-predict uses it)\n", id);
        return af_app_finish(&app, AF_EXIT_OK, NULL);
    }
    if (list || show) {
        long long id = 0;
        if ((list && af_model_list(app.db, stdout, &err) != 0) ||
            (show && (af_model_resolve_record(app.db, show, &id, &err) != 0 ||
                      af_model_show(app.db, id, stdout, &err) != 0)))
            return af_app_fail(&app, &err);
        return af_app_finish(&app, AF_EXIT_OK, NULL);
    }
    if (j.name && af_model_check_name(app.db, j.name, &err) != 0)
        return af_app_fail(&app, &err);
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
