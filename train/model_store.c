/* model_store.c — models, their epochs and evaluations in PostgreSQL; see model_store.h. */
#include "model_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "baselines.h"
#include "mlp.h"
#include "strbuf.h"
#include "table.h"
#include "utf8text.h"

/* {"a","b"} with every element quoted and escaped: genre names may hold anything. */
static void text_array(af_sb *b, char *const *items, int n)
{
    af_sb_puts(b, "{");
    for (int i = 0; i < n; i++) {
        af_sb_puts(b, i ? ",\"" : "\"");
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                af_sb_puts(b, "\\");
            char s[2] = {*c, 0};
            af_sb_puts(b, s);
        }
        af_sb_puts(b, "\"");
    }
    af_sb_puts(b, "}");
}

static int store_epochs(PGconn *conn, const char *id, const af_model_record *rec, af_err *err)
{
    if (rec->n_epoch_rows == 0)
        return 0;
    af_sb a[7] = {{0}};
    for (size_t i = 0; i < rec->n_epoch_rows; i++) {
        const char *sep = i ? "," : "{";
        const af_epoch_record *e = &rec->epochs[i];
        af_sb_printf(&a[0], "%s%d", sep, rec->epoch_fold[i]);
        af_sb_printf(&a[1], "%s%d", sep, rec->epoch_number[i]);
        af_sb_printf(&a[2], "%s%.9g", sep, e->train_loss);
        af_sb_printf(&a[3], "%s%.9g", sep, e->train_accuracy);
        af_sb_printf(&a[4], "%s%.9g", sep, e->val_loss);
        af_sb_printf(&a[5], "%s%.9g", sep, e->val_accuracy);
        af_sb_printf(&a[6], "%s%.6g", sep, e->seconds);
    }
    int ok = 1;
    for (int k = 0; k < 7; k++) {
        af_sb_puts(&a[k], "}");
        ok &= af_sb_ok(&a[k]);
    }
    int rc = -1;
    if (!ok) {
        af_err_set(err, "out of memory");
    } else {
        const char *p[] = {id, a[0].s, a[1].s, a[2].s, a[3].s, a[4].s, a[5].s, a[6].s};
        rc = af_db_command(conn,
                           "INSERT INTO training_epochs (model_id, fold, epoch, train_loss,"
                           " train_accuracy, val_loss, val_accuracy, seconds)"
                           " SELECT $1, * FROM unnest($2::int[], $3::int[], $4::real[],"
                           " $5::real[], $6::real[], $7::real[], $8::real[])",
                           8, p, err);
    }
    for (int k = 0; k < 7; k++)
        af_sb_free(&a[k]);
    return rc;
}

/* The track-level predictions of one evaluation, as arrays unnested by the server. */
static int store_predictions(PGconn *conn, const char *id, const af_eval *e,
                             const af_model_record *rec, af_err *err)
{
    if (!e->pred_track || e->n == 0 || !rec->track_ids || !rec->track_class)
        return 0;
    af_sb a[4] = {{0}};
    int k = rec->n_genres;
    for (size_t i = 0; i < e->n; i++) {
        size_t t = e->pred_track[i];
        const char *sep = i ? "," : "{";
        af_sb_printf(&a[0], "%s%lld", sep, (long long)rec->track_ids[t]);
        af_sb_printf(&a[1], "%s%d", sep, rec->track_class[t]);
        af_sb_printf(&a[2], "%s%d", sep, e->pred_class[i]);
        af_sb_printf(&a[3], "%s\"{", sep);
        for (int c = 0; c < k; c++)
            af_sb_printf(&a[3], "%s%.6g", c ? "," : "", e->pred_probs[i * (size_t)k + (size_t)c]);
        af_sb_puts(&a[3], "}\"");
    }
    int ok = 1;
    for (int x = 0; x < 4; x++) {
        af_sb_puts(&a[x], "}");
        ok &= af_sb_ok(&a[x]);
    }
    char fold[16];
    snprintf(fold, sizeof fold, "%d", e->fold);
    int rc = -1;
    if (!ok) {
        af_err_set(err, "out of memory");
    } else {
        const char *p[] = {id, af_classifier_name(e->classifier), e->fold < 0 ? NULL : fold,
                           a[0].s, a[1].s, a[2].s, a[3].s};
        rc = af_db_command(conn,
                           "INSERT INTO predictions (model_id, classifier, fold, track_id,"
                           " true_genre, predicted_genre, probabilities)"
                           " SELECT $1::bigint, $2, $3::int, u.t, m.genres[u.truth + 1],"
                           " m.genres[u.pred + 1], u.probs::real[]"
                           " FROM models m, unnest($4::bigint[], $5::int[], $6::int[], $7::text[])"
                           "   AS u(t, truth, pred, probs)"
                           " WHERE m.model_id = $1::bigint",
                           7, p, err);
    }
    for (int x = 0; x < 4; x++)
        af_sb_free(&a[x]);
    return rc;
}

