/*
 * af-serve — the collection and the model on a web page: a small HTTP server
 * (GNU libmicrohttpd) serving one page (serve/assets: HTML, JS, CSS, no build step,
 * nothing from elsewhere) and a JSON API under /api/ (serve_engine.h):
 *
 *   GET  /api/status                     the model and its genres
 *   GET  /api/search?q=ARTIST+-+TITLE    candidates at the providers (suggestions)
 *   GET  /api/predict?q=...[&pick=N]     find, download the preview, classify
 *   GET  /api/predict?deezer_id=ID
 *   POST /api/predict                    classify the audio file in the body
 *   GET  /api/similar?track=ID[&k=N]     nearest tracks of the collection
 *   POST /api/correct                    record a correction (JSON body)
 *   GET  /api/preview?key=PROVIDER:ID    a found preview's audio, for the player
 *
 * Requests are answered concurrently: libmicrohttpd gives every connection its own
 * thread (at most max_connections), and an API request borrows one of [serve]
 * workers engines (its own database connection, model and analyser: serve_pool.h)
 * for its duration; the previews are cached for all.  So a slow request holds one
 * connection and one engine, never the page or another client's connection.
 * Limits: [serve] max_upload_bytes (413), requests_per_minute per client address
 * (429), request_timeout_seconds, max_connections.  It listens on 127.0.0.1 unless [serve] listen says otherwise;
 * then POST /api/correct needs the token of AF_SERVE_TOKEN (401 without it).
 * Against cross-site requests (CSRF) from other pages in the user's browser: a request
 * other than GET and HEAD whose Origin is not this server's is refused (403), and
 * POST /api/correct takes only Content-Type: application/json (415), which a page
 * elsewhere cannot send without a CORS preflight that af-serve never grants.  On
 * loopback, a request for a Host that is not a loopback name is refused (403): DNS
 * rebinding would let a page on such a name read the answers as its own origin.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "ratelimit.h"
#include "serve_engine.h"
#include "serve_pool.h"

static const char usage[] =
    "Usage: af-serve [OPTION]...\n"
    "Serve a web page and a JSON API to classify songs, find similar tracks and correct\n"
    "labels.\n"
    "\n"
    "Options:\n"
    "  -m, --model ID|NAME|default|latest\n"
    "                         the model ([serve] model; default: default, the model\n"
    "                         marked default: af-train marks the first finished model,\n"
    "                         af-train --promote another; with none marked (deleted),\n"
    "                         af-serve does not start: name one)\n"
    "      --listen ADDR      IPv4 address to listen on ([serve] listen; default 127.0.0.1)\n"
    "      --port N           TCP port ([serve] port; 0 = any free port)\n"
    "      --port-file FILE   write the port listened on to FILE once listening\n"
    "\n"
    "Environment: AF_SERVE_TOKEN, the token POST /api/correct needs (header\n"
    "'Authorization: Bearer TOKEN') when listening on another address than 127.0.0.1;\n"
    "without it such a server refuses to start. POST /api/correct takes a JSON body\n"
    "(Content-Type: application/json); a POST from a page of another origin is refused,\n"
    "and on 127.0.0.1 so is any request whose Host is not localhost, 127.x.x.x or [::1].\n"
    "The API's status codes: 200 ok, 201 correction recorded, 400 bad request, 401\n"
    "token missing or wrong, 403 cross-site request, 404 no such route, track or match,\n"
    "405 wrong method, 413 body too large, 415 not JSON, 422 audio that cannot be\n"
    "analysed, 429 too many requests, 502 the providers failed, 503 searching off or\n"
    "database unavailable (the database is reconnected at the next request).\n"
    "SIGINT/SIGTERM stop it.\n"
    "Requests are answered concurrently, each connection in its own thread; [serve]\n"
    "workers (default 4) API requests at once, each with its own database connection,\n"
    "model and analyser; the downloaded previews are cached for all.\n";

enum { OPT_LISTEN = AF_OPT_FIRST_PROGRAM_OPTION, OPT_PORT, OPT_PORT_FILE };

#define CLIENTS 64

struct server {
    struct serve_pool *pool;
    const char *assets_dir;
    const char *token;        /* NULL on loopback */
    char origin[64];          /* http://ADDRESS:PORT listened on */
    size_t max_upload;
    double per_minute;
    pthread_mutex_t clients_lock; /* the connections' threads share the per-client buckets */
    struct {
        char addr[64];
        struct af_rate_limiter rl;
        bool used;
    } clients[CLIENTS];
    int next_client;
};

