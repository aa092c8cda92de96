/*
 * textkey.h — the one way AudioFiler folds text for comparison, used by ingest's
 * match keys and tag keys (ingest/normalise.c) and by af-fetch's matcher
 * (fetch/fetch_match.c) alike, plus the title clean-up used to search providers.
 *
 * Folding is Unicode compatibility normalisation (NFKC) with Unicode case folding,
 * done by utf8proc (no hand-written tables): "ROSÉ" = "Rosé", "ＡＢＣ" = "abc",
 * "ﬁ" = "fi", "Straße" = "strasse".  A key then keeps only letters (categories L*)
 * and decimal digits (Nd): "Hip-Hop" = "hip hop" = "HIPHOP" = "hiphop".
 *
 * The SQL function af_norm_key() (sql/030_textkey.sql) computes the same key inside
 * PostgreSQL (normalize(NFKC), ICU case mapping, ICU [[:alnum:]]); tests check that
 * both sides agree (tests/integration/test_ingest_label.sh).
 */
#ifndef AF_TEXTKEY_H
#define AF_TEXTKEY_H

#include <stddef.h>

/* Also strip accents and other combining marks ("Björk" = "bjork"): for the fetch
 * matcher, which compares loosely; keys keep them. */
#define AF_TEXT_STRIP_MARKS 1

/* NFKC + case folding (+ marks stripped with AF_TEXT_STRIP_MARKS) of text, as a
 * malloc'd string.  Text that is not valid UTF-8 is folded as ASCII with every
 * other byte dropped.  NULL only when text is NULL or memory runs out. */
char *af_text_fold(const char *text, int flags);

/* The comparison key of text: af_text_fold, then letters and decimal digits only.
 * Writes at most out_len - 1 bytes (never half a character) and returns the length. */
size_t af_text_key(const char *text, char *out, size_t out_len);

/* The title to search providers with: version suffixes that name a release rather
 * than the song — "(LP Version)", "(Album Version)", "[Live]", "- Remastered 2011",
 * "(Radio Edit)", ... — removed from the end, and "_" (how the MSD writes a comma)
 * read as ",".  The stored title stays as it was.  Returns the length written. */
size_t af_text_search_title(const char *title, char *out, size_t out_len);

#endif