static int store_eval(PGconn *conn, const char *id, const af_eval *e, char *const *genres,
                      af_err *err)
{
    char fold[16], n[24], acc[32], bal[32], f1[32];
    snprintf(fold, sizeof fold, "%d", e->fold);
    snprintf(n, sizeof n, "%zu", e->n);
    snprintf(acc, sizeof acc, "%.9g", e->accuracy);
    snprintf(bal, sizeof bal, "%.9g", e->balanced_accuracy);
    snprintf(f1, sizeof f1, "%.9g", e->macro_f1);
    char *per_class = af_eval_per_class_json(e, genres);
    char *confusion = af_eval_confusion_literal(e);
    int rc = -1;
    if (!per_class || !confusion) {
        af_err_set(err, "out of memory");
    } else {
        const char *p[] = {id,  e->fold < 0 ? NULL : fold,
                           e->level == AF_EVAL_TRACK ? "track" : "window",
                           n,   acc, bal, f1, per_class, confusion,
                           af_classifier_name(e->classifier)};
        rc = af_db_command(conn,
                           "INSERT INTO evaluations (model_id, fold, level, n_examples, accuracy,"
                           " balanced_accuracy, macro_f1, per_class, confusion_matrix, classifier)"
                           " VALUES ($1, $2::int, $3, $4, $5, $6, $7, $8::jsonb, $9::integer[][],"
                           " $10)",
                           10, p, err);
    }
    free(per_class);
    free(confusion);
    return rc;
}

int af_model_store(PGconn *conn, const af_model_record *rec, long long *model_id, af_err *err)
{
    char fs[16], scheme[16], tax[16], fmt[16], run[24];
    snprintf(fs, sizeof fs, "%d", rec->feature_set_id);
    snprintf(scheme, sizeof scheme, "%d", rec->split_scheme_id);
    snprintf(tax, sizeof tax, "%d", rec->taxonomy_version);
    snprintf(fmt, sizeof fmt, "%u", AF_MLP_FORMAT_VERSION);
    snprintf(run, sizeof run, "%lld", rec->run_id);
    /* Two af-train runs storing at once must not both see "no default" in
     * af_model_default_if_none: the lock that prevents it is taken here, before
     * the INSERT, because taking it after (upgrading the INSERT's ROW EXCLUSIVE
     * lock) deadlocks two runs that both inserted. */
    if (af_db_command(conn, "LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE", 0, NULL, err) != 0)
        return -1;
    af_sb genres = {0};
    text_array(&genres, rec->genres, rec->n_genres);
    if (!af_sb_str(&genres))
        return af_err_set(err, "out of memory");
    const char *p[] = {fs,
                       rec->split_scheme_id ? scheme : NULL,
                       rec->taxonomy_version ? tax : NULL,
                       genres.s,
                       rec->hyperparameters,
                       fmt,
                       (const char *)rec->weights,
                       rec->run_id ? run : NULL,
                       rec->name,
                       rec->interrupted ? "true" : "false"};
    int lengths[10] = {0, 0, 0, 0, 0, 0, (int)rec->weights_len, 0, 0, 0};
    int formats[10] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    PGresult *res = af_db_query_binary(
        conn,
        "INSERT INTO models (feature_set_id, split_scheme_id, taxonomy_version, genres,"
        " hyperparameters, format_version, weights, run_id, name, interrupted)"
        " SELECT $1::int, $2::int, $3::int, $4::text[],"
        " $5::jsonb || jsonb_build_object('feature_set', f.name, 'feature_params', f.parameters),"
        " $6::int, $7::bytea, $8::bigint, $9, $10::boolean"
        " FROM feature_sets f WHERE f.feature_set_id = $1::int"
        " RETURNING model_id",
        10, p, lengths, formats, 0, err);
    af_sb_free(&genres);
    if (!res)
        return af_err_prefix(err, "storing the model");
    if (PQntuples(res) != 1) {
        PQclear(res);
        return af_err_set(err, "storing the model: feature set %d vanished", rec->feature_set_id);
    }
    *model_id = atoll(PQgetvalue(res, 0, 0));
    char id[24];
    snprintf(id, sizeof id, "%lld", *model_id);
    PQclear(res);
    if (store_epochs(conn, id, rec, err) != 0)
        return af_err_prefix(err, "storing the training history");
    for (int i = 0; i < rec->n_evals; i++) {
        const af_eval *e = &rec->evals[i];
        if (!e->per_class)
            continue;
        if (store_eval(conn, id, e, rec->genres, err) != 0)
            return af_err_prefix(err, "storing the evaluation");
        if (e->level == AF_EVAL_TRACK && store_predictions(conn, id, e, rec, err) != 0)
            return af_err_prefix(err, "storing the predictions");
    }
    return 0;
}

