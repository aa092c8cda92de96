/* Unit tests of the pure parts of http.c and ratelimit.c (requests themselves are
 * exercised against the fake API server by the ingest and fetch integration tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
