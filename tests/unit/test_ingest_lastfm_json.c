/*
 * test_ingest_lastfm_json.c — ingest/lastfm_json.c against the Last.fm API's
 * quirks: numbers as strings or numbers, one-element lists as bare objects, []
 * and other empty forms, #text and @attr keys, missing or empty mbid, errors in
 * HTTP 200 bodies, truncated and malformed JSON.  Payloads follow the real ones in
 * ../shared/reference/api/examples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../ingest/lastfm_json.h"

#define PARSE_TRACKS(body, out, api, err) lfm_parse_top_tracks(body, strlen(body), out, api, err)
#define PARSE_TAGS(body, out, api, err) lfm_parse_top_tags(body, strlen(body), out, api, err)

static const char top_tracks_page[] =
    "{\"tracks\":{\"track\":["
    "{\"name\":\"Chop Suey!\",\"duration\":\"208\",\"mbid\":\"d758947d-d667-430b-900d-2abb110f63aa\","
    "\"url\":\"https://www.last.fm/music/System+of+a+Down/_/Chop+Suey%21\","
    "\"streamable\":{\"#text\":\"0\",\"fulltrack\":\"0\"},"
    "\"artist\":{\"name\":\"System of a Down\",\"mbid\":\"cc0b7089\",\"url\":\"x\"},"
    "\"image\":[{\"#text\":\"https://i/34s.png\",\"size\":\"small\"}],\"@attr\":{\"rank\":\"1\"}},"
    "{\"name\":\"In the End\",\"duration\":216,\"mbid\":\"\",\"url\":\"u2\","
    "\"artist\":{\"name\":\"Linkin Park\"},\"@attr\":{\"rank\":2}},"
    "{\"name\":\"Numb\",\"artist\":{\"#text\":\"Linkin Park\",\"mbid\":\"\"}}],"
    "\"@attr\":{\"tag\":\"metal\",\"page\":\"1\",\"perPage\":\"50\",\"totalPages\":\"3316\",\"total\":\"165756\"}}}";

static void top_tracks_strings_and_numbers(void **state)
{
    (void)state;
    struct lfm_top_tracks t;
    struct lfm_api_error api;
    af_err err = {0};
    assert_int_equal(PARSE_TRACKS(top_tracks_page, &t, &api, &err), 0);
    assert_int_equal(t.n_tracks, 3);
    assert_int_equal(t.page, 1);
    assert_int_equal(t.per_page, 50);
    assert_int_equal(t.total_pages, 3316);
    assert_int_equal(t.total, 165756);
    assert_string_equal(t.tracks[0].name, "Chop Suey!");
    assert_string_equal(t.tracks[0].artist, "System of a Down");
    assert_string_equal(t.tracks[0].mbid, "d758947d-d667-430b-900d-2abb110f63aa");
    assert_true(t.tracks[0].duration_seconds == 208);
    assert_int_equal(t.tracks[0].rank, 1);
    assert_null(t.tracks[1].mbid); /* "" is no mbid */
    assert_true(t.tracks[1].duration_seconds == 216); /* a real number works too */
    assert_int_equal(t.tracks[1].rank, 2);
    assert_string_equal(t.tracks[2].artist, "Linkin Park"); /* {"#text": ...} form */
    assert_null(t.tracks[2].mbid);                         /* missing mbid */
    assert_null(t.tracks[2].url);
    assert_true(t.tracks[2].duration_seconds == 0);
    lfm_top_tracks_free(&t);
}

static void top_tracks_single_object(void **state)
{
    (void)state;
    const char *body = "{\"tracks\":{\"track\":{\"name\":\"Only\",\"duration\":\"100\","
                       "\"artist\":{\"name\":\"One\"},\"@attr\":{\"rank\":\"51\"}},"
                       "\"@attr\":{\"page\":\"2\",\"perPage\":\"50\",\"totalPages\":\"2\",\"total\":\"51\"}}}";
    struct lfm_top_tracks t;
    struct lfm_api_error api;
    af_err err = {0};
    assert_int_equal(PARSE_TRACKS(body, &t, &api, &err), 0);
    assert_int_equal(t.n_tracks, 1);
    assert_string_equal(t.tracks[0].name, "Only");
    assert_int_equal(t.tracks[0].rank, 51);
    assert_int_equal(t.page, 2);
    lfm_top_tracks_free(&t);
}