int af_model_default_if_none(PGconn *conn, long long model_id, bool *became, af_err *err)
{
    *became = false;
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query(conn,
                                "UPDATE models SET is_default = true WHERE model_id = $1::bigint"
                                " AND NOT interrupted AND deleted_at IS NULL"
                                " AND NOT EXISTS (SELECT 1 FROM models WHERE is_default)"
                                " RETURNING model_id",
                                1, p, err);
    if (!res)
        return -1;
    *became = PQntuples(res) == 1;
    PQclear(res);
    return 0;
}

int af_model_resolve_default(PGconn *conn, long long *model_id, af_err *err)
{
    PGresult *res = af_db_query(conn,
                                "SELECT (SELECT model_id FROM models WHERE is_default),"
                                " (SELECT count(*) FROM models WHERE deleted_at IS NULL)",
                                0, NULL, err);
    if (!res)
        return -1;
    int none = PQgetisnull(res, 0, 0);
    long long live = atoll(PQgetvalue(res, 0, 1));
    *model_id = none ? 0 : atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!none)
        return 0;
    if (live == 0)
        return af_err_set(err, "no model in the database yet: train one with af-train");
    return af_err_set(err, "no default model (%lld model(s) stored, none promoted; interrupted "
                           "ones never become the default): choose one with af-train --promote "
                           "ID, or name one with --model (af-train --list shows them)",
                      live);
}

/* The model matching `where` ($1 = param) into *id_out; fails saying it is
 * unknown (spec: as the user wrote it) or, unless deleted_ok, when it was
 * deleted. */
