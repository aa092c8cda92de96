/* test_utf8text.c — bytes that are not UTF-8 made storable as text (lib/utf8text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "utf8text.h"

static void expect_escaped(const char *in, const char *want)
{
    char *out = af_utf8_escaped(in);
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_true(af_utf8_is_valid(out));
    free(out);
}

static void valid_text_is_kept(void **state)
{
    (void)state;
    assert_true(af_utf8_is_valid(""));
    assert_true(af_utf8_is_valid("chanson d'\xc3\xa9t\xc3\xa9 \xf0\x9f\x8e\xb5\n"));
    expect_escaped("chanson d'\xc3\xa9t\xc3\xa9", "chanson d'\xc3\xa9t\xc3\xa9");
}

static void invalid_bytes_become_escapes(void **state)
{
    (void)state;
    assert_false(af_utf8_is_valid("caf\xe9.mp3"));
    expect_escaped("caf\xe9.mp3", "caf\\xE9.mp3");             /* Latin-1 */
    expect_escaped("\xc3", "\\xC3");                           /* cut sequence at the end */
    expect_escaped("a\xc3(b", "a\\xC3(b");                     /* bad continuation */
    expect_escaped("\xed\xa0\x80", "\\xED\\xA0\\x80");         /* a surrogate */
    expect_escaped("\xc0\xaf", "\\xC0\\xAF");                  /* overlong '/' */
    assert_false(af_utf8_is_valid("\xed\xa0\x80"));
}

static void byte_ranges_are_checked(void **state)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_text_is_kept),
        cmocka_unit_test(invalid_bytes_become_escapes),
        cmocka_unit_test(byte_ranges_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
