/*
 * fetch_verify.h — checking a downloaded preview before it is stored: it must
 * decode with lib/decode.h (an audio stream, not HTML, not truncated) and last
 * between min and max seconds.  Decoding costs CPU (~30 ms per 30 s preview),
 * so af-fetch runs it on a small pool of threads while its one network thread
 * keeps the transfers going; the pool wakes the network loop when done.
 */
#ifndef AF_FETCH_VERIFY_H
#define AF_FETCH_VERIFY_H

#include <stddef.h>

#include "error.h"

struct af_verify_item {
    const void *data; /* the preview bytes; must stay valid until the item is done */
    size_t size;
    void *user;
    /* Results. */
    int ok;
    char codec[32];
    int sample_rate, channels;
    double duration;
    char failure[32]; /* decode.h's failure name, or "too_short"/"too_long" */
    af_err err;
    struct af_verify_item *next;
};

/* Synchronous check; fills the result fields of item. Thread-safe. */
void af_verify_audio(struct af_verify_item *item, double min_seconds, double max_seconds);

struct af_verify_pool;

/* threads <= 0: one per core. wake(arg) is called from a worker after each item. */
struct af_verify_pool *af_verify_pool_new(int threads, double min_seconds, double max_seconds,
                                          void (*wake)(void *), void *wake_arg, af_err *err);
void af_verify_submit(struct af_verify_pool *pool, struct af_verify_item *item);
/* The items finished since the last call, as a list (next), or NULL. */
struct af_verify_item *af_verify_take_done(struct af_verify_pool *pool);
/* Finishes queued items, then stops the threads. */
void af_verify_pool_free(struct af_verify_pool *pool);

#endif
