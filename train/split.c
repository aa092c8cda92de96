/* split.c — artist-grouped, hash-based split and fold assignment; see
 * split.h for why it is done this way and what it does not guarantee. */
#include "split.h"

#include <stdlib.h>

#include <math.h>
#include <string.h>

#include "rng.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)
#define FOLD_TWEAK UINT64_C(0x464f4c44464f4c44) /* "FOLDFOLD": folds get their own hash */

void af_split_scheme_default(af_split_scheme *s)
{
    s->train = 0.70;
    s->val = 0.15;
    s->test = 0.15;
    s->salt = AF_SPLIT_DEFAULT_SALT;
}

int af_split_scheme_check(const af_split_scheme *s, af_err *err)
{
    if (!(s->train > 0.0) || !(s->val >= 0.0) || !(s->test >= 0.0))
        return af_err_set(err, "split: ratios must be >= 0 with train > 0 (got %g/%g/%g)",
                          s->train, s->val, s->test);
    if (fabs(s->train + s->val + s->test - 1.0) > 1e-9)
        return af_err_set(err, "split: ratios must sum to 1 (got %g/%g/%g)", s->train, s->val,
                          s->test);
    return 0;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Calls emit for every byte of the normalised name; the hash and the string
 * form are both built on this, so they can never disagree. */
typedef void (*byte_sink)(void *ctx, unsigned char c);

static void normalise_into(const char *artist, byte_sink emit, void *ctx)
{
    const unsigned char *p = (const unsigned char *)artist;
    while (*p && is_space(*p))
        p++;
    bool pending_space = false;
    for (; *p; p++) {
        if (is_space(*p)) {
            pending_space = true; /* emitted only if a non-space follows: trims the end */
            continue;
        }
        if (pending_space)
            emit(ctx, ' ');
        pending_space = false;
        emit(ctx, (*p >= 'A' && *p <= 'Z') ? (unsigned char)(*p - 'A' + 'a') : *p);
    }
}

typedef struct string_sink {
    char *out;
    size_t cap, len;
} string_sink;

static void to_string(void *ctx, unsigned char c)
{
    string_sink *s = ctx;
    if (s->len + 1 < s->cap)
        s->out[s->len] = (char)c;
    s->len++;
}

size_t af_split_normalise_artist(const char *artist, char *out, size_t cap)
{
    string_sink s = {out, cap, 0};
    if (artist)
        normalise_into(artist, to_string, &s);
    if (cap > 0)
        out[s.len < cap ? s.len : cap - 1] = '\0';
    return s.len;
}

bool af_split_artist_known(const char *artist)
{
    static const char *const placeholders[] = {"unknown", "[unknown]", "unknown artist"};
    if (!artist)
        return false;
    char key[32];
    size_t len = af_split_normalise_artist(artist, key, sizeof key);
    if (len == 0)
        return false;
    for (size_t i = 0; i < sizeof placeholders / sizeof *placeholders; i++)
        if (len < sizeof key && strcmp(key, placeholders[i]) == 0)
            return false;
    return true;
}

static void fnv_byte(void *ctx, unsigned char c)
{
    uint64_t *h = ctx;
    *h = (*h ^ c) * FNV_PRIME;
}

static void fnv_u64(uint64_t *h, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        fnv_byte(h, (unsigned char)(v >> (8 * i)));
}

uint64_t af_split_group_hash(const char *artist, int64_t track_id, uint64_t salt)
{
    uint64_t h = FNV_OFFSET;
    fnv_u64(&h, salt);
    if (af_split_artist_known(artist)) {
        fnv_byte(&h, 'A');
        normalise_into(artist, fnv_byte, &h);
    } else {
        fnv_byte(&h, 'T');
        fnv_u64(&h, (uint64_t)track_id);
    }
    /* FNV's last bytes barely reach the high bits; the mixer spreads them. */
    return af_mix64(h);
}

enum af_split af_split_assign(const af_split_scheme *s, const char *artist, int64_t track_id)
{
    double u = (double)(af_split_group_hash(artist, track_id, s->salt) >> 11) * 0x1.0p-53;
    if (u < s->train)
        return AF_SPLIT_TRAIN;
    if (u < s->train + s->val)
        return AF_SPLIT_VAL;
    return AF_SPLIT_TEST;
}

int af_split_fold(const char *artist, int64_t track_id, int k, uint64_t salt)
{
    if (k < 2)
        return -1;
    /* mod bias is at most k / 2^64: irrelevant */
    return (int)(af_split_group_hash(artist, track_id, af_mix64(salt ^ FOLD_TWEAK)) % (uint64_t)k);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct groups of the pool (NULL: of every track); *n gets their number. */
static uint64_t *pool_groups(const uint64_t *group, const bool *pool, size_t n_tracks, size_t *n)
{
    uint64_t *g = malloc((n_tracks ? n_tracks : 1) * sizeof *g);
    if (!g)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n_tracks; i++)
        if (!pool || pool[i])
            g[k++] = group[i];
    qsort(g, k, sizeof *g, cmp_u64);
    size_t distinct = 0;
    for (size_t i = 0; i < k; i++)
        if (distinct == 0 || g[i] != g[distinct - 1])
            g[distinct++] = g[i];
    *n = distinct;
    return g;
}

int af_split_draw_validation(const uint64_t *group, const bool *pool, size_t n, double share,
                             uint64_t salt, bool *val, size_t *n_val_groups, af_err *err)
{
    if (!(share > 0.0 && share < 1.0))
        return af_err_set(err, "validation share %g: expected more than 0 and less than 1",
                          share);
    size_t n_groups = 0;
    uint64_t *groups = pool_groups(group, pool, n, &n_groups);
    if (!groups)
        return af_err_set(err, "out of memory");
    if (n_groups < 2) {
        free(groups);
        return af_err_set(err, "%zu artist(s) to draw validation artists from: at least 2 "
                               "needed (one to validate on, one to train on)", n_groups);
    }
    size_t k = (size_t)llround(share * (double)n_groups);
    k = k < 1 ? 1 : k > n_groups - 1 ? n_groups - 1 : k;
    /* Order the groups by their salted hash, keep the first k, and put those
     * back in group order for the lookups below. */
    uint64_t *keyed = malloc(n_groups * 2 * sizeof *keyed);
    if (!keyed) {
        free(groups);
        return af_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n_groups; i++)
        keyed[i] = af_mix64(groups[i] ^ af_mix64(salt));
    memcpy(keyed + n_groups, keyed, n_groups * sizeof *keyed);
    qsort(keyed + n_groups, n_groups, sizeof *keyed, cmp_u64);
    uint64_t cut = keyed[n_groups + k - 1];
    size_t chosen = 0;
    for (size_t i = 0; i < n_groups; i++)
        if (keyed[i] <= cut)
            groups[chosen++] = groups[i]; /* stays sorted: a subsequence */
    free(keyed);
    for (size_t i = 0; i < n; i++)
        val[i] = pool[i] && bsearch(&group[i], groups, chosen, sizeof *groups, cmp_u64);
    free(groups);
    if (n_val_groups)
        *n_val_groups = chosen;
    return 0;
}

int af_split_group_folds(const uint64_t *group, const int *genre, size_t n, int n_genres, int k,
                         int *fold, af_err *err)
{
    if (k < 2 || k > 64)
        return af_err_set(err, "%d folds: expected 2 to 64", k);
    size_t n_groups = 0;
    uint64_t *keys = pool_groups(group, NULL, n, &n_groups);
    size_t *of_track = malloc((n ? n : 1) * sizeof *of_track); /* each track's group */
    af_split_group *groups = calloc(n_groups ? n_groups : 1, sizeof *groups);
    int *votes = calloc((n_groups ? n_groups : 1) * (size_t)n_genres, sizeof *votes);
    int rc = keys && of_track && groups && votes ? 0 : af_err_set(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        of_track[i] = (size_t)((uint64_t *)bsearch(&group[i], keys, n_groups, sizeof *keys,
                                                   cmp_u64) - keys);
        if (genre[i] < 0 || genre[i] >= n_genres)
            rc = af_err_set(err, "folds: track %zu has genre %d out of range", i, genre[i]);
        else
            votes[of_track[i] * (size_t)n_genres + (size_t)genre[i]]++;
    }
    for (size_t g = 0; rc == 0 && g < n_groups; g++) {
        const int *v = votes + g * (size_t)n_genres;
        groups[g] = (af_split_group){.hash = keys[g], .bucket = -1};
        for (int c = 0; c < n_genres; c++) {
            groups[g].size += v[c];
            if (v[c] > v[groups[g].genre])
                groups[g].genre = c;
        }
    }
    double targets[64];
    for (int b = 0; b < k; b++)
        targets[b] = 1.0 / k;
    if (rc == 0)
        rc = af_split_stratify(groups, n_groups, n_genres, k, targets, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        fold[i] = groups[of_track[i]].bucket;
    free(of_track);
    free(keys);
    free(groups);
    free(votes);
    return rc;
}

const char *af_split_name(enum af_split s)
{
    switch (s) {
    case AF_SPLIT_TRAIN:
        return "train";
    case AF_SPLIT_VAL:
        return "val";
    case AF_SPLIT_TEST:
        return "test";
    }
    return "?";
}

int af_split_tabulate(const int *genre, const int *bucket, size_t n, int n_genres, int n_buckets,
                      size_t *counts, int *n_incomplete, af_err *err)
{
    if (n_genres < 1 || n_buckets < 1)
        return af_err_set(err, "split: need at least one genre and one bucket");
    memset(counts, 0, (size_t)n_genres * (size_t)n_buckets * sizeof *counts);
    for (size_t i = 0; i < n; i++) {
        if (genre[i] < 0 || genre[i] >= n_genres)
            return af_err_set(err, "split: genre %d of track %zu is not in 0..%d", genre[i], i,
                              n_genres - 1);
        if (bucket[i] < 0 || bucket[i] >= n_buckets)
            return af_err_set(err, "split: bucket %d of track %zu is not in 0..%d", bucket[i], i,
                              n_buckets - 1);
        counts[(size_t)genre[i] * (size_t)n_buckets + (size_t)bucket[i]]++;
    }
    int incomplete = 0;
    for (int g = 0; g < n_genres; g++) {
        const size_t *row = counts + (size_t)g * (size_t)n_buckets;
        size_t total = 0, empty = 0;
        for (int b = 0; b < n_buckets; b++) {
            total += row[b];
            empty += row[b] == 0;
        }
        incomplete += total > 0 && empty > 0;
    }
    if (n_incomplete)
        *n_incomplete = incomplete;
    return 0;
}

static int by_hash(const void *a, const void *b)
{
    const af_split_group *x = *(const af_split_group *const *)a;
    const af_split_group *y = *(const af_split_group *const *)b;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* The bucket furthest below its target share for the group's genre (see split.h). */
static int neediest_bucket(const af_split_group *g, const size_t *have, const size_t *total,
                           int n_buckets, const double *targets)
{
    int best = -1;
    double best_need = 0;
    int start = (int)(g->hash % (uint64_t)n_buckets);
    for (int i = 0; i < n_buckets; i++) {
        int b = (start + i) % n_buckets;
        double need = targets[b] * (double)(total[g->genre] + (size_t)g->size) -
                      (double)have[g->genre * n_buckets + b];
        if (targets[b] > 0 && (best < 0 || need > best_need)) {
            best = b;
            best_need = need;
        }
    }
    return best;
}

int af_split_stratify(af_split_group *groups, size_t n, int n_genres, int n_buckets,
                      const double *targets, af_err *err)
{
    if (n_genres < 1 || n_buckets < 1)
        return af_err_set(err, "split: need at least one genre and one bucket");
    size_t *have = calloc((size_t)n_genres * (size_t)n_buckets, sizeof *have);
    size_t *total = calloc((size_t)n_genres, sizeof *total);
    af_split_group **order = malloc((n ? n : 1) * sizeof *order);
    int rc = have && total && order ? 0 : af_err_set(err, "split: out of memory");
    size_t n_new = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        af_split_group *g = &groups[i];
        if (g->genre < 0 || g->genre >= n_genres || g->bucket >= n_buckets || g->size < 0)
            rc = af_err_set(err, "split: group %zu has genre %d or bucket %d out of range", i,
                            g->genre, g->bucket);
        else if (g->bucket >= 0) {
            have[g->genre * n_buckets + g->bucket] += (size_t)g->size;
            total[g->genre] += (size_t)g->size;
        } else {
            order[n_new++] = g;
        }
    }
    if (rc == 0)
        qsort(order, n_new, sizeof *order, by_hash);
    for (size_t i = 0; rc == 0 && i < n_new; i++) {
        af_split_group *g = order[i];
        g->bucket = neediest_bucket(g, have, total, n_buckets, targets);
        if (g->bucket < 0) {
            rc = af_err_set(err, "split: every bucket has a target of 0");
            break;
        }
        have[g->genre * n_buckets + g->bucket] += (size_t)g->size;
        total[g->genre] += (size_t)g->size;
    }
    free(have);
    free(total);
    free(order);
    return rc;
}
