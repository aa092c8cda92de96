/*
 * folder.h — `af-ingest dir PATH`: audio files from a folder.
 *
 * Every regular file under PATH is read and decoded (analysis/decode/decode.h) to check it is
 * audio and to take its duration and artist/title tags; its bytes are stored once
 * per content in `audio` (sha256) and linked to its track in `track_audio`.  The
 * label is the folder a file sits in under PATH (GTZAN: PATH/<genre>/<file>), or
 * what --label-map says; it becomes a raw tag of source 'folder'.  Files that are
 * not audio are skipped, counted, logged and stored in ingest_problems.
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

struct folder_options {
    const char *path;
    const char *label_map; /* NULL: GTZAN layout */
    bool no_labels;
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

int ingest_dir(struct ingest_ctx *ctx, const struct folder_options *o, af_err *err);

#endif
