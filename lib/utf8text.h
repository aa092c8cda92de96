/*
 * utf8text.h — arbitrary bytes (command-line arguments, file names) made
 * storable as PostgreSQL text, which must be valid UTF-8.  A byte that does
 * not belong to a valid UTF-8 sequence is written as \xHH, so that
 * "caf\xE9.mp3" (a Latin-1 name) stays recognisable in the runs table instead
 * of making the insert fail.
 */
#ifndef AF_UTF8TEXT_H
#define AF_UTF8TEXT_H

#include <stdbool.h>

#include <stddef.h>

bool af_utf8_is_valid(const char *text);
/* True when the len bytes are valid UTF-8 without a NUL (no overlongs,
 * surrogates or code points above U+10FFFF: utf8proc's rules). */
bool af_utf8_valid(const char *text, size_t len);

/* text with every invalid byte as \xHH, as a malloc'd string (a copy when
 * text is valid); NULL when memory runs out. */
char *af_utf8_escaped(const char *text);

#endif