/* The body of one request as it arrives. */
struct request {
    char *body;
    size_t len;
    bool too_large;
};

static const struct asset {
    const char *url, *file, *type;
} assets[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/assets/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/assets/style.css", "style.css", "text/css; charset=utf-8"},
};

/* The API routes and the methods each answers (the Allow header of a 405). */
static const struct route {
    const char *url, *allow;
} routes[] = {
    {"/api/status", "GET, HEAD"},  {"/api/search", "GET, HEAD"},
    {"/api/predict", "GET, HEAD, POST"}, {"/api/similar", "GET, HEAD"},
    {"/api/correct", "POST"},      {"/api/preview", "GET, HEAD"},
};

/* A response with the headers every answer carries (NULL when out of memory). */
static struct MHD_Response *response(const void *data, size_t len, const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return NULL;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: https: http:; media-src 'self'");
    return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, int status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_bytes(struct MHD_Connection *c, int status, const void *data,
                                  size_t len, const char *type)
{
    return queue(c, status, response(data, len, type));
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return send_bytes(c, 500, "{\"error\":\"out of memory\"}", 25, "application/json");
    enum MHD_Result ret = send_bytes(c, status, text, strlen(text), "application/json");
    free(text);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *msg)
{
    return send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* 405 with the Allow header HTTP requires (allow: one of ours, JSON-safe). */
static enum MHD_Result send_not_allowed(struct MHD_Connection *c, const char *allow)
{
    char body[128];
    int len = snprintf(body, sizeof body,
                       "{\"error\":\"method not allowed here (allowed: %s)\"}", allow);
    struct MHD_Response *r = response(body, (size_t)len, "application/json");
    if (r)
        MHD_add_response_header(r, "Allow", allow);
    return queue(c, 405, r);
}

/* Only the files of the table above, read from the assets directory. */
static enum MHD_Result send_asset(struct server *s, struct MHD_Connection *c, const char *url)
{
    for (size_t i = 0; i < sizeof assets / sizeof *assets; i++) {
        if (strcmp(url, assets[i].url) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", s->assets_dir, assets[i].file);
        FILE *f = fopen(path, "rb");
        if (!f) {
            log_error("%s: cannot open: %m", path);
            return send_error(c, 500, "asset missing");
        }
        char *buf = NULL;
        size_t len = 0, cap = 0, got;
        char chunk[16384];
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + got > cap) {
                cap = 2 * (len + got);
                char *more = realloc(buf, cap);
                if (!more)
                    break;
                buf = more;
            }
            memcpy(buf + len, chunk, got);
            len += got;
        }
        fclose(f);
        enum MHD_Result ret = send_bytes(c, 200, buf ? buf : "", len, assets[i].type);
        free(buf);
        return ret;
    }
    return send_error(c, 404, "no such page");
}

static void client_address(struct MHD_Connection *c, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, len, "?");
    if (info && info->client_addr && info->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, buf,
                  (socklen_t)len);
}

/* A token bucket per client address (the last CLIENTS addresses seen). */
static bool rate_ok_locked(struct server *s, const char *addr)
{
    int slot = -1;
    for (int i = 0; i < CLIENTS; i++)
        if (s->clients[i].used && strcmp(s->clients[i].addr, addr) == 0)
            slot = i;
    if (slot < 0) {
        slot = s->next_client;
        s->next_client = (s->next_client + 1) % CLIENTS;
        if (s->clients[slot].used)
            af_rate_limiter_destroy(&s->clients[slot].rl);
        snprintf(s->clients[slot].addr, sizeof s->clients[slot].addr, "%s", addr);
        /* A burst of up to 30: a page load and a few searches at once. */
        af_rate_limiter_init(&s->clients[slot].rl, s->per_minute / 60.0,
                             s->per_minute < 30 ? s->per_minute : 30);
        s->clients[slot].used = true;
    }
    return af_rate_limiter_try_take(&s->clients[slot].rl) <= 0;
}

static bool rate_ok(struct server *s, const char *addr)
{
    if (s->per_minute <= 0)
        return true;
    pthread_mutex_lock(&s->clients_lock);
    bool ok = rate_ok_locked(s, addr);
    pthread_mutex_unlock(&s->clients_lock);
    return ok;
}

