/* folder.c — `af-ingest dir`: audio files from a folder tree, labelled by folder; see folder.h. */
#include "folder.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fts.h>
#include <limits.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio_id.h"
#include "audio_store.h"
#include "db.h"
#include "decode/decode.h"
#include "exitcode.h"
#include "folder_genres.h"
#include "folder_names.h"
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

struct dir_state {
    struct ingest_ctx *ctx;
    const struct folder_options *opts;
    long failed;     /* failed items: exit 1 */
    bool incomplete; /* a folder or file could not be read: files recorded before may be
                        there still, so none is forgotten as gone */
};

/* Extensions of audio files: one of these that does not decode is a failed item
 * (exit 1), while any other file that is not audio (liner notes, cover art, a .cue
 * sheet) is only counted and named. */
static bool audio_extension(const char *path)
{
    static const char *const extensions[] = {
        "mp3", "mp2", "wav", "wave", "flac", "ogg", "oga", "opus", "m4a", "mp4", "aac", "wma",
        "aif", "aiff", "aifc", "ape", "wv", "mka", "alac", "au", "snd", "mpc", "caf", "webm",
        "amr", "ac3", "dts", NULL};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return false;
    if (strncmp(slash ? slash + 1 : path, "._", 2) == 0)
        return false; /* macOS AppleDouble metadata beside "x.mp3": "._x.mp3" */
    for (int i = 0; extensions[i]; i++)
        if (strcasecmp(dot + 1, extensions[i]) == 0)
            return true;
    return false;
}

/* Reads a regular file whole. O_NONBLOCK: a FIFO put where a file was a moment ago
 * must not block the run (it is refused by the fstat check). */
static unsigned char *read_all(const char *path, size_t *len, char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_len, "cannot read: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "not a regular file");
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
    const char *path;        /* absolute, the file system's bytes */
    const char *display;     /* absolute, display form (folder_names.h) */
    const char *relative;    /* display form, under PATH */
    const char *label;       /* NULL = none */
    const char *path_artist; /* --artist-from-path, NULL = none */
};

enum file_outcome { FILE_STORED, FILE_UNCHANGED, FILE_PROBLEM };

