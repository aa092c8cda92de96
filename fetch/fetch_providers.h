/*
 * fetch_providers.h — the three preview providers' request URLs and response
 * formats (Spotify Web API, Deezer API, iTunes Search API), as documented in
 * ../shared/reference/api/API_FORMATS.md.  Pure functions: no I/O, so each
 * format is unit-tested on the real payloads in tests/unit/.
 */
#ifndef AF_FETCH_PROVIDERS_H
#define AF_FETCH_PROVIDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* One search result. Strings are owned (freed by af_fetch_results_free). */
struct af_fetch_candidate {
    char id[64];       /* the provider's track id, as text */
    char *artists;     /* names separated by '\n' */
    char *title;
    double duration;   /* seconds; 0 = unknown */
    char *preview_url; /* NULL when the provider has no preview for it */
    char isrc[16];     /* "" when not given */
};

struct af_fetch_results {
    struct af_fetch_candidate *items;
    int n;
};

void af_fetch_results_free(struct af_fetch_results *results);

/* What a response body says besides its results. */
enum af_fetch_answer {
    AF_ANSWER_OK = 0,      /* results parsed (possibly none) */
    AF_ANSWER_NO_DATA,     /* Deezer error 800 (e.g. unknown ISRC): no such track */
    AF_ANSWER_QUOTA,       /* Deezer error 4: quota exceeded, back off and retry */
    AF_ANSWER_BUSY,        /* Deezer error 700: service busy, retry with backoff */
    AF_ANSWER_API_ERROR,   /* another error object in the body (or {"error":"Not Found"}) */
};

/* Spotify. search: q=isrc:X when isrc is given, else track:"T" artist:"A"; market
 * (ISO country, "" = none) decides which previews and tracks are available. */
char *af_spotify_search_url(const char *api_url, const char *market, const char *artist,
                            const char *title, const char *isrc, int limit);
/* SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET from the environment (never logged);
 * false unless both are set and not empty. */
bool af_spotify_credentials(const char **client_id, const char **client_secret);
/* The token request's "Authorization: Basic base64(id:secret)" header line; the
 * intermediate copies of the secret are wiped.  0, or -1 when header is too small. */
int af_spotify_basic_auth(const char *client_id, const char *client_secret, char *header,
                          size_t size);
/* Token endpoint answer (200): access_token and expires_in (seconds). */
int af_spotify_parse_token(const char *body, size_t len, char *token, size_t token_len,
                           double *expires_in, af_err *err);
/* {"error":{"status":..,"message":".."}} or OAuth {"error":"..","error_description":".."}:
 * the message, for logs; "" when the body has none. */
void af_spotify_error_message(const char *body, size_t len, char *buf, size_t buf_len);
int af_spotify_parse_search(const char *body, size_t len, struct af_fetch_results *out,
                            af_err *err);

/* Deezer. /track/isrc:X, or /search?q=artist:"A" track:"T". */
char *af_deezer_isrc_url(const char *api_url, const char *isrc);
char *af_deezer_search_url(const char *api_url, const char *artist, const char *title,
                           int limit);
/* Accepts a search page ({"data":[...]}), a single track object (ISRC lookup) and the
 * error object that Deezer sends with HTTP 200 or 404 ({"error":{"code":800,...}}, or
 * {"error":"Not Found"} on unknown routes); *answer says which. On error answers err
 * holds Deezer's message. Tracks with "readable": false get no preview URL (Deezer
 * still sends one, but it is not to be played). Search results carry no ISRC.
 * Returns -1 only for a body that is not such JSON. */
int af_deezer_parse(const char *body, size_t len, struct af_fetch_results *out,
                    enum af_fetch_answer *answer, af_err *err);

/* iTunes. /search?term=A T&media=music&entity=song&country=C ("" = Apple's default). */
char *af_itunes_search_url(const char *api_url, const char *country, const char *artist,
                           const char *title, int limit);
/* iTunes' error answer (HTTP 400 {"errorMessage": "..."}): the message, "" when none. */
void af_itunes_error_message(const char *body, size_t len, char *buf, size_t buf_len);
int af_itunes_parse_search(const char *body, size_t len, struct af_fetch_results *out,
                           af_err *err);

#endif