static bool token_ok(struct server *s, struct MHD_Connection *c)
{
    if (!s->token)
        return true;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return false;
    /* Constant time in the token's length. */
    const char *given = auth + 7;
    size_t n = strlen(s->token), m = strlen(given);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(s->token[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}

/* A browser names the page a request comes from in Origin.  A request that changes
 * something (any method but GET and HEAD) from a page of another site is refused, so
 * that such a page cannot have the browser record corrections here (CSRF).  Ours: the
 * address listened on, or the Host the browser asked for (localhost, a name or the
 * public address off loopback).  No Origin: not from a page (curl, a script). */
static bool origin_ok(const struct server *s, struct MHD_Connection *c)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!origin || strcasecmp(origin, s->origin) == 0)
        return true;
    return host && *host && strncasecmp(origin, "http://", 7) == 0 &&
           strcasecmp(origin + 7, host) == 0;
}

/* On loopback only this machine connects, but a web page can still reach the server
 * through a DNS name that its owner points at 127.0.0.1 (DNS rebinding), and then read
 * the answers as its own origin.  Its requests name that name in Host; a loopback
 * server answers only requests for a loopback name.  No Host: not a browser. */
static bool host_ok(const struct server *s, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (s->token || !host)
        return true; /* off loopback the token guards what matters */
    const char *bracket = host[0] == '[' ? strchr(host, ']') : NULL;
    if (host[0] == '[' && !bracket)
        return false;
    size_t name = bracket ? (size_t)(bracket - host) + 1 : strcspn(host, ":");
    if (host[name] != '\0' && (host[name] != ':' || strspn(host + name + 1, "0123456789") !=
                                                          strlen(host + name + 1)))
        return false;
    return (name == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (name == 5 && strncmp(host, "[::1]", 5) == 0) ||
           (name >= 7 && strncmp(host, "127.", 4) == 0 &&
            strspn(host, "0123456789.") == name);
}

/* "application/json", in any case, with or without parameters ("; charset=utf-8"). */
static bool is_json(const char *type)
{
    static const char json[] = "application/json";
    if (!type || strncasecmp(type, json, sizeof json - 1) != 0)
        return false;
    const char *rest = type + sizeof json - 1;
    rest += strspn(rest, " \t");
    return *rest == '\0' || *rest == ';';
}

/* POST /api/correct changes the database: off loopback it needs the token, and its body
 * must be declared JSON (a cross-site form cannot).  NULL, or why not and *status. */
static const char *correction_refused(struct server *s, struct MHD_Connection *c, int *status)
{
    if (!token_ok(s, c)) {
        *status = 401;
        return "corrections need 'Authorization: Bearer TOKEN' (the server's AF_SERVE_TOKEN)";
    }
    if (!is_json(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"))) {
        *status = 415;
        return "corrections take a JSON body: send 'Content-Type: application/json'";
    }
    return NULL;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* The optional whole-number argument NAME in [min, max] into *value (fallback when
 * absent): false when it is something else (atoi read "abc" as 0, "2x" as 2). */
static bool int_arg(struct MHD_Connection *c, const char *name, long min, long max,
                    int fallback, int *value)
{
    const char *text = arg(c, name);
    *value = fallback;
    if (!text)
        return true;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno || v < min || v > max)
        return false;
    *value = (int)v;
    return true;
}

static enum MHD_Result api_engine(struct serve_engine *engine, struct MHD_Connection *c,
                                  const char *url, const char *method, struct request *rq)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    json_t *out = NULL;
    int status;
    if (strcmp(url, "/api/status") == 0 && get) {
        status = serve_status(engine, &out);
    } else if (strcmp(url, "/api/search") == 0 && get) {
        status = serve_search(engine, arg(c, "q"), &out);
    } else if (strcmp(url, "/api/predict") == 0 && get) {
        int pick; /* 0: the best match; the engine knows how many there are */
        if (!int_arg(c, "pick", 1, 1000, 0, &pick))
            return send_error(c, 400, "pick: a candidate's number expected (1 for the first "
                                      "of /api/search's list)");
        status = serve_predict_query(engine, arg(c, "q"), pick, arg(c, "deezer_id"), &out);
    } else if (strcmp(url, "/api/predict") == 0 && post) {
        status = serve_predict_upload(engine, rq->body, rq->len, &out);
    } else if (strcmp(url, "/api/similar") == 0 && get) {
        int k;
        if (!int_arg(c, "k", 1, 100, 10, &k))
            return send_error(c, 400, "k: 1..100");
        status = serve_similar(engine, arg(c, "track"), k, &out);
    } else if (strcmp(url, "/api/correct") == 0 && post) {
        status = serve_correct(engine, rq->body, rq->len, &out);
    } else if (strcmp(url, "/api/preview") == 0 && get) {
        size_t len;
        char type[32];
        char *data = serve_preview(engine, arg(c, "key"), &len, type);
        if (!data)
            return send_error(c, 404, "no such preview (search and predict first)");
        enum MHD_Result ret = send_bytes(c, 200, data, len, type);
        free(data);
        return ret;
    } else {
        for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
            if (strcmp(url, routes[i].url) == 0)
                return send_not_allowed(c, routes[i].allow);
        return send_error(c, 404, "no such API route");
    }
    return send_json(c, status, out);
}

/* An API request borrows one of the engines for its duration (serve_pool.h). */
static enum MHD_Result api(struct server *s, struct MHD_Connection *c, const char *url,
                           const char *method, struct request *rq)
{
    int status;
    const char *refused = strcmp(url, "/api/correct") == 0 && strcmp(method, "POST") == 0
                              ? correction_refused(s, c, &status)
                              : NULL;
    if (refused)
        return send_error(c, status, refused);
    struct serve_engine *engine = serve_pool_acquire(s->pool);
    enum MHD_Result ret = api_engine(engine, c, url, method, rq);
    serve_pool_release(s->pool, engine);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    struct server *s = cls;
    (void)version;
    struct request *rq = *state;
    bool read_only = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!rq) { /* headers only: check the rate and origin now, collect the body next */
        char addr[64];
        client_address(c, addr, sizeof addr);
        if (!rate_ok(s, addr))
            return send_error(c, 429, "too many requests: slow down ([serve] "
                                      "requests_per_minute)");
        if (!host_ok(s, c))
            return send_error(c, 403, "Host not allowed: a server on a loopback address "
                                      "answers requests for localhost or 127.x.x.x only");
        if (!read_only && !origin_ok(s, c))
            return send_error(c, 403, "cross-site request refused: its Origin is not this "
                                      "server's");
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        *state = rq;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->max_upload)
            rq->too_large = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_large && rq->len + *upload_size <= s->max_upload) {
            char *more = realloc(rq->body, rq->len + *upload_size + 1);
            if (!more)
                return MHD_NO;
            rq->body = more;
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        } else {
            rq->too_large = true;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_large)
        return send_error(c, 413, "request body too large ([serve] max_upload_bytes)");
    if (strncmp(url, "/api/", 5) == 0)
        return api(s, c, url, method, rq);
    if (!read_only)
        return send_not_allowed(c, "GET, HEAD");
    return send_asset(s, c, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    struct request *rq = *state;
    if (rq) {
        free(rq->body);
        free(rq);
        *state = NULL;
    }
}

