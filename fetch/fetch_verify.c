/* fetch_verify.c — preview checks with analysis/decode/decode.h's probe on a thread pool; see fetch_verify.h. */
#include "fetch_verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/decode.h"

void af_verify_audio(struct af_verify_item *item, double min_seconds, double max_seconds)
{
    struct af_audio_probe probe;
    item->ok = 0;
    item->failure[0] = '\0';
    af_err_clear(&item->err);
    if (af_decode_probe_memory(item->data, item->size, &probe, &item->err) != 0) {
        snprintf(item->failure, sizeof item->failure, "%s",
                 af_decode_failure_name(probe.failure));
        return;
    }
    snprintf(item->codec, sizeof item->codec, "%s", probe.codec);
    item->sample_rate = probe.source_sample_rate;
    item->channels = probe.source_channels;
    item->duration = probe.duration;
    af_audio_probe_free(&probe);
    if (item->duration < min_seconds) {
        snprintf(item->failure, sizeof item->failure, "too_short");
        af_err_set(&item->err, "%.1f s of audio, shorter than %.0f s", item->duration,
                   min_seconds);
    } else if (item->duration > max_seconds) {
        snprintf(item->failure, sizeof item->failure, "too_long");
        af_err_set(&item->err, "%.1f s of audio, longer than %.0f s", item->duration,
                   max_seconds);
    } else {
        item->ok = 1;
    }
}

struct af_verify_pool {
    pthread_mutex_t lock;
    pthread_cond_t wanted;
    struct af_verify_item *queue_head, *queue_tail, *done;
    int stopping, n_threads;
    pthread_t *threads;
    double min_seconds, max_seconds;
    void (*wake)(void *);
    void *wake_arg;
};

static void *worker(void *arg)
{
    struct af_verify_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->queue_head && !pool->stopping)
            pthread_cond_wait(&pool->wanted, &pool->lock);
        struct af_verify_item *item = pool->queue_head;
        if (!item)
            break;
        pool->queue_head = item->next;
        if (!pool->queue_head)
            pool->queue_tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        af_verify_audio(item, pool->min_seconds, pool->max_seconds);
        pthread_mutex_lock(&pool->lock);
        item->next = pool->done;
        pool->done = item;
        if (pool->wake)
            pool->wake(pool->wake_arg);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

struct af_verify_pool *af_verify_pool_new(int threads, double min_seconds, double max_seconds,
                                          void (*wake)(void *), void *wake_arg, af_err *err)
{
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)cores : 1;
    }
    struct af_verify_pool *pool = calloc(1, sizeof *pool);
    if (!pool || !(pool->threads = calloc((size_t)threads, sizeof *pool->threads))) {
        free(pool);
        af_err_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wanted, NULL);
    pool->min_seconds = min_seconds;
    pool->max_seconds = max_seconds;
    pool->wake = wake;
    pool->wake_arg = wake_arg;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0)
            break;
        pool->n_threads++;
    }
    if (pool->n_threads == 0) {
        af_verify_pool_free(pool);
        af_err_set(err, "cannot start decoding threads");
        return NULL;
    }
    return pool;
}

void af_verify_submit(struct af_verify_pool *pool, struct af_verify_item *item)
{
    item->next = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->queue_tail)
        pool->queue_tail->next = item;
    else
        pool->queue_head = item;
    pool->queue_tail = item;
    pthread_cond_signal(&pool->wanted);
    pthread_mutex_unlock(&pool->lock);
}

struct af_verify_item *af_verify_take_done(struct af_verify_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    struct af_verify_item *done = pool->done;
    pool->done = NULL;
    pthread_mutex_unlock(&pool->lock);
    return done;
}

void af_verify_pool_free(struct af_verify_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->wanted);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wanted);
    free(pool->threads);
    free(pool);
}