static int check_live(PGconn *conn, const char *where, const char *param, bool deleted_ok,
                      long long *id_out, const char *spec, af_err *err)
{
    const char *p[] = {param};
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT model_id, to_char(deleted_at, 'YYYY-MM-DD HH24:MI'),"
             " coalesce(' (' || name || ')', '') FROM models WHERE %s"
             " ORDER BY deleted_at IS NULL DESC, model_id DESC LIMIT 1", where);
    PGresult *res = af_db_query(conn, sql, 1, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return strcmp(where, "name = $1") == 0
                   ? af_err_set(err, "no model named '%s' (af-train --list shows the models)",
                                spec)
                   : af_err_set(err, "no model with id %s (af-train --list shows the models)",
                                spec);
    }
    long long id = atoll(PQgetvalue(res, 0, 0));
    int deleted = !PQgetisnull(res, 0, 1);
    char when[40], name[160];
    snprintf(when, sizeof when, "%s", PQgetvalue(res, 0, 1));
    snprintf(name, sizeof name, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (deleted && !deleted_ok)
        return af_err_set(err, "model %lld%s was deleted on %s: it cannot be used; "
                               "af-train --list shows the models left",
                          id, name, when);
    *id_out = id;
    return 0;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int resolve(PGconn *conn, const char *spec, bool deleted_ok, long long *model_id,
                   af_err *err)
{
    if (strcmp(spec, "default") == 0)
        return af_model_resolve_default(conn, model_id, err);
    if (strcmp(spec, "latest") == 0) {
        PGresult *res = af_db_query(conn,
                                    "SELECT max(model_id) FROM models WHERE deleted_at IS NULL",
                                    0, NULL, err);
        if (!res)
            return -1;
        int none = PQgetisnull(res, 0, 0);
        *model_id = none ? 0 : atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (none)
            return af_err_set(err, "no model in the database yet: train one with af-train");
        return 0;
    }
    if (all_digits(spec)) {
        char *end;
        errno = 0;
        long long id = strtoll(spec, &end, 10);
        if (*end || id <= 0 || errno == ERANGE)
            return af_err_set_code(err, AF_EXIT_USAGE,
                                   "model '%s': expected a model id, a name, 'default' or "
                                   "'latest'", spec);
        return check_live(conn, "model_id = $1::bigint", spec, deleted_ok, model_id, spec, err);
    }
    if (!spec[0])
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "model '': expected a model id, a name, 'default' or 'latest'");
    return check_live(conn, "name = $1", spec, deleted_ok, model_id, spec, err);
}

int af_model_resolve(PGconn *conn, const char *spec, long long *model_id, af_err *err)
{
    return resolve(conn, spec, false, model_id, err);
}

int af_model_resolve_record(PGconn *conn, const char *spec, long long *model_id, af_err *err)
{
    return resolve(conn, spec, true, model_id, err);
}

static bool has_control_character(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

int af_model_check_name(PGconn *conn, const char *name, af_err *err)
{
    if (!name[0] || all_digits(name) || strcmp(name, "default") == 0 ||
        strcmp(name, "latest") == 0 || strlen(name) > 100 || !af_utf8_is_valid(name) ||
        has_control_character(name)) {
        char *shown = af_utf8_escaped(name);
        af_err_set_code(err, AF_EXIT_USAGE,
                        "model name '%s': must be 1-100 bytes of UTF-8 text without control "
                        "characters, not all digits, not 'default' or 'latest'",
                        shown ? shown : "?");
        free(shown);
        return -1;
    }
    const char *p[] = {name};
    PGresult *res = af_db_query(conn,
                                "SELECT model_id FROM models WHERE name = $1 AND deleted_at IS NULL",
                                1, p, err);
    if (!res)
        return -1;
    int taken = PQntuples(res) > 0;
    long long other = taken ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    if (taken)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "model name '%s' is already model %lld's: choose another, or "
                               "af-train --delete %lld first", name, other, other);
    return 0;
}

int af_model_promote(PGconn *conn, long long model_id, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query(conn,
                                "SELECT interrupted, deleted_at IS NOT NULL FROM models"
                                " WHERE model_id = $1::bigint",
                                1, p, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    int interrupted = found && PQgetvalue(res, 0, 0)[0] == 't';
    int deleted = found && PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    if (!found)
        return af_err_set(err, "no model with id %lld (af-train --list shows the models)",
                          model_id);
    if (deleted)
        return af_err_set(err, "model %lld was deleted: it cannot be the default", model_id);
    if (interrupted)
        return af_err_set(err, "model %lld was interrupted before training finished: it "
                               "cannot be the default (train it again)", model_id);
    if (af_db_begin(conn, err) != 0)
        return -1;
    if (af_db_command(conn, "UPDATE models SET is_default = false WHERE is_default", 0, NULL,
                      err) != 0 ||
        af_db_command(conn, "UPDATE models SET is_default = true WHERE model_id = $1::bigint", 1,
                      p, err) != 0 ||
        af_db_commit(conn, err) != 0) {
        af_db_rollback(conn);
        return -1;
    }
    return 0;
}

int af_model_delete(PGconn *conn, long long model_id, FILE *out, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query(conn,
                                "UPDATE models SET deleted_at = now(), is_default = false,"
                                " weights = ''::bytea"
                                " WHERE model_id = $1::bigint AND deleted_at IS NULL"
                                " RETURNING (SELECT is_default FROM models WHERE model_id = $1::bigint)",
                                1, p, err);
    if (!res)
        return -1;
    int done = PQntuples(res) == 1;
    int was_default = done && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!done)
        return af_err_set(err, "no live model with id %lld (already deleted, or unknown; "
                               "af-train --list shows the models)", model_id);
    fprintf(out, "deleted model %lld (its evaluations stay on record)\n", model_id);
    if (was_default)
        fprintf(out, "model %lld was the default: no model is the default now; choose one "
                     "with af-train --promote ID\n", model_id);
    return 0;
}

