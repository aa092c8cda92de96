/*
 * folder_genres.h — af-ingest dir's check of its folder labels against the genre
 * taxonomy (taxonomy.h).  A folder name no genre takes (e.g. `electronic/` against
 * GTZAN's ten) leaves all its files unlabelled at `af-ingest label`: the check names
 * such folders with their file counts, and with --add-folder-genres appends a genre
 * for each to the taxonomy file (`[electronic]` with the tag `electronic = 1`).
 */
#ifndef AF_INGEST_FOLDER_GENRES_H
#define AF_INGEST_FOLDER_GENRES_H

#include <stdbool.h>

#include "error.h"
#include "taxonomy.h"

struct folder_label_count {
    char *label;
    long files;
};

struct folder_labels {
    struct folder_label_count *items;
    int n;
};

/* Counts one file under label (NULL = none: not counted). */
void folder_labels_add(struct folder_labels *labels, const char *label);
void folder_labels_free(struct folder_labels *labels);

/* Warns (one line, names and counts) about labels no genre of tax takes, and with
 * add appends a genre for each to tax->path.  Sets *unknown to their number.
 * -1 (err set) only when the taxonomy file cannot be written. */
int folder_genres_check(const struct folder_labels *labels, const struct af_taxonomy *tax,
                        bool add, int *unknown, af_err *err);

#endif
