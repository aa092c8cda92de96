/*
 * decode.c — FFmpeg decoding into the pipeline's input format (see decode.h):
 * demux + decode with libavformat/libavcodec, average the channels ourselves,
 * resample with libswresample's soxr engine, cut the central excerpt, and
 * refuse inputs the feature stage cannot use.  This file is the decode loop and
 * the public entry points; decoder.h says where the other steps live.
 *
 * Data path (one copy per stage, no intermediate whole-file buffer):
 *   decoded frame --mix to mono--> output buffer                 (22050 Hz input)
 *   decoded frame --mix to mono--> frame scratch --soxr--> output (other rates)
 * The output buffer is sized from the container's duration estimate, so it is
 * rarely reallocated; max_seconds bounds it.
 */
#include "decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frames.h"

/* Guard against a decoder that keeps failing without consuming its input. */
#define MAX_CONSECUTIVE_RECEIVE_ERRORS 1000

/* ---------------------------------------------------------------------------
 * Decoding. */

/* Appends one decoded frame to the output: mixed straight into it at 22050 Hz,
 * else through the frame scratch and the resampler. */
static int consume_frame(struct decoder *d, const AVFrame *frame, af_err *err)
{
    const int rate = frame->sample_rate;
    const size_t n = (size_t)frame->nb_samples;
    if (n == 0)
        return 0;
    if (rate <= 0 || frame->ch_layout.nb_channels <= 0) {
        d->decode_errors++;
        d->last_error = AVERROR_INVALIDDATA;
        return 0;
    }

    d->seconds_in += (double)n / rate;
    /* max_seconds bounds what is held; a span decode (span.c) holds the excerpt only,
     * and AF_DECODE_MAX_STREAM_SECONDS bounds its time. */
    const double limit = d->span ? AF_DECODE_MAX_STREAM_SECONDS : d->opts.max_seconds;
    if (d->seconds_in > limit)
        return decoder_fail(d, AF_DECODE_TOO_LONG, err,
                            "too long: more than the %g s maximum (decoding stopped there)", limit);
    d->frames++;
    if (d->probing) {
        if (frame->best_effort_timestamp != AV_NOPTS_VALUE)
            d->end_seconds = (double)frame->best_effort_timestamp * av_q2d(d->stream->time_base) +
                             (double)n / rate;
        else if (!isnan(d->end_seconds))
            d->end_seconds += (double)n / rate;
        return 0;
    }
    if (rate != d->segment_rate) {
        if ((d->segment_rate && decoder_finish_segment(d, err) < 0) ||
            decoder_start_segment(d, rate, err) < 0)
            return -1;
    }
    d->segment_in += n;

    if (d->swr ? decoder_reserve_mono(d, n, err) < 0 : decoder_reserve_output(d, n, err) < 0)
        return -1;
    float *mono = d->swr ? d->mono : decoder_out_end(d);
    if (decoder_mix_to_mono(frame, mono, &d->first_channel_peak) < 0) {
        const char *name = av_get_sample_fmt_name(frame->format);
        return decoder_fail(d, AF_DECODE_UNSUPPORTED, err, "unsupported sample format %s",
                            name ? name : "(unknown)");
    }
    if (d->swr)
        return decoder_resample_into_output(d, mono, n, err);
    d->n_out += n;
    return decoder_span_slide(d, err);
}

/* Sends one packet (NULL = drain) and consumes every frame it yields. Bad packets
 * are counted and skipped: FFmpeg conceals them, and the checks after decoding
 * decide whether too much was lost. */
static int decode_packet(struct decoder *d, const AVPacket *packet, af_err *err)
{
    int ret = avcodec_send_packet(d->codec, packet);
    if (ret == AVERROR(ENOMEM))
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory while decoding");
    if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) {
        d->decode_errors++;
        d->last_error = ret;
        if (packet)
            return 0;
    }

    int consecutive_errors = 0;
    for (;;) {
        ret = avcodec_receive_frame(d->codec, d->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR(ENOMEM))
            return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory while decoding");
        if (ret < 0) {
            d->decode_errors++;
            d->last_error = ret;
            if (packet || ++consecutive_errors > MAX_CONSECUTIVE_RECEIVE_ERRORS)
                return 0;
            continue; /* draining: later frames may still be good */
        }
        consecutive_errors = 0;
        ret = consume_frame(d, d->frame, err);
        av_frame_unref(d->frame);
        if (ret < 0)
            return -1;
    }
}

/* Reads and decodes the audio stream's packets to the end of the input (or to a
 * demuxing error, recorded: a cut container keeps what was decoded), then drains
 * the decoder and returns 0.  With stop_after > 0, returns 1 as soon as seconds_in
 * reaches it, without draining.  -1 on failure. */
int decoder_decode_packets(struct decoder *d, double stop_after, af_err *err)
{
    for (;;) {
        int ret = av_read_frame(d->fmt, d->packet);
        if (ret == AVERROR_EOF)
            break;
        if (ret == AVERROR(ENOMEM))
            return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory while reading");
        if (ret < 0) { /* a damaged or cut container: keep what was decoded */
            d->demux_error = ret;
            d->last_error = ret;
            break;
        }
        if (d->packet->stream_index == d->stream->index) {
            d->packets++;
            ret = decode_packet(d, d->packet, err);
        }
        av_packet_unref(d->packet);
        if (ret < 0)
            return -1;
        if (stop_after > 0 && d->seconds_in >= stop_after)
            return 1;
    }
    return decode_packet(d, NULL, err);
}

