/*
 * span.c — decoding a long input while holding only its central excerpt's span.
 *
 * The excerpt is samples [(n - k) / 2, (n - k) / 2 + k) of the whole decoded
 * input, and n is known only at its end.  When the container states a duration
 * (even an estimate), n is predicted and only the predicted span, widened by a
 * margin, is held: earlier samples are dropped as decoding passes them, and once
 * decoding is past the span, the span is set aside (decoder.kept) and only a
 * short tail is held (the end of a segment may still be trimmed or padded).
 * Every sample is still decoded and resampled exactly as for the whole input,
 * so the excerpt is the same to the bit; only memory changes: about
 * k + 2 margin + SPAN_TAIL + SPAN_CHUNK samples whatever the input's length,
 * instead of n.  When the real n puts the excerpt outside what was held (a
 * header that lies by more than the margin), decode.c decodes the input again
 * whole (bounded by max_seconds).
 *
 * Short inputs (up to SPAN_MIN_SECONDS) are decoded whole as before: the saving
 * is small and that path is the one compared with librosa.
 */
#include "decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

#define SPAN_MIN_SECONDS 120.0
#define SPAN_TAIL 65536             /* held after the span: a segment's end may be trimmed */
#define SPAN_CHUNK (1 << 20)        /* samples dropped at once, so that moving is rare */
#define SPAN_MARGIN_FRACTION 0.02   /* of the predicted length, each side ... */
#define SPAN_MARGIN_SECONDS 10.0    /* ... plus this */

void decoder_span_plan(struct decoder *d)
{
    d->span = 0;
    if (d->no_span || d->probing || d->opts.excerpt_seconds <= 0)
        return;
    if (d->fmt->duration == AV_NOPTS_VALUE || d->fmt->duration <= 0)
        return;
    double seconds = (double)d->fmt->duration / AV_TIME_BASE;
    if (seconds <= SPAN_MIN_SECONDS)
        return;
    double predicted = seconds * AF_SAMPLE_RATE;
    double keep = (double)llround(d->opts.excerpt_seconds * AF_SAMPLE_RATE);
    if (predicted <= keep)
        return;
    double margin = predicted * SPAN_MARGIN_FRACTION + SPAN_MARGIN_SECONDS * AF_SAMPLE_RATE;
    double start = floor((predicted - keep) / 2);
    d->span = 1;
    d->span_lo = start > margin ? (size_t)(start - margin) : 0;
    d->span_hi = (size_t)(start + keep + margin);
}

size_t decoder_span_capacity(const struct decoder *d)
{
    return d->span_hi - d->span_lo + SPAN_TAIL + SPAN_CHUNK + 8192;
}

/* Drops held samples before logical index `to` (never past what is held). */
static void drop_head(struct decoder *d, size_t to)
{
    if (to <= d->out_base)
        return;
    if (to > d->n_out)
        to = d->n_out;
    size_t held = d->n_out - to;
    memmove(d->out, d->out + (to - d->out_base), held * sizeof *d->out);
    d->out_base = to;
}

/* Sets the span aside once decoding is past it; then the buffer holds the tail only. */
static int keep_span(struct decoder *d, af_err *err)
{
    size_t n = d->span_hi - d->span_lo;
    d->kept = malloc(n * sizeof *d->kept);
    if (!d->kept)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory for %zu samples", n);
    memcpy(d->kept, d->out + (d->span_lo - d->out_base), n * sizeof *d->kept);
    d->kept_lo = d->span_lo;
    d->kept_n = n;
    drop_head(d, d->n_out - SPAN_TAIL);
    size_t capacity = SPAN_TAIL + SPAN_CHUNK + 8192; /* give the span's room back */
    float *smaller = realloc(d->out, capacity * sizeof *smaller);
    if (smaller) {
        d->out = smaller;
        d->out_capacity = capacity;
    }
    return 0;
}

int decoder_span_slide(struct decoder *d, af_err *err)
{
    if (!d->span)
        return 0;
    if (!d->kept && d->n_out > d->span_hi + SPAN_TAIL)
        return keep_span(d, err);
    size_t to = d->kept ? d->n_out - SPAN_TAIL : d->span_lo;
    if (!d->kept && d->n_out > SPAN_TAIL && d->n_out - SPAN_TAIL < to)
        to = d->n_out - SPAN_TAIL;
    if (to > d->out_base + SPAN_CHUNK)
        drop_head(d, to);
    return 0;
}

/* Points *src at logical samples [from, from + n), or returns -1 when they were not held. */
int decoder_span_find(const struct decoder *d, size_t from, size_t n, const float **src)
{
    if (d->kept && from >= d->kept_lo && from + n <= d->kept_lo + d->kept_n) {
        *src = d->kept + (from - d->kept_lo);
        return 0;
    }
    if (from >= d->out_base && from + n <= d->n_out) {
        *src = d->out + (from - d->out_base);
        return 0;
    }
    return -1;
}
