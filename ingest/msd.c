/* msd.c — bulk loader for the MSD Last.fm dataset, unique_tracks.txt, tagtraum and MAGD; see msd.h. */
#include "msd.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "normalise.h"
#include "utf8text.h"
#include "ratelimit.h"
#include "run.h"

#define MAX_JSON_BYTES (64 * 1024 * 1024)
/* A longer tag is no genre tag, and would exceed a btree index entry (2704 bytes). */
#define MAX_TAG_BYTES 500
/* Last.fm tag counts are 0..100 (the top tag of a track is 100). */
#define MAX_LASTFM_COUNT 100

int msd_is_track_id(const char *text, size_t len)
{
    if (len != 18 || text[0] != 'T' || text[1] != 'R')
        return 0;
    for (size_t i = 2; i < 18; i++)
        if (!(isupper((unsigned char)text[i]) || isdigit((unsigned char)text[i])))
            return 0;
    return 1;
}

const char *msd_tagtraum_source(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char lower[256];
    size_t n = 0;
    for (; base[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)base[n]);
    lower[n] = '\0';
    if (strstr(lower, "cd2c"))
        return "tagtraum_cd2c";
    if (strstr(lower, "cd2"))
        return "tagtraum_cd2";
    if (strstr(lower, "cd1"))
        return "tagtraum_cd1";
    return NULL;
}

/* ---- problems found by parser threads, recorded by the main thread ---- */

struct problem {
    char *item, *problem, *detail;
};

struct batch_out {
    struct af_buf tracks; /* COPY rows: msd_track_id, artist, title, match_key */
    struct af_buf tags;   /* COPY rows: msd_track_id, source, tag, weight */
    struct problem *problems;
    int n_problems, cap_problems;
    long files, tag_rows;
};

static void add_problem(struct batch_out *out, const char *item, const char *problem,
                        const char *detail)
{
    if (out->n_problems == out->cap_problems) {
        out->cap_problems = out->cap_problems ? 2 * out->cap_problems : 16;
        out->problems = realloc(out->problems, (size_t)out->cap_problems * sizeof *out->problems);
        if (!out->problems)
            abort();
    }
    struct problem *p = &out->problems[out->n_problems++];
    p->item = strdup(item);
    p->problem = strdup(problem);
    p->detail = detail ? strdup(detail) : NULL;
}

static void batch_out_reset(struct batch_out *out)
{
    for (int i = 0; i < out->n_problems; i++) {
        free(out->problems[i].item);
        free(out->problems[i].problem);
        free(out->problems[i].detail);
    }
    out->n_problems = 0;
    out->tracks.len = out->tags.len = 0;
    out->files = out->tag_rows = 0;
}

static void batch_out_free(struct batch_out *out)
{
    batch_out_reset(out);
    free(out->problems);
    af_buf_free(&out->tracks);
    af_buf_free(&out->tags);
}

static void put_track_row(struct batch_out *out, const char *id, const char *artist,
                          const char *title)
{
    char key[1024];
    size_t key_len = af_match_key(artist, title, key, sizeof key);
    af_buf_copy_field(&out->tracks, id);
    af_buf_append(&out->tracks, "\t", 1);
    af_buf_copy_field(&out->tracks, artist);
    af_buf_append(&out->tracks, "\t", 1);
    af_buf_copy_field(&out->tracks, title);
    af_buf_append(&out->tracks, "\t", 1);
    af_buf_copy_field(&out->tracks, key_len ? key : NULL);
    af_buf_append(&out->tracks, "\n", 1);
}

static void put_tag_row(struct batch_out *out, const char *id, const char *source,
                        const char *tag, double weight)
{
    char w[32];
    int n = snprintf(w, sizeof w, "\t%.6f\n", weight); /* %g could write 1e-50: real underflows */
    af_buf_copy_field(&out->tags, id);
    af_buf_append(&out->tags, "\t", 1);
    af_buf_append(&out->tags, source, strlen(source));
    af_buf_append(&out->tags, "\t", 1);
    af_buf_copy_field(&out->tags, tag);
    af_buf_append(&out->tags, w, (size_t)n);
    out->tag_rows++;
}

/* ---- one Last.fm dataset file ---- */

