/* test_fetch_match.c — af-fetch's matching: normalisation, similarity, duration, score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../fetch/fetch_match.h"

static void check_norm(const char *in, const char *want)
{
    char out[256];
    af_match_normalise(in, out, sizeof out);
    if (strcmp(out, want) != 0)
        fail_msg("normalise('%s') = '%s', want '%s'", in, out, want);
}

static void normalisation(void **state)
{
    check_norm("The Beatles", "beatles");
    check_norm("Björk", "bjork");
    check_norm("Beyoncé", "beyonce");
    check_norm("AC/DC", "ac dc");
    check_norm("Simon & Garfunkel", "simon and garfunkel");
    check_norm("Don't Stop Me Now", "dont stop me now");
    check_norm("Hey Jude - Remastered 2015", "hey jude");
    check_norm("Song (feat. Someone Else)", "song");
    check_norm("Song [Live]", "song");
    check_norm("Song ft. Someone", "song");
    check_norm("  Many   Spaces  ", "many spaces");
    check_norm("(Untitled)", "(untitled)"); /* nothing but brackets: kept, folded */
    check_norm("Мумий Тролль", "Мумий Тролль");
    check_norm("The", "the");
}

static void similarity(void **state)
{
    assert_true(af_match_similarity("The Beatles", "Beatles") == 1.0);
    assert_true(af_match_similarity("Bjork", "Björk") == 1.0);
    assert_true(af_match_similarity("Hey Jude", "Hey Jude - Remastered 2015") == 1.0);
    double typo = af_match_similarity("Metallica", "Metalica");
    assert_true(typo > 0.85 && typo < 1.0);
    assert_true(af_match_similarity("Bruno Mars", "Bruno Mars, Anderson .Paak") >= 0.9);
    assert_true(af_match_similarity("Queen", "Madonna") < 0.4);
    assert_true(af_match_similarity("", "x") == 0);
    assert_true(af_match_similarity(NULL, "x") == 0);
}

static void duration(void **state)
{
    assert_true(af_match_duration_score(200, 202) == 1.0);
    assert_true(af_match_duration_score(200, 230) == 0.0);
    double mid = af_match_duration_score(200, 216.5);
    assert_true(mid > 0.45 && mid < 0.55);
    assert_true(af_match_duration_score(0, 200) == -1);
    assert_true(af_match_duration_score(200, 0) == -1);
}

static void score(void **state)
{
    /* Perfect match with duration. */
    assert_true(af_match_score("Amanda Palmer", "Want It Back", 229, "Amanda Palmer", "Want It Back",
                               229) > 0.999);
    /* One of several artists (Spotify's list) is enough. */
    double s = af_match_score("Bruno Mars", "APT.", 170, "ROSÉ\nBruno Mars", "APT.", 169.917);
    assert_true(s > 0.99);
    /* Wrong song by the right artist stays below the default threshold of 0.75. */
    s = af_match_score("Bruno Mars", "Die With A Smile", 251, "ROSÉ\nBruno Mars", "APT.", 170);
    assert_true(s < 0.75);
    /* A cover by another artist with the same title too. */
    s = af_match_score("This Bike Is a Pipe Bomb", "Jack Johnson", 117, "Sydney Rhame",
                       "Jack Johnson", 176);
    assert_true(s < 0.75);
    /* Unknown duration: artist and title only. */
    s = af_match_score("Laufey", "From The Start", 0, "Laufey", "From The Start", 169);
    assert_true(s > 0.999);
    /* A remaster suffix and featured artist do not matter. */
    s = af_match_score("Queen", "Bohemian Rhapsody", 355, "Queen",
                       "Bohemian Rhapsody - Remastered 2011", 354);
    assert_true(s > 0.99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalisation),
        cmocka_unit_test(similarity),
        cmocka_unit_test(duration),
        cmocka_unit_test(score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
