/*
 * folder_names.h — the names af-ingest dir reads and what they are worth as identity:
 *   - file names as the file system gives them (bytes, not necessarily UTF-8) and their
 *     display form for logs and text columns;
 *   - artist and title tags that say nothing ("Unknown Artist", "Track 01"): such tags
 *     must never merge two files into one track;
 *   - --artist-from-path PATTERN: the artist taken from a file's path.
 */
#ifndef AF_INGEST_FOLDER_NAMES_H
#define AF_INGEST_FOLDER_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* What folder_display_name escaped (bits): the two are told apart in the log, since a
 * newline in a name is valid UTF-8 and says nothing about the name's encoding. */
enum {
    FOLDER_NAME_NOT_UTF8 = 1, /* a byte of an invalid UTF-8 sequence */
    FOLDER_NAME_CONTROL = 2   /* a control character (newline, tab, ..., DEL) */
};

/* Copies name to out (at most len - 1 bytes, cut on a character boundary): valid
 * UTF-8 as is, every byte of an invalid sequence and every control character as
 * "\xNN".  Returns the FOLDER_NAME_* bits of what needed escaping (0: nothing). */
unsigned folder_display_name(const char *name, char *out, size_t len);

/* True when an artist tag names nobody ("Unknown Artist", "Various Artists", "",
 * NULL...) / a title tag names nothing ("Track 01", "Untitled", "03", "", NULL). */
bool folder_placeholder_artist(const char *artist);
bool folder_placeholder_title(const char *title);

/* --artist-from-path PATTERN, matched against the path under PATH: '{artist}' (once)
 * is the artist, '*' any text within one folder or file name, '**' any text
 * across folders, '?' one character (UTF-8) but '/'; the rest is literal (examples:
 * af-ingest --help, for PATH/<genre>/<artist>/<file> and for
 * PATH/<genre>/"<artist> - <title>.mp3").  '*' and '**' take as much as they can,
 * '{artist}' as little: "Carol - Song - Live.mp3" against '{artist} - *' is "Carol".
 * (POSIX regular expressions have no shortest match: a small matcher of its own.) */
struct artist_pattern {
    char *pattern; /* NULL until compiled */
};

/* AF_EXIT_USAGE with the reason when the pattern is unusable. */
int folder_artist_pattern_compile(struct artist_pattern *p, const char *pattern, af_err *err);
/* The artist (trimmed, written to out) or NULL when the path does not match or the
 * part is empty or a placeholder ("Unknown Artist"). */
const char *folder_artist_from_path(const struct artist_pattern *p, const char *relative,
                                    char *out, size_t len);
void folder_artist_pattern_free(struct artist_pattern *p);

#endif