static void top_tracks_empty_forms(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"tracks\":{\"track\":[],\"@attr\":{\"tag\":\"thistagdoesntexist\",\"page\":\"1\","
        "\"perPage\":\"50\",\"totalPages\":\"0\",\"total\":\"0\"}}}",
        "{\"tracks\":{\"track\":\"\",\"@attr\":{\"totalPages\":\"0\"}}}",
        "{\"tracks\":{\"track\":null,\"@attr\":{\"totalPages\":0}}}",
        "{\"tracks\":{\"@attr\":{\"page\":\"1\",\"totalPages\":\"0\"}}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        struct lfm_top_tracks t;
        struct lfm_api_error api;
        af_err err = {0};
        assert_int_equal(PARSE_TRACKS(bodies[i], &t, &api, &err), 0);
        assert_int_equal(t.n_tracks, 0);
        assert_int_equal(t.total_pages, 0);
        lfm_top_tracks_free(&t);
    }
}

static void top_tracks_items_without_name_are_skipped(void **state)
{
    (void)state;
    const char *body = "{\"tracks\":{\"track\":[{\"name\":\"\",\"artist\":{\"name\":\"A\"}},"
                       "{\"name\":\"T\"},\"junk\",{\"name\":\"Good\",\"artist\":\"Plain\"}],"
                       "\"@attr\":{\"page\":\"1\",\"totalPages\":\"1\"}}}";
    struct lfm_top_tracks t;
    struct lfm_api_error api;
    af_err err = {0};
    assert_int_equal(PARSE_TRACKS(body, &t, &api, &err), 0);
    assert_int_equal(t.n_tracks, 1);
    assert_int_equal(t.n_skipped, 3);
    assert_string_equal(t.tracks[0].artist, "Plain");
    lfm_top_tracks_free(&t);
}

/* Well-formed JSON of the wrong shape is not a page: it must not move a crawl on
 * (issue 18: such a page marked its tag finished for 30 days). */
static void top_tracks_wrong_shape(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"tracks\":{}}",
        "{\"tracks\":{\"track\":null}}",
        "{\"tracks\":{\"track\":[{\"name\":\"A\",\"artist\":\"B\"}]}}",
        "{\"tracks\":{\"track\":[],\"@attr\":{\"page\":\"1\"}}}",
        "{\"tracks\":{\"track\":[],\"@attr\":{\"page\":\"1\",\"totalPages\":\"many\"}}}",
        "{\"tracks\":{\"track\":42,\"@attr\":{\"page\":\"1\",\"totalPages\":\"3\"}}}",
        "{\"tracks\":{\"track\":\"Chop Suey!\",\"@attr\":{\"page\":\"1\",\"totalPages\":\"3\"}}}",
        "{\"tracks\":{\"track\":[{\"title\":\"A\",\"by\":\"B\"},{\"title\":\"C\"}],"
        "\"@attr\":{\"page\":\"1\",\"totalPages\":\"3\"}}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        struct lfm_top_tracks t;
        struct lfm_api_error api;
        af_err err = {0};
        if (PARSE_TRACKS(bodies[i], &t, &api, &err) != -1)
            fail_msg("understood a page of the wrong shape: %s", bodies[i]);
        assert_non_null(strstr(err.msg, "wrong shape"));
    }
    /* "[unknown]" is Last.fm's placeholder, not an artist: its tracks are not taken. */
    const char *body = "{\"tracks\":{\"track\":[{\"name\":\"Intro\",\"artist\":{\"name\":\"[unknown]\"}},"
                       "{\"name\":\"Song\",\"artist\":{\"name\":\"Real\"}}],"
                       "\"@attr\":{\"page\":\"1\",\"totalPages\":\"1\"}}}";
    struct lfm_top_tracks t;
    struct lfm_api_error api;
    af_err err = {0};
    assert_int_equal(PARSE_TRACKS(body, &t, &api, &err), 0);
    assert_int_equal(t.n_tracks, 1);
    assert_int_equal(t.n_unknown_artist, 1);
    assert_string_equal(t.tracks[0].artist, "Real");
    lfm_top_tracks_free(&t);
}