static char *read_file(const char *path, size_t *len, char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size > MAX_JSON_BYTES) {
        snprintf(why, why_len, "%s", st.st_size > MAX_JSON_BYTES ? "larger than 64 MB" : strerror(errno));
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *data = malloc(cap);
    if (!data)
        abort();
    for (;;) {
        ssize_t r = read(fd, data + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_len, "read error: %s", strerror(errno));
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n + 1 == cap) { /* the file grew */
            cap *= 2;
            data = realloc(data, cap);
            if (!data)
                abort();
        }
    }
    close(fd);
    data[n] = '\0';
    *len = n;
    return data;
}

/* A text field, or NULL when missing, not a string or empty. */
static const char *json_text(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

static void parse_lastfm_file(const char *path, struct batch_out *out)
{
    char why[512];
    size_t len;
    out->files++;
    char *data = read_file(path, &len, why, sizeof why);
    if (!data) {
        add_problem(out, path, "unreadable", why);
        return;
    }
    if (!af_utf8_valid(data, len)) {
        free(data);
        add_problem(out, path, "invalid_utf8", "the file is not valid UTF-8; skipped");
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    free(data);
    if (!root || !json_is_object(root)) {
        if (root)
            snprintf(why, sizeof why, "not a JSON object; skipped");
        else
            snprintf(why, sizeof why, "line %d, column %d: %s; skipped", jerr.line, jerr.column,
                     jerr.text);
        json_decref(root);
        add_problem(out, path, "malformed_json", why);
        return;
    }
    const char *id = json_text(root, "track_id");
    char from_name[19];
    if (!id || !msd_is_track_id(id, strlen(id))) {
        /* The file name is the track id: TRxxxxxxxxxxxxxxxx.json */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strlen(base) == 23 && strcmp(base + 18, ".json") == 0 && msd_is_track_id(base, 18)) {
            memcpy(from_name, base, 18);
            from_name[18] = '\0';
            snprintf(why, sizeof why, "%s \"track_id\"; took %s from the file name",
                     id ? "invalid" : "no", from_name);
            add_problem(out, path, "missing_field", why);
            id = from_name;
        } else {
            add_problem(out, path, "missing_field",
                        id ? "invalid \"track_id\" and no track id in the file name; skipped"
                           : "no \"track_id\" and no track id in the file name; skipped");
            json_decref(root);
            return;
        }
    }
    const char *artist = json_text(root, "artist"), *title = json_text(root, "title");
    put_track_row(out, id, artist, title);
    json_t *tags = json_object_get(root, "tags");
    size_t bad = 0, n = json_array_size(tags);
    if (tags && !json_is_array(tags))
        bad++;
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(tags, i);
        const char *tag = json_string_value(json_array_get(pair, 0));
        json_t *count = json_array_get(pair, 1);
        double weight;
        if (!json_is_array(pair) || !tag || !*tag || !count || strlen(tag) > MAX_TAG_BYTES) {
            bad++;
            continue;
        }
        if (json_is_number(count)) {
            weight = json_number_value(count);
        } else if (json_is_string(count)) {
            char *end;
            const char *s = json_string_value(count);
            weight = strtod(s, &end);
            if (end == s || *end) {
                bad++;
                continue;
            }
        } else {
            bad++;
            continue;
        }
        if (!af_tag_weight_ok(weight, MAX_LASTFM_COUNT)) {
            /* One bad value must not fail the whole batch's COPY: record it, go on. */
            snprintf(why, sizeof why, "tag \"%.200s\": count %.200s is not a number in [0, 100];"
                     " the tag is skipped, the rest of the file loaded", tag,
                     json_is_string(count) ? json_string_value(count) : "(a JSON number)");
            if (json_is_number(count))
                snprintf(why, sizeof why, "tag \"%.200s\": count %g is not a number in [0, 100];"
                         " the tag is skipped, the rest of the file loaded", tag, weight);
            add_problem(out, path, "bad_tag_weight", why);
            continue;
        }
        put_tag_row(out, id, "msd_lastfm", tag, weight);
    }
    if (bad) {
        snprintf(why, sizeof why, "%zu malformed entr%s in \"tags\" skipped; the rest loaded", bad,
                 bad == 1 ? "y" : "ies");
        add_problem(out, path, "bad_tag_entries", why);
    }
    json_decref(root);
}

/* ---- parser threads ---- */

