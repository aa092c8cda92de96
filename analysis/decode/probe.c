/*
 * probe.c — af_decode_probe_* (decode.h): opens an input as decoding does and
 * decodes only its head and tail, to check quickly that it is whole audio.
 */
#include "decoder.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Probing (decode.h): the same opening, then the first PROBE_HEAD_SECONDS decoded,
 * a seek to PROBE_TAIL_SECONDS before the declared end, and the tail decoded to
 * the end of the input.  Frames are only counted and timed (consume_frame). */

#define PROBE_HEAD_SECONDS 1.0
#define PROBE_TAIL_SECONDS 1.5
/* Declared durations up to this are decoded whole: the head and tail would overlap. */
#define PROBE_MIN_DECLARED_SECONDS 3.0

/* Back to the first byte with a fresh demuxer and decoder, to decode everything
 * exactly as af_decode_* does (so FFmpeg's messages are forgotten too). */
static int reopen(struct decoder *d, const char *path, af_err *err)
{
    decoder_ffmpeg_log_reset();
    d->probe_decoded += d->seconds_in;
    decoder_close_input(d);
    d->memory.pos = 0;
    d->seconds_in = 0;
    d->packets = 0;
    d->decode_errors = 0;
    d->last_error = 0;
    d->demux_error = 0;
    d->frames = 0;
    d->end_seconds = NAN;
    if (decoder_open_input(d, path, err) < 0 || decoder_open_audio_stream(d, err) < 0)
        return -1;
    return 0;
}

/* The first two refusals of decoder_check_decoded, without failing: the probe then lets a whole
 * decode judge, so that it never refuses what af_decode_* accepts. */
static int mostly_failed(const struct decoder *d)
{
    return d->seconds_in == 0 || d->decode_errors * 2 > d->packets;
}

/* After the head: seeks to PROBE_TAIL_SECONDS before the declared end and decodes
 * to the end of the input.  Returns 0 when the decoded audio reaches the declared
 * end (give or take the full decoder's truncation tolerance) and sets *end to where
 * it ends, relative to the stream's start; 1 when the tail cannot confirm it (the
 * seek fails, nothing decodes there, no timestamps, it ends short, or most packets
 * failed): then only a whole decode can tell a damaged input from an imprecise
 * seek.  -1 on failure. */
static int probe_tail(struct decoder *d, double declared, double *end, af_err *err)
{
    const AVStream *st = d->stream;
    const double time_base = av_q2d(st->time_base);
    if (!(time_base > 0))
        return 1;
    const double start = st->start_time != AV_NOPTS_VALUE ? (double)st->start_time * time_base : 0;
    const double target = floor((start + declared - PROBE_TAIL_SECONDS) / time_base);
    if (!(target >= 0 && target < 9e18) ||
        av_seek_frame(d->fmt, st->index, (int64_t)target, AVSEEK_FLAG_BACKWARD) < 0)
        return 1;
    avcodec_flush_buffers(d->codec);

    const long head_frames = d->frames;
    d->end_seconds = NAN;
    if (decoder_decode_packets(d, 0, err) < 0)
        return -1;
    if (d->frames == head_frames || isnan(d->end_seconds) || mostly_failed(d))
        return 1;
    double missing = declared - (d->end_seconds - start);
    if (missing > TRUNCATION_MIN_SECONDS && missing > TRUNCATION_MIN_FRACTION * declared)
        return 1;
    *end = d->end_seconds - start;
    return 0;
}

static int run_probe(struct decoder *d, const char *path, struct af_audio_probe *out,
                     af_err *err)
{
    int ret = -1;
    d->probing = 1;
    d->end_seconds = NAN;
    if (decoder_open(d, path, err) < 0)
        goto done;

    /* No usable declared duration (none, a bitrate estimate, or too short to split
     * into head and tail): decode it all, which is then the only proof there is. */
    const double declared = decoder_declared_seconds(d);
    double end = 0;
    int whole = declared <= PROBE_MIN_DECLARED_SECONDS;
    int more = decoder_decode_packets(d, whole ? 0 : PROBE_HEAD_SECONDS, err);
    if (more < 0)
        goto done;
    if (more) { /* the head decoded; the input goes on */
        int tail = mostly_failed(d) ? 1 : probe_tail(d, declared, &end, err);
        if (tail < 0)
            goto done;
        if (tail > 0) {
            whole = 1;
            if (reopen(d, path, err) < 0 || decoder_decode_packets(d, 0, err) < 0)
                goto done;
        }
    } else {
        whole = 1; /* the head reached the end of the input */
    }
    if (whole && decoder_check_decoded(d, err) < 0)
        goto done;

    out->duration = whole ? d->seconds_in : end;
    out->decoded_seconds = d->probe_decoded + d->seconds_in;
    out->whole = whole;
    out->source_sample_rate = d->result.source_sample_rate;
    out->source_channels = d->result.source_channels;
    memcpy(out->codec, d->result.codec, sizeof out->codec);
    memcpy(out->container, d->result.container, sizeof out->container);
    out->decode_errors = (int)d->decode_errors;
    out->tags = d->result.tags;
    memset(&d->result.tags, 0, sizeof d->result.tags);
    out->failure = AF_DECODE_OK;
    ret = 0;
done:
    if (ret < 0) {
        memset(out, 0, sizeof *out);
        out->failure = d->result.failure ? d->result.failure : AF_DECODE_SYSTEM;
    }
    decoder_close(d);
    return ret;
}

/* af_decode_probe_file (path) and af_decode_probe_memory (path NULL: data, size). */
static int probe_input(const char *path, const void *data, size_t size,
                       struct af_audio_probe *out, af_err *err)
{
    struct decoder d;
    memset(out, 0, sizeof *out);
    if (decoder_start(&d, NULL, path, data, size, &out->failure, err) < 0)
        return -1;
    return run_probe(&d, path, out, err);
}

int af_decode_probe_file(const char *path, struct af_audio_probe *out, af_err *err)
{
    return probe_input(path, NULL, 0, out, err);
}

int af_decode_probe_memory(const void *data, size_t size, struct af_audio_probe *out,
                           af_err *err)
{
    return probe_input(NULL, data, size, out, err);
}

void af_audio_probe_free(struct af_audio_probe *probe)
{
    if (!probe)
        return;
    decoder_free_tags(&probe->tags);
}
