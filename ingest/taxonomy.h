/*
 * taxonomy.h — the genre taxonomy (config/genres.conf, parsed with inih) and
 * its registration in the database as a taxonomy version.
 *
 * File format: one section per genre, one line per raw tag with its weight:
 *     [hiphop]
 *     seeds = hip hop, rap          ; tags whose Last.fm top tracks are crawled
 *     hip hop = 1
 *     gangsta rap = 0.8
 * Tags are matched by their key (normalise.h), so "Hip-Hop" and "hiphop" are the
 * same tag; a tag may belong to several genres with different weights.  Without
 * a seeds line, a genre's seeds are its tags of the highest weight.
 */
#ifndef AF_INGEST_TAXONOMY_H
#define AF_INGEST_TAXONOMY_H

#include <libpq-fe.h>

#include "error.h"

struct af_genre_tag {
    char *tag;     /* as written in the file */
    char *key;     /* normalised */
    double weight;
};

struct af_genre {
    char *name;
    struct af_genre_tag *tags;
    int n_tags;
    char **seeds; /* raw seed tags, as written */
    int n_seeds;
};

struct af_taxonomy {
    char *path;
    struct af_genre *genres;
    int n_genres;
    char checksum[65]; /* sha256 of the canonical form, hex */
};

/* The taxonomy file a program reads: flag, else [labels] genres_file, else the
 * project's config/genres.conf. */
const char *af_taxonomy_default_path(const char *flag, const char *configured);

/* Parses path. Errors name file, line and key (err->code = AF_EXIT_USAGE). */
struct af_taxonomy *af_taxonomy_load(const char *path, af_err *err);
void af_taxonomy_free(struct af_taxonomy *tax);

/* Stores the taxonomy (genres, genre_tags) under a version identified by its
 * checksum, reusing the version when unchanged. Sets *version. */
int af_taxonomy_register(PGconn *conn, const struct af_taxonomy *tax, int *version, af_err *err);

#endif
