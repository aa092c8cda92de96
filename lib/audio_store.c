/* audio_store.c — where audio bytes live ([audio] store); see audio_store.h. */
#include "audio_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "exitcode.h"

static enum af_audio_store_kind store_kind = AF_AUDIO_STORE_DATABASE;
static char store_dir[1024];

const char *af_audio_store_name(enum af_audio_store_kind kind)
{
    static const char *names[] = {"database", "directory", "none"};
    return names[kind];
}

enum af_audio_store_kind af_audio_store_kind(void) { return store_kind; }
const char *af_audio_store_directory(void) { return store_dir; }

int af_audio_store_configure(const struct af_config *cfg, af_err *err)
{
    const char *name = af_config_str(cfg, "audio.store");
    const char *dir = af_config_str(cfg, "audio.directory");
    int found = 0;
    for (int k = AF_AUDIO_STORE_DATABASE; k <= AF_AUDIO_STORE_NONE; k++)
        if (strcmp(name, af_audio_store_name(k)) == 0)
            store_kind = k, found = 1;
    if (!found)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "[audio] store: '%s' is not one of database, directory, none", name);
    if (strlen(dir) >= sizeof store_dir - 80)
        return af_err_set_code(err, AF_EXIT_USAGE, "[audio] directory: path too long");
    snprintf(store_dir, sizeof store_dir, "%s", dir);
    if (store_kind != AF_AUDIO_STORE_DIRECTORY)
        return 0;
    struct stat st;
    if (!dir[0])
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "[audio] store = directory needs [audio] directory");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return af_err_set_code(err, AF_EXIT_USAGE, "[audio] directory: %s: no such directory",
                               dir);
    return 0;
}

void af_audio_store_path(const char *directory, const unsigned char digest[32], char *buf,
                         size_t len)
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    snprintf(buf, len, "%s/%.2s/%.2s/%s", directory, hex, hex + 2, hex);
}

static int make_parents(char *path, af_err *err)
{
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int rc = mkdir(path, 0775);
        int saved = errno;
        *slash = '/';
        if (rc != 0 && saved != EEXIST)
            return af_err_set(err, "cannot create %s: %s", path, strerror(saved));
    }
    return 0;
}

int af_audio_store_write_file(const char *directory, const unsigned char digest[32],
                              const void *data, size_t len, af_err *err)
{
    char path[1200], tmp[1300];
    af_audio_store_path(directory, digest, path, sizeof path);
    if (access(path, F_OK) == 0) /* content-addressed: the same bytes are there already */
        return 0;
    if (make_parents(path, err) != 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return af_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            af_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    /* The database will say the file exists: it must survive a crash first. */
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        af_err_set(err, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int af_audio_store_read_file(const unsigned char digest[32], unsigned char **data, size_t *len,
                             af_err *err)
{
    *data = NULL;
    *len = 0;
    if (!store_dir[0])
        return af_err_set(err, "the audio is in a directory store, but [audio] directory is not set");
    char path[1200];
    af_audio_store_path(store_dir, digest, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return af_err_set(err, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !(*data = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        fclose(f);
        return af_err_set(err, "cannot read %s", path);
    }
    *len = fread(*data, 1, (size_t)st.st_size, f);
    int bad = ferror(f) || *len != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(*data);
        *data = NULL;
        return af_err_set(err, "cannot read %s: short read", path);
    }
    return 0;
}

int af_audio_store_insert(PGconn *conn, const unsigned char digest[32], const void *data,
                          size_t len, const struct af_audio_meta *meta, int *inserted,
                          af_err *err)
{
    int in_directory = store_kind == AF_AUDIO_STORE_DIRECTORY;
    if (in_directory && af_audio_store_write_file(store_dir, digest, data, len, err) != 0)
        return -1;
    char size[24], rate[16], channels[16], duration[32];
    snprintf(size, sizeof size, "%zu", len);
    snprintf(rate, sizeof rate, "%d", meta->sample_rate);
    snprintf(channels, sizeof channels, "%d", meta->channels);
    snprintf(duration, sizeof duration, "%.3f", meta->duration);
    /* store = none keeps the bytes in the database until the features are stored. */
    const char *stored = in_directory ? "directory" : "database";
    const char *params[] = {(const char *)digest, in_directory ? NULL : (const char *)data,
                            size, meta->codec ? meta->codec : "", rate, channels, duration,
                            stored};
    const int lengths[] = {32, (int)len, 0, 0, 0, 0, 0, 0};
    const int formats[] = {1, 1, 0, 0, 0, 0, 0, 0};
    PGresult *res = af_db_query_binary(
        conn,
        "INSERT INTO audio (sha256, bytes, size_bytes, codec, sample_rate, channels,"
        " duration_seconds, stored) VALUES ($1, $2, $3::int, nullif($4, ''), $5::int, $6::int,"
        " $7::real, $8) ON CONFLICT (sha256) DO NOTHING",
        8, params, lengths, formats, 0, err);
    if (!res)
        return -1;
    *inserted = strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    return 0;
}

int af_audio_store_after_features(PGconn *conn, const char *feature_set_id,
                                  const char *track_ids, af_err *err)
{
    if (store_kind != AF_AUDIO_STORE_NONE || !track_ids)
        return 0;
    const char *params[] = {feature_set_id, track_ids};
    return af_db_command(
        conn,
        "UPDATE audio a SET bytes = NULL, stored = 'none'"
        " WHERE a.stored = 'database'"
        " AND a.sha256 IN (SELECT sha256 FROM track_audio WHERE track_id = ANY($2::bigint[]))"
        " AND NOT EXISTS (SELECT 1 FROM track_audio ta"
        "  LEFT JOIN track_features f ON f.track_id = ta.track_id AND f.feature_set_id = $1::int"
        "  WHERE ta.sha256 = a.sha256 AND f.track_id IS NULL)",
        2, params, err);
}