int af_model_list(PGconn *conn, FILE *out, af_err *err)
{
    PGresult *res = af_db_query(
        conn,
        "SELECT m.model_id, coalesce(m.name, ''), to_char(m.created_at, 'YYYY-MM-DD HH24:MI'),"
        " m.hyperparameters->>'feature_set', coalesce(s.name, '-'),"
        " array_length(m.genres, 1), coalesce(m.hyperparameters->>'folds', '-'),"
        " coalesce(m.hyperparameters->>'epochs', '-'),"
        " coalesce((SELECT to_char(avg(e.accuracy), 'FM0.0000') FROM evaluations e"
        "   WHERE e.model_id = m.model_id AND e.level = 'window' AND e.classifier = 'network'), '-'),"
        " coalesce((SELECT to_char(avg(e.accuracy), 'FM0.0000') FROM evaluations e"
        "   WHERE e.model_id = m.model_id AND e.level = 'track' AND e.classifier = 'network'), '-'),"
        " coalesce(to_char((m.hyperparameters->'comparison'->>'margin_track_accuracy')::float8"
        "   * 100, 'FMS990.0'), '-'),"
        " concat_ws(' ', CASE WHEN m.is_default THEN 'DEFAULT' END,"
        "   CASE WHEN m.deleted_at IS NOT NULL THEN 'deleted' END,"
        "   CASE WHEN m.interrupted THEN 'interrupted' END,"
        "   CASE WHEN m.hyperparameters->>'data' = 'csv' THEN 'csv' END)"
        " FROM models m LEFT JOIN split_schemes s USING (split_scheme_id) ORDER BY m.model_id",
        0, NULL, err);
    if (!res)
        return -1;
    static const char *const head[] = {"model", "name", "created", "features", "split",
                                       "genres", "folds", "epochs", "window acc.", "track acc.",
                                       "vs best baseline", "note"};
    struct af_table *t = af_table_from_result(res, head);
    if (PQntuples(res) == 0)
        fputs("no models yet\n", out);
    else
        af_table_print(t, out);
    af_table_free(t);
    PQclear(res);
    return 0;
}

