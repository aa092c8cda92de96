/*
 * excerpt.c — the central excerpt (decode.h: excerpt_seconds) cut from the
 * decoded audio, and a long file's memory given back.
 */
#include "decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

void decoder_cut_excerpt(struct decoder *d)
{
    d->result.excerpt_start = 0;
    if (d->opts.excerpt_seconds <= 0)
        return;
    size_t keep = (size_t)llround(d->opts.excerpt_seconds * AF_SAMPLE_RATE);
    if (keep == 0 || d->n_out <= keep)
        return;
    size_t start = (d->n_out - keep) / 2;
    memmove(d->out, d->out + start, keep * sizeof *d->out);
    d->n_out = keep;
    d->result.excerpt_start = (double)start / AF_SAMPLE_RATE;

    if (d->out_capacity > 2 * keep + 65536) { /* give back a long file's memory */
        float *smaller = realloc(d->out, keep * sizeof *smaller);
        if (smaller) {
            d->out = smaller;
            d->out_capacity = keep;
        }
    }
}
