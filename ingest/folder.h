/*
 * folder.h — `af-ingest dir PATH`: audio files from a folder.
 *
 * Every file under PATH (symbolic links followed, loops detected, each folder walked
 * once however many links lead to it; a signal stops the walk) is read and probed
 * (analysis/decode/decode.h's af_decode_probe_memory: no full decode, af-extract
 * decodes once) to check it is audio and to take its duration and artist/title tags.
 * Each file is recorded in `folder_files` by its name's bytes (names need not be
 * UTF-8; logs and text columns show them escaped, folder_names.h), the sha256 of its
 * bytes (unchanged on a re-run: nothing to do) and its audio identity (audio_id.h:
 * unchanged by tag edits and renames).  A file is the track of the same audio seen
 * before, else of the same bytes, else of the same artist and title (never by
 * placeholder or missing tags), else a new track; the track keeps the bytes of the
 * first file stored for it (`audio`, `track_audio`; folder_files.kept).
 * The label is the folder a file sits in under PATH (GTZAN: PATH/<genre>/<file>), or
 * what --label-map says (folder_files.label; --no-labels: none, so labels of earlier
 * runs go); a track's raw tags of source 'folder' are the labels of its files.  An
 * artist --artist-from-path gave is withdrawn (the one before restored:
 * track_path_artists) when no file's path gives it any more.  Files recorded under PATH
 * that a complete walk no longer finds (deleted, renamed, moved) are forgotten with
 * their labels; their tracks and audio stay.  A path whose file now holds other audio
 * is the new audio's track; the old track loses its label likewise.  Every file that is
 * not stored (not audio, bad audio, unreadable, a broken link, a FIFO...) is counted,
 * named in the log and stored in ingest_problems; unreadable files, broken links and
 * audio files that do not decode are failed items (exit 1).
 *
 * Label map format (--label-map FILE): one rule a line, "PATTERN LABEL"; PATTERN is
 * a shell wildcard matched against the file's path relative to PATH ('*' also
 * matches '/'), LABEL the genre tag, or '-' for no label; the first matching rule
 * wins; '#' starts a comment.  Files that match no rule get no label.
 */
#ifndef AF_INGEST_FOLDER_H
#define AF_INGEST_FOLDER_H

#include <stdbool.h>

#include "ingest.h"

#include "taxonomy.h"

struct folder_options {
    const char *path;
    const char *label_map; /* NULL: GTZAN layout */
    bool no_labels;
    const char *artist_from_path;       /* folder_names.h pattern; NULL: tags only */
    const struct af_taxonomy *taxonomy; /* to check folder labels against; NULL: no check */
    bool add_folder_genres;             /* append unknown folder labels to the taxonomy */
};

struct label_rule {
    char *pattern, *label; /* label NULL = no label */
};

struct label_map {
    struct label_rule *rules;
    int n_rules;
};

/* Parses a label map; errors name file and line (AF_EXIT_USAGE). */
int folder_label_map_load(const char *path, struct label_map *map, af_err *err);
void folder_label_map_free(struct label_map *map);
/* The label for a path relative to the root (NULL = none), per map or, when map is
 * NULL, the GTZAN layout (the first directory of the relative path). Writes to buf. */
const char *folder_label_for(const struct label_map *map, const char *relative, char *buf,
                             size_t len);

/* Sets *failed to the failed items (see above).  -1 on a usage or database error. */
int ingest_dir(struct ingest_ctx *ctx, const struct folder_options *o, long *failed, af_err *err);

#endif
