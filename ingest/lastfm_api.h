/*
 * lastfm_api.h — one Last.fm API call, done politely: the response cache in the
 * database (lastfm_responses, reused within [lastfm] cache_max_age_days), the
 * rate limit ([lastfm] requests_per_second), and the API's error rules:
 *   29 (and HTTP 429)          → pause (Retry-After, at most [lastfm]
 *                                max_pause_seconds), then retry
 *   8, 11, 16, HTTP 5xx,
 *   timeouts, cut-off or
 *   malformed bodies           → retry with exponential backoff ([lastfm] max_retries)
 *   6                          → not found: returned as LFM_API_ERROR and cached
 *   10, 26                     → fatal: err->code = AF_EXIT_CREDENTIALS
 * The key comes from LASTFM_API_KEY only and never appears in a log line.
 */
#ifndef AF_INGEST_LASTFM_API_H
#define AF_INGEST_LASTFM_API_H

#include <stddef.h>

#include "ingest.h"
#include "lastfm_json.h"

#define LFM_STOPPED 2 /* a stop was requested while waiting to retry */

struct lfm_client;

/* Reads the [lastfm] configuration and LASTFM_API_KEY (a usage error when unset). */
struct lfm_client *lfm_client_new(struct ingest_ctx *ctx, af_err *err);
void lfm_client_free(struct lfm_client *c);

/* Calls method with params (name, value pairs, NULL-terminated). Returns 0 with the
 * body (free() it), LFM_API_ERROR with api filled (the item's final answer, e.g. 6),
 * LFM_STOPPED, or -1 with err (err->code = AF_EXIT_CREDENTIALS when the key was
 * rejected). *from_cache says whether the network was spared. */
int lfm_client_call(struct lfm_client *c, const char *method, const char *const *params,
                    char **body, size_t *len, struct lfm_api_error *api, int *from_cache,
                    af_err *err);

/* Drops the cached answer to method with params: a body that was well-formed JSON but
 * not understood must be asked for again, not replayed for cache_max_age_days. */
int lfm_client_forget(struct lfm_client *c, const char *method, const char *const *params,
                      af_err *err);

#endif
