/*
 * ingest.h — what every af-ingest command shares: its context (database, run
 * record, configuration), recording problems with the input, and finding or
 * creating the track a source talks about (merging by MSD id, else by the
 * normalised artist + title).
 */
#ifndef AF_INGEST_INGEST_H
#define AF_INGEST_INGEST_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "app.h"
#include "error.h"

struct ingest_ctx {
    struct af_app *app;
    PGconn *db;
    struct af_run *run;
    char run_id[24];     /* as text, for query parameters */
    int problems_logged; /* individual warnings are capped; the rest are counted */
    long items_failed;   /* input not loaded (af-ingest msd): makes the exit code 1 */
};

void ingest_ctx_init(struct ingest_ctx *ctx, struct af_app *app);

/* Logs a problem with one input item (warning, capped at 100 lines a run) and
 * stores it in ingest_problems (in the current transaction, if any). Counts it
 * under the counter named `problem`. Returns -1 only when the database failed. */
int ingest_problem(struct ingest_ctx *ctx, const char *source, const char *item,
                   const char *problem, const char *detail, af_err *err);

/* The same, for an item whose name is not valid UTF-8: item is its display form,
 * item_bytes (may be NULL) the name itself, kept in ingest_problems.item_bytes. */
int ingest_problem_bytes(struct ingest_ctx *ctx, const char *source, const char *item,
                         const char *item_bytes, const char *problem, const char *detail,
                         af_err *err);

struct ingest_track {
    const char *msd_track_id; /* may be NULL */
    const char *artist;       /* may be NULL */
    const char *title;        /* may be NULL */
    const char *mbid;         /* may be NULL or "" */
    double duration_seconds;  /* 0 = unknown */
};

/* Finds the track by MSD id, else by MusicBrainz id (mbid), else by match key, else creates it; fills in fields
 * the stored track lacks. Sets *track_id (text, for parameters) and *created. */
int ingest_track_upsert(struct ingest_ctx *ctx, const struct ingest_track *t, char track_id[24],
                        bool *created, af_err *err);

#endif
