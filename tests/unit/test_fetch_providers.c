/* test_fetch_providers.c — Spotify, Deezer and iTunes formats on real payloads
 * (tests/data/api/, copied from ../shared/reference/api/examples/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fetch/fetch_providers.h"
#include "base64.h"

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/api/%s", AF_PROJECT_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void spotify_search(void **state)
{
    size_t len;
    char *body = load("spotify_search.tracks.json", &len);
    struct af_fetch_results r;
    af_err err = {0};
    assert_int_equal(af_spotify_parse_search(body, len, &r, &err), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.items[0].id, "5vNRhkKd0yEAg8suGBpjeY");
    assert_string_equal(r.items[0].title, "APT.");
    assert_string_equal(r.items[0].artists, "ROSÉ\nBruno Mars");
    assert_string_equal(r.items[0].isrc, "USAT22409172");
    assert_true(r.items[0].duration > 169.9 && r.items[0].duration < 170);
    assert_non_null(r.items[0].preview_url);
    assert_true(strncmp(r.items[0].preview_url, "https://p.scdn.co/mp3-preview/", 30) == 0);
    assert_null(r.items[1].preview_url); /* "preview_url": null */
    af_fetch_results_free(&r);
    assert_int_equal(af_spotify_parse_search("{}", 2, &r, &err), -1);
    assert_int_equal(af_spotify_parse_search("<html>", 6, &r, &err), -1);
}

static void spotify_token_and_errors(void **state)
{
    size_t len;
    char *body = load("spotify_token.client_credentials.json", &len);
    char token[256], msg[256];
    double expires = 0;
    af_err err = {0};
    assert_int_equal(af_spotify_parse_token(body, len, token, sizeof token, &expires, &err), 0);
    assert_string_equal(token, "NgCXRKc...MzYjw");
    assert_true(expires == 3600);
    body = load("spotify_token.error_invalid_client.http400.json", &len);
    assert_int_equal(af_spotify_parse_token(body, len, token, sizeof token, &expires, &err), -1);
    af_spotify_error_message(body, len, msg, sizeof msg);
    assert_string_equal(msg, "invalid_client: Invalid client");
    body = load("spotify_error_401_expired_token.json", &len);
    af_spotify_error_message(body, len, msg, sizeof msg);
    assert_string_equal(msg, "The access token expired");
    af_spotify_error_message("{}", 2, msg, sizeof msg); /* the 429 body */
    assert_string_equal(msg, "");
    af_spotify_error_message("", 0, msg, sizeof msg);
    assert_string_equal(msg, "");
}

static void spotify_urls(void **state)
{
    char *url = af_spotify_search_url("http://h/v1", "US", "AC/DC", "Hells \"Bells\"", NULL, 10);
    assert_string_equal(url, "http://h/v1/search?type=track&market=US&limit=10&q=track%3A%22Hells%20Bells%22"
                             "%20artist%3A%22AC%2FDC%22");
    free(url);
    url = af_spotify_search_url("http://h/v1", "DE", "x", "y", "USAT22409172", 5);
    assert_string_equal(url, "http://h/v1/search?type=track&market=DE&limit=5&q=isrc%3AUSAT22409172");
    free(url);
    url = af_spotify_search_url("http://h/v1", "", "x", "y", "USAT22409172", 5);
    assert_string_equal(url, "http://h/v1/search?type=track&limit=5&q=isrc%3AUSAT22409172");
    free(url);
}