/* One text result of a query, or "" (-1 on a database failure). */
static int query_text(struct ingest_ctx *ctx, const char *sql, int n, const char *const *params,
                      const int *lengths, const int *formats, char *out, size_t len, af_err *err)
{
    PGresult *res = af_db_query_binary(ctx->db, sql, n, params, lengths, formats, 0, err);
    if (!res)
        return -1;
    out[0] = '\0';
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* The track of a file seen before at this path with the same bytes, or "". */
static int unchanged_track(struct ingest_ctx *ctx, const struct file_item *item,
                           const unsigned char digest[32], char track_id[24], af_err *err)
{
    const char *p[] = {item->path, (const char *)digest};
    int l[] = {(int)strlen(item->path), 32}, f[] = {1, 1};
    return query_text(ctx,
                      "SELECT track_id FROM folder_files WHERE path_bytes = $1"
                      " AND file_sha256 = $2", 2, p, l, f, track_id, 24, err);
}

/* An unchanged file: only the run that last saw it (for the nothing-lost check and for
 * forgetting files gone), its label (the label map may have changed; --no-labels
 * withdraws it) and its path artist (the pattern may have changed) change.
 * *label_changed and *artist_changed tell what of its track needs syncing. */
static int seen_again(struct ingest_ctx *ctx, const struct file_item *item, bool *label_changed,
                      bool *artist_changed, af_err *err)
{
    const char *p[] = {item->path, ctx->run_id[0] ? ctx->run_id : NULL, item->label,
                       item->path_artist};
    int l[] = {(int)strlen(item->path), 0, 0, 0}, f[] = {1, 0, 0, 0};
    PGresult *res = af_db_query_binary(ctx->db,
                                       "UPDATE folder_files f SET run_id = $2, label = $3,"
                                       " path_artist = $4 FROM (SELECT label, path_artist"
                                       "  FROM folder_files WHERE path_bytes = $1) AS old"
                                       " WHERE f.path_bytes = $1"
                                       " RETURNING f.label IS DISTINCT FROM old.label,"
                                       " f.path_artist IS DISTINCT FROM old.path_artist",
                                       4, p, l, f, 0, err);
    if (!res)
        return -1;
    *label_changed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    *artist_changed = PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return 0;
}

/* A track's 'folder' raw tags become the labels of its files (folder_files.label): the
 * same audio in two genre folders keeps both, a changed or moved label replaces the old,
 * and a label no file gives any more (file gone, replaced, --no-labels) goes. */
static int sync_labels(struct ingest_ctx *ctx, const char *track_id, af_err *err)
{
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    const char *p[] = {track_id, run};
    if (af_db_command(ctx->db,
                      "DELETE FROM raw_tags r WHERE r.track_id = $1 AND r.source = 'folder'"
                      " AND NOT EXISTS (SELECT 1 FROM folder_files f WHERE f.track_id = $1"
                      "  AND f.label = r.tag)", 1, p, err) != 0)
        return -1;
    PGresult *res = af_db_query(ctx->db,
                                "INSERT INTO raw_tags (track_id, source, tag, weight, run_id)"
                                " SELECT DISTINCT $1::bigint, 'folder', label, 100, $2::bigint"
                                " FROM folder_files WHERE track_id = $1 AND label IS NOT NULL"
                                " ON CONFLICT DO NOTHING", 2, p, err);
    if (!res)
        return -1;
    af_run_count(ctx->run, "tags", atoll(PQcmdTuples(res)));
    PQclear(res);
    return 0;
}

/* A track's path artist is the one --artist-from-path gave its files (the kept file's
 * first, so that it does not depend on the order files are met), or "" for none. */
static int wanted_path_artist(struct ingest_ctx *ctx, const char *track_id, char artist[512],
                              af_err *err)
{
    const char *p[] = {track_id};
    int l[] = {0}, f[] = {0};
    return query_text(ctx,
                      "SELECT path_artist FROM folder_files WHERE track_id = $1"
                      " AND path_artist IS NOT NULL ORDER BY kept DESC, path_bytes LIMIT 1",
                      1, p, l, f, artist, 512, err);
}

/* The path artist wins over the file's tags, also for files stored before; the artist
 * it replaces is remembered (track_path_artists) to come back when it is withdrawn. */
static int give_path_artist(struct ingest_ctx *ctx, const char *track_id, const char *artist,
                            af_err *err)
{
    const char *p[] = {track_id, artist};
    if (af_db_command(ctx->db,
                      "INSERT INTO track_path_artists (track_id, artist, artist_before)"
                      " SELECT track_id, $2, artist FROM tracks WHERE track_id = $1"
                      " ON CONFLICT (track_id) DO UPDATE SET artist = EXCLUDED.artist",
                      2, p, err) != 0)
        return -1;
    PGresult *res = af_db_query(ctx->db,
                                "UPDATE tracks SET artist = $2, updated_at = now()"
                                " WHERE track_id = $1 AND artist IS DISTINCT FROM $2", 2, p, err);
    if (!res)
        return -1;
    af_run_count(ctx->run, "artists_from_path", atoll(PQcmdTuples(res)));
    PQclear(res);
    return 0;
}

/* No file's path gives the track an artist any more: the artist it had before comes
 * back, unless the artist is no longer the path's (someone changed it since). */
static int withdraw_path_artist(struct ingest_ctx *ctx, const char *track_id, af_err *err)
{
    const char *p[] = {track_id};
    PGresult *res = af_db_query(ctx->db,
                                "WITH gone AS (DELETE FROM track_path_artists WHERE track_id = $1"
                                "  RETURNING artist, artist_before)"
                                " UPDATE tracks t SET artist = g.artist_before, updated_at = now()"
                                " FROM gone g WHERE t.track_id = $1"
                                " AND t.artist IS NOT DISTINCT FROM g.artist"
                                " AND t.artist IS DISTINCT FROM g.artist_before", 1, p, err);
    if (!res)
        return -1;
    af_run_count(ctx->run, "artists_from_path_withdrawn", atoll(PQcmdTuples(res)));
    PQclear(res);
    return 0;
}

static int sync_path_artist(struct ingest_ctx *ctx, const char *track_id, af_err *err)
{
    char artist[512];
    if (wanted_path_artist(ctx, track_id, artist, err) != 0)
        return -1;
    return artist[0] ? give_path_artist(ctx, track_id, artist, err)
                     : withdraw_path_artist(ctx, track_id, err);
}

/* What a track has from its files, after a file was stored, changed or forgotten. */
static int sync_track(struct ingest_ctx *ctx, const char *track_id, af_err *err)
{
    return sync_labels(ctx, track_id, err) == 0 ? sync_path_artist(ctx, track_id, err) : -1;
}

/* A track made for a file whose path gives the artist: the artist to come back when
 * the path no longer gives it is the file's tag (the track never had another). */
static int remember_tag_artist(struct ingest_ctx *ctx, const char *track_id,
                               const char *path_artist, const char *tag_artist, af_err *err)
{
    const char *p[] = {track_id, path_artist, tag_artist};
    return af_db_command(ctx->db,
                         "INSERT INTO track_path_artists (track_id, artist, artist_before)"
                         " VALUES ($1, $2, $3) ON CONFLICT (track_id) DO NOTHING", 3, p, err);
}

/* What a file's tags are worth as identity: the artist (from the path, else the tag
 * unless a placeholder) and the title; *identity when both name something. */
struct file_tags {
    const char *artist, *title;
    const char *tag_artist; /* the artist tag unless a placeholder */
    bool identity;
};

static struct file_tags file_tags(const struct file_item *item, const struct af_audio_tags *tags)
{
    struct file_tags t = {.title = tags->title};
    t.tag_artist = folder_placeholder_artist(tags->artist) ? NULL : tags->artist;
    t.artist = item->path_artist ? item->path_artist : t.tag_artist;
    t.identity = t.artist && !folder_placeholder_title(tags->title);
    return t;
}

/* Finds the track this file is: the same audio seen before (a tag edit, a rename, a
 * copy), the same bytes stored by another stage, the same artist and title; else a
 * new track.  Placeholder or missing tags never merge. */
static int resolve_track(struct ingest_ctx *ctx, const unsigned char digest[32],
                         const unsigned char audio_id[32], const struct file_tags *t,
                         double duration, char track_id[24], bool *created, af_err *err)
{
    const char *p[] = {(const char *)audio_id};
    int l[] = {32}, f[] = {1};
    if (query_text(ctx, "SELECT track_id FROM folder_files WHERE audio_id = $1"
                        " ORDER BY track_id LIMIT 1", 1, p, l, f, track_id, 24, err) != 0)
        return -1;
    if (track_id[0])
        return 0;
    p[0] = (const char *)digest;
    if (query_text(ctx, "SELECT track_id FROM track_audio WHERE sha256 = $1"
                        " ORDER BY track_id LIMIT 1", 1, p, l, f, track_id, 24, err) != 0)
        return -1;
    if (track_id[0])
        return 0;
    if (t->identity) {
        struct ingest_track it = {.artist = t->artist, .title = t->title,
                                  .duration_seconds = duration};
        if (ingest_track_upsert(ctx, &it, track_id, created, err) != 0)
            return -1;
    } else {
        char d[32];
        snprintf(d, sizeof d, "%.3f", duration);
        const char *ip[] = {t->artist, t->title, d};
        PGresult *res = af_db_query(ctx->db,
                                    "INSERT INTO tracks (artist, title, duration_seconds)"
                                    " VALUES ($1, $2, $3) RETURNING track_id", 3, ip, err);
        if (!res)
            return -1;
        snprintf(track_id, 24, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        *created = true;
    }
    if (*created)
        af_run_count(ctx->run, "tracks", 1);
    return 0;
}

/* Gives the track this file's audio when it has none; else tells whether this file is
 * the one it keeps (*kept), and which file that is. */
static int keep_audio(struct ingest_ctx *ctx, const struct file_item *item,
                      const unsigned char *data, size_t len, const unsigned char digest[32],
                      const struct af_audio_probe *probe, const char *track_id, bool *kept,
                      af_err *err)
{
    const char *qp[] = {track_id, (const char *)digest, item->display};
    int ql[] = {0, 32, 0}, qf[] = {0, 1, 0};
    PGresult *res = af_db_query_binary(ctx->db,
                                       "SELECT sha256 = $2 OR origin_ref = $3, origin_ref"
                                       " FROM track_audio WHERE track_id = $1", 3, qp, ql, qf, 0,
                                       err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        *kept = PQgetvalue(res, 0, 0)[0] == 't';
        if (!*kept) {
            af_run_count(ctx->run, "merged", 1);
            log_info("%s: the same recording as track %s, which keeps the audio of %s",
                     item->display, track_id, PQgetvalue(res, 0, 1));
        }
        PQclear(res);
        return 0;
    }
    PQclear(res);
    *kept = true;
    /* Where the bytes go is [audio] store's business (lib/audio_store.h). */
    const struct af_audio_meta meta = {probe->codec, probe->source_sample_rate,
                                       probe->source_channels, probe->duration};
    int inserted;
    if (af_audio_store_insert(ctx->db, digest, data, len, &meta, &inserted, err) != 0)
        return -1;
    af_run_count(ctx->run, inserted ? "audio_stored" : "audio_duplicates", 1);
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    const char *tp[] = {track_id, (const char *)digest, item->display, run};
    int tl[] = {0, 32, 0, 0}, tf[] = {0, 1, 0, 0};
    res = af_db_query_binary(ctx->db,
                             "INSERT INTO track_audio (track_id, sha256, origin, origin_ref, run_id)"
                             " VALUES ($1, $2, 'folder', $3, $4) ON CONFLICT (track_id) DO NOTHING",
                             4, tp, tl, tf, 0, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static int record_file(struct ingest_ctx *ctx, const struct file_item *item,
                       const unsigned char digest[32], const unsigned char audio_id[32],
                       const char *track_id, bool kept, af_err *err)
{
    const char *run = ctx->run_id[0] ? ctx->run_id : NULL;
    const char *p[] = {item->path, item->display, (const char *)digest, (const char *)audio_id,
                       track_id, kept ? "true" : "false", run, item->label,
                       item->path_artist};
    int l[] = {(int)strlen(item->path), 0, 32, 32, 0, 0, 0, 0, 0};
    int f[] = {1, 0, 1, 1, 0, 0, 0, 0, 0};
    PGresult *res = af_db_query_binary(
        ctx->db,
        "INSERT INTO folder_files (path_bytes, path, file_sha256, audio_id, track_id, kept, run_id,"
        " label, path_artist) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (path_bytes) DO UPDATE SET"
        " path = EXCLUDED.path, file_sha256 = EXCLUDED.file_sha256, audio_id = EXCLUDED.audio_id,"
        " track_id = EXCLUDED.track_id, kept = EXCLUDED.kept, run_id = EXCLUDED.run_id,"
        " label = EXCLUDED.label, path_artist = EXCLUDED.path_artist, seen_at = now()",
        9, p, l, f, 0, err);
    if (!res)
        return -1;
    PQclear(res);
    const char *sp[] = {track_id, item->display, run};
    return af_db_command(ctx->db,
                         "INSERT INTO track_sources (track_id, source, source_key, run_id)"
                         " VALUES ($1, 'folder', $2, $3) ON CONFLICT (source, source_key)"
                         " DO UPDATE SET track_id = EXCLUDED.track_id, run_id = EXCLUDED.run_id",
                         3, sp, err);
}

/* A file that cannot be stored: recorded; a failed item (exit 1) unless it is plainly
 * not an audio file. */
static int file_problem(struct dir_state *st, const struct file_item *item, const char *problem,
                        const char *why, bool failed, af_err *err)
{
    af_run_count(st->ctx->run, "skipped", 1);
    if (failed)
        st->failed++;
    return ingest_problem_bytes(st->ctx, "folder", item->display, item->path, problem, why, err);
}

/* Probes the bytes (no full decode: af-extract decodes once) and judges the length. */
static int probe_audio(struct dir_state *st, const struct file_item *item,
                       const unsigned char *data, size_t len, struct af_audio_probe *probe,
                       bool *usable, af_err *err)
{
    af_err derr = {0};
    char why[AF_ERR_MAX + 128];
    *usable = false;
    if (af_decode_probe_memory(data, len, probe, &derr) != 0) {
        bool not_audio = (probe->failure == AF_DECODE_UNREADABLE ||
                          probe->failure == AF_DECODE_NO_AUDIO) && !audio_extension(item->path);
        snprintf(why, sizeof why, "not usable audio (%s): %s; skipped",
                 af_decode_failure_name(probe->failure), derr.msg);
        return file_problem(st, item, not_audio ? "not_audio" : "bad_audio", why, !not_audio, err);
    }
    af_run_count(st->ctx->run, "audio_ms", (long long)(probe->duration * 1000));
    af_run_count(st->ctx->run, "audio_ms_decoded", (long long)(probe->decoded_seconds * 1000));
    double seconds_needed = (double)AF_DECODE_MIN_SAMPLES / 22050.0;
    if (probe->duration < seconds_needed) {
        snprintf(why, sizeof why, "not usable audio (too_short): %.3f s, less than %.3f s; skipped",
                 probe->duration, seconds_needed);
        af_audio_probe_free(probe);
        return file_problem(st, item, "bad_audio", why, true, err);
    }
    *usable = true;
    return 0;
}

/* The track this path was before, or "" for a path not seen before. */
static int previous_track(struct ingest_ctx *ctx, const struct file_item *item,
                          char track_id[24], af_err *err)
{
    const char *p[] = {item->path};
    int l[] = {(int)strlen(item->path)}, f[] = {1};
    return query_text(ctx, "SELECT track_id FROM folder_files WHERE path_bytes = $1", 1, p, l, f,
                      track_id, 24, err);
}

/* New contents at a path that was another track's file: that track loses what this file
 * gave it, as if the file had been deleted (forget_gone). */
static int replaced(struct ingest_ctx *ctx, const struct file_item *item, const char *before,
                    const char *track_id, af_err *err)
{
    af_run_count(ctx->run, "files_replaced", 1);
    log_info("%s: new audio at this path: now track %s; track %s loses this file's label",
             item->display, track_id, before);
    return sync_track(ctx, before, err);
}

/* The database side of a new or changed file, inside the caller's transaction: its
 * track, its audio, its record and its track's labels. */
static int store_file(struct ingest_ctx *ctx, const struct file_item *item,
                      const unsigned char *data, size_t len, const unsigned char digest[32],
                      const unsigned char audio_id[32], const struct af_audio_probe *probe,
                      af_err *err)
{
    struct file_tags t = file_tags(item, &probe->tags);
    char track_id[24], before[24];
    bool kept = false, created = false;
    int rc = previous_track(ctx, item, before, err);
    if (rc == 0)
        rc = resolve_track(ctx, digest, audio_id, &t, probe->duration, track_id, &created, err);
    if (rc == 0 && created && item->path_artist)
        rc = remember_tag_artist(ctx, track_id, item->path_artist, t.tag_artist, err);
    if (rc == 0)
        rc = keep_audio(ctx, item, data, len, digest, probe, track_id, &kept, err);
    if (rc == 0)
        rc = record_file(ctx, item, digest, audio_id, track_id, kept, err);
    if (rc == 0)
        rc = sync_track(ctx, track_id, err);
    if (rc == 0 && before[0] && strcmp(before, track_id) != 0)
        rc = replaced(ctx, item, before, track_id, err);
    return rc;
}

/* Stores one file; *outcome says what became of it.  -1 only on a database failure. */
static int ingest_file(struct dir_state *st, const struct file_item *item,
                       enum file_outcome *outcome, af_err *err)
{
    struct ingest_ctx *ctx = st->ctx;
    char why[AF_ERR_MAX + 128];
    size_t len = 0;
    *outcome = FILE_PROBLEM;
    unsigned char *data = read_all(item->path, &len, why, sizeof why);
    if (!data) {
        st->incomplete = true;
        return file_problem(st, item, "unreadable", why, true, err);
    }
    unsigned char digest[32], audio_id[32];
    sha256(data, len, digest);
    char track_id[24];
    if (unchanged_track(ctx, item, digest, track_id, err) != 0)
        goto fail_free;
    if (track_id[0]) {
        free(data);
        *outcome = FILE_UNCHANGED;
        af_run_count(ctx->run, "unchanged", 1);
        /* One statement for the common case (nightly re-runs of a large library). */
        bool label_changed, artist_changed;
        if (seen_again(ctx, item, &label_changed, &artist_changed, err) != 0)
            return af_err_prefix(err, "%s", item->display);
        if (!label_changed && !artist_changed)
            return 0;
        if (af_db_begin(ctx->db, err) != 0 ||
            (label_changed && sync_labels(ctx, track_id, err) != 0) ||
            (artist_changed && sync_path_artist(ctx, track_id, err) != 0))
            goto fail_nofree;
        return af_db_commit(ctx->db, err);
    }
    struct af_audio_probe probe;
    bool usable;
    if (probe_audio(st, item, data, len, &probe, &usable, err) != 0)
        goto fail_free;
    if (!usable) {
        free(data);
        return 0;
    }
    af_err aerr = {0};
    if (af_audio_identity(data, len, audio_id, &aerr) != 0) {
        af_audio_probe_free(&probe);
        free(data);
        return file_problem(st, item, "bad_audio", aerr.msg, true, err);
    }
    int rc = af_db_begin(ctx->db, err);
    if (rc == 0)
        rc = store_file(ctx, item, data, len, digest, audio_id, &probe, err);
    af_audio_probe_free(&probe);
    free(data);
    if (rc != 0)
        goto fail_nofree;
    *outcome = FILE_STORED;
    af_run_count(ctx->run, "files_stored", 1);
    return af_db_commit(ctx->db, err);
fail_free:
    free(data);
fail_nofree:
    af_db_rollback(ctx->db);
    return af_err_prefix(err, "%s", item->display);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folders a walk has entered, by device and inode: a folder reached again through
 * another link is not walked again, so links fanning out to the same folders (d0/a and
 * d0/b both to d1, d1/a and d1/b both to d2, ...) cost one walk per folder, not 2^depth. */
struct dir_set {
    struct dir_key {
        dev_t dev;
        ino_t ino;
    } *keys; /* open addressing; ino 0 = empty slot (no folder has inode 0) */
    size_t n, cap;
};

static size_t dir_slot(const struct dir_set *s, dev_t dev, ino_t ino)
{
    size_t h = ((size_t)ino * 0x9E3779B97F4A7C15u) ^ (size_t)dev;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
        if (s->keys[i].ino == 0 || (s->keys[i].ino == ino && s->keys[i].dev == dev))
            return i;
}

/* Adds a folder; false when it was there already. */
static bool dir_set_add(struct dir_set *s, dev_t dev, ino_t ino)
{
    if (2 * (s->n + 1) > s->cap) {
        struct dir_set bigger = {.cap = s->cap ? 2 * s->cap : 1024};
        bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
        if (!bigger.keys)
            abort();
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i].ino != 0)
                bigger.keys[dir_slot(&bigger, s->keys[i].dev, s->keys[i].ino)] = s->keys[i];
        bigger.n = s->n;
        free(s->keys);
        *s = bigger;
    }
    size_t i = dir_slot(s, dev, ino);
    if (s->keys[i].ino != 0)
        return false;
    s->keys[i] = (struct dir_key){dev, ino};
    s->n++;
    return true;
}

struct walk {
    char **paths; /* regular files (links followed), absolute */
    size_t n, cap;
    long problems;        /* entries that are not stored: broken links, FIFOs, loops, ... */
    struct dir_set dirs;  /* folders entered */
    bool stopped;         /* a signal stopped the walk: the list is partial */
};

static int walk_problem(struct dir_state *st, struct walk *w, const char *path,
                        const char *problem, const char *why, bool failed, af_err *err)
{
    char display[PATH_MAX * 4 + 1];
    folder_display_name(path, display, sizeof display);
    w->problems++;
    if (failed)
        st->failed++;
    af_run_count(st->ctx->run, "skipped", 1);
    return ingest_problem_bytes(st->ctx, "folder", display, path, problem, why, err);
}

static const char *file_type(mode_t mode)
{
    return S_ISFIFO(mode) ? "a FIFO (named pipe)" : S_ISSOCK(mode) ? "a socket"
           : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device"
                           : "not a regular file";
}

/* A folder reached again through another link: its files are stored under the path
 * the walk met first (fts_open sorts by name, so that path is the same every run). */
static void skip_dir_seen(struct dir_state *st, FTS *fts, FTSENT *e)
{
    char display[PATH_MAX * 4 + 1];
    folder_display_name(e->fts_path, display, sizeof display);
    log_debug("%s: a folder already walked through another path; not walked again", display);
    af_run_count(st->ctx->run, "dirs_seen_again", 1);
    fts_set(fts, e, FTS_SKIP);
}

/* One entry of the walk: collected, skipped with a reason, or not a file at all. */
static int walk_entry(struct dir_state *st, struct walk *w, FTS *fts, FTSENT *e, af_err *err)
{
    char why[PATH_MAX + 128], target[PATH_MAX];
    switch (e->fts_info) {
    case FTS_D:
        if (e->fts_level > 0 && e->fts_name[0] == '.')
            fts_set(fts, e, FTS_SKIP); /* .git, .Trash and the like */
        else if (!dir_set_add(&w->dirs, e->fts_statp->st_dev, e->fts_statp->st_ino))
            skip_dir_seen(st, fts, e);
        return 0;
    case FTS_DC:
        snprintf(why, sizeof why, "a symbolic link loop: leads back to %s; not followed",
                 e->fts_cycle ? e->fts_cycle->fts_path : "a folder above it");
        return walk_problem(st, w, e->fts_path, "symlink_loop", why, false, err);
    case FTS_SLNONE: {
        ssize_t n = readlink(e->fts_path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        snprintf(why, sizeof why, "a broken symbolic link: its target %s does not exist",
                 target);
        return walk_problem(st, w, e->fts_path, "broken_link", why, true, err);
    }
    case FTS_DEFAULT:
        snprintf(why, sizeof why, "%s, not a file; skipped", file_type(e->fts_statp->st_mode));
        return walk_problem(st, w, e->fts_path, "not_regular", why, false, err);
    case FTS_DNR:
    case FTS_ERR:
    case FTS_NS:
        st->incomplete = true;
        snprintf(why, sizeof why, "cannot read: %s", strerror(e->fts_errno));
        return walk_problem(st, w, e->fts_path, "unreadable", why, true, err);
    case FTS_F:
        break;
    default:
        return 0;
    }
    struct stat link;
    if (lstat(e->fts_path, &link) == 0 && S_ISLNK(link.st_mode))
        af_run_count(st->ctx->run, "links_followed", 1);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->paths = realloc(w->paths, w->cap * sizeof *w->paths);
        if (!w->paths)
            abort();
    }
    w->paths[w->n++] = strdup(e->fts_path);
    return 0;
}

static int compare_entries(const FTSENT **a, const FTSENT **b)
{
    return strcmp((*a)->fts_name, (*b)->fts_name);
}

/* Every file under root, links followed (fts reports loops: FTS_DC; a folder reached
 * again is skipped), sorted by name.  A signal stops the walk (w->stopped): a large
 * tree takes a while to walk, and SIGINT must not wait for it. */
static int walk_tree(struct dir_state *st, char *root, struct walk *w, af_err *err)
{
    char *roots[] = {root, NULL};
    FTS *fts = fts_open(roots, FTS_LOGICAL | FTS_NOCHDIR, compare_entries);
    if (!fts)
        return af_err_set(err, "%s: cannot walk: %s", st->opts->path, strerror(errno));
    FTSENT *e;
    int rc = 0;
    /* The request is checked after fts_read: glibc's fts_close leaks the root's entry
     * when no fts_read came before it. */
    while (rc == 0 && (e = fts_read(fts)) != NULL && !(w->stopped = af_app_stop_requested()))
        rc = walk_entry(st, w, fts, e, err);
    fts_close(fts);
    free(w->dirs.keys);
    w->dirs = (struct dir_set){0};
    if (w->stopped)
        log_info("%s: stopped on request while walking the folders (%zu file(s) found so "
                 "far); nothing stored", st->opts->path, w->n);
    if (w->n > 0) /* qsort(NULL, 0, ...) is undefined behaviour: an empty folder has no list */
        qsort(w->paths, w->n, sizeof *w->paths, compare_strings);
    return rc;
}

/* Warns when most tracks under root have no artist: af-train groups its split and folds
 * by artist, and without artists one artist's tracks land in train and test at once. */
static int warn_artistless(struct dir_state *st, const char *root, af_err *err)
{
    char prefix[PATH_MAX + 2], prefix_len[24];
    snprintf(prefix, sizeof prefix, "%s/", root);
    snprintf(prefix_len, sizeof prefix_len, "%zu", strlen(prefix));
    const char *p[] = {prefix, prefix_len};
    int l[] = {(int)strlen(prefix), 0}, f[] = {1, 0};
    PGresult *res = af_db_query_binary(st->ctx->db,
                                       "SELECT count(DISTINCT track_id),"
                                       " count(DISTINCT track_id) FILTER (WHERE t.artist IS NULL)"
                                       " FROM folder_files JOIN tracks t USING (track_id)"
                                       " WHERE substring(path_bytes FROM 1 FOR $2::int) = $1",
                                       2, p, l, f, 0, err);
    if (!res)
        return -1;
    long long tracks = atoll(PQgetvalue(res, 0, 0)), no_artist = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    af_run_count(st->ctx->run, "tracks_without_artist", no_artist);
    if (tracks == 0 || 2 * no_artist <= tracks)
        return 0;
    log_warn("%lld of %lld tracks under %s have no artist: af-train cannot keep an artist's "
             "tracks out of the test set (its split and folds group by artist), so its scores "
             "will be too good. Give the artist with --artist-from-path PATTERN "
             "(e.g. '*/{artist}/*' or '*/{artist} - *'; see --help)", no_artist, tracks,
             st->opts->path);
    return 0;
}

/* Nothing lost: every entry the walk found is, in the database, a file of this run
 * (folder_files) or a problem of this run (ingest_problems).  A mismatch is a bug
 * that would lose data silently: it fails the run (exit 1). */
static int nothing_lost(struct dir_state *st, const char *root, const char *root_display,
                        long entries, af_err *err)
{
    if (!st->ctx->run_id[0])
        return 0;
    char prefix[PATH_MAX + 2], prefix_len[24];
    snprintf(prefix, sizeof prefix, "%s/", root);
    snprintf(prefix_len, sizeof prefix_len, "%zu", strlen(prefix));
    const char *p[] = {prefix, prefix_len, st->ctx->run_id};
    int l[] = {(int)strlen(prefix), 0, 0}, f[] = {1, 0, 0};
    PGresult *res = af_db_query_binary(st->ctx->db,
                                       "SELECT (SELECT count(*) FROM folder_files WHERE run_id = $3"
                                       "  AND substring(path_bytes FROM 1 FOR $2::int) = $1)"
                                       " + (SELECT count(*) FROM ingest_problems"
                                       "  WHERE run_id = $3 AND source = 'folder')",
                                       3, p, l, f, 0, err);
    if (!res)
        return -1;
    long found = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (found == entries) {
        log_info("%s: nothing lost: %ld entries = files stored or unchanged + problems recorded",
                 root_display, entries);
        return 0;
    }
    log_error("%s: %ld entries, but %ld are in the database as files or problems of this run",
              root_display, entries, found);
    st->failed++;
    return 0;
}

/* Files recorded under root that this complete walk did not meet are gone (deleted,
 * renamed, moved to another folder): their folder_files and track_sources rows and their
 * labels are forgotten; their tracks and stored audio stay. */
static int forget_gone(struct dir_state *st, const char *root, const char *root_display,
                       af_err *err)
{
    struct ingest_ctx *ctx = st->ctx;
    if (!ctx->run_id[0])
        return 0;
    char prefix[PATH_MAX + 2], prefix_len[24];
    snprintf(prefix, sizeof prefix, "%s/", root);
    snprintf(prefix_len, sizeof prefix_len, "%zu", strlen(prefix));
    const char *p[] = {prefix, prefix_len, ctx->run_id};
    int l[] = {(int)strlen(prefix), 0, 0}, f[] = {1, 0, 0};
    if (af_db_begin(ctx->db, err) != 0)
        return -1;
    PGresult *res = af_db_query_binary(ctx->db,
                                       "DELETE FROM folder_files"
                                       " WHERE substring(path_bytes FROM 1 FOR $2::int) = $1"
                                       " AND run_id IS DISTINCT FROM $3 RETURNING track_id, path",
                                       3, p, l, f, 0, err);
    if (!res)
        goto fail;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *sp[] = {PQgetvalue(res, i, 1)};
        rc = af_db_command(ctx->db,
                           "DELETE FROM track_sources WHERE source = 'folder' AND source_key = $1"
                           " AND NOT EXISTS (SELECT 1 FROM folder_files WHERE path = $1)",
                           1, sp, err);
        if (rc == 0)
            rc = sync_track(ctx, PQgetvalue(res, i, 0), err);
    }
    int gone = PQntuples(res);
    PQclear(res);
    if (rc != 0)
        goto fail;
    if (gone > 0) {
        af_run_count(ctx->run, "files_gone", gone);
        log_info("%s: %d file(s) recorded before are gone (deleted, renamed or moved): "
                 "forgotten with their labels; their tracks and audio stay", root_display, gone);
    }
    return af_db_commit(ctx->db, err);
fail:
    af_db_rollback(ctx->db);
    return -1;
}

/* Labels per file, and the check of those labels against the taxonomy. */
static int check_labels(struct dir_state *st, const struct label_map *map, const struct walk *w,
                        size_t root_len, af_err *err)
{
    const struct folder_options *o = st->opts;
    if (o->no_labels || !o->taxonomy)
        return 0;
    struct folder_labels labels = {0};
    for (size_t i = 0; i < w->n; i++) {
        char display[PATH_MAX * 4 + 1], buf[512];
        const char *raw = w->paths[i] + root_len + (w->paths[i][root_len] == '/');
        folder_display_name(raw, display, sizeof display);
        folder_labels_add(&labels, folder_label_for(o->label_map ? map : NULL, display, buf,
                                                    sizeof buf));
    }
    int unknown = 0;
    int rc = folder_genres_check(&labels, o->taxonomy, o->add_folder_genres, &unknown, err);
    af_run_count(st->ctx->run, "labels_not_in_taxonomy", unknown);
    folder_labels_free(&labels);
    return rc;
}

/* A name shown escaped: why, and counted by the reason. */
static void warn_name(struct dir_state *st, unsigned escaped, const char *display)
{
    if (escaped & FOLDER_NAME_NOT_UTF8) {
        af_run_count(st->ctx->run, "names_not_utf8", 1);
        log_warn("%s: the file name is not valid UTF-8: shown escaped, its bytes kept "
                 "(folder_files.path_bytes)", display);
    }
    if (escaped & FOLDER_NAME_CONTROL) {
        af_run_count(st->ctx->run, "names_with_control_characters", 1);
        log_warn("%s: the file name holds a control character (a newline, a tab...): shown "
                 "escaped, its bytes kept (folder_files.path_bytes)", display);
    }
}

/* Stores every file of the walk; *done says how many were looked at. */
static int ingest_files(struct dir_state *st, const struct label_map *map,
                        const struct artist_pattern *artists, const struct walk *w,
                        size_t root_len, long counts[3], size_t *done, af_err *err)
{
    const struct folder_options *o = st->opts;
    int rc = 0;
    size_t i;
    for (i = 0; i < w->n && rc == 0; i++) {
        if (af_app_stop_requested()) {
            log_info("stopped on request after %zu of %zu files", i, w->n);
            break;
        }
        char display[PATH_MAX * 4 + 1], label_buf[512], artist_buf[512];
        warn_name(st, folder_display_name(w->paths[i], display, sizeof display), display);
        const char *relative = display + root_len + (display[root_len] == '/');
        struct file_item item = {
            .path = w->paths[i], .display = display, .relative = relative,
            .label = o->no_labels ? NULL
                                  : folder_label_for(o->label_map ? map : NULL, relative,
                                                     label_buf, sizeof label_buf),
            .path_artist = folder_artist_from_path(artists, relative, artist_buf,
                                                   sizeof artist_buf)};
        enum file_outcome outcome;
        rc = ingest_file(st, &item, &outcome, err);
        if (rc == 0)
            counts[outcome]++;
        af_run_count(st->ctx->run, "files", 1);
        af_progress("files", (long)i + 1, (long)w->n, NULL);
    }
    af_progress_end();
    *done = i;
    return rc;
}

/* Labels checked, files stored, and, when every file was looked at, the nothing-lost
 * check and the files gone forgotten. */
static int ingest_walked(struct dir_state *st, const struct label_map *map,
                         const struct artist_pattern *artists, const struct walk *w,
                         const char *root, af_err *err)
{
    struct ingest_ctx *ctx = st->ctx;
    /* A file's relative path (for labels, --artist-from-path) is its display form after
     * the root's display form: the root's bytes are a prefix of every path, and an
     * escaped byte is escaped the same way in both. */
    char root_display[PATH_MAX * 4 + 1];
    folder_display_name(root, root_display, sizeof root_display);
    log_info("%s: %zu file(s), %ld other entr%s skipped", root_display, w->n, w->problems,
             w->problems == 1 ? "y" : "ies");
    int rc = check_labels(st, map, w, strlen(root), err);
    long counts[3] = {0, 0, 0};
    size_t done = 0;
    if (rc == 0)
        rc = ingest_files(st, map, artists, w, strlen(root_display), counts, &done, err);
    if (rc == 0) {
        log_info("%s: %ld stored, %ld unchanged, %ld skipped (not audio or unusable), "
                 "%lld new track(s), %lld merged into a track that keeps another file's audio",
                 root_display, counts[FILE_STORED], counts[FILE_UNCHANGED], counts[FILE_PROBLEM],
                 af_run_counter(ctx->run, "tracks"), af_run_counter(ctx->run, "merged"));
        rc = warn_artistless(st, root, err);
    }
    if (rc == 0 && done == w->n)
        rc = nothing_lost(st, root, root_display, (long)w->n + w->problems, err);
    if (rc == 0 && done == w->n && !st->incomplete)
        rc = forget_gone(st, root, root_display, err);
    return rc;
}

int ingest_dir(struct ingest_ctx *ctx, const struct folder_options *o, long *failed, af_err *err)
{
    struct dir_state st = {.ctx = ctx, .opts = o};
    struct label_map map = {0};
    struct artist_pattern artists = {0};
    *failed = 0;
    if (o->label_map && folder_label_map_load(o->label_map, &map, err) != 0)
        return -1;
    if (o->artist_from_path &&
        folder_artist_pattern_compile(&artists, o->artist_from_path, err) != 0) {
        folder_label_map_free(&map);
        return -1;
    }
    char *root = realpath(o->path, NULL);
    struct stat sb;
    if (!root || stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        af_err_set_code(err, AF_EXIT_USAGE, "%s: %s", o->path,
                        root ? "not a directory" : strerror(errno));
        free(root);
        folder_label_map_free(&map);
        folder_artist_pattern_free(&artists);
        return -1;
    }
    struct walk w = {0};
    int rc = walk_tree(&st, root, &w, err);
    if (rc == 0 && !w.stopped) /* a walk cut short stores nothing and forgets nothing */
        rc = ingest_walked(&st, &map, &artists, &w, root, err);
    *failed = st.failed;
    for (size_t j = 0; j < w.n; j++)
        free(w.paths[j]);
    free(w.paths);
    free(root);
    folder_label_map_free(&map);
    folder_artist_pattern_free(&artists);
    return rc;
}
