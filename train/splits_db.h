/*
 * splits_db.h — the stored train/val/test assignment (split_schemes,
 * track_splits) that af-train extends and reads.
 *
 * A scheme is a name with fixed parameters (fractions, hash salt and,
 * once asked for, a number of folds).  Each run places the labelled tracks
 * that have no row yet, artist by artist, with split.h's af_split_stratify
 * (each genre gets the scheme's shares as closely as whole artists allow), and
 * never touches existing rows: an artist's later tracks land in the artist's
 * split, and a test track stays a test track across retrainings, even if its
 * artist name is edited later.  The salt of the scheme "default" is
 * AF_SPLIT_DEFAULT_SALT; another name gets a salt hashed from its name, so
 * two schemes with the same fractions still differ.
 *
 * Runs inside the caller's transaction; the scheme row is locked (FOR UPDATE)
 * so concurrent runs assign one after the other.
 */
#ifndef AF_TRAIN_SPLITS_DB_H
#define AF_TRAIN_SPLITS_DB_H

#include <libpq-fe.h>

#include "error.h"
#include "split.h"

typedef struct af_split_scheme_row {
    int id;
    af_split_scheme scheme;
    int folds; /* 0: none */
} af_split_scheme_row;

/* The salt used for a scheme name (see above). */
uint64_t af_split_salt_for(const char *name);

/* Finds or creates the scheme; fails with AF_EXIT_USAGE when it exists with
 * other fractions, or with another number of folds than folds (> 0).
 * A scheme without folds gains them when folds > 0. */
int af_splits_scheme(PGconn *conn, const char *name, double train, double val, int folds,
                     af_split_scheme_row *out, af_err *err);

/* Assigns every track labelled under taxonomy_version that has no row in the
 * scheme (and fills in missing folds when the scheme has folds).  *assigned
 * gets the number of new rows. */
int af_splits_assign(PGconn *conn, const af_split_scheme_row *scheme, int taxonomy_version,
                     long *assigned, af_err *err);

#endif
