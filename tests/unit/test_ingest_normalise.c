/*
 * test_ingest_normalise.c — ingest/normalise.c (tag and match keys, UTF-8 checks,
 * COPY escaping), the taxonomy parser's errors (file, line and key named), the
 * label-map rules of `af-ingest dir`, and the MSD helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ingest/folder.h"
#include "../../ingest/msd.h"
#include "../../ingest/normalise.h"
#include "../../ingest/taxonomy.h"

static void tag_keys(void **state)
{
    (void)state;
    char k[64];
    const char *same[] = {"Hip Hop", "hip-hop", "HIPHOP", "hiphop", " Hip_Hop! ", "hip.hop"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        af_norm_key(same[i], k, sizeof k);
        assert_string_equal(k, "hiphop");
    }
    assert_int_equal(af_norm_key("R&B", k, sizeof k), 2);
    assert_string_equal(k, "rb");
    af_norm_key("80's Rock", k, sizeof k);
    assert_string_equal(k, "80srock");
    af_norm_key("Música Popular ♫", k, sizeof k); /* non-ASCII is kept as it is */
    assert_string_equal(k, "músicapopular♫");
    assert_int_equal(af_norm_key("--- !!", k, sizeof k), 0);
    assert_string_equal(k, "");
    assert_int_equal(af_norm_key(NULL, k, sizeof k), 0);
    /* truncation never splits a UTF-8 character */
    char small[4];
    af_norm_key("aéé", small, sizeof small);
    assert_true(af_utf8_valid(small, strlen(small)));
}

static void match_keys(void **state)
{
    (void)state;
    char a[128], b[128];
    af_match_key("AC/DC", "Hells Bells", a, sizeof a);
    af_match_key("ac dc", "HELLS-BELLS!", b, sizeof b);
    assert_string_equal(a, "acdc\thellsbells");
    assert_string_equal(a, b);
    assert_int_equal(af_match_key("!!!", "Title", a, sizeof a), 0);
    assert_int_equal(af_match_key(NULL, "Title", a, sizeof a), 0);
    assert_int_equal(af_match_key("Artist", "", a, sizeof a), 0);
}