struct worker {
    pthread_t thread;
    char **paths;
    size_t n;
    struct batch_out *out;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (size_t i = 0; i < w->n; i++)
        parse_lastfm_file(w->paths[i], w->out);
    return NULL;
}

struct parse_batch {
    struct worker *workers;
    struct batch_out *outs;
    int jobs;
    int running;
};

static void parse_start(struct parse_batch *pb, char **paths, size_t n)
{
    size_t per = (n + (size_t)pb->jobs - 1) / (size_t)pb->jobs;
    for (int j = 0; j < pb->jobs; j++) {
        size_t start = (size_t)j * per;
        size_t end = start + per < n ? start + per : n;
        struct worker *w = &pb->workers[j];
        batch_out_reset(&pb->outs[j]);
        w->paths = paths + (start < n ? start : n);
        w->n = start < n ? end - start : 0;
        w->out = &pb->outs[j];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            worker_main(w), w->thread = 0;
    }
    pb->running = 1;
}

static void parse_join(struct parse_batch *pb)
{
    if (!pb->running)
        return;
    for (int j = 0; j < pb->jobs; j++)
        if (pb->workers[j].thread)
            pthread_join(pb->workers[j].thread, NULL);
    pb->running = 0;
}

/* ---- the database side ---- */

static const char create_staging[] =
    "CREATE TEMP TABLE IF NOT EXISTS msd_stage_tracks (msd_track_id text, artist text,"
    " title text, match_key text);"
    "CREATE TEMP TABLE IF NOT EXISTS msd_stage_tags (msd_track_id text, source text, tag text,"
    " weight real);"
    "CREATE TEMP TABLE IF NOT EXISTS msd_names (msd_track_id text, artist text, title text,"
    " match_key text);"
    "SET synchronous_commit = off";