/* NaN and infinite counts are rejected when parsed; @attr gives the corrected names. */
static void top_tags_bad_counts_and_corrections(void **state)
{
    (void)state;
    const char *body = "{\"toptags\":{\"tag\":[{\"count\":\"NaN\",\"name\":\"rock\"},"
                       "{\"count\":\"inf\",\"name\":\"metal\"},{\"count\":\"-Infinity\",\"name\":\"pop\"},"
                       "{\"count\":-3,\"name\":\"ska\"},{\"count\":100,\"name\":\"jazz\"}],"
                       "\"@attr\":{\"artist\":\"Guns N' Roses\",\"track\":\"Sweet Child O' Mine\"}}}";
    struct lfm_top_tags t;
    struct lfm_api_error api;
    af_err err = {0};
    assert_int_equal(PARSE_TAGS(body, &t, &api, &err), 0);
    assert_int_equal(t.n_tags, 1);
    assert_string_equal(t.tags[0].name, "jazz");
    assert_int_equal(t.n_bad_counts, 4);
    assert_non_null(strstr(t.bad_count, "\"rock\": count NaN"));
    assert_string_equal(t.artist, "Guns N' Roses");
    assert_string_equal(t.track, "Sweet Child O' Mine");
    lfm_top_tags_free(&t);
    assert_int_equal(PARSE_TAGS("{\"toptags\":{\"tag\":7}}", &t, &api, &err), -1);
    assert_non_null(strstr(err.msg, "wrong shape"));
    assert_int_equal(PARSE_TAGS("{\"toptags\":{\"tag\":[{\"label\":\"rock\"}]}}", &t, &api, &err), -1);
    assert_non_null(strstr(err.msg, "wrong shape"));
}

static void errors_in_200_bodies(void **state)
{
    (void)state;
    const char *body = "{\"message\":\"Rate Limit Exceeded - This application has made too many "
                       "requests in a short period.\",\"error\":29}";
    struct lfm_top_tracks t;
    struct lfm_api_error api;
    af_err err = {0};
    assert_int_equal(PARSE_TRACKS(body, &t, &api, &err), LFM_API_ERROR);
    assert_int_equal(api.code, 29);
    assert_non_null(strstr(api.message, "Rate Limit"));
    struct lfm_top_tags tags;
    assert_int_equal(PARSE_TAGS("{\"error\":6,\"message\":\"Track not found\",\"links\":[]}", &tags,
                                &api, &err),
                     LFM_API_ERROR);
    assert_int_equal(api.code, 6);
    assert_string_equal(api.message, "Track not found");
    assert_int_equal(lfm_check_body("{\"error\":\"10\"}", 14, &api, &err), LFM_API_ERROR);
    assert_int_equal(api.code, 10); /* a code sent as a string */
    assert_string_equal(api.message, "(no message)");
    assert_int_equal(lfm_check_body("{\"toptags\":{}}", 14, &api, &err), 0);
}

static void malformed_and_truncated(void **state)
{
    (void)state;
    struct lfm_top_tracks t;
    struct lfm_api_error api;
    af_err err = {0};
    char truncated[sizeof top_tracks_page];
    memcpy(truncated, top_tracks_page, sizeof top_tracks_page / 2);
    truncated[sizeof top_tracks_page / 2] = '\0';
    assert_int_equal(PARSE_TRACKS(truncated, &t, &api, &err), -1);
    assert_non_null(strstr(err.msg, "malformed JSON"));
    assert_int_equal(PARSE_TRACKS("", &t, &api, &err), -1);
    assert_int_equal(PARSE_TRACKS("<html>502 Bad Gateway</html>", &t, &api, &err), -1);
    assert_int_equal(PARSE_TRACKS("[1,2]", &t, &api, &err), -1);
    assert_non_null(strstr(err.msg, "not a JSON object"));
    assert_int_equal(PARSE_TRACKS("{\"toptags\":{}}", &t, &api, &err), -1);
    assert_non_null(strstr(err.msg, "no \"tracks\""));
    const char bad_utf8[] = "{\"tracks\":{\"track\":{\"name\":\"\xff\",\"artist\":\"x\"}}}";
    assert_int_equal(PARSE_TRACKS(bad_utf8, &t, &api, &err), -1);
}