static void deezer_formats(void **state)
{
    size_t len;
    struct af_fetch_results r;
    enum af_fetch_answer answer;
    af_err err = {0};
    char *body = load("deezer_search.json", &len);
    assert_int_equal(af_deezer_parse(body, len, &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.items[0].id, "387691861");
    assert_string_equal(r.items[0].artists, "Amanda Palmer");
    assert_string_equal(r.items[0].title, "Want It Back");
    assert_true(r.items[0].duration == 229);
    assert_non_null(strstr(r.items[0].preview_url, "hdnea=exp=1741230108"));
    af_fetch_results_free(&r);

    body = load("deezer_search.paginated.first_item_only.json", &len);
    assert_int_equal(af_deezer_parse(body, len, &r, &answer, &err), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.items[0].artists, "Laufey");
    af_fetch_results_free(&r);

    body = load("deezer_empty.json", &len);
    assert_int_equal(af_deezer_parse(body, len, &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_OK);
    assert_int_equal(r.n, 0);

    body = load("deezer_error_no_data.json", &len);
    assert_int_equal(af_deezer_parse(body, len, &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_NO_DATA);
    assert_non_null(strstr(err.msg, "no data"));

    body = load("deezer_error_quota_exceeded.http200.json", &len);
    assert_int_equal(af_deezer_parse(body, len, &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_QUOTA);

    const char *single = "{\"id\":3135556,\"title\":\"Harder Better Faster\",\"isrc\":\"GBDUW0000059\","
                         "\"duration\":224,\"preview\":\"\",\"artist\":{\"name\":\"Daft Punk\"}}";
    assert_int_equal(af_deezer_parse(single, strlen(single), &r, &answer, &err), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.items[0].isrc, "GBDUW0000059");
    assert_null(r.items[0].preview_url); /* "" = no preview */
    af_fetch_results_free(&r);

    assert_int_equal(af_deezer_parse("{\"x\":1}", 7, &r, &answer, &err), -1);
    char *url = af_deezer_isrc_url("http://d", "GBDUW0000059");
    assert_string_equal(url, "http://d/track/isrc:GBDUW0000059");
    free(url);
    url = af_deezer_search_url("http://d", "Aloe Blacc", "I Need A Dollar", 10);
    assert_string_equal(url, "http://d/search?limit=10&q=artist%3A%22Aloe%20Blacc%22%20track%3A%22I%20Need%20A%20Dollar%22");
    free(url);
}

static void itunes_formats(void **state)
{
    size_t len;
    struct af_fetch_results r;
    af_err err = {0};
    char *body = load("itunes_search.song.first_results.json", &len);
    assert_int_equal(af_itunes_parse_search(body, len, &r, &err), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.items[0].id, "263301273");
    assert_string_equal(r.items[0].artists, "This Bike Is a Pipe Bomb");
    assert_string_equal(r.items[0].title, "Jack Johnson");
    assert_true(r.items[0].duration > 117.5 && r.items[0].duration < 117.6);
    assert_non_null(strstr(r.items[0].preview_url, ".m4a"));
    af_fetch_results_free(&r);
    body = load("itunes_search.empty.SYNTHETIC.json", &len);
    assert_int_equal(af_itunes_parse_search(body, len, &r, &err), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(af_itunes_parse_search("[]", 2, &r, &err), -1);
    char *url = af_itunes_search_url("http://i", "GB", "Jack Johnson", "Banana Pancakes", 10);
    assert_string_equal(url, "http://i/search?media=music&entity=song&country=GB&limit=10&term=Jack%20Johnson%20Banana%20Pancakes");
    free(url);
}

/* iTunes answers a bad request with HTTP 400 and {"errorMessage": ...}. */
static void itunes_error_message(void **state)
{
    char msg[256];
    const char *body = "{\"errorMessage\":\"Invalid value(s) for key(s): [country]\","
                       "\"queryParameters\":{\"country\":\"xx\"}}";
    af_itunes_error_message(body, strlen(body), msg, sizeof msg);
    assert_string_equal(msg, "Invalid value(s) for key(s): [country]");
    af_itunes_error_message("<html>", 6, msg, sizeof msg);
    assert_string_equal(msg, "");
}

/* Deezer's error shapes: the 800 object (sent with 404 as with 200), 700 busy, a bare
 * string on unknown routes; readable:false tracks keep no preview; search results
 * carry no isrc. */
static void deezer_errors_and_readable(void **state)
{
    struct af_fetch_results r;
    enum af_fetch_answer answer;
    af_err err = {0};
    const char *busy = "{\"error\":{\"type\":\"Exception\",\"message\":\"Service busy\",\"code\":700}}";
    assert_int_equal(af_deezer_parse(busy, strlen(busy), &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_BUSY);
    const char *route = "{\"error\":\"Not Found\"}";
    assert_int_equal(af_deezer_parse(route, strlen(route), &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_API_ERROR);
    assert_non_null(strstr(err.msg, "Not Found"));
    const char *page = "{\"data\":[{\"id\":1,\"readable\":false,\"title\":\"A\",\"duration\":30,"
                       "\"preview\":\"https://cdnt-preview.dzcdn.net/x.mp3\",\"artist\":{\"name\":\"B\"}},"
                       "{\"id\":2,\"readable\":true,\"title\":\"A\",\"duration\":30,"
                       "\"preview\":\"https://cdnt-preview.dzcdn.net/y.mp3\",\"artist\":{\"name\":\"B\"}}],\"total\":2}";
    assert_int_equal(af_deezer_parse(page, strlen(page), &r, &answer, &err), 0);
    assert_int_equal(answer, AF_ANSWER_OK);
    assert_int_equal(r.n, 2);
    assert_null(r.items[0].preview_url);
    assert_non_null(r.items[1].preview_url);
    assert_string_equal(r.items[1].isrc, "");
    af_fetch_results_free(&r);
}

/* Spotify result arrays may hold null items. */
static void spotify_null_items(void **state)
{
    struct af_fetch_results r;
    af_err err = {0};
    const char *body = "{\"tracks\":{\"items\":[null,{\"id\":\"a\",\"name\":\"T\",\"duration_ms\":1000,"
                       "\"preview_url\":null,\"artists\":[null,{\"name\":\"X\"}]},null]}}";
    assert_int_equal(af_spotify_parse_search(body, strlen(body), &r, &err), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.items[0].artists, "X");
    af_fetch_results_free(&r);
}

/* RFC 4648's test vectors, bytes above 0x7f, and a buffer too small (no partial output). */
static void base64_encoding(void **state)
{
    (void)state;
    static const char *const vectors[][2] = {
        {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
        {"foo", "Zm9v"},    {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"}, {"\xff\xfe\x80", "//6A"},
    };
    char out[16];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const char *in = vectors[i][0];
        assert_int_equal(af_base64_encode(in, strlen(in), out, sizeof out), 0);
        assert_string_equal(out, vectors[i][1]);
    }
    assert_int_equal(af_base64_encode("foo", 3, out, 5), 0);
    assert_string_equal(out, "Zm9v");
    assert_int_equal(af_base64_encode("foo", 3, out, 4), -1);
    assert_string_equal(out, "");
    assert_int_equal(af_base64_encode("fooba", 5, out, 8), -1);
}

/* The token request's header, as Spotify's accounts service (and tests/fakeapi) expect it. */
static void spotify_basic_auth(void **state)
{
    (void)state;
    char header[64];
    assert_int_equal(af_spotify_basic_auth("abc", "xyz", header, sizeof header), 0);
    assert_string_equal(header, "Authorization: Basic YWJjOnh5eg==");
    assert_int_equal(af_spotify_basic_auth("abc", "xyz", header, 20), -1);
    assert_string_equal(header, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spotify_search),   cmocka_unit_test(spotify_token_and_errors),
        cmocka_unit_test(spotify_urls),     cmocka_unit_test(deezer_formats),
        cmocka_unit_test(itunes_formats),   cmocka_unit_test(itunes_error_message),
        cmocka_unit_test(deezer_errors_and_readable), cmocka_unit_test(spotify_null_items),
        cmocka_unit_test(base64_encoding), cmocka_unit_test(spotify_basic_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