static void utf8(void **state)
{
    (void)state;
    assert_true(af_utf8_valid("plain", 5));
    assert_true(af_utf8_valid("Motörhead ♫ 𝄞", strlen("Motörhead ♫ 𝄞")));
    assert_false(af_utf8_valid("\xff\xfe", 2));
    assert_false(af_utf8_valid("\xc3\x28", 2));          /* bad continuation */
    assert_false(af_utf8_valid("\xc0\xaf", 2));          /* overlong */
    assert_false(af_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(af_utf8_valid("\xe2\x82", 2));          /* cut short */
    assert_false(af_utf8_valid("a\0b", 3));              /* NUL */
    assert_false(af_utf8_valid("\xf4\x90\x80\x80", 4));  /* above U+10FFFF */
}

static void copy_escaping(void **state)
{
    (void)state;
    struct af_buf b = {0};
    af_buf_copy_field(&b, "a\tb\\c\nd\re");
    af_buf_append(&b, "\t", 1);
    af_buf_copy_field(&b, NULL);
    assert_string_equal(b.data, "a\\tb\\\\c\\nd\\re\t\\N");
    b.len = 0;
    for (int i = 0; i < 10000; i++)
        af_buf_copy_field(&b, "\\\\");
    assert_int_equal(b.len, 40000);
    af_buf_free(&b);
}

static char *write_temp(const char *content)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/af-test-genres-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

static void expect_taxonomy_error(const char *content, const char *expected)
{
    char *path = write_temp(content);
    af_err err = {0};
    struct af_taxonomy *tax = af_taxonomy_load(path, &err);
    if (tax || !strstr(err.msg, expected) || !strstr(err.msg, path))
        fail_msg("for %s expected an error with '%s', got '%s'", content, expected, err.msg);
    assert_int_equal(err.code, 2);
    unlink(path);
}

static void taxonomy_errors(void **state)
{
    (void)state;
    expect_taxonomy_error("[rock]\nrock = 1\nhard rock = lots\n",
                          ":3: tag 'hard rock': weight 'lots' is not a number");
    expect_taxonomy_error("[rock]\nrock = 0\n", ":2: tag 'rock': weight '0'");
    expect_taxonomy_error("[rock]\nrock = 1\n\n; c\nROCK! = 2\n", ":5: tag 'ROCK!' repeats 'rock'");
    expect_taxonomy_error("[Rock]\nrock = 1\n", ":2: genre name [Rock]");
    expect_taxonomy_error("rock = 1\n", ":1: key 'rock' outside a [genre] section");
    expect_taxonomy_error("[rock]\n%% = 1\n", ":2: tag '%%' in [rock] has no letters or digits");
    expect_taxonomy_error("[rock]\nrock =\n", ":2: tag 'rock' in [rock] has no weight");
    expect_taxonomy_error("[rock\nrock = 1\n", ":1:");
    expect_taxonomy_error("", "no genres defined");
    af_err err = {0};
    assert_null(af_taxonomy_load("/nonexistent/genres.conf", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/genres.conf: cannot open"));
}

static void taxonomy_parse(void **state)
{
    (void)state;
    char *path = write_temp("; comment\n[rock]\nrock = 1\nHard Rock = 0.7 ; inline\n"
                            "[hiphop]\nseeds = hip-hop, rap\nhip hop = 1\nrap = 1\n"
                            "[metal]\nmetal = 1\nheavy metal = 1\nhard rock = 0.3\n");
    af_err err = {0};
    struct af_taxonomy *tax = af_taxonomy_load(path, &err);
    assert_non_null(tax);
    assert_int_equal(tax->n_genres, 3);
    assert_string_equal(tax->genres[0].name, "hiphop"); /* sorted */
    assert_int_equal(tax->genres[0].n_seeds, 2);
    assert_string_equal(tax->genres[0].seeds[0], "hip-hop");
    assert_string_equal(tax->genres[0].seeds[1], "rap");
    assert_string_equal(tax->genres[1].name, "metal");
    assert_int_equal(tax->genres[1].n_seeds, 2); /* default: the tags of top weight */
    assert_string_equal(tax->genres[2].name, "rock");
    assert_string_equal(tax->genres[2].tags[0].key, "hardrock");
    assert_true(tax->genres[2].tags[0].weight == 0.7);
    assert_int_equal(strlen(tax->checksum), 64);
    char first[65];
    memcpy(first, tax->checksum, 65);
    af_taxonomy_free(tax);
    unlink(path);
    /* The same taxonomy written differently has the same checksum. */
    path = write_temp("[metal]\nheavy-metal = 1\nMetal = 1.0\nhard rock = 0.30\n[rock]\nhard rock = 0.7\n"
                      "rock = 1\n[hiphop]\nrap = 1\nHip Hop = 1\n");
    tax = af_taxonomy_load(path, &err);
    assert_non_null(tax);
    assert_string_equal(tax->checksum, first);
    af_taxonomy_free(tax);
    unlink(path);
    /* The shipped taxonomy loads and has GTZAN's ten genres. */
    tax = af_taxonomy_load(AF_PROJECT_DIR "/config/genres.conf", &err);
    if (!tax)
        fail_msg("%s", err.msg);
    assert_int_equal(tax->n_genres, 10);
    af_taxonomy_free(tax);
}

static void label_maps(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(folder_label_for(NULL, "blues/blues.00001.wav", buf, sizeof buf), "blues");
    assert_string_equal(folder_label_for(NULL, "rock/live/x.mp3", buf, sizeof buf), "rock");
    assert_null(folder_label_for(NULL, "loose.mp3", buf, sizeof buf));
    char *path = write_temp("# comment\n*/Jazz Club/* jazz\n*.flac   classical  # lossless\n"
                            "Artist With Space/* -\n* rock\n");
    struct label_map map;
    af_err err = {0};
    assert_int_equal(folder_label_map_load(path, &map, &err), 0);
    assert_int_equal(map.n_rules, 4);
    assert_string_equal(folder_label_for(&map, "x/Jazz Club/a.mp3", buf, sizeof buf), "jazz");
    assert_string_equal(folder_label_for(&map, "deep/dir/a.flac", buf, sizeof buf), "classical");
    assert_null(folder_label_for(&map, "Artist With Space/a.mp3", buf, sizeof buf));
    assert_string_equal(folder_label_for(&map, "anything.ogg", buf, sizeof buf), "rock");
    folder_label_map_free(&map);
    unlink(path);
    path = write_temp("ok rock\njustonefield\n");
    assert_int_equal(folder_label_map_load(path, &map, &err), -1);
    assert_non_null(strstr(err.msg, ":2: expected 'PATTERN LABEL'"));
    unlink(path);
}

static void msd_helpers(void **state)
{
    (void)state;
    assert_true(msd_is_track_id("TRAAAAK128F9318786", 18));
    assert_false(msd_is_track_id("TRAAAAK128F931878", 17));
    assert_false(msd_is_track_id("SOAAAAK128F9318786", 18));
    assert_false(msd_is_track_id("TRaaaaK128F9318786", 18));
    assert_string_equal(msd_tagtraum_source("/d/msd_tagtraum_cd2c.cls"), "tagtraum_cd2c");
    assert_string_equal(msd_tagtraum_source("MSD_TAGTRAUM_CD2.cls"), "tagtraum_cd2");
    assert_string_equal(msd_tagtraum_source("x/msd_tagtraum_cd1.cls"), "tagtraum_cd1");
    assert_null(msd_tagtraum_source("genres.cls"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tag_keys),        cmocka_unit_test(match_keys),
        cmocka_unit_test(utf8),            cmocka_unit_test(copy_escaping),
        cmocka_unit_test(taxonomy_errors), cmocka_unit_test(taxonomy_parse),
        cmocka_unit_test(label_maps),      cmocka_unit_test(msd_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
