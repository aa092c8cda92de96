/*
 * http_multi.h — many HTTP requests at once on one thread, with libcurl's
 * multi interface: for stages that fetch thousands of small resources
 * (fetch: searches and 30-second previews).
 *
 * Requests behave exactly like http.h's (same options, limits, timeouts,
 * Retry-After parsing and redaction; the code is shared through
 * http_internal.h): a request "succeeds" whenever an HTTP response arrived,
 * whatever its status.  Connections are reused across requests and the
 * number of transfers in flight is the caller's to bound (max_transfers caps
 * the connections).  The caller drives everything with af_http_multi_poll,
 * which calls each request's completion function; nothing runs behind the
 * caller's back.  Not thread-safe, except af_http_multi_wakeup.
 */
#ifndef AF_HTTP_MULTI_H
#define AF_HTTP_MULTI_H

#include "error.h"
#include "http.h"

struct af_http_multi;

/* Called once per request from af_http_multi_poll. rc 0: response holds the answer
 * (the callee owns it: af_http_response_free); rc -1: err says why no complete
 * response arrived (err->code is AF_HTTP_TIMEOUT for timeouts, AF_HTTP_REFUSED for a
 * URL or address refused by the checks of http.h, else 0). */
typedef void (*af_http_done_fn)(void *user, int rc, struct af_http_response *response,
                                const af_err *err);

enum { AF_HTTP_TIMEOUT = 1000, AF_HTTP_REFUSED = 1001 /* scheme or address not allowed */ };

struct af_http_multi *af_http_multi_new(const struct af_http_options *options, int max_transfers,
                                        af_err *err);
/* Abandons transfers still in flight (their completion functions are not called). */
void af_http_multi_free(struct af_http_multi *multi);

/* Starts a GET, or a form POST when post_body is not NULL. headers: NULL-terminated
 * "Name: value" strings or NULL; url, headers and body are copied. */
int af_http_multi_add(struct af_http_multi *multi, const char *url, const char *const *headers,
                      const char *post_body, af_http_done_fn done, void *user, af_err *err);

/* Transfers started and not yet completed. */
int af_http_multi_running(const struct af_http_multi *multi);

/* Moves transfers along, waiting up to timeout_seconds for network activity (or a
 * wakeup) when nothing is ready, then calls the completion function of every
 * finished transfer. Returns the number completed, or -1 when curl itself failed. */
int af_http_multi_poll(struct af_http_multi *multi, double timeout_seconds, af_err *err);

/* Makes a poll that is waiting return early; callable from any thread. */
void af_http_multi_wakeup(struct af_http_multi *multi);

#endif