static int exec_simple(PGconn *db, const char *sql, af_err *err)
{
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        af_err_set_code(err, PQstatus(db) == CONNECTION_BAD ? 3 : 1, "%s",
                        PQresultErrorMessage(res));
        err->msg[strcspn(err->msg, "\n")] = '\0';
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

static long long command_rows(PGconn *db, const char *sql, int n, const char *const *params,
                              af_err *err)
{
    PGresult *res = af_db_query(db, sql, n, params, err);
    if (!res)
        return -1;
    long long rows = atoll(PQcmdTuples(res));
    PQclear(res);
    return rows;
}

static int copy_buffer(PGconn *db, const char *copy_sql, const struct af_buf *buf, af_err *err)
{
    if (buf->len == 0)
        return 0;
    if (af_db_copy_begin(db, copy_sql, err) != 0)
        return -1;
    /* COPY data goes in pieces of at most 1 MB (PQputCopyData takes an int). */
    for (size_t off = 0; off < buf->len;) {
        size_t n = buf->len - off < (1 << 20) ? buf->len - off : (1 << 20);
        if (af_db_copy_put(db, buf->data + off, n, err) != 0)
            return -1;
        off += n;
    }
    return af_db_copy_end(db, err);
}

/* Moves the staged rows into the real tables; the caller holds the transaction. */
static int merge_staged(struct ingest_ctx *ctx, af_err *err)
{
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    const char *p[] = {run};
    /* An existing track from another source (no MSD id) with the same artist and title
     * becomes this MSD track. */
    long long merged = command_rows(
        ctx->db,
        "UPDATE tracks t SET msd_track_id = s.msd_track_id, updated_at = now()"
        " FROM (SELECT DISTINCT ON (k) k, msd_track_id FROM ("
        "        SELECT coalesce(s.match_key, n.match_key) AS k, s.msd_track_id"
        "          FROM msd_stage_tracks s LEFT JOIN msd_names n USING (msd_track_id)) x"
        "        WHERE k IS NOT NULL"
        "          AND NOT EXISTS (SELECT 1 FROM tracks e WHERE e.msd_track_id = x.msd_track_id)"
        "          AND EXISTS (SELECT 1 FROM tracks w WHERE w.msd_track_id IS NULL AND w.match_key = x.k)"
        "        ORDER BY k, msd_track_id) s"
        " WHERE t.track_id = (SELECT min(w.track_id) FROM tracks w"
        "                     WHERE w.msd_track_id IS NULL AND w.match_key = s.k)",
        0, NULL, err);
    if (merged < 0)
        return -1;
    af_run_count(ctx->run, "tracks_merged", merged);
    long long tracks = command_rows(
        ctx->db,
        "INSERT INTO tracks (msd_track_id, artist, title, match_key)"
        " SELECT DISTINCT ON (s.msd_track_id) s.msd_track_id,"
        "  CASE WHEN s.artist IS NULL OR s.title IS NULL THEN coalesce(n.artist, s.artist) ELSE s.artist END,"
        "  CASE WHEN s.artist IS NULL OR s.title IS NULL THEN coalesce(n.title, s.title) ELSE s.title END,"
        "  CASE WHEN s.artist IS NULL OR s.title IS NULL THEN n.match_key ELSE s.match_key END"
        " FROM msd_stage_tracks s LEFT JOIN msd_names n USING (msd_track_id)"
        " ORDER BY s.msd_track_id, s.artist IS NULL"
        " ON CONFLICT (msd_track_id) DO NOTHING",
        0, NULL, err);
    if (tracks < 0)
        return -1;
    af_run_count(ctx->run, "tracks", tracks);
    if (command_rows(ctx->db,
                     "INSERT INTO track_sources (track_id, source, source_key, run_id)"
                     " SELECT DISTINCT t.track_id, 'msd', t.msd_track_id, $1::bigint"
                     " FROM msd_stage_tracks s JOIN tracks t USING (msd_track_id)"
                     " ORDER BY t.track_id ON CONFLICT DO NOTHING", 1, p, err) < 0)
        return -1;
    /* run_id stays NULL on bulk-loaded tags: the foreign-key check on runs for each of
     * millions of rows costs about 40 % of the load; the run is on track_sources. */
    long long tags = command_rows(ctx->db,
                                  "INSERT INTO raw_tags (track_id, source, tag, weight)"
                                  " SELECT t.track_id, s.source, s.tag, s.weight"
                                  " FROM msd_stage_tags s JOIN tracks t USING (msd_track_id)"
                                  /* in index order: far fewer pages touched */
                                  " ORDER BY t.track_id, s.source, s.tag"
                                  " ON CONFLICT DO NOTHING", 0, NULL, err);
    if (tags < 0)
        return -1;
    af_run_count(ctx->run, "tags", tags);
    return exec_simple(ctx->db, "TRUNCATE msd_stage_tracks, msd_stage_tags", err);
}

/* Every problem but a repaired line means input that was not loaded (a file, a line
 * or a tag value): the run exits 1 (README: some items failed). */
static int not_loaded(const char *problem) { return strcmp(problem, "repaired_text") != 0; }

static int record_problems(struct ingest_ctx *ctx, const char *source, struct batch_out *out,
                           af_err *err)
{
    for (int i = 0; i < out->n_problems; i++) {
        const struct problem *p = &out->problems[i];
        ctx->items_failed += not_loaded(p->problem);
        if (ingest_problem(ctx, source, p->item, p->problem, p->detail, err) != 0)
            return -1;
    }
    return 0;
}

/* COPY, merge and commit one batch of parsed output. */
static int load_batch(struct ingest_ctx *ctx, const char *source, struct batch_out *outs,
                      int n_outs, af_err *err)
{
    if (af_db_begin(ctx->db, err) != 0)
        return -1;
    for (int j = 0; j < n_outs; j++) {
        if (copy_buffer(ctx->db, "COPY msd_stage_tracks FROM STDIN", &outs[j].tracks, err) != 0 ||
            copy_buffer(ctx->db, "COPY msd_stage_tags FROM STDIN", &outs[j].tags, err) != 0 ||
            record_problems(ctx, source, &outs[j], err) != 0)
            goto fail;
    }
    if (merge_staged(ctx, err) != 0)
        goto fail;
    if (af_db_commit(ctx->db, err) != 0)
        goto fail;
    for (int j = 0; j < n_outs; j++) { /* counted once committed: a refused batch is retried */
        af_run_count(ctx->run, "files", outs[j].files);
        af_run_count(ctx->run, "tag_rows_read", outs[j].tag_rows);
    }
    return 0;
fail:
    af_db_rollback(ctx->db);
    return -1;
}

/* A batch the database refused (a row no check here foresaw): its files again, one
 * transaction each, so that one bad file is an ingest problem and the rest loads.
 * Fails only when the database itself is gone. */
static int load_one_by_one(struct ingest_ctx *ctx, char **paths, size_t n, af_err *err)
{
    if (PQstatus(ctx->db) == CONNECTION_BAD)
        return -1;
    log_warn("the database refused a batch of %zu files (%s); loading them one by one", n,
             err->msg);
    af_err_clear(err);
    struct batch_out out = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        batch_out_reset(&out);
        parse_lastfm_file(paths[i], &out);
        if (load_batch(ctx, "msd", &out, 1, err) == 0)
            continue;
        if (PQstatus(ctx->db) == CONNECTION_BAD) {
            rc = -1;
            break;
        }
        char detail[AF_ERR_MAX + 64];
        snprintf(detail, sizeof detail, "the database refused the file's rows: %s; skipped",
                 err->msg);
        af_err_clear(err);
        ctx->items_failed++;
        rc = ingest_problem(ctx, "msd", paths[i], "load_failed", detail, err);
    }
    batch_out_free(&out);
    return rc;
}

