/*
 * csv.h — the dataset as a CSV file, so that af-train and another tool
 * (scikit-learn, PyTorch) can train on exactly the same numbers.
 *
 * Format: a header line "track_id,label,split,artist,<feature names>", then
 * one line per window in dataset order (track id, window index):
 *   42,rock,train,The Band,0.125,-3.5,...
 * split is train, val or test; artist may be empty (none known).  The artist
 * column lets another tool group by artist (scikit-learn's GroupKFold) and
 * af-train draw its networks' validation artists as it does from the
 * database.  Reading also takes files without it (header track_id,label,
 * split,<features>, what --export-csv wrote before): every track is then an
 * artist of its own.  Values are written with 9 significant digits ("%.9g"),
 * which round-trips every float exactly.  A label or artist holding a comma,
 * a quote or a line break is quoted RFC 4180 style; reading accepts quoted
 * fields anywhere and CRLF line ends.  Reading is strict: every line must
 * have the header's number of fields, values must be finite numbers, and all
 * lines of one track must agree on label, split and artist.
 */
#ifndef AF_TRAIN_CSV_H
#define AF_TRAIN_CSV_H

#include <stdio.h>

#include "dataset.h"
#include "error.h"

/* feature_names (ds->dim of them) head the feature columns, so that the file
 * read back on a fresh database (af-train --csv) registers a feature set with
 * the same names: key shift finds its chroma blocks by name.  NULL writes
 * f0,f1,... */
int af_csv_write(FILE *out, const af_dataset *ds, const char *const *feature_names,
                 af_err *err);

/* The feature names of the header line (the file's first line; in is left
 * after it): *n names, freed with af_csv_free_names; *first_column (may be
 * NULL) gets the first feature's column, counted from 1 (4, or 5 after an
 * artist column).  Fails, naming the file, when the header does not start
 * with track_id,label,split or has no feature. */
int af_csv_read_header(FILE *in, const char *name, char ***names, int *n, int *first_column,
                       af_err *err);
void af_csv_free_names(char **names, int n);

/* Reads into ds (initialised here; af_dataset_finish already applied).  Errors
 * name the file and line.  name is used in messages only. */
int af_csv_read(FILE *in, const char *name, af_dataset *ds, af_err *err);

#endif
