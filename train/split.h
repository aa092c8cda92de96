/*
 * split.h — leakage-free, stable assignment of labelled tracks to the
 * train / validation / test splits and to cross-validation folds.
 *
 * Leakage: windows of one track, and tracks of one artist (same voice,
 * production, mastering), are far more alike than two tracks of a genre; a
 * model evaluated on an artist it trained on looks better than it is.  So the
 * unit of assignment is the artist: the normalised artist name (see
 * af_split_normalise_artist) is hashed, and every track of that artist lands
 * in the same split and the same fold.  A track without a known artist is its
 * own group, keyed by its track id.
 *
 * Two ways to assign: af_split_stratify (what af-train stores: stratified per
 * genre, stable because stored) and the pure hash below (af_split_assign /
 * af_split_fold: needs no history, stratified only in expectation).
 * Pure hash: the assignment is a function of (normalised artist or track
 * id, scheme): u = hash(salt, key) mapped to [0, 1), then train if
 * u < train, validation if u < train + val, test otherwise.  Nothing depends
 * on the other tracks, so tracks arriving later never move earlier ones, and
 * a test set stays a test set across retrainings.  Changing the salt or the
 * ratios reshuffles everything (deliberately: that is a new scheme).
 *
 * Stratification, honestly: it holds in expectation only.  Each artist's u
 * is uniform and independent of its genre, so every genre's expected share in
 * each split equals the ratios; but a genre with few artists can come out
 * lopsided, or with no artist at all in a split (with 0.15 for test, a genre
 * of 5 artists has no test artist with probability 0.85^5 = 44%).  Exact
 * stratification is impossible here without giving something up: putting the
 * genre into the hash key splits an artist's tracks of different genres across
 * splits (leakage), and any sort-and-cut per genre moves tracks when new ones
 * arrive (instability).  Grouping and stability win; af_split_tabulate reports
 * per genre per split counts so the caller can warn about such genres (and
 * e.g. not report test metrics for them).  An artist with tracks in several
 * genres contributes to each of them in its one split.
 *
 * Hash (part of the contract: stored assignments stay valid only while it
 * does not change): 64-bit FNV-1a over the salt's 8 little-endian bytes, a
 * domain byte ('A' artist name, 'T' track id) and the key bytes (the
 * normalised name, or the id as 8 little-endian bytes), finished with the
 * splitmix64 mixer; u = (hash >> 11) * 2^-53.
 */
#ifndef AF_TRAIN_SPLIT_H
#define AF_TRAIN_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum af_split { AF_SPLIT_TRAIN = 0, AF_SPLIT_VAL = 1, AF_SPLIT_TEST = 2 };
#define AF_SPLIT_COUNT 3

/* The salt of the default scheme; fixed forever so that assignments are
 * reproducible across installations. */
#define AF_SPLIT_DEFAULT_SALT UINT64_C(0x414653504c495431) /* "AFSPLIT1" */

typedef struct af_split_scheme {
    double train, val, test; /* fractions, >= 0, summing to 1 */
    uint64_t salt;
} af_split_scheme;

/* 0.70 / 0.15 / 0.15 with AF_SPLIT_DEFAULT_SALT. */
void af_split_scheme_default(af_split_scheme *s);
int af_split_scheme_check(const af_split_scheme *s, af_err *err);

/* The grouping key of an artist name: ASCII letters lower-cased, leading and
 * trailing whitespace removed, inner whitespace runs collapsed to one space;
 * other bytes (UTF-8) unchanged — "  The  Beatles\n" -> "the beatles".
 * Writes at most cap bytes including the NUL (like snprintf) and returns the
 * full length.  Non-ASCII letters are not case-folded (no Unicode tables
 * here), so "ÉMILE" and "émile" are two artists: normalise upstream if that
 * matters. */
size_t af_split_normalise_artist(const char *artist, char *out, size_t cap);

/* False for NULL, an empty or all-whitespace name, and the placeholders
 * "unknown", "[unknown]", "unknown artist" (any case): those tracks are keyed
 * by track id.  ("Various Artists" is kept as an artist: grouping a
 * compilation's tracks is conservative.) */
