/* Unit tests of the pure parts of http.c and ratelimit.c (requests themselves are
 * exercised against the fake API server by the ingest and fetch integration tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "ratelimit.h"

static void api_keys_are_redacted(void **state)
{
    char buf[512];
    af_http_redact_url("https://ws.example/2.0/?method=tag.gettoptracks&api_key=abc123&format=json",
                       buf, sizeof buf);
    assert_string_equal(buf, "https://ws.example/2.0/?method=tag.gettoptracks&api_key=***&format=json");
    af_http_redact_url("http://h/p?token=t0k&x=1&signature=zz", buf, sizeof buf);
    assert_string_equal(buf, "http://h/p?token=***&x=1&signature=***");
    af_http_redact_url("http://h/p?monkey=1", buf, sizeof buf);
    assert_string_equal(buf, "http://h/p?monkey=1");
    af_http_redact_url("http://h/path/api_key=notquery", buf, sizeof buf);
    assert_string_equal(buf, "http://h/path/api_key=notquery");
}

static void escaping_is_rfc3986(void **state)
{
    char *s = af_http_escape("AC/DC & Björk ~x_y.z-");
    assert_string_equal(s, "AC%2FDC%20%26%20Bj%C3%B6rk%20~x_y.z-");
    free(s);
}

static void retry_after_forms(void **state)
{
    assert_true(af_http_parse_retry_after(" 30") == 30);
    assert_true(af_http_parse_retry_after("7200") == 7200);
    assert_true(af_http_parse_retry_after("soon") == -1);
    /* An HTTP date in the past means "now". */
    assert_true(af_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0);
}

static void token_bucket_paces_after_the_burst(void **state)
{
    struct af_rate_limiter rl;
    af_rate_limiter_init(&rl, 10, 2);
    assert_true(af_rate_limiter_try_take(&rl) == 0);
    assert_true(af_rate_limiter_try_take(&rl) == 0);
    double wait = af_rate_limiter_try_take(&rl);
    assert_true(wait > 0.05 && wait <= 0.1 + 1e-9);
    af_rate_limiter_destroy(&rl);
}

static void unlimited_rate_never_waits(void **state)
{
    struct af_rate_limiter rl;
    af_rate_limiter_init(&rl, 0, 1);
    for (int i = 0; i < 1000; i++)
        assert_true(af_rate_limiter_try_take(&rl) == 0);
    af_rate_limiter_destroy(&rl);
}

static void pause_blocks_until_it_ends(void **state)
{
    struct af_rate_limiter rl;
    af_rate_limiter_init(&rl, 0, 1);
    af_rate_limiter_pause(&rl, 30);
    double wait = af_rate_limiter_try_take(&rl);
    assert_true(wait > 29 && wait <= 30);
    af_rate_limiter_destroy(&rl);
}

static void backoff_grows_with_jitter_and_a_cap(void **state)
{
    uint64_t seed = 1;
    for (int attempt = 1; attempt <= 10; attempt++) {
        double full = attempt <= 6 ? 0.5 * (1 << (attempt - 1)) : 16;
        if (full > 16)
            full = 16;
        double s = af_backoff_seconds(attempt, 0.5, 16, &seed);
        if (s < full / 2 || s > full)
            fail_msg("attempt %d: %g outside [%g, %g]", attempt, s, full / 2, full);
    }
    uint64_t a = 7, b = 7;
    assert_true(af_backoff_seconds(3, 1, 60, &a) == af_backoff_seconds(3, 1, 60, &b));
}

static int internal(const char *ip)
{
    struct sockaddr_storage ss = {0};
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
    }
    const char *what = NULL;
    int r = af_http_address_is_internal((struct sockaddr *)&ss, &what);
    assert_true(r ? what != NULL : what == NULL);
    return r;
}

static void internal_addresses_are_recognised(void **state)
{
    const char *inside[] = {"127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.255",
                            "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                            "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
                            "::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::a00:1", NULL};
    const char *outside[] = {"93.184.216.34", "172.32.0.1", "100.128.0.1", "8.8.8.8",
                             "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8", NULL};
    for (int i = 0; inside[i]; i++)
        if (!internal(inside[i]))
            fail_msg("%s should be internal", inside[i]);
    for (int i = 0; outside[i]; i++)
        if (internal(outside[i]))
            fail_msg("%s should be public", outside[i]);
}

static int get(const char *url, int allow_private, af_err *err)
{
    struct af_http_options o;
    af_http_default_options(&o);
    o.connect_timeout_seconds = 2;
    o.timeout_seconds = 3;
    o.allow_private_addresses = allow_private;
    struct af_http_client *c = af_http_client_new(&o, err);
    assert_non_null(c);
    struct af_http_response r = {0};
    int rc = af_http_get(c, url, NULL, &r, err);
    af_http_response_free(&r);
    af_http_client_free(c);
    return rc;
}

/* gopher:// once sent "SET pwned 1" to a local port: only http and https are spoken,
 * whatever the address policy. */