/* The project's serve/assets when this binary runs from the project, else the
 * installed copy. */
static const char *default_assets(void)
{
    static char dir[4096];
    char index[4200];
    snprintf(dir, sizeof dir, "%s/serve/assets", AF_PROJECT_DIR);
    snprintf(index, sizeof index, "%s/index.html", dir);
    FILE *f = fopen(index, "r");
    if (f) {
        fclose(f);
        return dir;
    }
    snprintf(dir, sizeof dir, "%s", AF_SHARE_DIR "/serve");
    return dir;
}

/* The listening socket, made here rather than by libmicrohttpd so that a failure names
 * the address and port asked for and its reason (libmicrohttpd's message said port 0,
 * and errno was overwritten by the time it returned).  -1 when it cannot. */
static int listen_socket(const struct sockaddr_in *addr, const char *host, af_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, (const struct sockaddr *)addr, sizeof *addr) == 0 && listen(fd, SOMAXCONN) == 0)
        return fd;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    af_err_set(err, "cannot listen on %s:%u: %s", host, ntohs(addr->sin_port), strerror(saved));
    return -1;
}

static unsigned bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    return getsockname(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : 0;
}

/* --port-file: what a script that starts af-serve waits for, so not writing it is an
 * error (the script would wait forever), not something to skip. */
static int write_port_file(const char *path, unsigned port, af_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return af_err_set(err, "--port-file %s: cannot create: %m", path);
    bool written = fprintf(f, "%u\n", port) > 0;
    if (fclose(f) != 0 || !written)
        return af_err_set(err, "--port-file %s: cannot write: %m", path);
    return 0;
}

