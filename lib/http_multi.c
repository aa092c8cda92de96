/* http_multi.c — concurrent requests with libcurl's multi interface; see http_multi.h. */
#include "http_multi.h"

#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    char *post_body;
    struct af_http_body body;
    struct af_http_response response;
    char errbuf[CURL_ERROR_SIZE];
    af_http_done_fn done;
    void *user;
    struct transfer *next_idle;
    struct transfer *prev_active, *next_active; /* while in flight */
};

struct af_http_multi {
    CURLM *multi;
    struct af_http_options options;
    int running;          /* added and not completed */
    struct transfer *idle;   /* finished transfers whose easy handles can be reused */
    struct transfer *active; /* in flight */
};

static void unlink_active(struct af_http_multi *m, struct transfer *t)
{
    if (t->prev_active)
        t->prev_active->next_active = t->next_active;
    else
        m->active = t->next_active;
    if (t->next_active)
        t->next_active->prev_active = t->prev_active;
    t->prev_active = t->next_active = NULL;
}

struct af_http_multi *af_http_multi_new(const struct af_http_options *options, int max_transfers,
                                        af_err *err)
{
    af_http_global_init();
    struct af_http_multi *m = calloc(1, sizeof *m);
    if (!m || !(m->multi = curl_multi_init())) {
        free(m);
        af_err_set(err, "cannot create an HTTP multi handle: out of memory");
        return NULL;
    }
    m->options = *options;
    if (max_transfers < 1)
        max_transfers = 1;
    /* Keep a connection per transfer slot, plus spares for the other hosts. */
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)max_transfers * 2 + 8);
    curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_transfers + 8);
    return m;
}

static void transfer_release_request(struct transfer *t)
{
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t->post_body);
    free(t->body.data);
    t->headers = NULL;
    t->url = t->post_body = NULL;
    t->body.data = NULL;
}

static void transfer_free(struct transfer *t)
{
    transfer_release_request(t);
    curl_easy_cleanup(t->easy);
    free(t);
}

void af_http_multi_free(struct af_http_multi *m)
{
    if (!m)
        return;
    while (m->active) {
        struct transfer *t = m->active;
        unlink_active(m, t);
        curl_multi_remove_handle(m->multi, t->easy);
        transfer_free(t);
    }
    while (m->idle) {
        struct transfer *t = m->idle;
        m->idle = t->next_idle;
        transfer_free(t);
    }
    curl_multi_cleanup(m->multi);
    free(m);
}

int af_http_multi_add(struct af_http_multi *m, const char *url, const char *const *headers,
                      const char *post_body, af_http_done_fn done, void *user, af_err *err)
{
    struct transfer *t = m->idle;
    if (t) {
        m->idle = t->next_idle;
    } else {
        t = calloc(1, sizeof *t);
        if (!t || !(t->easy = curl_easy_init())) {
            free(t);
            return af_err_set(err, "cannot start an HTTP request: out of memory");
        }
    }
    t->next_idle = NULL;
    t->url = strdup(url);
    t->post_body = post_body ? strdup(post_body) : NULL;
    for (int i = 0; headers && headers[i]; i++)
        t->headers = curl_slist_append(t->headers, headers[i]);
    t->done = done;
    t->user = user;
    if (!t->url || (post_body && !t->post_body)) {
        transfer_free(t);
        return af_err_set(err, "cannot start an HTTP request: out of memory");
    }
    af_http_setup_easy(t->easy, &m->options, t->url, t->headers, t->post_body, &t->body,
                       &t->response, t->errbuf);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    CURLMcode mc = curl_multi_add_handle(m->multi, t->easy);
    if (mc != CURLM_OK) {
        transfer_free(t);
        return af_err_set(err, "cannot start an HTTP request: %s", curl_multi_strerror(mc));
    }
    t->prev_active = NULL;
    t->next_active = m->active;
    if (m->active)
        m->active->prev_active = t;
    m->active = t;
    m->running++;
    return 0;
}

int af_http_multi_running(const struct af_http_multi *m) { return m->running; }

void af_http_multi_wakeup(struct af_http_multi *m) { curl_multi_wakeup(m->multi); }

/* Calls the completion function of every finished transfer; returns how many. */
static int drain(struct af_http_multi *m)
{
    int completed = 0, left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        struct transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(m->multi, easy);
        unlink_active(m, t);
        af_err err = {0};
        int status = af_http_finish_easy(easy, rc, t->url, &t->body, t->errbuf, &t->response,
                                         &err);
        if (status != 0 && rc == CURLE_OPERATION_TIMEDOUT)
            err.code = AF_HTTP_TIMEOUT;
        if (status != 0 && (t->body.refused[0] || rc == CURLE_UNSUPPORTED_PROTOCOL))
            err.code = AF_HTTP_REFUSED;
        struct af_http_response response = t->response;
        af_http_done_fn done = t->done;
        void *user = t->user;
        memset(&t->response, 0, sizeof t->response);
        transfer_release_request(t);
        t->next_idle = m->idle;
        m->idle = t;
        m->running--;
        completed++;
        done(user, status, status == 0 ? &response : NULL, &err);
    }
    return completed;
}

int af_http_multi_poll(struct af_http_multi *m, double timeout_seconds, af_err *err)
{
    int still;
    CURLMcode mc = curl_multi_perform(m->multi, &still);
    if (mc != CURLM_OK)
        return af_err_set(err, "HTTP: %s", curl_multi_strerror(mc));
    int completed = drain(m);
    if (completed > 0)
        return completed;
    int timeout_ms = timeout_seconds <= 0 ? 0 : (int)(timeout_seconds * 1000 + 0.5);
    mc = curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL);
    if (mc != CURLM_OK)
        return af_err_set(err, "HTTP: %s", curl_multi_strerror(mc));
    mc = curl_multi_perform(m->multi, &still);
    if (mc != CURLM_OK)
        return af_err_set(err, "HTTP: %s", curl_multi_strerror(mc));
    return drain(m);
}