static void only_http_and_https(void **state)
{
    const char *urls[] = {"gopher://127.0.0.1:9/_SET%20pwned%201", "file:///etc/passwd",
                          "dict://127.0.0.1:9/info", "ftp://127.0.0.1:9/x", "scp://127.0.0.1:9/x",
                          "ldap://127.0.0.1:9/", "smtp://127.0.0.1:9/", NULL};
    for (int i = 0; urls[i]; i++) {
        af_err err = {0};
        assert_int_equal(get(urls[i], 1, &err), -1);
        if (!strstr(err.msg, "only http and https"))
            fail_msg("%s: %s", urls[i], err.msg);
    }
}

/* Refused on the resolved address, before any packet is sent: no timeout to wait for. */
static void internal_addresses_are_refused_unless_allowed(void **state)
{
    const struct {
        const char *url, *kind;
    } cases[] = {{"http://127.0.0.1:9/x", "127.0.0.1, a loopback"},
                 {"http://localhost:9/x", "a loopback"},
                 {"http://10.1.2.3/x.mp3", "10.1.2.3, a private (10/8)"},
                 {"https://192.168.0.1/", "private (192.168/16)"},
                 {"http://169.254.169.254/latest/meta-data/", "link-local"},
                 {"http://[::1]:9/", "::1, a loopback"},
                 {"http://0.0.0.0:9/", "unspecified"},
                 {NULL, NULL}};
    for (int i = 0; cases[i].url; i++) {
        af_err err = {0};
        double t0 = af_monotonic_seconds();
        assert_int_equal(get(cases[i].url, 0, &err), -1);
        if (!strstr(err.msg, "refused to connect to") || !strstr(err.msg, cases[i].kind))
            fail_msg("%s: %s", cases[i].url, err.msg);
        assert_true(af_monotonic_seconds() - t0 < 1.5);
    }
    af_err err = {0};
    assert_int_equal(get("http://127.0.0.1:9/x", 1, &err), -1); /* allowed: tried, nobody there */
    assert_null(strstr(err.msg, "refused to connect to"));
    /* The process-wide default that af_app_start sets from [http] allow_private_addresses. */
    struct af_http_options o;
    af_http_set_allow_private_addresses(1);
    af_http_default_options(&o);
    assert_true(o.allow_private_addresses);
    af_http_set_allow_private_addresses(0);
    af_http_default_options(&o);
    assert_false(o.allow_private_addresses);
}

/* A server on 127.0.0.1 that answers every request with a redirect to `location`. */
struct redirector {
    int fd, port;
    const char *location;
};

static void *redirect_once(void *arg)
{
    struct redirector *r = arg;
    int c = accept(r->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    ssize_t n = read(c, buf, sizeof buf);
    (void)n;
    char reply[512];
    int len = snprintf(reply, sizeof reply,
                       "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n", r->location);
    if (write(c, reply, (size_t)len) < 0)
        perror("write");
    close(c);
    return NULL;
}

static void redirects_to_other_schemes_are_refused(void **state)
{
    struct redirector r = {.location = "gopher://127.0.0.1:9/_SET%20pwned%201"};
    r.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(r.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r.fd, 1), 0);
    socklen_t len = sizeof a;
    getsockname(r.fd, (struct sockaddr *)&a, &len);
    r.port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, redirect_once, &r);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/preview.mp3", r.port);
    af_err err = {0};
    assert_int_equal(get(url, 1, &err), -1);
    if (!strstr(err.msg, "only http and https"))
        fail_msg("%s", err.msg);
    pthread_join(t, NULL);
    close(r.fd);
}

/* The default rates stay inside what the services state, with a margin: Deezer 50
 * requests per 5 s per IP, iTunes about 20 a minute, Last.fm 5 a second averaged.
 * The worst case counts the burst af-fetch's bucket allows (1.5) or af-ingest's (1). */
static void default_rates_stay_inside_the_stated_limits(void **state)
{
    struct af_config *cfg = af_config_new();
    double deezer = af_config_double(cfg, "deezer.requests_per_second");
    double itunes = af_config_double(cfg, "itunes.requests_per_second");
    double lastfm = af_config_double(cfg, "lastfm.requests_per_second");
    assert_true(deezer > 0 && deezer * 5 + 1.5 <= 50 * 0.9);
    assert_true(itunes > 0 && itunes * 60 + 1.5 <= 20 * 0.9);
    assert_true(lastfm > 0 && lastfm * 300 + 1 <= 5 * 300 * 0.9);
    af_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_keys_are_redacted),
        cmocka_unit_test(escaping_is_rfc3986),
        cmocka_unit_test(retry_after_forms),
        cmocka_unit_test(token_bucket_paces_after_the_burst),
        cmocka_unit_test(unlimited_rate_never_waits),
        cmocka_unit_test(pause_blocks_until_it_ends),
        cmocka_unit_test(backoff_grows_with_jitter_and_a_cap),
        cmocka_unit_test(internal_addresses_are_recognised),
        cmocka_unit_test(only_http_and_https),
        cmocka_unit_test(internal_addresses_are_refused_unless_allowed),
        cmocka_unit_test(redirects_to_other_schemes_are_refused),
        cmocka_unit_test(default_rates_stay_inside_the_stated_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
