/* http.c — libcurl easy-interface requests with timeouts and limits; see http.h. */
#include "http.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct af_http_client {
    CURL *curl;
    struct af_http_options options;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void af_http_global_init(void) { pthread_once(&curl_once, init_curl); }

static atomic_int allow_private_default;

void af_http_set_allow_private_addresses(int allow) { allow_private_default = allow != 0; }

void af_http_default_options(struct af_http_options *options)
{
    options->connect_timeout_seconds = 10;
    options->timeout_seconds = 60;
    options->low_speed_bytes_per_second = 1000;
    options->low_speed_seconds = 20;
    options->max_body_bytes = 10 * 1000 * 1000;
    options->allow_private_addresses = allow_private_default;
}

/* IPv4 ranges that are not the public internet (RFC 6890 and friends). */
static const char *internal_ipv4(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
        const char *what;
    } ranges[] = {
        {0x00000000, 0xff000000, "unspecified (0.0.0.0/8)"},
        {0x7f000000, 0xff000000, "loopback"},
        {0x0a000000, 0xff000000, "private (10/8)"},
        {0xac100000, 0xfff00000, "private (172.16/12)"},
        {0xc0a80000, 0xffff0000, "private (192.168/16)"},
        {0xa9fe0000, 0xffff0000, "link-local (169.254/16)"},
        {0x64400000, 0xffc00000, "carrier-grade NAT (100.64/10)"},
        {0xc0000000, 0xffffff00, "IETF protocol assignments (192.0.0/24)"},
        {0xc6120000, 0xfffe0000, "benchmarking (198.18/15)"},
        {0xe0000000, 0xf0000000, "multicast"},
        {0xf0000000, 0xf0000000, "reserved (240/4)"},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if ((a & ranges[i].mask) == ranges[i].net)
            return ranges[i].what;
    return NULL;
}

int af_http_address_is_internal(const struct sockaddr *addr, const char **what)
{
    const char *kind = NULL;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        kind = internal_ipv4(ntohl(in->sin_addr.s_addr));
    } else if (addr->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
        const unsigned char *b = a->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
            uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
            kind = internal_ipv4(v4);
            if (!kind && IN6_IS_ADDR_V4COMPAT(a))
                kind = "IPv4-compatible IPv6";
        } else if (IN6_IS_ADDR_LOOPBACK(a)) {
            kind = "loopback";
        } else if (IN6_IS_ADDR_UNSPECIFIED(a)) {
            kind = "unspecified";
        } else if (IN6_IS_ADDR_LINKLOCAL(a)) {
            kind = "link-local (fe80::/10)";
        } else if (IN6_IS_ADDR_SITELOCAL(a)) {
            kind = "site-local (fec0::/10)";
        } else if ((b[0] & 0xfe) == 0xfc) {
            kind = "unique local (fc00::/7)";
        } else if (IN6_IS_ADDR_MULTICAST(a)) {
            kind = "multicast";
        } else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
            uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
            kind = internal_ipv4(v4) ? "NAT64 of an internal IPv4 address" : NULL;
        }
    } else {
        kind = "not an internet address";
    }
    if (what)
        *what = kind;
    return kind != NULL;
}

/* CURLOPT_OPENSOCKETFUNCTION: runs on the resolved address of every connection curl
 * makes (the first URL, each redirect, a proxy), after DNS, so no host name can
 * sneak an internal address past the check. */
static curl_socket_t open_checked_socket(void *user, curlsocktype purpose,
                                         struct curl_sockaddr *address)
{
    struct af_http_body *body = user;
    const char *what = NULL;
    if (purpose == CURLSOCKTYPE_IPCXN && !body->allow_private &&
        af_http_address_is_internal(&address->addr, &what)) {
        char ip[INET6_ADDRSTRLEN] = "?";
        if (address->family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&address->addr)->sin_addr, ip, sizeof ip);
        else if (address->family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&address->addr)->sin6_addr, ip,
                      sizeof ip);
        snprintf(body->refused, sizeof body->refused,
                 "refused to connect to %s, a %s address ([http] allow_private_addresses)", ip,
                 what);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

struct af_http_client *af_http_client_new(const struct af_http_options *options, af_err *err)
{
    af_http_global_init();
    struct af_http_client *client = calloc(1, sizeof *client);
    if (!client || !(client->curl = curl_easy_init())) {
        free(client);
        af_err_set(err, "cannot create an HTTP client: out of memory");
        return NULL;
    }
    client->options = *options;
    return client;
}

void af_http_client_free(struct af_http_client *client)
{
    if (!client)
        return;
    curl_easy_cleanup(client->curl);
    free(client);
}

