/*
 * test_split.c — train/split.c: artists never straddle splits or folds,
 * ratios hold on a realistic synthetic catalogue, assignments are stable when
 * tracks are added, unknown artists fall back to the track id, the
 * per-genre tabulation, and the networks' own validation draws.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/split.h"
#include "rng.h"

enum { N_GENRES = 10 };

typedef struct track {
    int64_t id;
    char artist[48];
    int artist_no; /* -1: unknown artist */
    int genre;
} track;

/* Spells artist k in one of several ways that must normalise to the same key. */
static void spell_artist(char *out, size_t cap, int k, int variant)
{
    static const char *const forms[] = {"Artist %d", "  artist %d", "ARTIST   %d\n",
                                        "\tArTiSt %d "};
    snprintf(out, cap, forms[variant % 4], k);
}

/* A catalogue like a real one: artists with 1..19 tracks (mostly few), each
 * artist mostly in one genre, ~3% of tracks without an artist. */
static track *make_catalogue(size_t n, int64_t first_id, int first_artist, uint64_t seed,
                             int *next_artist)
{
    af_rng rng;
    af_rng_seed(&rng, seed);
    track *t = calloc(n, sizeof *t);
    int artist = first_artist;
    size_t left_for_artist = 0;
    int artist_genre = 0;
    for (size_t i = 0; i < n; i++) {
        t[i].id = first_id + (int64_t)i;
        if (af_rng_uniform(&rng) < 0.03) {
            t[i].artist_no = -1;
            t[i].genre = (int)af_rng_below(&rng, N_GENRES);
            strcpy(t[i].artist, (i % 2) ? "" : "Unknown");
            continue;
        }
        if (left_for_artist == 0) {
            artist++;
            left_for_artist = 1 + (size_t)(af_rng_uniform(&rng) * af_rng_uniform(&rng) * 19);
            artist_genre = (int)af_rng_below(&rng, N_GENRES);
        }
        left_for_artist--;
        t[i].artist_no = artist;
        t[i].genre = af_rng_uniform(&rng) < 0.9 ? artist_genre : (int)af_rng_below(&rng, N_GENRES);
        spell_artist(t[i].artist, sizeof t[i].artist, artist, (int)af_rng_below(&rng, 4));
    }
    if (next_artist)
        *next_artist = artist + 1;
    return t;
}

