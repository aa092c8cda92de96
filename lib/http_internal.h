/*
 * http_internal.h — what http.c (easy interface) and http_multi.c (multi
 * interface) share: the body buffer with its size limit, the header callback
 * (Retry-After, Content-Type), the per-request option setup (timeouts,
 * limits, redirects, user agent) and turning a finished transfer into an
 * af_http_response or an error.  Not for use outside lib/http*.c.
 */
#ifndef AF_HTTP_INTERNAL_H
#define AF_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "http.h"

struct af_http_body {
    char *data;
    size_t len, cap, max;
    int too_large;
    int allow_private;  /* from af_http_options.allow_private_addresses */
    char refused[160];  /* why the address check refused a connection, "" = it did not */
};

/* curl_global_init, once per process. */
void af_http_global_init(void);

/* Resets c and sets URL, headers, callbacks writing into body and response, the
 * error buffer (CURL_ERROR_SIZE bytes), timeouts and limits from options, and
 * post_body when not NULL. Clears *body and *response first. */
void af_http_setup_easy(CURL *c, const struct af_http_options *options, const char *url,
                        struct curl_slist *headers, const char *post_body,
                        struct af_http_body *body, struct af_http_response *response,
                        char *errbuf);

/* After the transfer ended with rc: fills response (taking body's data) and returns 0,
 * or frees the body and returns -1 with a message naming the redacted URL. */
int af_http_finish_easy(CURL *c, CURLcode rc, const char *url, struct af_http_body *body,
                        const char *errbuf, struct af_http_response *response, af_err *err);

#endif
