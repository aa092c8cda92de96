/*
 * http.h — HTTP requests with libcurl (easy interface), for the stages that talk
 * to web APIs (ingest: Last.fm; fetch: Spotify, Deezer, iTunes, preview hosts).
 *
 * One af_http_client keeps one curl handle, so consecutive requests reuse the
 * connection.  Every request has connect, total and low-speed timeouts and a
 * maximum body size from af_http_options.  A request "succeeds" (returns 0)
 * whenever an HTTP response arrived, whatever its status: the caller judges
 * 404s and 500s by the API's rules.  It fails (-1) only when no complete
 * response arrived (DNS, refused, timeout, body too large, truncated).
 *
 * URLs may carry API keys in their query: never log a URL without
 * af_http_redact_url().
 *
 * URLs come from answers of outside services too (preview URLs): every request,
 * and every redirect, may only use http or https, and a connection to a
 * loopback, link-local, private or otherwise internal address is refused
 * (checked on the resolved address, just before connecting, so a host name that
 * resolves to 127.0.0.1 or a redirect to http://10.0.0.1/ is caught as well)
 * unless allow_private_addresses is set ([http] allow_private_addresses).
 */
#ifndef AF_HTTP_H
#define AF_HTTP_H

#include <stddef.h>

#include "error.h"

struct af_http_options {
    double connect_timeout_seconds;
    double timeout_seconds;
    long low_speed_bytes_per_second; /* abort when slower than this ... */
    long low_speed_seconds;          /* ... for this long; 0 = off */
    size_t max_body_bytes;
    int allow_private_addresses; /* connect to loopback/private/link-local addresses */
};

struct af_http_response {
    long status;                /* HTTP status code */
    char *body;                 /* NUL-terminated (body_len excludes the NUL) */
    size_t body_len;
    double retry_after_seconds; /* from Retry-After; -1 when absent */
    char content_type[128];
};

struct af_http_client;

/* Defaults: 10 s connect, 60 s total, 1000 B/s for 20 s, 10 MB, internal addresses
 * as set by af_http_set_allow_private_addresses (refused unless set). */
void af_http_default_options(struct af_http_options *options);

/* The process-wide default of allow_private_addresses; af_app_start sets it from
 * [http] allow_private_addresses, so every HTTP user of a program follows it. */
void af_http_set_allow_private_addresses(int allow);

/* 1 when addr (a struct sockaddr_in or sockaddr_in6) is loopback, private,
 * link-local, unspecified, carrier-grade NAT, multicast or reserved; *what names
 * the kind for messages. */
struct sockaddr;
int af_http_address_is_internal(const struct sockaddr *addr, const char **what);

struct af_http_client *af_http_client_new(const struct af_http_options *options, af_err *err);
void af_http_client_free(struct af_http_client *client);

/* headers: NULL-terminated "Name: value" strings, or NULL. */
int af_http_get(struct af_http_client *client, const char *url, const char *const *headers,
                struct af_http_response *response, af_err *err);
/* POSTs body (e.g. "grant_type=client_credentials") as application/x-www-form-urlencoded. */
int af_http_post_form(struct af_http_client *client, const char *url,
                      const char *const *headers, const char *body,
                      struct af_http_response *response, af_err *err);
void af_http_response_free(struct af_http_response *response);

/* Percent-encodes text for a query string; free the result with free(). */
char *af_http_escape(const char *text);

/* Copies url to buf with the values of api_key, key, token, secret and signature
 * query parameters replaced by "***". */
void af_http_redact_url(const char *url, char *buf, size_t len);

/* Parses a Retry-After value (delta-seconds or an HTTP date); -1 when unparseable. */
double af_http_parse_retry_after(const char *value);

#endif
