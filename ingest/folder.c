/* folder.c — `af-ingest dir`: audio files from a folder tree, labelled by folder; see folder.h. */
#include "folder.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fts.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio_store.h"
#include "db.h"
#include "decode/decode.h"
#include "exitcode.h"
#include "log.h"
#include "normalise.h"
#include "run.h"

#define MAX_AUDIO_BYTES (200L * 1024 * 1024)

int folder_label_map_load(const char *path, struct label_map *map, af_err *err)
{
    memset(map, 0, sizeof *map);
    FILE *f = fopen(path, "r");
    if (!f)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: cannot open the label map: %s", path,
                               strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        size_t n = strlen(line);
        while (n > 0 && isspace((unsigned char)line[n - 1]))
            line[--n] = '\0';
        char *start = line;
        while (isspace((unsigned char)*start))
            start++;
        if (!*start)
            continue;
        char *sep = start + strlen(start);
        while (sep > start && !isspace((unsigned char)sep[-1]))
            sep--;
        if (sep == start) {
            rc = af_err_set_code(err, AF_EXIT_USAGE,
                                 "%s:%d: expected 'PATTERN LABEL' (a wildcard and a genre tag)",
                                 path, lineno);
            break;
        }
        char *label = sep;
        char *end = sep;
        while (end > start && isspace((unsigned char)end[-1]))
            *--end = '\0';
        map->rules = realloc(map->rules, (size_t)(map->n_rules + 1) * sizeof *map->rules);
        if (!map->rules)
            abort();
        map->rules[map->n_rules].pattern = strdup(start);
        map->rules[map->n_rules].label = strcmp(label, "-") == 0 ? NULL : strdup(label);
        map->n_rules++;
    }
    free(line);
    fclose(f);
    if (rc != 0)
        folder_label_map_free(map);
    return rc;
}

void folder_label_map_free(struct label_map *map)
{
    for (int i = 0; i < map->n_rules; i++) {
        free(map->rules[i].pattern);
        free(map->rules[i].label);
    }
    free(map->rules);
    memset(map, 0, sizeof *map);
}

const char *folder_label_for(const struct label_map *map, const char *relative, char *buf,
                             size_t len)
{
    if (map) {
        for (int i = 0; i < map->n_rules; i++)
            if (fnmatch(map->rules[i].pattern, relative, 0) == 0) {
                if (!map->rules[i].label)
                    return NULL;
                snprintf(buf, len, "%s", map->rules[i].label);
                return buf;
            }
        return NULL;
    }
    const char *slash = strchr(relative, '/');
    if (!slash || slash == relative)
        return NULL; /* a file directly in PATH has no genre folder */
    snprintf(buf, len, "%.*s", (int)(slash - relative), relative);
    return buf;
}

static unsigned char *read_all(const char *path, size_t *len, char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_len, "cannot read: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (st.st_size > MAX_AUDIO_BYTES) {
        snprintf(why, why_len, "larger than %ld MB", MAX_AUDIO_BYTES >> 20);
        close(fd);
        return NULL;
    }
    unsigned char *data = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    if (!data)
        abort();
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, data + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(why, why_len, "read error: %s", r < 0 ? strerror(errno) : "file shrank");
            free(data);
            close(fd);
            return NULL;
        }
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return data;
}

static void sha256(const unsigned char *data, size_t len, unsigned char digest[32])
{
    struct AVSHA *sha = av_sha_alloc();
    if (!sha)
        abort();
    av_sha_init(sha, 256);
    /* av_sha_update takes an int-sized length in older FFmpeg: feed it in pieces. */
    for (size_t off = 0; off < len;) {
        size_t n = len - off < (1u << 30) ? len - off : (1u << 30);
        av_sha_update(sha, data + off, (unsigned)n);
        off += n;
    }
    av_sha_final(sha, digest);
    av_free(sha);
}

struct file_item {
    const char *path;     /* absolute */
    const char *relative; /* to PATH */
    const char *label;    /* NULL = none */
};