int af_model_print_comparison(PGconn *conn, long long model_id, FILE *out, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query(
        conn,
        "SELECT classifier,"
        " to_char(avg(accuracy) FILTER (WHERE level = 'window'), 'FM0.0000'),"
        " to_char(avg(accuracy) FILTER (WHERE level = 'track'), 'FM0.0000'),"
        " coalesce(to_char(stddev_samp(accuracy) FILTER (WHERE level = 'track'), 'FM0.0000'), '-'),"
        " to_char(avg(balanced_accuracy) FILTER (WHERE level = 'track'), 'FM0.0000'),"
        " to_char(avg(macro_f1) FILTER (WHERE level = 'track'), 'FM0.0000')"
        " FROM evaluations WHERE model_id = $1::bigint GROUP BY classifier"
        " ORDER BY array_position(ARRAY['network', 'logreg', 'svm'], classifier)",
        1, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) < 2) {
        fputs("\nNo baselines were evaluated with this model (--no-baselines).\n", out);
        PQclear(res);
        return 0;
    }
    fputs("\nNetwork against the baselines (mean over the folds; same rows and features):\n",
          out);
    static const char *const head[] = {"classifier", "window acc.", "track acc.", "track sd",
                                       "track balanced acc.", "track macro-F1"};
    struct af_table *t = af_table_from_result(res, head);
    af_table_print(t, out);
    af_table_free(t);
    PQclear(res);
    res = af_db_query(
        conn,
        "WITH a AS (SELECT classifier, avg(accuracy) AS acc FROM evaluations"
        "  WHERE model_id = $1::bigint AND level = 'track' GROUP BY classifier),"
        " b AS (SELECT classifier, acc FROM a WHERE classifier <> 'network' ORDER BY acc DESC"
        "  LIMIT 1),"
        /* per fold, network minus the best baseline (as af-train's margin_standard_error) */
        " d AS (SELECT n.accuracy - x.accuracy AS diff FROM evaluations n"
        "  JOIN evaluations x ON x.model_id = n.model_id AND x.level = 'track'"
        "   AND x.fold IS NOT DISTINCT FROM n.fold AND x.classifier = (SELECT classifier FROM b)"
        "  WHERE n.model_id = $1::bigint AND n.level = 'track' AND n.classifier = 'network')"
        " SELECT CASE WHEN n.acc >= b.acc THEN 'network wins' ELSE 'network LOSES' END,"
        " to_char(abs(n.acc - b.acc) * 100, 'FM990.0'), b.classifier,"
        " coalesce((SELECT '; standard error of the fold-paired difference '"
        "   || to_char(stddev_samp(diff) * 100 / sqrt(count(*)), 'FM990.0') || ' points'"
        "   FROM d HAVING count(*) > 1), '')"
        " FROM a n, b WHERE n.classifier = 'network'",
        1, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1)
        fprintf(out, "%s by %s points of track accuracy over the best baseline (%s)%s\n",
                PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                PQgetvalue(res, 0, 3));
    PQclear(res);
    return 0;
}

int af_model_show(PGconn *conn, long long model_id, FILE *out, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query(
        conn,
        "SELECT m.model_id || coalesce(' (' || m.name || ')', '')"
        " || CASE WHEN m.is_default THEN ', the default' ELSE '' END"
        " || CASE WHEN m.interrupted THEN ', interrupted' ELSE '' END"
        " || coalesce(', deleted ' || to_char(m.deleted_at, 'YYYY-MM-DD HH24:MI'), ''),"
        " m.created_at, coalesce(m.run_id::text, '-'),"
        " m.hyperparameters->>'feature_set', coalesce(s.name, '-'),"
        " coalesce(m.taxonomy_version::text, '-'), array_to_string(m.genres, ', '),"
        " m.format_version, length(m.weights), jsonb_pretty(m.hyperparameters - 'feature_params'),"
        " m.hyperparameters->'feature_params'"
        " FROM models m LEFT JOIN split_schemes s USING (split_scheme_id)"
        " WHERE m.model_id = $1::bigint",
        1, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return af_err_set(err, "no model with id %lld (af-train --list shows the models)",
                          model_id);
    }
    fprintf(out,
            "model            %s\ncreated          %s\nrun              %s\nfeature set      %s\n"
            "split scheme     %s\ntaxonomy version %s\ngenres           %s\n"
            "format version   %s\nweights          %s bytes\nfeature params   %s\n"
            "hyperparameters  %s\n",
            PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
            PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
            PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8),
            PQgetvalue(res, 0, 10), PQgetvalue(res, 0, 9));
    PQclear(res);

    res = af_db_query(conn,
                      "SELECT coalesce(fold::text, 'test'), level, n_examples,"
                      " to_char(accuracy, 'FM0.0000'), to_char(balanced_accuracy, 'FM0.0000'),"
                      " to_char(macro_f1, 'FM0.0000') FROM evaluations WHERE model_id = $1::bigint"
                      " AND classifier = 'network' ORDER BY fold NULLS FIRST, level DESC",
                      1, p, err);
    if (!res)
        return -1;
    fputs("\nEvaluation (network):\n", out);
    static const char *const head[] = {"set", "level", "n", "accuracy", "balanced acc.",
                                       "macro-F1"};
    struct af_table *t = af_table_from_result(res, head);
    af_table_print(t, out);
    af_table_free(t);
    PQclear(res);
    if (af_model_print_comparison(conn, model_id, out, err) != 0)
        return -1;

    /* Per genre at track level, summed over folds for cross-validation. */
    res = af_db_query(conn,
                      "SELECT g.key, to_char(avg((g.value->>'precision')::float8), 'FM0.000'),"
                      " to_char(avg((g.value->>'recall')::float8), 'FM0.000'),"
                      " to_char(avg((g.value->>'f1')::float8), 'FM0.000'),"
                      " sum((g.value->>'support')::int)"
                      " FROM evaluations e, jsonb_each(e.per_class) g"
                      " WHERE e.model_id = $1::bigint AND e.level = 'track'"
                      " AND e.classifier = 'network' GROUP BY g.key ORDER BY g.key",
                      1, p, err);
    if (!res)
        return -1;
    fputs("\nPer genre (track level", out);
    fputs("; mean over folds for cross-validation):\n", out);
    static const char *const head2[] = {"genre", "precision", "recall", "F1", "support"};
    t = af_table_from_result(res, head2);
    af_table_print(t, out);
    af_table_free(t);
    PQclear(res);
    return 0;
}

