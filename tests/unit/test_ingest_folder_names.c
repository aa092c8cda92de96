/*
 * test_ingest_folder_names.c — ingest/folder_names.c: display forms of file names that
 * are not UTF-8, placeholder artist and title tags (no identity), and the
 * --artist-from-path patterns of `af-ingest dir`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../ingest/folder_names.h"

static void display_names(void **state)
{
    (void)state;
    char out[64];
    assert_false(folder_display_name("/music/Café/Ça va.mp3", out, sizeof out));
    assert_string_equal(out, "/music/Café/Ça va.mp3"); /* valid UTF-8 stays as it is */
    assert_true(folder_display_name("/music/caf\xe9.mp3", out, sizeof out)); /* Latin-1 é */
    assert_string_equal(out, "/music/caf\\xE9.mp3");
    assert_int_equal(folder_display_name("a\x01" "b\xc3", out, sizeof out),
                     FOLDER_NAME_NOT_UTF8 | FOLDER_NAME_CONTROL); /* control, cut sequence */
    assert_string_equal(out, "a\\x01b\\xC3");
    assert_int_equal(folder_display_name("a\nb.mp3", out, sizeof out), FOLDER_NAME_CONTROL);
    assert_string_equal(out, "a\\x0Ab.mp3"); /* a newline is valid UTF-8, but escaped */
    assert_true(folder_display_name("\xed\xa0\x80", out, sizeof out)); /* a UTF-16 surrogate */
    assert_string_equal(out, "\\xED\\xA0\\x80");
    /* Too long: cut on a whole piece, never inside an escape or a character. */
    folder_display_name("ab\xe9", out, 6);
    assert_string_equal(out, "ab");
    folder_display_name("aé", out, 3);
    assert_string_equal(out, "a");
}

static void placeholders(void **state)
{
    (void)state;
    const char *artists[] = {NULL, "", "Unknown Artist", "unknown", "Various Artists", "VA",
                             "  Unknown_Artist ", "Artist 1"};
    for (size_t i = 0; i < sizeof artists / sizeof *artists; i++)
        assert_true(folder_placeholder_artist(artists[i]));
    const char *real_artists[] = {"Queen", "The Unknown", "Artist Formerly Known", "Björk"};
    for (size_t i = 0; i < sizeof real_artists / sizeof *real_artists; i++)
        assert_false(folder_placeholder_artist(real_artists[i]));
    const char *titles[] = {NULL, "", "Track 01", "track1", "Audiotrack 12", "Piste 3",
                            "Untitled", "03", "Unknown Title", "Title 2"};
    for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
        assert_true(folder_placeholder_title(titles[i]));
    const char *real_titles[] = {"Yesterday", "Track of the Year", "1999", "Untitled Love Song"};
    for (size_t i = 0; i < sizeof real_titles / sizeof *real_titles; i++)
        assert_false(folder_placeholder_title(real_titles[i]));
}

static void artist_patterns(void **state)
{
    (void)state;
    struct artist_pattern p;
    af_err err = {0};
    char out[64];
    assert_int_equal(folder_artist_pattern_compile(&p, "*/{artist}/*", &err), 0);
    assert_string_equal(folder_artist_from_path(&p, "blues/Muddy Waters/01.mp3", out, sizeof out),
                        "Muddy Waters");
    assert_null(folder_artist_from_path(&p, "blues/01.mp3", out, sizeof out));
    assert_null(folder_artist_from_path(&p, "blues/a/b/01.mp3", out, sizeof out)); /* '*' is one name */
    assert_null(folder_artist_from_path(&p, "blues/Unknown Artist/01.mp3", out, sizeof out));
    folder_artist_pattern_free(&p);

    assert_int_equal(folder_artist_pattern_compile(&p, "**/{artist} - *.mp3", &err), 0);
    assert_string_equal(folder_artist_from_path(&p, "a/b/Nina Simone - Sinnerman.mp3", out,
                                                sizeof out), "Nina Simone");
    assert_null(folder_artist_from_path(&p, "a/b/Nina Simone - Sinnerman.flac", out, sizeof out));
    folder_artist_pattern_free(&p);

    /* '{artist}' is the shortest match, '*' the longest; '?' is one UTF-8 character. */
    assert_int_equal(folder_artist_pattern_compile(&p, "*/{artist} - *", &err), 0);
    assert_string_equal(folder_artist_from_path(&p, "jazz/Carol - Song - Live.mp3", out,
                                                sizeof out), "Carol");
    folder_artist_pattern_free(&p);
    assert_int_equal(folder_artist_pattern_compile(&p, "*/{artist}/?.mp3", &err), 0);
    assert_string_equal(folder_artist_from_path(&p, "jazz/Alice/\xc3\xa9.mp3", out, sizeof out),
                        "Alice");
    assert_null(folder_artist_from_path(&p, "jazz/Alice/ab.mp3", out, sizeof out));
    folder_artist_pattern_free(&p);

    /* Regular-expression characters are literal. */
    assert_int_equal(folder_artist_pattern_compile(&p, "(*)/[{artist}].wav", &err), 0);
    assert_string_equal(folder_artist_from_path(&p, "(x)/[A+B].wav", out, sizeof out), "A+B");
    assert_null(folder_artist_from_path(&p, "x/[A].wav", out, sizeof out));
    folder_artist_pattern_free(&p);

    assert_int_equal(folder_artist_pattern_compile(&p, "*/artist/*", &err), -1);
    assert_int_equal(err.code, 2);
    assert_non_null(strstr(err.msg, "'{artist}' exactly once"));
    af_err_clear(&err);
    assert_int_equal(folder_artist_pattern_compile(&p, "{artist}/{artist}", &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(display_names),
        cmocka_unit_test(placeholders),
        cmocka_unit_test(artist_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