bool af_split_artist_known(const char *artist);

/* The group's hash as described above (artist if known, else track id). */
uint64_t af_split_group_hash(const char *artist, int64_t track_id, uint64_t salt);

enum af_split af_split_assign(const af_split_scheme *s, const char *artist, int64_t track_id);

/* Artist-grouped K-fold: fold = hash mod k, with a hash independent of the
 * split's (salt mixed with a fold constant), so folds cut across splits.
 * Folds are balanced, and stratified, in expectation only (as above).
 * k >= 2; returns -1 for k < 2. */
int af_split_fold(const char *artist, int64_t track_id, int k, uint64_t salt);

/*
 * A network's own validation artists (af-train's member_val_share): of the
 * distinct groups among the tracks with pool[i] set (group[i]: a group hash,
 * e.g. af_split_group_hash), the round(share * groups) whose hash mixed with
 * salt is lowest — at least one, and one fewer than all, so that both sides
 * are whole artists and neither is empty.  val[i] gets true for the pool's
 * tracks of those groups, false for every other track.  Each salt draws
 * another set; the same salt, the same set.  *n_val_groups (may be NULL) gets
 * how many groups were drawn.  Fails when the pool holds fewer than two
 * groups or share is not in (0, 1).
 */
int af_split_draw_validation(const uint64_t *group, const bool *pool, size_t n, double share,
                             uint64_t salt, bool *val, size_t *n_val_groups, af_err *err);

/*
 * Stratified, group-disjoint k folds for tracks held in memory (af-train --folds
 * on a CSV file, which has no stored scheme): the tracks with one group hash
 * (group[i], e.g. af_split_group_hash) form a group, whose genre is the one most
 * of its tracks have (genre[i] in 0..n_genres-1; a tie goes to the lowest), and
 * af_split_stratify places the groups, each fold's target 1/k.  fold[i] gets
 * track i's fold.  A function of the tracks alone: the same tracks, the same
 * folds.  k in 2..64.
 */
int af_split_group_folds(const uint64_t *group, const int *genre, size_t n, int n_genres, int k,
                         int *fold, af_err *err);

/* "train", "val", "test" (the names the database stores). */
const char *af_split_name(enum af_split s);

/*
 * Per genre per bucket counts, for checking a split (buckets = AF_SPLIT_COUNT,
 * bucket[i] = the split) or folds (buckets = k).  counts must hold
 * n_genres * n_buckets values: counts[g * n_buckets + b].  *n_incomplete
 * (may be NULL) gets the number of genres that have tracks but none in some
 * bucket.  Fails on a genre or bucket out of range.
 */
int af_split_tabulate(const int *genre, const int *bucket, size_t n, int n_genres, int n_buckets,
                      size_t *counts, int *n_incomplete, af_err *err);

/*
 * Stratified assignment of artist groups to buckets (the three splits, or k folds),
 * used for the stored assignments (splits_db.h), where stability comes from the
 * database: a group assigned once keeps its bucket, so only new groups are placed.
 *
 * Groups with bucket >= 0 are already placed (they count, and are not moved).  The
 * others are placed one by one in the order of their hash: each goes to the bucket
 * furthest below its target share of the group's genre, counting the group's tracks,
 * i.e. argmax_b target[b] * (n_genre + size) - have[genre][b]; ties go to the bucket
 * met first from hash mod n_buckets.  Every genre thus gets its shares as closely as
 * whole artists allow, and a genre with at least 1/min(target) artists gets every
 * bucket (a hash alone leaves a genre of 7 artists without a test artist 32% of the
 * time).  The result depends on the order in which tracks arrived, not only on the
 * artist: it is deterministic given the stored history, and never revisited.
 */
typedef struct af_split_group {
    uint64_t hash; /* af_split_group_hash of the group */
    int genre;     /* the genre most of its new tracks have, 0..n_genres-1 */
    int size;      /* its tracks */
    int bucket;    /* in: -1 = to place, else its bucket; out: its bucket */
} af_split_group;

int af_split_stratify(af_split_group *groups, size_t n, int n_genres, int n_buckets,
                      const double *targets, af_err *err);

#endif
