/* serve_pool.c — af-serve's engines, borrowed per request; see serve_pool.h. */
#include "serve_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "preview_cache.h"

struct serve_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct preview_cache *cache;
    struct serve_engine **all, **idle;
    int n, n_idle;
};

int serve_pool_open(struct serve_pool **out, struct af_app *app, const char *model, int n,
                    af_err *err)
{
    struct serve_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->all = calloc((size_t)n, sizeof *p->all)) ||
        !(p->idle = calloc((size_t)n, sizeof *p->idle))) {
        if (p)
            free(p->all);
        free(p);
        return af_err_set(err, "out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    if (preview_cache_new(&p->cache, err) != 0) {
        serve_pool_close(p);
        return -1;
    }
    for (; p->n < n; p->n++) {
        if (serve_engine_open(&p->all[p->n], app, model, p->cache, err) != 0) {
            serve_pool_close(p);
            return -1;
        }
        p->idle[p->n_idle++] = p->all[p->n];
    }
    *out = p;
    return 0;
}

void serve_pool_close(struct serve_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        serve_engine_close(p->all[i]);
    preview_cache_free(p->cache);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->all);
    free(p->idle);
    free(p);
}

struct serve_engine *serve_pool_acquire(struct serve_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->n_idle == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    struct serve_engine *e = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->lock);
    return e;
}

void serve_pool_release(struct serve_pool *p, struct serve_engine *e)
{
    pthread_mutex_lock(&p->lock);
    p->idle[p->n_idle++] = e;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}