int af_model_load(PGconn *conn, long long model_id, af_stored_model *m, af_err *err)
{
    memset(m, 0, sizeof *m);
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query_binary(
        conn,
        "SELECT weights, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'),"
        " coalesce(hyperparameters->>'feature_set', ''), hyperparameters::text,"
        " (hyperparameters->'feature_params')::text, coalesce(name, ''),"
        " is_default::text, to_char(deleted_at, 'YYYY-MM-DD HH24:MI')"
        " FROM models WHERE model_id = $1::bigint",
        1, p, NULL, NULL, 1, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return af_err_set(err, "no model with id %lld (af-train --list shows the models)",
                          model_id);
    }
    if (!PQgetisnull(res, 0, 7)) {
        af_err_set(err, "model %lld was deleted on %.*s: it cannot be used", model_id,
                   PQgetlength(res, 0, 7), PQgetvalue(res, 0, 7));
        PQclear(res);
        return -1;
    }
    m->id = model_id;
    snprintf(m->name, sizeof m->name, "%.*s", PQgetlength(res, 0, 5), PQgetvalue(res, 0, 5));
    m->is_default = PQgetvalue(res, 0, 6)[0] == 't';
    m->weights_len = (size_t)PQgetlength(res, 0, 0);
    m->weights = malloc(m->weights_len ? m->weights_len : 1);
    m->hyperparameters = strndup(PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3));
    if (!PQgetisnull(res, 0, 4))
        m->feature_params = strndup(PQgetvalue(res, 0, 4), (size_t)PQgetlength(res, 0, 4));
    snprintf(m->created, sizeof m->created, "%.*s", PQgetlength(res, 0, 1), PQgetvalue(res, 0, 1));
    snprintf(m->feature_set, sizeof m->feature_set, "%.*s", PQgetlength(res, 0, 2),
             PQgetvalue(res, 0, 2));
    if (m->weights)
        memcpy(m->weights, PQgetvalue(res, 0, 0), m->weights_len);
    PQclear(res);
    if (!m->weights || !m->hyperparameters) {
        af_stored_model_free(m);
        return af_err_set(err, "out of memory");
    }
    res = af_db_query(conn,
                      "SELECT g FROM models, unnest(genres) WITH ORDINALITY AS u(g, i)"
                      " WHERE model_id = $1::bigint ORDER BY i",
                      1, p, err);
    if (!res) {
        af_stored_model_free(m);
        return -1;
    }
    m->n_genres = PQntuples(res);
    m->genres = calloc((size_t)m->n_genres + 1, sizeof *m->genres);
    int ok = m->genres != NULL;
    for (int i = 0; ok && i < m->n_genres; i++)
        ok = (m->genres[i] = strdup(PQgetvalue(res, i, 0))) != NULL;
    PQclear(res);
    if (!ok) {
        af_stored_model_free(m);
        return af_err_set(err, "out of memory");
    }
    return 0;
}

void af_stored_model_free(af_stored_model *m)
{
    for (int i = 0; m->genres && i < m->n_genres; i++)
        free(m->genres[i]);
    free(m->genres);
    free(m->weights);
    free(m->hyperparameters);
    free(m->feature_params);
    memset(m, 0, sizeof *m);
}
