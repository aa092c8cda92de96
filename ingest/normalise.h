/*
 * normalise.h — the text keys by which ingest matches things: tag keys (how a
 * raw tag finds its genre) and match keys (how a track found by two sources is
 * recognised as one), plus UTF-8 checking and COPY text escaping for bulk loads.
 *
 * A key is lib/textkey.h's af_text_key(): Unicode compatibility normalisation and
 * case folding (utf8proc), then letters and digits only, so that case, width,
 * ligatures, spaces, hyphens and punctuation do not matter: "Hip Hop" = "hip-hop" =
 * "HipHop" = "hiphop", "ROSÉ" = "Rosé".  The SQL function af_norm_key()
 * (sql/030_textkey.sql) computes the same key.
 */
#ifndef AF_INGEST_NORMALISE_H
#define AF_INGEST_NORMALISE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the key of text (at most out_len - 1 bytes) and returns its length. */
size_t af_norm_key(const char *text, char *out, size_t out_len);

/* "artistkey<TAB>titlekey"; empty (returns 0) when either part has an empty key. */
size_t af_match_key(const char *artist, const char *title, char *out, size_t out_len);

/* Repairs the cp1252 damage of the MSD's unique_tracks.txt: U+0019 where a right
 * quote was meant ("Gigi D\x19Agostino") becomes ’, U+0013 (a dash) becomes –, and
 * every other C0 control character (tab included) is removed.  Returns a malloc'd
 * repaired copy and fills what (e.g. "1 U+0019 -> ’, 2 controls removed"), or NULL
 * when text needs no repair. */
char *af_repair_controls(const char *text, char *what, size_t what_len);

/* A tag weight that can be stored and compared: finite, in [0, max].  NaN and the
 * infinities ("NaN", "inf" in a source) are never weights. */
bool af_tag_weight_ok(double weight, double max);

/* Appends text to a COPY text-format field: backslash, tab, newline and carriage
 * return are escaped. A NULL text appends \N. Returns -1 when out of memory. */
struct af_buf {
    char *data;
    size_t len, cap;
};
int af_buf_append(struct af_buf *buf, const char *data, size_t len);
int af_buf_copy_field(struct af_buf *buf, const char *text);
void af_buf_free(struct af_buf *buf);

#endif