/* ---- the Last.fm dataset tree ---- */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect_json_files(const char *dir, char ***paths, size_t *n, size_t *cap, af_err *err)
{
    char *roots[] = {(char *)dir, NULL};
    FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
    if (!fts)
        return af_err_set(err, "%s: cannot read the directory: %s", dir, strerror(errno));
    FTSENT *e;
    int rc = 0;
    while ((e = fts_read(fts)) != NULL) {
        if (e->fts_info == FTS_DNR || e->fts_info == FTS_ERR || e->fts_info == FTS_NS) {
            if (e->fts_level == 0) {
                rc = af_err_set(err, "%s: %s", dir, strerror(e->fts_errno));
                break;
            }
            log_warn("%s: %s; skipped", e->fts_path, strerror(e->fts_errno));
            continue;
        }
        if (e->fts_info != FTS_F || e->fts_namelen < 6 ||
            strcmp(e->fts_name + e->fts_namelen - 5, ".json") != 0)
            continue;
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 4096;
            *paths = realloc(*paths, *cap * sizeof **paths);
            if (!*paths)
                abort();
        }
        (*paths)[(*n)++] = strdup(e->fts_path);
    }
    fts_close(fts);
    return rc;
}

static int load_lastfm_tree(struct ingest_ctx *ctx, const struct msd_options *o, af_err *err)
{
    char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (int i = 0; i < o->n_lastfm_dirs && rc == 0; i++)
        rc = collect_json_files(o->lastfm_dirs[i], &paths, &n, &cap, err);
    if (rc == 0) {
        qsort(paths, n, sizeof *paths, compare_strings);
        log_info("Last.fm dataset: %zu JSON file(s) to load with %d thread(s)", n, o->jobs);
    }
    struct parse_batch pb[2];
    for (int k = 0; k < 2; k++) {
        pb[k].jobs = o->jobs;
        pb[k].running = 0;
        pb[k].workers = calloc((size_t)o->jobs, sizeof *pb[k].workers);
        pb[k].outs = calloc((size_t)o->jobs, sizeof *pb[k].outs);
        if (!pb[k].workers || !pb[k].outs)
            abort();
    }
    size_t batch = (size_t)o->batch, done = 0;
    double started = af_monotonic_seconds();
    if (rc == 0 && n > 0) {
        parse_start(&pb[0], paths, n < batch ? n : batch);
        for (size_t start = 0, k = 0; start < n; start += batch, k ^= 1) {
            parse_join(&pb[k]);
            size_t next = start + batch;
            /* Parse the next batch while this one goes into the database. */
            if (next < n && !af_app_stop_requested())
                parse_start(&pb[k ^ 1], paths + next, n - next < batch ? n - next : batch);
            size_t count = (start + batch < n ? batch : n - start);
            if (load_batch(ctx, "msd", pb[k].outs, pb[k].jobs, err) != 0 &&
                load_one_by_one(ctx, paths + start, count, err) != 0) {
                af_err_prefix(err, "loading %s .. %s (%zu files)", paths[start],
                              paths[start + count - 1], count);
                rc = -1;
                break;
            }
            done += (start + batch < n ? batch : n - start);
            char extra[128];
            snprintf(extra, sizeof extra, "%lld tag rows, %lld new tracks",
                     af_run_counter(ctx->run, "tags"), af_run_counter(ctx->run, "tracks"));
            af_progress("files", (long)done, (long)n, extra);
            if (af_app_stop_requested()) {
                log_info("stopped on request after %zu of %zu files; a re-run loads the rest",
                         done, n);
                break;
            }
        }
        parse_join(&pb[0]);
        parse_join(&pb[1]);
        af_progress_end();
    }
    double seconds = af_monotonic_seconds() - started;
    if (rc == 0 && n > 0)
        log_info("Last.fm dataset: %zu files in %.1f s (%.0f files/s, %.0f tag rows/s)", done,
                 seconds, done / (seconds > 0 ? seconds : 1),
                 af_run_counter(ctx->run, "tag_rows_read") / (seconds > 0 ? seconds : 1));
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < o->jobs; j++)
            batch_out_free(&pb[k].outs[j]);
        free(pb[k].workers);
        free(pb[k].outs);
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