static void top_tags_quirks(void **state)
{
    (void)state;
    struct lfm_top_tags t;
    struct lfm_api_error api;
    af_err err = {0};
    const char *many = "{\"toptags\":{\"tag\":[{\"count\":100,\"name\":\"hard rock\",\"url\":\"u\"},"
                       "{\"count\":\"58\",\"name\":\"rock\"},{\"name\":\"no count\"},{\"count\":5}],"
                       "\"@attr\":{\"artist\":\"AC/DC\",\"track\":\"Hells Bells\"}}}";
    assert_int_equal(PARSE_TAGS(many, &t, &api, &err), 0);
    assert_int_equal(t.n_tags, 3);
    assert_int_equal(t.n_skipped, 1);
    assert_string_equal(t.tags[0].name, "hard rock");
    assert_true(t.tags[0].count == 100);
    assert_true(t.tags[1].count == 58);
    assert_true(t.tags[2].count == 0);
    lfm_top_tags_free(&t);
    assert_int_equal(PARSE_TAGS("{\"toptags\":{\"tag\":{\"count\":\"7\",\"name\":\"solo\"}}}", &t, &api,
                                &err),
                     0);
    assert_int_equal(t.n_tags, 1);
    assert_true(t.tags[0].count == 7);
    lfm_top_tags_free(&t);
    assert_int_equal(PARSE_TAGS("{\"toptags\":{\"tag\":[],\"@attr\":{\"artist\":\"Metallica\"}}}", &t,
                                &api, &err),
                     0);
    assert_int_equal(t.n_tags, 0);
    lfm_top_tags_free(&t);
    /* tag.getTopTags: numbers in @attr, count and reach as numbers */
    assert_int_equal(PARSE_TAGS("{\"toptags\":{\"@attr\":{\"offset\":0,\"num_res\":50,\"total\":2804440},"
                                "\"tag\":[{\"name\":\"rock\",\"count\":4024829,\"reach\":399440}]}}",
                                &t, &api, &err),
                     0);
    assert_true(t.tags[0].count == 4024829);
    lfm_top_tags_free(&t);
}

static void helpers(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"a\":\"12.5\",\"b\":3,\"c\":\"x\",\"d\":{\"#text\":\"4\"},\"e\":{\"name\":\"N\"}}",
                           0, NULL);
    assert_true(lfm_number(json_object_get(v, "a"), -1) == 12.5);
    assert_true(lfm_number(json_object_get(v, "b"), -1) == 3);
    assert_true(lfm_number(json_object_get(v, "c"), -1) == -1);
    assert_true(lfm_number(json_object_get(v, "d"), -1) == 4);
    assert_true(lfm_number(json_object_get(v, "missing"), -1) == -1);
    assert_string_equal(lfm_text(json_object_get(v, "d")), "4");
    assert_string_equal(lfm_text(json_object_get(v, "e")), "N");
    assert_null(lfm_text(json_object_get(v, "b")));
    assert_int_equal(lfm_list_size(json_object_get(v, "e")), 1);
    assert_ptr_equal(lfm_list_get(json_object_get(v, "e"), 0), json_object_get(v, "e"));
    assert_null(lfm_list_get(json_object_get(v, "e"), 1));
    assert_int_equal(lfm_list_size(json_object_get(v, "a")), 0);
    assert_int_equal(lfm_list_size(NULL), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(top_tracks_strings_and_numbers),
        cmocka_unit_test(top_tracks_single_object),
        cmocka_unit_test(top_tracks_empty_forms),
        cmocka_unit_test(top_tracks_items_without_name_are_skipped),
        cmocka_unit_test(top_tracks_wrong_shape),
        cmocka_unit_test(top_tags_bad_counts_and_corrections),
        cmocka_unit_test(errors_in_200_bodies),
        cmocka_unit_test(malformed_and_truncated),
        cmocka_unit_test(top_tags_quirks),
        cmocka_unit_test(helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
