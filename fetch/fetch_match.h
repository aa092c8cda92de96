/*
 * fetch_match.h — how well a provider's search result matches the track we
 * look for: normalised artist/title similarity and duration agreement, one
 * score in [0, 1] that af-fetch stores with the outcome.
 */
#ifndef AF_FETCH_MATCH_H
#define AF_FETCH_MATCH_H

#include <stddef.h>

/* Folded by lib/textkey.c's af_text_fold (Unicode case folding, compatibility
 * normalisation, accents stripped: "Björk" → "bjork", "ＡＢＣ" → "abc"), "&" → "and",
 * bracketed parts and featured artists removed ("(feat. X)", "[Remastered]", "ft. X"),
 * " - Remastered 2011"-style suffixes removed, punctuation and symbols → space, a
 * leading "the " dropped, spaces collapsed. */
void af_match_normalise(const char *text, char *out, size_t len);

/* Similarity of two texts after normalisation, in [0, 1]: the better of the
 * Levenshtein ratio and token overlap (one text's words all in the other). */
double af_match_similarity(const char *a, const char *b);

/* 1 within 3 s, falling linearly to 0 at 30 s apart; -1 when either is unknown (<= 0). */
double af_match_duration_score(double wanted_seconds, double found_seconds);

/* The title is scored as providers are searched: af_text_search_title(wanted_title)
 * (lib/textkey.h: no "(LP Version)", "_" read as ","), the stored title unchanged.
 * 0.45 artist + 0.45 title + 0.10 duration (artist and title half each when a
 * duration is unknown).  found_artists: one or more names separated by '\n'
 * (e.g. Spotify's artists list); the best of each name and all names joined counts. */
double af_match_score(const char *wanted_artist, const char *wanted_title, double wanted_seconds,
                      const char *found_artists, const char *found_title, double found_seconds);

#endif