/* ---- line-oriented files: unique_tracks.txt, tagtraum and MAGD .cls ---- */

enum line_kind { LINES_UNIQUE_TRACKS, LINES_CLS };

/* Splits line on the literal separator; returns the number of fields (at most max). */
static int split(char *line, const char *sep, char **fields, int max)
{
    int n = 0;
    size_t sep_len = strlen(sep);
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *next = strstr(p, sep);
        if (!next)
            break;
        *next = '\0';
        p = next + sep_len;
    }
    return n;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static int load_lines(struct ingest_ctx *ctx, const char *path, enum line_kind kind,
                      const char *source, af_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return af_err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct batch_out out = {0};
    struct af_buf names = {0};
    char *line = NULL;
    size_t line_cap = 0;
    long lineno = 0, rows = 0;
    int rc = 0;
    ssize_t len;
    char item[4200];
    while (rc == 0 && (len = getline(&line, &line_cap, f)) != -1) {
        lineno++;
        snprintf(item, sizeof item, "%s:%ld", path, lineno);
        trim(line);
        if (!af_utf8_valid(line, strlen(line)) || (size_t)len > strlen(line) + 2) {
            add_problem(&out, item, "invalid_utf8", "the line is not valid UTF-8; skipped");
        } else if (kind == LINES_UNIQUE_TRACKS) {
            char *fields[5];
            if (!*line)
                continue;
            char what[200];
            char *repaired = af_repair_controls(line, what, sizeof what);
            if (repaired) {
                add_problem(&out, item, "repaired_text", what);
                free(line);
                line = repaired;
                line_cap = strlen(repaired) + 1;
            }
            if (split(line, "<SEP>", fields, 5) != 4 ||
                !msd_is_track_id(fields[0], strlen(fields[0]))) {
                add_problem(&out, item, "bad_line",
                            "expected TRACK_ID<SEP>SONG_ID<SEP>ARTIST<SEP>TITLE; skipped");
            } else {
                char key[1024];
                size_t key_len = af_match_key(fields[2], fields[3], key, sizeof key);
                af_buf_copy_field(&names, fields[0]);
                af_buf_append(&names, "\t", 1);
                af_buf_copy_field(&names, *fields[2] ? fields[2] : NULL);
                af_buf_append(&names, "\t", 1);
                af_buf_copy_field(&names, *fields[3] ? fields[3] : NULL);
                af_buf_append(&names, "\t", 1);
                af_buf_copy_field(&names, key_len ? key : NULL);
                af_buf_append(&names, "\n", 1);
                rows++;
            }
        } else {
            if (!*line || line[0] == '#' || line[0] == '%')
                continue;
            char *fields[4];
            for (char *s = line; *s; s++) /* tabs, or spaces in copies of the files */
                if (*s == ' ' && !strchr(line, '\t'))
                    *s = '\t';
            int n = split(line, "\t", fields, 4);
            if (n < 2 || n > 3 || !msd_is_track_id(fields[0], strlen(fields[0])) || !*fields[1] ||
                (n == 3 && !*fields[2])) {
                add_problem(&out, item, "bad_line",
                            "expected TRACK_ID<TAB>GENRE[<TAB>MINORITY_GENRE]; skipped");
            } else {
                /* Confidence as in the tagtraum parser: CD1 2/3 + 1/3, CD2 1/2 + 1/2. */
                double major = 100, minor = 0;
                if (n == 3) {
                    int cd1 = strcmp(source, "tagtraum_cd1") == 0;
                    major = cd1 ? 100.0 * 2 / 3 : 50;
                    minor = cd1 ? 100.0 / 3 : 50;
                }
                put_track_row(&out, fields[0], NULL, NULL);
                put_tag_row(&out, fields[0], source, fields[1], major);
                if (n == 3)
                    put_tag_row(&out, fields[0], source, fields[2], minor);
                rows++;
            }
        }
        if (out.tracks.len > (8u << 20) || names.len > (32u << 20) || out.n_problems > 10000) {
            if (kind == LINES_CLS) {
                rc = load_batch(ctx, source, &out, 1, err);
            } else {
                if (af_db_begin(ctx->db, err) != 0 ||
                    copy_buffer(ctx->db, "COPY msd_names FROM STDIN", &names, err) != 0 ||
                    record_problems(ctx, source, &out, err) != 0 || af_db_commit(ctx->db, err) != 0)
                    rc = -1, af_db_rollback(ctx->db);
            }
            batch_out_reset(&out);
            names.len = 0;
            af_progress("lines", lineno, 0, path);
        }
    }
    if (rc == 0 && ferror(f))
        rc = af_err_set(err, "%s: read error: %s", path, strerror(errno));
    if (rc == 0) {
        if (kind == LINES_CLS) {
            rc = load_batch(ctx, source, &out, 1, err);
        } else {
            if (af_db_begin(ctx->db, err) != 0 ||
                copy_buffer(ctx->db, "COPY msd_names FROM STDIN", &names, err) != 0 ||
                record_problems(ctx, source, &out, err) != 0 || af_db_commit(ctx->db, err) != 0)
                rc = -1, af_db_rollback(ctx->db);
        }
    }
    af_progress_end();
    if (rc == 0)
        log_info("%s: %ld line(s), %ld loaded", path, lineno, rows);
    af_run_count(ctx->run, kind == LINES_CLS ? "genre_lines" : "unique_track_lines", rows);
    free(line);
    fclose(f);
    batch_out_free(&out);
    af_buf_free(&names);
    return rc;
}