static int decode_all(struct decoder *d, af_err *err)
{
    if (decoder_decode_packets(d, 0, err) < 0)
        return -1;
    if (d->segment_rate && decoder_finish_segment(d, err) < 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Driver. */

void decoder_close(struct decoder *d)
{
    swr_free(&d->swr);
    av_frame_free(&d->frame);
    av_packet_free(&d->packet);
    decoder_close_input(d);
    free(d->mono);
    free(d->out);
    free(d->kept);
    af_audio_free(&d->result);
}

/* 0 done, -1 failed, 1 a span decode missed the excerpt (decode again whole). */
static int run_once(struct decoder *d, const char *path, struct af_audio *out, af_err *err)
{
    int ret = -1;
    if (decoder_check_options(d, err) < 0 || decoder_open(d, path, err) < 0)
        goto done;
    decoder_span_plan(d);
    size_t capacity = d->span ? decoder_span_capacity(d) : decoder_initial_capacity(d);
    if (decoder_reserve_output(d, capacity, err) < 0 || decode_all(d, err) < 0 ||
        decoder_check_decoded(d, err) < 0)
        goto done;
    int cut = decoder_cut_excerpt(d, err);
    if (cut != 0) {
        ret = cut;
        goto done;
    }
    if (decoder_check_samples(d, err) < 0)
        goto done;

    d->result.samples = d->out;
    d->result.n_samples = d->n_out;
    d->result.duration = d->seconds_in;
    d->result.decode_errors = (int)d->decode_errors;
    d->result.failure = AF_DECODE_OK;
    *out = d->result;
    memset(&d->result, 0, sizeof d->result);
    d->out = NULL;
    ret = 0;
done:
    if (ret != 0) {
        memset(out, 0, sizeof *out);
        out->failure = d->result.failure ? d->result.failure : AF_DECODE_SYSTEM;
    }
    decoder_close(d);
    return ret;
}

static int run(struct decoder *d, const char *path, struct af_audio *out, af_err *err)
{
    struct af_decode_opts opts = d->opts;
    struct af_memory_input memory = d->memory;
    int ret = run_once(d, path, out, err);
    if (ret <= 0)
        return ret;
    /* The header's duration was too far off for the span: decode the whole input. */
    decoder_init(d, &opts);
    d->memory = memory;
    d->no_span = 1;
    return run_once(d, path, out, err);
}

void decoder_init(struct decoder *d, const struct af_decode_opts *opts)
{
    decoder_ffmpeg_log_reset();
    memset(d, 0, sizeof *d);
    if (opts)
        d->opts = *opts;
    else
        af_decode_opts_init(&d->opts);
}

void af_decode_opts_init(struct af_decode_opts *opts)
{
    opts->excerpt_seconds = AF_DECODE_EXCERPT_SECONDS;
    opts->max_seconds = AF_DECODE_MAX_SECONDS;
    opts->min_samples = AF_DECODE_MIN_SAMPLES;
    opts->silence_threshold = AF_DECODE_SILENCE_THRESHOLD;
}

static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    return "not a file";
}

/* A file must be a regular file with bytes: a FIFO, socket or device would block the
 * open or the read for ever (or never end). */
static int accept_file(const char *path, enum af_decode_failure *failure, af_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0; /* opening it says why it cannot be read */
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        *failure = AF_DECODE_EMPTY;
        return af_err_set(err, "empty: the file has 0 bytes");
    }
    if (!S_ISREG(st.st_mode)) {
        *failure = AF_DECODE_UNREADABLE;
        return af_err_set(err, "unreadable: not a regular file (%s)", file_kind(st.st_mode));
    }
    return 0;
}

int decoder_start(struct decoder *d, const struct af_decode_opts *opts, const char *path,
                  const void *data, size_t size, enum af_decode_failure *failure, af_err *err)
{
    decoder_init(d, opts);
    if (path)
        return accept_file(path, failure, err);
    if (!data || size == 0) {
        *failure = AF_DECODE_EMPTY;
        return af_err_set(err, "empty: the buffer has 0 bytes");
    }
    d->memory.data = data;
    d->memory.size = size;
    return 0;
}

/* af_decode_file (path) and af_decode_memory (path NULL: data, size). */
static int decode_input(const char *path, const void *data, size_t size,
                        const struct af_decode_opts *opts, struct af_audio *out, af_err *err)
{
    struct decoder d;
    memset(out, 0, sizeof *out);
    if (decoder_start(&d, opts, path, data, size, &out->failure, err) < 0)
        return -1;
    return run(&d, path, out, err);
}

int af_decode_file(const char *path, const struct af_decode_opts *opts, struct af_audio *out,
                   af_err *err)
{
    return decode_input(path, NULL, 0, opts, out, err);
}

int af_decode_memory(const void *data, size_t size, const struct af_decode_opts *opts,
                     struct af_audio *out, af_err *err)
{
    return decode_input(NULL, data, size, opts, out, err);
}

void af_audio_free(struct af_audio *audio)
{
    if (!audio)
        return;
    free(audio->samples);
    audio->samples = NULL;
    audio->n_samples = 0;
    decoder_free_tags(&audio->tags);
}

void decoder_free_tags(struct af_audio_tags *tags)
{
    free(tags->artist);
    free(tags->title);
    free(tags->album);
    free(tags->genre);
    memset(tags, 0, sizeof *tags);
}