void af_http_response_free(struct af_http_response *response)
{
    free(response->body);
    response->body = NULL;
    response->body_len = 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct af_http_body *buf = user;
    size_t n = size * count;
    if (buf->len + n > buf->max) {
        buf->too_large = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (buf->len + n + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 16384;
        while (cap < buf->len + n + 1)
            cap *= 2;
        char *grown = realloc(buf->data, cap);
        if (!grown)
            return 0;
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, data, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return n;
}

static size_t on_header(char *line, size_t size, size_t count, void *user)
{
    struct af_http_response *response = user;
    size_t n = size * count;
    char header[512];
    size_t len = n < sizeof header - 1 ? n : sizeof header - 1;
    memcpy(header, line, len);
    header[len] = '\0';
    header[strcspn(header, "\r\n")] = '\0';
    if (strncasecmp(header, "Retry-After:", 12) == 0)
        response->retry_after_seconds = af_http_parse_retry_after(header + 12);
    return n;
}

double af_http_parse_retry_after(const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        double seconds = strtod(value, &end);
        return (*end == '\0' || *end == ' ') ? seconds : -1;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == -1)
        return -1;
    double delta = difftime(when, time(NULL));
    return delta > 0 ? delta : 0;
}

void af_http_setup_easy(CURL *c, const struct af_http_options *o, const char *url,
                        struct curl_slist *headers, const char *post_body,
                        struct af_http_body *body, struct af_http_response *response,
                        char *errbuf)
{
    memset(response, 0, sizeof *response);
    response->retry_after_seconds = -1;
    *body = (struct af_http_body){.max = o->max_body_bytes,
                                  .allow_private = o->allow_private_addresses};
    errbuf[0] = '\0';
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, response);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* Only the web: no file://, gopher://, dict://, ftp://, scp://..., redirects included. */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, body);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "AudioFiler/" AF_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_seconds * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_seconds * 1000));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes_per_second);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_seconds);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body_bytes);
    if (post_body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
}

int af_http_finish_easy(CURL *c, CURLcode rc, const char *url, struct af_http_body *body,
                        const char *errbuf, struct af_http_response *response, af_err *err)
{
    char redacted[1024];
    af_http_redact_url(url, redacted, sizeof redacted);
    if (rc != CURLE_OK) {
        free(body->data);
        body->data = NULL;
        if (body->too_large || rc == CURLE_FILESIZE_EXCEEDED)
            return af_err_set(err, "%s: response larger than %zu bytes", redacted, body->max);
        if (body->refused[0])
            return af_err_set(err, "%s: %s", redacted, body->refused);
        if (rc == CURLE_UNSUPPORTED_PROTOCOL)
            return af_err_set(err, "%s: refused: only http and https URLs are fetched (%s)",
                              redacted, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return af_err_set(err, "%s: %s", redacted, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response->status);
    const char *type = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    if (type)
        snprintf(response->content_type, sizeof response->content_type, "%s", type);
    response->body = body->data ? body->data : calloc(1, 1);
    response->body_len = body->len;
    body->data = NULL;
    return 0;
}

static int perform(struct af_http_client *client, const char *url, const char *const *headers,
                   const char *post_body, struct af_http_response *response, af_err *err)
{
    struct curl_slist *list = NULL;
    for (int i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    struct af_http_body body;
    char errbuf[CURL_ERROR_SIZE];
    af_http_setup_easy(client->curl, &client->options, url, list, post_body, &body, response,
                       errbuf);
    CURLcode rc = curl_easy_perform(client->curl);
    curl_slist_free_all(list);
    return af_http_finish_easy(client->curl, rc, url, &body, errbuf, response, err);
}

int af_http_get(struct af_http_client *client, const char *url, const char *const *headers,
                struct af_http_response *response, af_err *err)
{
    return perform(client, url, headers, NULL, response, err);
}

int af_http_post_form(struct af_http_client *client, const char *url,
                      const char *const *headers, const char *body,
                      struct af_http_response *response, af_err *err)
{
    return perform(client, url, headers, body, response, err);
}

char *af_http_escape(const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(text) + 1), *w = out;
    if (!out)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (isalnum(*c) || strchr("-_.~", *c)) {
            *w++ = (char)*c;
        } else {
            *w++ = '%';
            *w++ = hex[*c >> 4];
            *w++ = hex[*c & 15];
        }
    }
    *w = '\0';
    return out;
}

static int is_secret_parameter(const char *name, size_t len)
{
    static const char *secrets[] = {"api_key", "key", "token", "access_token", "secret",
                                    "client_secret", "signature", "sig", NULL};
    for (int i = 0; secrets[i]; i++)
        if (strlen(secrets[i]) == len && strncasecmp(name, secrets[i], len) == 0)
            return 1;
    return 0;
}

void af_http_redact_url(const char *url, char *buf, size_t len)
{
    size_t w = 0;
    const char *p = url;
    int in_query = 0;
    while (*p && w + 4 < len) {
        if (*p == '?' || (in_query && *p == '&')) {
            in_query = 1;
            buf[w++] = *p++;
            size_t name_len = strcspn(p, "=&#");
            if (p[name_len] == '=' && is_secret_parameter(p, name_len) &&
                w + name_len + 5 < len) {
                memcpy(buf + w, p, name_len + 1);
                w += name_len + 1;
                p += name_len + 1;
                p += strcspn(p, "&#");
                memcpy(buf + w, "***", 3);
                w += 3;
            }
            continue;
        }
        buf[w++] = *p++;
    }
    buf[w] = '\0';
}
