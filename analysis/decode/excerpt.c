/*
 * excerpt.c — the central excerpt (decode.h: excerpt_seconds) cut from the
 * decoded audio, and a long file's memory given back.  A span decode (span.c)
 * holds only part of the input; the excerpt is cut from that part.
 */
#include "decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

static void cut_held(struct decoder *d, size_t start, size_t keep)
{
    memmove(d->out, d->out + start, keep * sizeof *d->out);
    d->n_out = keep;
    if (d->out_capacity > 2 * keep + 65536) { /* give back a long file's memory */
        float *smaller = realloc(d->out, keep * sizeof *smaller);
        if (smaller) {
            d->out = smaller;
            d->out_capacity = keep;
        }
    }
}

/* The excerpt from what a span decode held; 1 when it was not held. */
static int cut_span(struct decoder *d, size_t start, size_t keep, af_err *err)
{
    const float *src;
    if (d->span_missed || decoder_span_find(d, start, keep, &src) != 0)
        return 1;
    float *excerpt = malloc((keep ? keep : 1) * sizeof *excerpt);
    if (!excerpt)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory for %zu samples", keep);
    memcpy(excerpt, src, keep * sizeof *excerpt);
    free(d->out);
    free(d->kept);
    d->kept = NULL;
    d->out = excerpt;
    d->out_base = 0;
    d->n_out = keep;
    d->out_capacity = keep;
    return 0;
}

int decoder_cut_excerpt(struct decoder *d, af_err *err)
{
    d->result.excerpt_start = 0;
    size_t keep = d->opts.excerpt_seconds > 0 ? (size_t)llround(d->opts.excerpt_seconds * AF_SAMPLE_RATE) : 0;
    size_t start = 0;
    if (keep > 0 && d->n_out > keep)
        start = (d->n_out - keep) / 2;
    else
        keep = d->n_out;
    if (d->span) {
        int ret = cut_span(d, start, keep, err);
        if (ret != 0)
            return ret;
    } else if (keep < d->n_out) {
        cut_held(d, start, keep);
    }
    d->result.excerpt_start = (double)start / AF_SAMPLE_RATE;
    return 0;
}
