/*
 * fetch_config.h — the provider settings that af-fetch's work loop (fetch_engine.c)
 * and the interactive look-up (fetch_lookup.c: af-predict, af-similar, af-serve)
 * both read: the [fetch] providers list, each provider's [<name>] api_url and
 * requests_per_second, and the HTTP client's [fetch] limits.  Read in one place so
 * that both ask the providers alike.
 */
#ifndef AF_FETCH_CONFIG_H
#define AF_FETCH_CONFIG_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "http.h"
#include "ratelimit.h"

enum af_fetch_provider { AF_FETCH_SPOTIFY, AF_FETCH_DEEZER, AF_FETCH_ITUNES };
#define AF_FETCH_PROVIDERS 3
/* "spotify", "deezer", "itunes": the names in [fetch] providers and the config sections. */
extern const char *const af_fetch_provider_names[AF_FETCH_PROVIDERS];

/* The settings both ask the providers with ([fetch], [spotify], [itunes]). */
struct af_fetch_settings {
    int search_results, max_retries;
    double retry_base, retry_max, max_retry_after; /* seconds */
    double min_score;                              /* [fetch] min_match_score */
    bool verify_audio;
    double min_preview, max_preview; /* seconds, for the check of a download */
    const char *accounts_url, *spotify_market, *itunes_country;
};
void af_fetch_read_settings(const struct af_config *cfg, struct af_fetch_settings *s);

/* Parses a provider list ("spotify,deezer,itunes", commas or spaces) into kinds, in
 * its order, each once.  Returns how many (0 for an empty list), or -1 with
 * AF_EXIT_USAGE naming an unknown provider. */
int af_fetch_parse_providers(const char *list, enum af_fetch_provider kinds[AF_FETCH_PROVIDERS],
                             af_err *err);

/* Checks a provider list (af-fetch --providers): known names, one at least. */
int af_fetch_check_providers(const char *list, af_err *err);

/* The HTTP client's options: defaults with [fetch] connect_timeout_seconds,
 * timeout_seconds, low_speed_bytes_per_second, low_speed_seconds, max_body_bytes. */
void af_fetch_http_options(const struct af_config *cfg, struct af_http_options *ho);

/* A provider's [<name>] api_url; its token bucket is set to [<name>]
 * requests_per_second. */
const char *af_fetch_provider_setup(const struct af_config *cfg, enum af_fetch_provider kind,
                                    struct af_rate_limiter *rl);

#endif
