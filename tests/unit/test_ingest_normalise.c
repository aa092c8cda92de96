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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../ingest/folder.h"
#include "../../ingest/msd.h"
#include "../../ingest/normalise.h"
#include "../../ingest/taxonomy.h"
#include "textkey.h"
#include "utf8text.h"
#include "testdb.h"
#include <utf8proc.h>

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
    af_norm_key("Música Popular ♫", k, sizeof k); /* letters kept, symbols dropped */
    assert_string_equal(k, "músicapopular");
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

/* Pairs that must share a key: Unicode case folding and compatibility normalisation. */
static const char *const unicode_pairs[][2] = {
    {"ROSÉ", "Rosé"},          {"MOTÖRHEAD", "Motörhead"}, {"BEYONCÉ", "Beyoncé"},
    {"ﬁre", "FIRE"},           {"ＲＯＣＫ", "rock"},        {"Straße", "STRASSE"},
    {"ΣΊΣΥΦΟΣ", "σίσυφος"},    {"ДДТ", "ддт"},             {"Rose\u0301", "ROSÉ"},
    {"Ⅻ", "xii"},              {"①", "1"},                 {"Éric", "E\u0301RIC"},
};

/* Expands \u0301 escapes (a decomposed accent) into UTF-8. */
static void expand(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 5 < len;) {
        if (p[0] == '\\' && p[1] == 'u') {
            unsigned cp = (unsigned)strtoul(p + 2, NULL, 16);
            n += (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)out + n);
            p += 6;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static void unicode_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof unicode_pairs / sizeof *unicode_pairs; i++) {
        char a[64], b[64], ka[64], kb[64];
        expand(unicode_pairs[i][0], a, sizeof a);
        expand(unicode_pairs[i][1], b, sizeof b);
        af_norm_key(a, ka, sizeof ka);
        af_norm_key(b, kb, sizeof kb);
        if (strcmp(ka, kb) != 0 || !ka[0])
            fail_msg("key('%s') = '%s' but key('%s') = '%s'", a, ka, b, kb);
    }
    char k[64], m1[128], m2[128];
    af_norm_key("ＡＢＣ－１２３", k, sizeof k);
    assert_string_equal(k, "abc123");
    af_match_key("MOTÖRHEAD", "ACE OF SPADES", m1, sizeof m1);
    af_match_key("Motörhead", "Ace of Spades", m2, sizeof m2);
    assert_string_equal(m1, m2);
    /* the matcher's folding is the same function, with accents stripped on top */
    char *f = af_text_fold("BJÖRK ﬁ", AF_TEXT_STRIP_MARKS);
    assert_string_equal(f, "bjork fi");
    free(f);
}

/* The SQL af_norm_key() gives the same key as the C one: the pairs above and one
 * string per letter, digit, mark and symbol of the Basic Multilingual Plane. */
static void sql_agrees(void **state)
{
    (void)state;
    const char *conninfo = testdb_create("normalise");
    af_err err = {0};
    PGconn *db = af_db_connect(conninfo, &err);
    assert_non_null(db);
    struct af_buf in = {0}, want = {0};
    int n = 0;
    for (size_t i = 0; i < sizeof unicode_pairs / sizeof *unicode_pairs; i++)
        for (int j = 0; j < 2; j++) {
            char text[64], key[64];
            expand(unicode_pairs[i][j], text, sizeof text);
            af_norm_key(text, key, sizeof key);
            af_buf_append(&in, text, strlen(text));
            af_buf_append(&in, "\n", 1);
            af_buf_append(&want, key, strlen(key));
            af_buf_append(&want, "\n", 1);
            n++;
        }
    for (utf8proc_int32_t cp = 0x80; cp < 0x10000; cp++) {
        utf8proc_category_t c = utf8proc_category(cp);
        if (c == UTF8PROC_CATEGORY_CN || c == UTF8PROC_CATEGORY_CO ||
            c == UTF8PROC_CATEGORY_CS || c == UTF8PROC_CATEGORY_CC)
            continue;
        char text[16], key[64];
        text[0] = 'X';
        utf8proc_ssize_t len = utf8proc_encode_char(cp, (utf8proc_uint8_t *)text + 1);
        text[len + 1] = '1';
        text[len + 2] = '\0';
        af_norm_key(text, key, sizeof key);
        af_buf_append(&in, text, strlen(text));
        af_buf_append(&in, "\n", 1);
        af_buf_append(&want, key, strlen(key));
        af_buf_append(&want, "\n", 1);
        n++;
    }
    in.data[--in.len] = '\0';
    want.data[--want.len] = '\0';
    const char *p[] = {in.data, want.data};
    PGresult *res = af_db_query(db,
                                "SELECT i.s, af_norm_key(i.s), w.k"
                                " FROM string_to_table($1, E'\\n') WITH ORDINALITY i(s, n)"
                                " JOIN string_to_table($2, E'\\n') WITH ORDINALITY w(k, n) USING (n)"
                                " WHERE af_norm_key(i.s) IS DISTINCT FROM w.k", 2, p, &err);
    if (!res)
        fail_msg("%s", err.msg);
    for (int i = 0; i < PQntuples(res) && i < 10; i++)
        print_message("differs: '%s': SQL '%s', C '%s'\n", PQgetvalue(res, i, 0),
                      PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    assert_int_equal(PQntuples(res), 0);
    assert_true(n > 40000);
    PQclear(res);
    af_buf_free(&in);
    af_buf_free(&want);
    PQfinish(db);
    testdb_drop();
}

/* unique_tracks.txt's cp1252 damage, and tag weights that are no numbers. */
static void repairs_and_weights(void **state)
{
    (void)state;
    char what[200];
    assert_null(af_repair_controls("Gigi D'Agostino", what, sizeof what));
    char *r = af_repair_controls("Gigi D\x19" "Agostino \x13 I\x19m\x01\tX", what, sizeof what);
    assert_string_equal(r, "Gigi D’Agostino – I’mX");
    assert_non_null(strstr(what, "2 U+0019"));
    assert_non_null(strstr(what, "1 U+0013"));
    assert_non_null(strstr(what, "2 other control characters removed"));
    free(r);
    assert_true(af_tag_weight_ok(0, 100));
    assert_true(af_tag_weight_ok(100, 100));
    assert_false(af_tag_weight_ok(1e39, 100));
    assert_false(af_tag_weight_ok(-1, 100));
    assert_false(af_tag_weight_ok(NAN, 100));
    assert_false(af_tag_weight_ok(INFINITY, 1e300));
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
        cmocka_unit_test(copy_escaping),
        cmocka_unit_test(taxonomy_errors), cmocka_unit_test(taxonomy_parse),
        cmocka_unit_test(label_maps),      cmocka_unit_test(msd_helpers),
        cmocka_unit_test(unicode_keys),    cmocka_unit_test(sql_agrees),
        cmocka_unit_test(repairs_and_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
