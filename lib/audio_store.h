/*
 * audio_store.h — where audio bytes live: [audio] store in the configuration.
 *
 *   database   (default) in audio.bytes: one place, in every backup, nothing to mount;
 *              ~0.45 MB per preview, so ~450 GB of database per million tracks
 *   directory  in a content-addressed directory ([audio] directory, shared by every
 *              host, e.g. over NFS): DIR/ab/cd/<sha256 hex>; audio.bytes is NULL
 *   none       in the database until the track's features are stored, then dropped
 *              (audio.bytes NULL): a later feature set cannot be computed from it
 *
 * audio.stored (062_audio_store.sql) says where each row's bytes are, so rows written
 * under different settings coexist; `af-db move-audio` and `af-db prune-audio` change
 * it afterwards.  Every program configures this once (af_app_start); af-ingest dir and
 * af-fetch store through af_audio_store_insert, af-extract reads through
 * af_audio_store_read_file and releases through af_audio_store_after_features.
 */
#ifndef AF_AUDIO_STORE_H
#define AF_AUDIO_STORE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

enum af_audio_store_kind { AF_AUDIO_STORE_DATABASE, AF_AUDIO_STORE_DIRECTORY, AF_AUDIO_STORE_NONE };

/* Reads [audio] store and directory; fails (AF_EXIT_USAGE) on an unknown store or a
 * directory store without a usable directory. */
int af_audio_store_configure(const struct af_config *cfg, af_err *err);
enum af_audio_store_kind af_audio_store_kind(void);
const char *af_audio_store_name(enum af_audio_store_kind kind);
/* [audio] directory ("" when not set). */
const char *af_audio_store_directory(void);

/* The metadata of one audio file, as the audio table keeps it. */
struct af_audio_meta {
    const char *codec; /* may be NULL or "" */
    int sample_rate, channels;
    double duration;
};

/* Stores data (len bytes, sha256 digest) where the configuration says and inserts its
 * audio row (ON CONFLICT DO NOTHING); *inserted is 1 when the row is new. */
int af_audio_store_insert(PGconn *conn, const unsigned char digest[32], const void *data,
                          size_t len, const struct af_audio_meta *meta, int *inserted,
                          af_err *err);

/* DIR/ab/cd/<hex> of a digest. */
void af_audio_store_path(const char *directory, const unsigned char digest[32], char *buf,
                         size_t len);
/* Writes data under directory (atomically: a temporary file renamed into place). */
int af_audio_store_write_file(const char *directory, const unsigned char digest[32],
                              const void *data, size_t len, af_err *err);
/* Reads the file of a digest from [audio] directory; *data is malloc'd. */
int af_audio_store_read_file(const unsigned char digest[32], unsigned char **data, size_t *len,
                             af_err *err);

/* With store = none: drops the bytes of the audio of the given tracks (a text[] literal
 * of ids) whose every track now has features of feature_set_id. Runs inside the
 * caller's transaction; does nothing with the other stores. */
int af_audio_store_after_features(PGconn *conn, const char *feature_set_id,
                                  const char *track_ids, af_err *err);

#endif