static void test_normalise_artist(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(af_split_normalise_artist("  The  Beatles\n", buf, sizeof buf), 11);
    assert_string_equal(buf, "the beatles");
    assert_int_equal(af_split_normalise_artist("Sigur Rós", buf, sizeof buf),
                     strlen("sigur rós"));
    assert_string_equal(buf, "sigur rós");
    assert_int_equal(af_split_normalise_artist(" \t ", buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* truncates like snprintf */
    assert_int_equal(af_split_normalise_artist("ABCDEF", buf, 4), 6);
    assert_string_equal(buf, "abc");
    assert_int_equal(af_split_normalise_artist(NULL, buf, sizeof buf), 0);

    assert_true(af_split_artist_known("Björk"));
    assert_true(af_split_artist_known("Various Artists"));
    assert_false(af_split_artist_known(NULL));
    assert_false(af_split_artist_known("   "));
    assert_false(af_split_artist_known(" UNKNOWN "));
    assert_false(af_split_artist_known("[Unknown]"));
    assert_false(af_split_artist_known("Unknown  Artist"));
    assert_true(af_split_artist_known("Unknown Mortal Orchestra"));
}

static void test_spellings_of_an_artist_hash_alike(void **state)
{
    (void)state;
    uint64_t salt = AF_SPLIT_DEFAULT_SALT;
    uint64_t h = af_split_group_hash("The Beatles", 1, salt);
    assert_true(af_split_group_hash("  the   BEATLES ", 2, salt) == h);
    assert_true(af_split_group_hash("The Beatles", 3, salt + 1) != h);
    assert_true(af_split_group_hash("The Beatle", 1, salt) != h);
    /* An artist named like a number and a track with that id are different keys. */
    assert_true(af_split_group_hash("5", 5, salt) != af_split_group_hash(NULL, 5, salt));
}

static void test_unknown_artist_uses_track_id(void **state)
{
    (void)state;
    uint64_t salt = AF_SPLIT_DEFAULT_SALT;
    /* All forms of "unknown" are the same as no artist at all... */
    assert_true(af_split_group_hash(NULL, 42, salt) == af_split_group_hash("", 42, salt));
    assert_true(af_split_group_hash(NULL, 42, salt) == af_split_group_hash(" unknown", 42, salt));
    /* ...and depend on the track id, so unknown-artist tracks spread over all splits. */
    af_split_scheme s;
    af_split_scheme_default(&s);
    int seen[AF_SPLIT_COUNT] = {0};
    for (int64_t id = 1; id <= 1000; id++)
        seen[af_split_assign(&s, NULL, id)]++;
    for (int k = 0; k < AF_SPLIT_COUNT; k++)
        assert_true(seen[k] > 100);
    assert_true(af_split_group_hash(NULL, 1, salt) != af_split_group_hash(NULL, 2, salt));
}

static void test_scheme_validation(void **state)
{
    (void)state;
    af_split_scheme s;
    af_err err = {0};
    af_split_scheme_default(&s);
    assert_int_equal(af_split_scheme_check(&s, &err), 0);
    s.test = 0.2;
    assert_int_equal(af_split_scheme_check(&s, &err), -1);
    s.train = 0.0;
    s.val = 0.5;
    s.test = 0.5;
    assert_int_equal(af_split_scheme_check(&s, &err), -1);
    s.train = 0.8;
    s.val = 0.2;
    s.test = 0.0;
    assert_int_equal(af_split_scheme_check(&s, &err), 0);
    assert_string_equal(af_split_name(AF_SPLIT_VAL), "val");
}

static void test_artist_never_spans_splits(void **state)
{
    (void)state;
    enum { N = 10000 };
    int n_artists;
    track *t = make_catalogue(N, 1, 0, 1, &n_artists);
    af_split_scheme s;
    af_split_scheme_default(&s);
    int *split_of_artist = malloc((size_t)n_artists * sizeof *split_of_artist);
    for (int a = 0; a < n_artists; a++)
        split_of_artist[a] = -1;
    for (size_t i = 0; i < N; i++) {
        int sp = af_split_assign(&s, t[i].artist, t[i].id);
        if (t[i].artist_no < 0)
            continue;
        int *known = &split_of_artist[t[i].artist_no];
        if (*known >= 0 && *known != sp)
            fail_msg("artist %d is in %d and %d", t[i].artist_no, *known, sp);
        *known = sp;
    }
    free(split_of_artist);
    free(t);
}

static void test_ratios_on_10000_tracks(void **state)
{
    (void)state;
    enum { N = 10000 };
    track *t = make_catalogue(N, 1, 0, 2, NULL);
    af_split_scheme s;
    af_split_scheme_default(&s);
    int *genre = malloc(N * sizeof *genre), *split = malloc(N * sizeof *split);
    for (size_t i = 0; i < N; i++) {
        genre[i] = t[i].genre;
        split[i] = af_split_assign(&s, t[i].artist, t[i].id);
    }
    size_t counts[N_GENRES * AF_SPLIT_COUNT];
    int incomplete = -1;
    af_err err = {0};
    assert_int_equal(
        af_split_tabulate(genre, split, N, N_GENRES, AF_SPLIT_COUNT, counts, &incomplete, &err), 0);
    assert_int_equal(incomplete, 0);
    size_t total[AF_SPLIT_COUNT] = {0};
    for (int g = 0; g < N_GENRES; g++) {
        size_t in_genre = 0;
        for (int k = 0; k < AF_SPLIT_COUNT; k++) {
            total[k] += counts[g * AF_SPLIT_COUNT + k];
            in_genre += counts[g * AF_SPLIT_COUNT + k];
        }
        /* stratified in expectation: each genre (~1000 tracks, ~150 artists)
         * is near the ratios, more loosely than the whole */
        double train = (double)counts[g * AF_SPLIT_COUNT] / (double)in_genre;
        assert_true(fabs(train - 0.70) < 0.10);
    }
    /* Whole artists move together, so a share varies like that of ~1,900
     * artists of very unequal size, not of 10,000 tracks: its sd is ~0.011
     * here (0.0046 for independent tracks).  This catalogue gives
     * 0.668 / 0.184 / 0.148; the bound is ~4 sd. */
    assert_true(fabs((double)total[AF_SPLIT_TRAIN] / N - 0.70) < 0.045);
    assert_true(fabs((double)total[AF_SPLIT_VAL] / N - 0.15) < 0.045);
    assert_true(fabs((double)total[AF_SPLIT_TEST] / N - 0.15) < 0.045);
    free(genre);
    free(split);
    free(t);
}

static void test_assignments_stable_when_tracks_arrive(void **state)
{
    (void)state;
    enum { N = 10000, MORE = 1000 };
    int next_artist;
    track *t = make_catalogue(N, 1, 0, 3, &next_artist);
    af_split_scheme s;
    af_split_scheme_default(&s);
    int *before = malloc(N * sizeof *before);
    for (size_t i = 0; i < N; i++)
        before[i] = af_split_assign(&s, t[i].artist, t[i].id);

    /* 1,000 more: half by new artists, half by artists already there */
    track *all = realloc(t, (N + MORE) * sizeof *all);
    track *extra = make_catalogue(MORE, N + 1, next_artist, 4, NULL);
    for (size_t i = 0; i < MORE; i++) {
        all[N + i] = extra[i];
        if (i % 2 && extra[i].artist_no >= 0)
            spell_artist(all[N + i].artist, sizeof all[N + i].artist, (int)(i % 500) + 1, (int)i);
    }
    for (size_t i = 0; i < N; i++)
        assert_int_equal(af_split_assign(&s, all[i].artist, all[i].id), before[i]);
    /* a newcomer by a known artist joins that artist's split */
    assert_int_equal(af_split_assign(&s, all[N + 1].artist, all[N + 1].id),
                     af_split_assign(&s, "artist 1", 999999));
    free(extra);
    free(before);
    free(all);
}

static void test_kfold_groups_artists(void **state)
{
    (void)state;
    enum { N = 10000, K = 5 };
    int n_artists;
    track *t = make_catalogue(N, 1, 0, 5, &n_artists);
    af_split_scheme s;
    af_split_scheme_default(&s);
    int *fold_of_artist = malloc((size_t)n_artists * sizeof *fold_of_artist);
    for (int a = 0; a < n_artists; a++)
        fold_of_artist[a] = -1;
    int *genre = malloc(N * sizeof *genre), *fold = malloc(N * sizeof *fold);
    size_t per_fold_train[K] = {0};
    for (size_t i = 0; i < N; i++) {
        genre[i] = t[i].genre;
        fold[i] = af_split_fold(t[i].artist, t[i].id, K, s.salt);
        assert_true(fold[i] >= 0 && fold[i] < K);
        if (af_split_assign(&s, t[i].artist, t[i].id) == AF_SPLIT_TRAIN)
            per_fold_train[fold[i]]++;
        if (t[i].artist_no < 0)
            continue;
        int *known = &fold_of_artist[t[i].artist_no];
        if (*known >= 0 && *known != fold[i])
            fail_msg("artist %d is in folds %d and %d", t[i].artist_no, *known, fold[i]);
        *known = fold[i];
    }
    size_t counts[N_GENRES * K];
    int incomplete = -1;
    af_err err = {0};
    assert_int_equal(af_split_tabulate(genre, fold, N, N_GENRES, K, counts, &incomplete, &err), 0);
    assert_int_equal(incomplete, 0);
    for (int f = 0; f < K; f++) {
        size_t in_fold = 0;
        for (int g = 0; g < N_GENRES; g++)
            in_fold += counts[g * K + f];
        assert_true(fabs((double)in_fold / N - 1.0 / K) < 0.03);
        /* folds are independent of the split: each fold holds ~70% train tracks */
        assert_true(fabs((double)per_fold_train[f] / (double)in_fold - 0.70) < 0.06);
    }
    assert_int_equal(af_split_fold("x", 1, 1, s.salt), -1);
    free(fold_of_artist);
    free(genre);
    free(fold);
    free(t);
}

static void test_tabulate_reports_missing_splits(void **state)
{
    (void)state;
    /* genre 0 everywhere, genre 1 never in test, genre 2 absent */
    const int genre[] = {0, 0, 0, 1, 1};
    const int split[] = {AF_SPLIT_TRAIN, AF_SPLIT_VAL, AF_SPLIT_TEST, AF_SPLIT_TRAIN, AF_SPLIT_VAL};
    size_t counts[3 * AF_SPLIT_COUNT];
    int incomplete = -1;
    af_err err = {0};
    assert_int_equal(af_split_tabulate(genre, split, 5, 3, AF_SPLIT_COUNT, counts, &incomplete,
                                       &err), 0);
    assert_int_equal(incomplete, 1);
    assert_int_equal(counts[1 * AF_SPLIT_COUNT + AF_SPLIT_TEST], 0);
    assert_int_equal(counts[1 * AF_SPLIT_COUNT + AF_SPLIT_VAL], 1);
    assert_int_equal(counts[0 * AF_SPLIT_COUNT + AF_SPLIT_TEST], 1);
    const int bad_genre[] = {3};
    assert_int_equal(af_split_tabulate(bad_genre, split, 1, 3, AF_SPLIT_COUNT, counts, NULL, &err),
                     -1);
    const int bad_split[] = {7};
    assert_int_equal(af_split_tabulate(genre, bad_split, 1, 3, AF_SPLIT_COUNT, counts, NULL, &err),
                     -1);
}

/* Stratified placement: small genres still get every split, in the right shares. */
static void make_genres(af_split_group *g, int n_genres, int artists_per_genre, int tracks)
{
    for (int k = 0; k < n_genres * artists_per_genre; k++) {
        char name[32];
        snprintf(name, sizeof name, "artist %d", k);
        g[k] = (af_split_group){af_split_group_hash(name, 0, AF_SPLIT_DEFAULT_SALT),
                                k % n_genres, tracks, -1};
    }
}

static void test_stratify_gives_every_genre_every_split(void **state)
{
    (void)state;
    enum { GENRES = 10, ARTISTS = 8, TRACKS = 3 };
    af_split_group g[GENRES * ARTISTS];
    make_genres(g, GENRES, ARTISTS, TRACKS);
    const double targets[] = {0.70, 0.15, 0.15};
    af_err err = {0};
    assert_int_equal(af_split_stratify(g, GENRES * ARTISTS, GENRES, 3, targets, &err), 0);
    int per_genre[GENRES][3] = {{0}};
    for (int k = 0; k < GENRES * ARTISTS; k++)
        per_genre[g[k].genre][g[k].bucket]++;
    for (int genre = 0; genre < GENRES; genre++) {
        /* 8 artists at 70/15/15: 6 (or 5) in train, at least one in each of val and test. */
        assert_in_range(per_genre[genre][AF_SPLIT_TRAIN], 5, 6);
        assert_in_range(per_genre[genre][AF_SPLIT_VAL], 1, 2);
        assert_in_range(per_genre[genre][AF_SPLIT_TEST], 1, 2);
    }
}

static void test_stratify_keeps_placed_groups_and_balances_around_them(void **state)
{
    (void)state;
    enum { N = 40 };
    af_split_group g[N];
    make_genres(g, 1, N, 1);
    /* Twenty already placed, all in train: the twenty new ones must make up val and test. */
    for (int k = 0; k < 20; k++)
        g[k].bucket = AF_SPLIT_TRAIN;
    const double targets[] = {0.70, 0.15, 0.15};
    af_err err = {0};
    assert_int_equal(af_split_stratify(g, N, 1, 3, targets, &err), 0);
    int counts[3] = {0};
    for (int k = 0; k < N; k++) {
        if (k < 20)
            assert_int_equal(g[k].bucket, AF_SPLIT_TRAIN);
        counts[g[k].bucket]++;
    }
    assert_int_equal(counts[AF_SPLIT_TRAIN], 28);
    assert_int_equal(counts[AF_SPLIT_VAL], 6);
    assert_int_equal(counts[AF_SPLIT_TEST], 6);
}

static void test_stratify_weighs_groups_by_tracks(void **state)
{
    (void)state;
    /* One artist with 70 tracks and 30 artists with one each: the big one is the train
     * share by itself, so every small one goes to val or test. */
    af_split_group g[31];
    make_genres(g, 1, 31, 1);
    g[0].size = 70;
    g[0].hash = 0; /* placed first */
    const double targets[] = {0.70, 0.15, 0.15};
    af_err err = {0};
    assert_int_equal(af_split_stratify(g, 31, 1, 3, targets, &err), 0);
    assert_int_equal(g[0].bucket, AF_SPLIT_TRAIN);
    int val = 0, test = 0;
    for (int k = 1; k < 31; k++) {
        val += g[k].bucket == AF_SPLIT_VAL;
        test += g[k].bucket == AF_SPLIT_TEST;
    }
    assert_int_equal(val, 15);
    assert_int_equal(test, 15);
}

static void test_stratify_is_deterministic_and_checks_input(void **state)
{
    (void)state;
    af_split_group a[50], b[50];
    make_genres(a, 5, 10, 2);
    memcpy(b, a, sizeof a);
    const double folds[] = {0.2, 0.2, 0.2, 0.2, 0.2};
    af_err err = {0};
    assert_int_equal(af_split_stratify(a, 50, 5, 5, folds, &err), 0);
    assert_int_equal(af_split_stratify(b, 50, 5, 5, folds, &err), 0);
    for (int k = 0; k < 50; k++)
        assert_int_equal(a[k].bucket, b[k].bucket);
    int per_fold[5] = {0};
    for (int k = 0; k < 50; k++)
        per_fold[a[k].bucket]++;
    for (int f = 0; f < 5; f++)
        assert_int_equal(per_fold[f], 10);
    a[3].genre = 9;
    assert_int_equal(af_split_stratify(a, 50, 5, 5, folds, &err), -1);
    assert_non_null(strstr(err.msg, "out of range"));
}

/* 40 artists with 1..4 tracks each (artist a has a % 4 + 1), every fifth
 * artist held out of the pool (a test fold). */
#define DRAW_ARTISTS 40
static size_t draw_catalogue(uint64_t *group, bool *pool, int *artist)
{
    size_t n = 0;
    for (int a = 0; a < DRAW_ARTISTS; a++) {
        char name[32];
        snprintf(name, sizeof name, "Artist %d", a);
        for (int k = 0; k <= a % 4; k++, n++) {
            group[n] = af_split_group_hash(name, (int64_t)n, 0);
            pool[n] = a % 5 != 0;
            artist[n] = a;
        }
    }
    return n;
}

static void test_draw_validation_takes_whole_artists_from_the_pool(void **state)
{
    (void)state;
    uint64_t group[200];
    bool pool[200], val[200], other[200];
    int artist[200];
    size_t n = draw_catalogue(group, pool, artist), drawn = 0;
    af_err err = {0};
    assert_int_equal(af_split_draw_validation(group, pool, n, 0.2, 7, val, &drawn, &err), 0);
    /* 32 artists in the pool: round(0.2 * 32) = 6 of them, whole */
    assert_int_equal(drawn, 6);
    bool artist_val[DRAW_ARTISTS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!pool[i])
            assert_false(val[i]);
        if (val[i])
            artist_val[artist[i]] = true;
    }
    int n_val = 0;
    for (size_t i = 0; i < n; i++)
        if (pool[i])
            assert_int_equal(val[i], artist_val[artist[i]]);
    for (int a = 0; a < DRAW_ARTISTS; a++)
        n_val += artist_val[a];
    assert_int_equal(n_val, 6);
    /* the same salt draws the same artists; another salt (nearly always) others */
    assert_int_equal(af_split_draw_validation(group, pool, n, 0.2, 7, other, NULL, &err), 0);
    assert_memory_equal(val, other, n * sizeof *val);
    int differ = 0;
    for (uint64_t salt = 8; salt < 18; salt++) {
        assert_int_equal(af_split_draw_validation(group, pool, n, 0.2, salt, other, NULL, &err),
                         0);
        differ += memcmp(val, other, n * sizeof *val) != 0;
    }
    assert_true(differ >= 9);
}

static void test_draw_validation_leaves_both_sides_non_empty(void **state)
{
    (void)state;
    uint64_t group[200];
    bool pool[200], val[200];
    int artist[200];
    size_t n = draw_catalogue(group, pool, artist), drawn = 0;
    af_err err = {0};
    /* a tiny share still draws one artist; a large one leaves one to train on */
    assert_int_equal(af_split_draw_validation(group, pool, n, 0.001, 1, val, &drawn, &err), 0);
    assert_int_equal(drawn, 1);
    assert_int_equal(af_split_draw_validation(group, pool, n, 0.999, 1, val, &drawn, &err), 0);
    assert_int_equal(drawn, 31);
    /* one artist in the pool: nothing to draw from */
    for (size_t i = 0; i < n; i++)
        pool[i] = artist[i] == 3;
    assert_int_equal(af_split_draw_validation(group, pool, n, 0.2, 1, val, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "1 artist(s)"));
    assert_int_equal(af_split_draw_validation(group, pool, n, 0.0, 1, val, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "share 0"));
}

/* Folds for tracks in memory (a CSV file): whole artists, every genre in every
 * fold, a function of the tracks alone. */
static void test_group_folds_in_memory(void **state)
{
    (void)state;
    uint64_t group[200];
    bool pool[200];
    int artist[200], genre[200], fold[200], again[200];
    size_t n = draw_catalogue(group, pool, artist);
    for (size_t i = 0; i < n; i++)
        genre[i] = artist[i] % 4; /* 10 artists per genre */
    af_err err = {0};
    assert_int_equal(af_split_group_folds(group, genre, n, 4, 5, fold, &err), 0);
    int artist_fold[DRAW_ARTISTS], per_genre_fold[4][5] = {{0}};
    for (int a = 0; a < DRAW_ARTISTS; a++)
        artist_fold[a] = -1;
    for (size_t i = 0; i < n; i++) {
        assert_in_range(fold[i], 0, 4);
        if (artist_fold[artist[i]] < 0) {
            artist_fold[artist[i]] = fold[i];
            per_genre_fold[genre[i]][fold[i]]++;
        }
        assert_int_equal(fold[i], artist_fold[artist[i]]);
    }
    for (int g = 0; g < 4; g++)
        for (int f = 0; f < 5; f++)
            assert_true(per_genre_fold[g][f] == 2); /* 10 artists of a genre over 5 folds */
    assert_int_equal(af_split_group_folds(group, genre, n, 4, 5, again, &err), 0);
    assert_memory_equal(fold, again, n * sizeof *fold);
    assert_int_equal(af_split_group_folds(group, genre, n, 4, 1, fold, &err), -1);
    assert_non_null(strstr(err.msg, "1 folds: expected 2 to 64"));
    genre[7] = 4;
    assert_int_equal(af_split_group_folds(group, genre, n, 4, 5, fold, &err), -1);
    assert_non_null(strstr(err.msg, "genre 4 out of range"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise_artist),
        cmocka_unit_test(test_spellings_of_an_artist_hash_alike),
        cmocka_unit_test(test_unknown_artist_uses_track_id),
        cmocka_unit_test(test_scheme_validation),
        cmocka_unit_test(test_artist_never_spans_splits),
        cmocka_unit_test(test_ratios_on_10000_tracks),
        cmocka_unit_test(test_assignments_stable_when_tracks_arrive),
        cmocka_unit_test(test_kfold_groups_artists),
        cmocka_unit_test(test_tabulate_reports_missing_splits),
        cmocka_unit_test(test_stratify_gives_every_genre_every_split),
        cmocka_unit_test(test_stratify_keeps_placed_groups_and_balances_around_them),
        cmocka_unit_test(test_stratify_weighs_groups_by_tracks),
        cmocka_unit_test(test_stratify_is_deterministic_and_checks_input),
        cmocka_unit_test(test_draw_validation_takes_whole_artists_from_the_pool),
        cmocka_unit_test(test_draw_validation_leaves_both_sides_non_empty),
        cmocka_unit_test(test_group_folds_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