/* 1 when the file at this path was stored before with the same content (track_id set). */
static int unchanged(struct ingest_ctx *ctx, const char *path, const unsigned char digest[32],
                     char track_id[24], af_err *err)
{
    const char *params[] = {path, (const char *)digest};
    int lengths[] = {0, 32}, formats[] = {0, 1};
    PGresult *res = af_db_query_binary(ctx->db,
                                       "SELECT s.track_id FROM track_sources s"
                                       " JOIN track_audio a USING (track_id)"
                                       " WHERE s.source = 'folder' AND s.source_key = $1"
                                       " AND a.sha256 = $2",
                                       2, params, lengths, formats, 0, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(track_id, 24, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found;
}

static int set_label(struct ingest_ctx *ctx, const char *track_id, const char *label,
                     bool no_labels, af_err *err)
{
    if (no_labels)
        return 0;
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    const char *p[] = {track_id, label, run};
    if (af_db_command(ctx->db,
                      "DELETE FROM raw_tags WHERE track_id = $1 AND source = 'folder'"
                      " AND ($2::text IS NULL OR tag <> $2)"
                      /* a label that changed; the same audio in two folders keeps both */
                      " AND (SELECT count(*) FROM track_sources s WHERE s.track_id = $1"
                      "      AND s.source = 'folder') <= 1", 2, p, err) != 0)
        return -1;
    if (!label)
        return 0;
    PGresult *res = af_db_query(ctx->db,
                                "INSERT INTO raw_tags (track_id, source, tag, weight, run_id)"
                                " VALUES ($1, 'folder', $2, 100, $3) ON CONFLICT DO NOTHING",
                                3, p, err);
    if (!res)
        return -1;
    af_run_count(ctx->run, "tags", atoll(PQcmdTuples(res)));
    PQclear(res);
    return 0;
}

static int store_file(struct ingest_ctx *ctx, const struct file_item *item,
                      const unsigned char *data, size_t len, const unsigned char digest[32],
                      const struct af_audio *audio, bool no_labels, af_err *err)
{
    /* Where the bytes go is [audio] store's business (lib/audio_store.h). */
    const struct af_audio_meta meta = {audio->codec, audio->source_sample_rate,
                                       audio->source_channels, audio->duration};
    int inserted;
    if (af_audio_store_insert(ctx->db, digest, data, len, &meta, &inserted, err) != 0)
        return -1;
    af_run_count(ctx->run, inserted ? "audio_stored" : "audio_duplicates", 1);
    PGresult *res;
    /* Same content already belongs to a track: that is this file's track. */
    char track_id[24] = "";
    const char *sp[] = {(const char *)digest};
    int sl[] = {32}, sf[] = {1};
    res = af_db_query_binary(ctx->db,
                             "SELECT track_id FROM track_audio WHERE sha256 = $1"
                             " ORDER BY track_id LIMIT 1", 1, sp, sl, sf, 0, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1)
        snprintf(track_id, sizeof track_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    bool created = false;
    struct ingest_track t = {.artist = audio->tags.artist, .title = audio->tags.title,
                             .duration_seconds = audio->duration};
    if (!track_id[0]) {
        if (t.artist && t.title) {
            if (ingest_track_upsert(ctx, &t, track_id, &created, err) != 0)
                return -1;
        } else {
            char d[32];
            snprintf(d, sizeof d, "%.3f", audio->duration);
            const char *p[] = {t.artist, t.title, d};
            res = af_db_query(ctx->db,
                              "INSERT INTO tracks (artist, title, duration_seconds)"
                              " VALUES ($1, $2, $3) RETURNING track_id", 3, p, err);
            if (!res)
                return -1;
            snprintf(track_id, sizeof track_id, "%s", PQgetvalue(res, 0, 0));
            PQclear(res);
            created = true;
        }
    }
    if (created)
        af_run_count(ctx->run, "tracks", 1);
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    const char *p[] = {track_id, item->path, run};
    if (af_db_command(ctx->db,
                      "INSERT INTO track_sources (track_id, source, source_key, run_id)"
                      " VALUES ($1, 'folder', $2, $3) ON CONFLICT (source, source_key)"
                      " DO UPDATE SET track_id = EXCLUDED.track_id, run_id = EXCLUDED.run_id",
                      3, p, err) != 0)
        return -1;
    const char *tp[] = {track_id, (const char *)digest, item->path, run};
    int tl[] = {0, 32, 0, 0}, tf[] = {0, 1, 0, 0};
    res = af_db_query_binary(ctx->db,
                             "INSERT INTO track_audio (track_id, sha256, origin, origin_ref, run_id)"
                             " VALUES ($1, $2, 'folder', $3, $4) ON CONFLICT (track_id) DO NOTHING",
                             4, tp, tl, tf, 0, err);
    if (!res)
        return -1;
    PQclear(res);
    return set_label(ctx, track_id, item->label, no_labels, err);
}

/* Returns 0 (stored, unchanged or skipped) or -1 on a database failure. */
static int ingest_file(struct ingest_ctx *ctx, const struct file_item *item, bool no_labels,
                       af_err *err)
{
    char why[AF_ERR_MAX + 128];
    size_t len = 0;
    unsigned char *data = read_all(item->path, &len, why, sizeof why);
    if (!data)
        return ingest_problem(ctx, "folder", item->path, "unreadable", why, err);
    unsigned char digest[32];
    sha256(data, len, digest);
    char track_id[24];
    if (af_db_begin(ctx->db, err) != 0)
        goto fail_free;
    int same = unchanged(ctx, item->path, digest, track_id, err);
    if (same < 0)
        goto fail;
    if (same) {
        free(data);
        af_run_count(ctx->run, "unchanged", 1);
        if (set_label(ctx, track_id, item->label, no_labels, err) != 0)
            goto fail_nofree;
        return af_db_commit(ctx->db, err);
    }
    struct af_audio audio;
    af_err derr = {0};
    if (af_decode_memory(data, len, NULL, &audio, &derr) != 0) {
        snprintf(why, sizeof why, "not usable audio (%s): %s; skipped",
                 af_decode_failure_name(audio.failure), derr.msg);
        free(data);
        af_run_count(ctx->run, "skipped", 1);
        if (ingest_problem(ctx, "folder", item->path,
                           audio.failure == AF_DECODE_UNREADABLE || audio.failure == AF_DECODE_NO_AUDIO
                               ? "not_audio" : "bad_audio",
                           why, err) != 0)
            goto fail_nofree;
        return af_db_commit(ctx->db, err);
    }
    int rc = store_file(ctx, item, data, len, digest, &audio, no_labels, err);
    af_audio_free(&audio);
    free(data);
    if (rc != 0)
        goto fail_nofree;
    af_run_count(ctx->run, "files_stored", 1);
    return af_db_commit(ctx->db, err);
fail:
fail_free:
    free(data);
fail_nofree:
    af_db_rollback(ctx->db);
    return af_err_prefix(err, "%s", item->path);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ingest_dir(struct ingest_ctx *ctx, const struct folder_options *o, af_err *err)
{
    struct label_map map = {0};
    if (o->label_map && folder_label_map_load(o->label_map, &map, err) != 0)
        return -1;
    char *root = realpath(o->path, NULL);
    struct stat st;
    if (!root || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        af_err_set_code(err, AF_EXIT_USAGE, "%s: %s", o->path,
                        root ? "not a directory" : strerror(errno));
        free(root);
        folder_label_map_free(&map);
        return -1;
    }
    char *roots[] = {root, NULL};
    FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
    char **paths = NULL;
    size_t n = 0, cap = 0;
    FTSENT *e;
    while (fts && (e = fts_read(fts)) != NULL) {
        if (e->fts_info == FTS_D && e->fts_level > 0 && e->fts_name[0] == '.') {
            fts_set(fts, e, FTS_SKIP); /* .git, .Trash and the like */
            continue;
        }
        if (e->fts_info == FTS_DNR || e->fts_info == FTS_ERR)
            log_warn("%s: %s; skipped", e->fts_path, strerror(e->fts_errno));
        if (e->fts_info != FTS_F)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            paths = realloc(paths, cap * sizeof *paths);
            if (!paths)
                abort();
        }
        paths[n++] = strdup(e->fts_path);
    }
    if (fts)
        fts_close(fts);
    if (n > 0) /* qsort(NULL, 0, ...) is undefined behaviour: an empty folder has no list */
        qsort(paths, n, sizeof *paths, compare_strings);
    log_info("%s: %zu file(s)", root, n);
    size_t root_len = strlen(root);
    int rc = 0;
    size_t i;
    for (i = 0; i < n && rc == 0; i++) {
        if (af_app_stop_requested()) {
            log_info("stopped on request after %zu of %zu files", i, n);
            break;
        }
        const char *relative = paths[i] + root_len + (paths[i][root_len] == '/');
        char label_buf[512];
        struct file_item item = {
            .path = paths[i], .relative = relative,
            .label = o->no_labels ? NULL
                                  : folder_label_for(o->label_map ? &map : NULL, relative,
                                                     label_buf, sizeof label_buf)};
        rc = ingest_file(ctx, &item, o->no_labels, err);
        af_run_count(ctx->run, "files", 1);
        af_progress("files", (long)i + 1, (long)n, NULL);
    }
    af_progress_end();
    log_info("%s: %lld stored, %lld unchanged, %lld skipped (not audio or unusable), "
             "%lld new track(s)", root, af_run_counter(ctx->run, "files_stored"),
             af_run_counter(ctx->run, "unchanged"), af_run_counter(ctx->run, "skipped"),
             af_run_counter(ctx->run, "tracks"));
    for (size_t j = 0; j < n; j++)
        free(paths[j]);
    free(paths);
    free(root);
    folder_label_map_free(&map);
    return rc;
}
