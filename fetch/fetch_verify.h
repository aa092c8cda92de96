/*
 * fetch_verify.h — checking a downloaded preview before it is stored: it must
 * pass analysis/decode/decode.h's probe (af_decode_probe_memory: an audio stream FFmpeg
 * decodes, not HTML or garbage, and not truncated: the audio really reaches the
 * end its header declares) and last between min and max seconds.  The probe
 * decodes ~2.5 s of a preview (the first second and the last 1.5 s, no
 * resampling: ~1.5-2.5 ms of CPU for a 30 s MP3, a sixth to a tenth of a full
 * decode); inputs without a declared duration (headerless MP3, raw AAC) are
 * decoded whole, still without resampling.  What it leaves unchecked (the middle
 * of the file, silence) is caught by af-extract's full decode, which marks that
 * track failed; see decode.h.  af-fetch runs the checks on a small pool of
 * threads while its one network thread keeps the transfers going; the pool wakes
 * the network loop when done.
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