/* [serve] listen, and the token it needs off loopback, into *s and *addr. */
static int configure_listen(struct af_app *app, struct server *s, struct sockaddr_in *addr,
                            af_err *err)
{
    const char *listen = af_config_str(app->cfg, "serve.listen");
    *addr = (struct sockaddr_in){.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)af_config_int(app->cfg, "serve.port"))};
    if (inet_pton(AF_INET, listen, &addr->sin_addr) != 1)
        return af_err_set_code(err, AF_EXIT_USAGE, "[serve] listen: '%s' is not an IPv4 address",
                               listen);
    if (strncmp(listen, "127.", 4) != 0) {
        s->token = getenv("AF_SERVE_TOKEN");
        if (!s->token || strlen(s->token) < 16)
            return af_err_set_code(err, AF_EXIT_USAGE,
                                   "listening on %s (not loopback) needs AF_SERVE_TOKEN of at "
                                   "least 16 characters in the environment, for corrections",
                                   listen);
    }
    return 0;
}

static struct MHD_Daemon *start_daemon(struct af_app *app, struct server *s, int fd)
{
    /* A thread per connection, not a thread pool: a pool's thread polls several
     * connections, so a slow request (a download, an analysis) would hold up the others
     * that landed on its thread (measured: 2 of 3 slow predictions serialised, often). */
    return MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handle, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
        completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)af_config_int(app->cfg, "serve.request_timeout_seconds"),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)af_config_int(app->cfg, "serve.max_connections"),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
}

static void free_server(struct server *s)
{
    serve_pool_close(s->pool);
    pthread_mutex_destroy(&s->clients_lock);
    for (int i = 0; i < CLIENTS; i++)
        if (s->clients[i].used)
            af_rate_limiter_destroy(&s->clients[i].rl);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"model", required_argument, NULL, 'm'},
                                            {"listen", required_argument, NULL, OPT_LISTEN},
                                            {"port", required_argument, NULL, OPT_PORT},
                                            {"port-file", required_argument, NULL, OPT_PORT_FILE},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-serve", usage, argc, argv);
    const char *port_file = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "m:", options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case 'm': af_app_override(&app, "serve.model", optarg, "--model"); break;
        case OPT_LISTEN: af_app_override(&app, "serve.listen", optarg, "--listen"); break;
        case OPT_PORT: af_app_override(&app, "serve.port", optarg, "--port"); break;
        case OPT_PORT_FILE: port_file = optarg; break;
        default: af_app_usage_error(&app, "unexpected option");
        }
    }
    if (optind < argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    struct server s = {0};
    struct sockaddr_in addr;
    if (configure_listen(&app, &s, &addr, &err) != 0)
        return af_app_fail(&app, &err);
    const char *listen = af_config_str(app.cfg, "serve.listen");
    /* The port first: taken, it fails at once, before the engines load. */
    int fd = listen_socket(&addr, listen, &err);
    if (fd < 0)
        return af_app_fail(&app, &err);
    unsigned port = bound_port(fd);
    snprintf(s.origin, sizeof s.origin, "http://%s:%u", listen, port);
    const char *dir = af_config_str(app.cfg, "serve.assets_dir");
    s.assets_dir = dir && *dir ? dir : default_assets();
    s.max_upload = (size_t)af_config_int(app.cfg, "serve.max_upload_bytes");
    s.per_minute = (double)af_config_int(app.cfg, "serve.requests_per_minute");
    int workers = (int)af_config_int(app.cfg, "serve.workers");
    pthread_mutex_init(&s.clients_lock, NULL);
    if (serve_pool_open(&s.pool, &app, af_config_str(app.cfg, "serve.model"), workers, &err) != 0) {
        close(fd);
        free_server(&s);
        return af_app_fail(&app, &err);
    }
    struct MHD_Daemon *d = start_daemon(&app, &s, fd);
    if (!d) { /* fd is left to the exit: whether libmicrohttpd closed it is not said */
        free_server(&s);
        af_err_set(&err, "cannot start the HTTP server on %s:%u (libmicrohttpd)", listen, port);
        return af_app_fail(&app, &err);
    }
    int rc = port_file ? write_port_file(port_file, port, &err) : 0;
    if (rc == 0)
        log_info("listening on http://%s:%u/ with %d worker(s) (assets %s)%s", listen, port,
                 workers, s.assets_dir, s.token ? "; corrections need the token" : "");
    while (rc == 0 && !af_app_stop_requested())
        af_sleep_seconds(0.2);
    MHD_stop_daemon(d); /* closes fd */
    free_server(&s);
    if (rc != 0)
        return af_app_fail(&app, &err);
    log_info("stopped");
    /* The run's end is written on the main connection, which a database restart while
     * serving left broken. */
    af_err ignored = {0};
    af_db_ensure(app.db, &ignored);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