int ingest_msd(struct ingest_ctx *ctx, const struct msd_options *o, af_err *err)
{
    for (int i = 0; i < o->n_tagtraum; i++)
        if (!msd_tagtraum_source(o->tagtraum[i]))
            return af_err_set_code(err, 2,
                                   "%s: cannot tell which tagtraum dataset this is: its name "
                                   "must contain cd1, cd2 or cd2c (as msd_tagtraum_cd2c.cls)",
                                   o->tagtraum[i]);
    if (exec_simple(ctx->db, create_staging, err) != 0)
        return -1;
    if (o->unique_tracks) {
        if (load_lines(ctx, o->unique_tracks, LINES_UNIQUE_TRACKS, "msd_unique_tracks", err) != 0)
            return -1;
        if (exec_simple(ctx->db, "CREATE INDEX ON msd_names (msd_track_id); ANALYZE msd_names",
                        err) != 0)
            return -1;
    }
    if (o->n_lastfm_dirs > 0 && load_lastfm_tree(ctx, o, err) != 0)
        return -1;
    for (int i = 0; i < o->n_tagtraum && !af_app_stop_requested(); i++)
        if (load_lines(ctx, o->tagtraum[i], LINES_CLS, msd_tagtraum_source(o->tagtraum[i]), err) != 0)
            return -1;
    if (o->magd && !af_app_stop_requested() && load_lines(ctx, o->magd, LINES_CLS, "magd", err) != 0)
        return -1;
    if (o->unique_tracks) {
        /* Artist and title for tracks loaded earlier without them. */
        long long named = command_rows(
            ctx->db,
            "UPDATE tracks t SET artist = coalesce(t.artist, n.artist),"
            " title = coalesce(t.title, n.title),"
            " match_key = CASE WHEN t.artist IS NULL OR t.title IS NULL THEN n.match_key"
            "             ELSE t.match_key END, updated_at = now()"
            " FROM msd_names n WHERE n.msd_track_id = t.msd_track_id"
            " AND (t.artist IS NULL OR t.title IS NULL)", 0, NULL, err);
        if (named < 0)
            return -1;
        af_run_count(ctx->run, "tracks_named", named);
    }
    return 0;
}
