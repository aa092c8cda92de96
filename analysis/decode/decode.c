/*
 * decode.c — FFmpeg decoding into the pipeline's input format (see decode.h):
 * demux + decode with libavformat/libavcodec, average the channels ourselves,
 * resample with libswresample's soxr engine, cut the central excerpt, and
 * refuse inputs the feature stage cannot use.
 *
 * Data path (one copy per stage, no intermediate whole-file buffer):
 *   decoded frame --mix to mono--> output buffer                 (22050 Hz input)
 *   decoded frame --mix to mono--> frame scratch --soxr--> output (other rates)
 * The output buffer is sized from the container's duration estimate, so it is
 * rarely reallocated; max_seconds bounds it.
 */
#include "decode.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "frames.h"

#define IO_BUFFER_SIZE (64 * 1024)
/* A decode is "truncated" when it falls short of the header's duration by more
 * than both of these: headers count encoder padding, and some are a little off. */
#define TRUNCATION_MIN_SECONDS 0.25
#define TRUNCATION_MIN_FRACTION 0.01
/* Guard against a decoder that keeps failing without consuming its input. */
#define MAX_CONSECUTIVE_RECEIVE_ERRORS 1000

/* ---------------------------------------------------------------------------
 * FFmpeg's log: library code must not print, but FFmpeg's own message is often
 * the best explanation of a failure ("Header missing"), so each thread keeps its
 * most severe recent message to quote. */

static _Thread_local char ffmpeg_message[256];
static _Thread_local int ffmpeg_message_level;
static pthread_once_t ffmpeg_log_once = PTHREAD_ONCE_INIT;

static void keep_ffmpeg_message(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_WARNING)
        return;
    if (ffmpeg_message[0] && level > ffmpeg_message_level)
        return; /* an error stays more telling than a later warning */

    char text[200];
    vsnprintf(text, sizeof text, fmt, vl);
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '.'))
        text[--len] = '\0';
    if (len == 0)
        return;

    const char *who = NULL;
    if (avcl) {
        const AVClass *cls = *(const AVClass *const *)avcl;
        if (cls && cls->item_name)
            who = cls->item_name(avcl);
    }
    snprintf(ffmpeg_message, sizeof ffmpeg_message, "%s%s%s", who ? who : "", who ? ": " : "",
             text);
    ffmpeg_message_level = level;
}

static void install_ffmpeg_log(void)
{
    av_log_set_callback(keep_ffmpeg_message);
}

/* " (FFmpeg: <message>)" or "" — appended to messages where FFmpeg failed. */
static const char *ffmpeg_detail(char *buf, size_t size)
{
    if (!ffmpeg_message[0])
        return "";
    snprintf(buf, size, " (FFmpeg: %s)", ffmpeg_message);
    return buf;
}

/* ---------------------------------------------------------------------------
 * Reading from memory: a read+seek AVIOContext over the caller's buffer. */

struct memory_reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static int memory_read(void *opaque, uint8_t *buf, int buf_size)
{
    struct memory_reader *r = opaque;
    size_t left = r->size - r->pos;
    if (left == 0)
        return AVERROR_EOF;
    size_t n = left < (size_t)buf_size ? left : (size_t)buf_size;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return (int)n;
}

static int64_t memory_seek(void *opaque, int64_t offset, int whence)
{
    struct memory_reader *r = opaque;
    int64_t target;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
        return (int64_t)r->size;
    case SEEK_SET:
        target = offset;
        break;
    case SEEK_CUR:
        target = (int64_t)r->pos + offset;
        break;
    case SEEK_END:
        target = (int64_t)r->size + offset;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if (target < 0 || (uint64_t)target > r->size)
        return AVERROR(EINVAL);
    r->pos = (size_t)target;
    return target;
}

/* ---------------------------------------------------------------------------
 * Decoder state. */

struct decoder {
    struct af_decode_opts opts;
    struct memory_reader memory;
    AVIOContext *avio; /* custom I/O for memory input; NULL for files */
    AVFormatContext *fmt;
    AVCodecContext *codec;
    AVStream *stream;
    AVPacket *packet;
    AVFrame *frame;

    /* One segment per input sample rate (a rate change mid-stream starts a new one);
     * each is resampled on its own and fixed to librosa's length. */
    SwrContext *swr;
    int segment_rate;
    uint64_t segment_in;
    size_t segment_out_start;

    float *mono; /* one decoded frame mixed to mono, before resampling */
    size_t mono_capacity;
    float *out; /* the result at 22050 Hz */
    size_t n_out;
    size_t out_capacity;

    double seconds_in; /* decoded so far, at the source rate(s) */
    long packets;
    long decode_errors;
    int last_error; /* last AVERROR from demuxing or decoding, 0 = none */
    int demux_error;

    /* A probe (af_decode_probe_*) only counts and times what decodes: no mixing,
     * no resampling. */
    int probing;
    long frames;          /* decoded frames with samples */
    double end_seconds;   /* where the last decoded frame ends (stream time, s); NAN = unknown */
    double probe_decoded; /* seconds decoded before a reopen */

    struct af_audio result;
};

static int decode_failed(struct decoder *d, enum af_decode_failure why, af_err *err,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int decode_failed(struct decoder *d, enum af_decode_failure why, af_err *err,
                         const char *fmt, ...)
{
    char msg[AF_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->result.failure = why;
    return af_err_set(err, "%s", msg);
}

static const char *averror_text(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0)
        snprintf(buf, size, "FFmpeg error %d", code);
    return buf;
}

static int check_options(struct decoder *d, af_err *err)
{
    const struct af_decode_opts *o = &d->opts;
    if (!(o->excerpt_seconds >= 0 && o->excerpt_seconds < 1e7))
        return decode_failed(d, AF_DECODE_SYSTEM, err, "bad excerpt length %g s", o->excerpt_seconds);
    if (!(o->max_seconds > 0 && o->max_seconds < 1e7))
        return decode_failed(d, AF_DECODE_SYSTEM, err, "bad maximum duration %g s", o->max_seconds);
    if (!(o->silence_threshold >= 0 && o->silence_threshold < 1))
        return decode_failed(d, AF_DECODE_SYSTEM, err, "bad silence threshold %g",
                             o->silence_threshold);
    double excerpt_samples = o->excerpt_seconds * AF_SAMPLE_RATE;
    if (o->excerpt_seconds > 0 && excerpt_samples < (double)o->min_samples)
        return decode_failed(d, AF_DECODE_SYSTEM, err,
                             "excerpt of %g s is shorter than the %zu-sample minimum",
                             o->excerpt_seconds, o->min_samples);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Output buffers. */

static int reserve_output(struct decoder *d, size_t more, af_err *err)
{
    if (d->out_capacity - d->n_out >= more)
        return 0;
    size_t need = d->n_out + more;
    /* Grow by half, but never past what max_seconds can produce: that bounds memory. */
    size_t limit = (size_t)(d->opts.max_seconds * AF_SAMPLE_RATE) + 65536;
    size_t capacity = d->out_capacity + d->out_capacity / 2;
    if (capacity > limit)
        capacity = limit;
    if (capacity < need)
        capacity = need;
    float *grown = realloc(d->out, capacity * sizeof *grown);
    if (!grown)
        return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory for %zu samples", capacity);
    d->out = grown;
    d->out_capacity = capacity;
    return 0;
}

static int reserve_mono(struct decoder *d, size_t n, af_err *err)
{
    if (d->mono_capacity >= n)
        return 0;
    float *grown = realloc(d->mono, n * sizeof *grown);
    if (!grown)
        return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory for a %zu-sample frame", n);
    d->mono = grown;
    d->mono_capacity = n;
    return 0;
}

/* First guess of the output size, from the container's duration (even a
 * bitrate estimate is good enough here), so that growing is rare. */
static size_t initial_capacity(const struct decoder *d)
{
    double seconds = AF_DECODE_EXCERPT_SECONDS;
    if (d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0)
        seconds = (double)d->fmt->duration / AV_TIME_BASE;
    if (seconds > d->opts.max_seconds)
        seconds = d->opts.max_seconds;
    return (size_t)(seconds * 1.02 * AF_SAMPLE_RATE) + 8192;
}

/* ---------------------------------------------------------------------------
 * Mixing to mono: the mean of the channels, as librosa.to_mono does (float32
 * sum in channel order, then one division), from any FFmpeg sample format.
 * Integer formats are scaled like libsndfile/FFmpeg do: s16 / 32768 etc. */

#define MIX_CHANNEL(type, to_float)                                                   \
    do {                                                                              \
        const type *src = (const type *)base + offset;                               \
        if (first)                                                                    \
            for (size_t i = 0; i < n; i++)                                            \
                dst[i] = to_float(src[i * stride]);                                   \
        else                                                                          \
            for (size_t i = 0; i < n; i++)                                            \
                dst[i] += to_float(src[i * stride]);                                  \
    } while (0)

#define U8_TO_FLOAT(v) (((float)(v) - 128.0f) * (1.0f / 128.0f))
#define S16_TO_FLOAT(v) ((float)(v) * (1.0f / 32768.0f))
#define S32_TO_FLOAT(v) ((float)(v) * (1.0f / 2147483648.0f))
#define S64_TO_FLOAT(v) ((float)((double)(v) * (1.0 / 9223372036854775808.0)))
#define FLT_TO_FLOAT(v) (v)
#define DBL_TO_FLOAT(v) ((float)(v))

/* dst (=|+=) channel samples at base[offset + i * stride]. Returns -1 for an unknown format. */
static int mix_channel(float *dst, const uint8_t *base, enum AVSampleFormat packed_fmt,
                       size_t offset, size_t stride, size_t n, int first)
{
    switch (packed_fmt) {
    case AV_SAMPLE_FMT_U8:
        MIX_CHANNEL(uint8_t, U8_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_S16:
        MIX_CHANNEL(int16_t, S16_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_S32:
        MIX_CHANNEL(int32_t, S32_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_S64:
        MIX_CHANNEL(int64_t, S64_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_FLT:
        if (first && stride == 1) {
            memcpy(dst, (const float *)base + offset, n * sizeof *dst);
            return 0;
        }
        MIX_CHANNEL(float, FLT_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_DBL:
        MIX_CHANNEL(double, DBL_TO_FLOAT);
        return 0;
    default:
        return -1;
    }
}

static int mix_to_mono(const AVFrame *frame, float *dst)
{
    const size_t channels = (size_t)frame->ch_layout.nb_channels;
    const size_t n = (size_t)frame->nb_samples;
    const enum AVSampleFormat fmt = frame->format;
    const int planar = av_sample_fmt_is_planar(fmt);
    const enum AVSampleFormat packed = av_get_packed_sample_fmt(fmt);

    for (size_t c = 0; c < channels; c++) {
        const uint8_t *base = frame->extended_data[planar ? c : 0];
        size_t offset = planar ? 0 : c;
        size_t stride = planar ? 1 : channels;
        if (mix_channel(dst, base, packed, offset, stride, n, c == 0) < 0)
            return -1;
    }
    if (channels > 1) {
        const float count = (float)channels;
        for (size_t i = 0; i < n; i++)
            dst[i] /= count;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Resampling segments. */

static int start_segment(struct decoder *d, int rate, af_err *err)
{
    d->segment_rate = rate;
    d->segment_in = 0;
    d->segment_out_start = d->n_out;
    if (rate == AF_SAMPLE_RATE)
        return 0;

    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int ret = swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_FLT, AF_SAMPLE_RATE, &mono,
                                  AV_SAMPLE_FMT_FLT, rate, 0, NULL);
    /* soxr at 20 bits is soxr's "HQ" recipe, librosa's default res_type "soxr_hq". */
    if (ret >= 0)
        ret = av_opt_set(d->swr, "resampler", "soxr", 0);
    if (ret >= 0)
        ret = av_opt_set_double(d->swr, "precision", 20.0, 0);
    if (ret >= 0)
        ret = swr_init(d->swr);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        return decode_failed(d, AF_DECODE_SYSTEM, err,
                             "cannot resample %d Hz to %d Hz with soxr (is FFmpeg built with "
                             "libsoxr?): %s%s",
                             rate, AF_SAMPLE_RATE, averror_text(ret, text, sizeof text),
                             ffmpeg_detail(detail, sizeof detail));
    }
    return 0;
}

/* librosa.resample fixes the length to ceil(n * target / source). */
static size_t resampled_length(uint64_t n_in, int rate)
{
    return (size_t)((n_in * AF_SAMPLE_RATE + (uint64_t)rate - 1) / (uint64_t)rate);
}

static int finish_segment(struct decoder *d, af_err *err)
{
    if (d->swr) {
        for (;;) {
            if (reserve_output(d, 4096, err) < 0)
                return -1;
            uint8_t *dst = (uint8_t *)(d->out + d->n_out);
            int got = swr_convert(d->swr, &dst, (int)(d->out_capacity - d->n_out), NULL, 0);
            if (got < 0) {
                char text[AV_ERROR_MAX_STRING_SIZE];
                return decode_failed(d, AF_DECODE_SYSTEM, err, "resampling failed: %s",
                                     averror_text(got, text, sizeof text));
            }
            if (got == 0)
                break;
            d->n_out += (size_t)got;
        }
        swr_free(&d->swr);
    }

    size_t want = resampled_length(d->segment_in, d->segment_rate);
    size_t have = d->n_out - d->segment_out_start;
    if (have > want) {
        d->n_out = d->segment_out_start + want;
    } else if (have < want) {
        if (reserve_output(d, want - have, err) < 0)
            return -1;
        memset(d->out + d->n_out, 0, (want - have) * sizeof *d->out);
        d->n_out += want - have;
    }
    d->segment_rate = 0;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Decoding. */

static int resample_into_output(struct decoder *d, const float *mono, size_t n, af_err *err)
{
    int bound = swr_get_out_samples(d->swr, (int)n);
    if (bound < 0)
        return decode_failed(d, AF_DECODE_SYSTEM, err, "resampler state is invalid");
    if (reserve_output(d, (size_t)bound, err) < 0)
        return -1;
    uint8_t *dst = (uint8_t *)(d->out + d->n_out);
    const uint8_t *src = (const uint8_t *)mono;
    int got = swr_convert(d->swr, &dst, bound, &src, (int)n);
    if (got < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE];
        return decode_failed(d, AF_DECODE_SYSTEM, err, "resampling failed: %s",
                             averror_text(got, text, sizeof text));
    }
    d->n_out += (size_t)got;
    return 0;
}

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
    if (d->seconds_in > d->opts.max_seconds)
        return decode_failed(d, AF_DECODE_TOO_LONG, err,
                             "too long: more than the %g s maximum (decoding stopped there)",
                             d->opts.max_seconds);
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
        if ((d->segment_rate && finish_segment(d, err) < 0) || start_segment(d, rate, err) < 0)
            return -1;
    }
    d->segment_in += n;

    if (d->swr ? reserve_mono(d, n, err) < 0 : reserve_output(d, n, err) < 0)
        return -1;
    float *mono = d->swr ? d->mono : d->out + d->n_out;
    if (mix_to_mono(frame, mono) < 0) {
        const char *name = av_get_sample_fmt_name(frame->format);
        return decode_failed(d, AF_DECODE_UNSUPPORTED, err, "unsupported sample format %s",
                             name ? name : "(unknown)");
    }
    if (d->swr)
        return resample_into_output(d, mono, n, err);
    d->n_out += n;
    return 0;
}

/* Sends one packet (NULL = drain) and consumes every frame it yields. Bad packets
 * are counted and skipped: FFmpeg conceals them, and the checks after decoding
 * decide whether too much was lost. */
static int decode_packet(struct decoder *d, const AVPacket *packet, af_err *err)
{
    int ret = avcodec_send_packet(d->codec, packet);
    if (ret == AVERROR(ENOMEM))
        return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory while decoding");
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
            return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory while decoding");
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
static int decode_packets(struct decoder *d, double stop_after, af_err *err)
{
    for (;;) {
        int ret = av_read_frame(d->fmt, d->packet);
        if (ret == AVERROR_EOF)
            break;
        if (ret == AVERROR(ENOMEM))
            return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory while reading");
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
    if (decode_packets(d, 0, err) < 0)
        return -1;
    if (d->segment_rate && finish_segment(d, err) < 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Opening. */

/* The file itself cannot be opened, as opposed to FFmpeg not understanding it. */
static int is_file_system_error(int averror)
{
    static const int codes[] = {ENOENT, EACCES, EPERM, EISDIR, ENOTDIR, ENAMETOOLONG, ELOOP, EIO};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (averror == AVERROR(codes[i]))
            return 1;
    return 0;
}

static int open_input(struct decoder *d, const char *path, af_err *err)
{
    AVDictionary *options = NULL;
    char *url = NULL;
    int ret;

    if (path) {
        /* "file:" so that names with a colon are never taken for a protocol, and
         * only local files may be opened (a playlist cannot reach the network). */
        size_t len = strlen(path) + sizeof "file:";
        url = malloc(len);
        if (!url)
            return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory");
        snprintf(url, len, "file:%s", path);
        av_dict_set(&options, "protocol_whitelist", "file", 0);
    } else {
        d->fmt = avformat_alloc_context();
        uint8_t *io_buffer = av_malloc(IO_BUFFER_SIZE);
        if (io_buffer)
            d->avio = avio_alloc_context(io_buffer, IO_BUFFER_SIZE, 0, &d->memory, memory_read,
                                         NULL, memory_seek);
        if (!d->fmt || !d->avio) {
            if (!d->avio)
                av_free(io_buffer);
            return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory");
        }
        d->fmt->pb = d->avio;
        d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
        /* Bytes from the database must not open anything else. */
        av_dict_set(&options, "protocol_whitelist", "none", 0);
    }

    ret = avformat_open_input(&d->fmt, url, NULL, &options); /* frees d->fmt on failure */
    av_dict_free(&options);
    free(url);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        averror_text(ret, text, sizeof text);
        if (ret == AVERROR(ENOMEM))
            return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory opening the input");
        if (is_file_system_error(ret))
            return decode_failed(d, AF_DECODE_UNREADABLE, err, "cannot open: %s", text);
        if (ret == AVERROR_EOF)
            return decode_failed(d, AF_DECODE_TRUNCATED, err,
                                 "truncated: the input ends inside its headers: %s%s", text,
                                 ffmpeg_detail(detail, sizeof detail));
        return decode_failed(d, AF_DECODE_UNREADABLE, err, "not a recognised audio format: %s%s",
                             text, ffmpeg_detail(detail, sizeof detail));
    }

    ret = avformat_find_stream_info(d->fmt, NULL);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        return decode_failed(d, AF_DECODE_UNREADABLE, err, "cannot read the stream layout: %s%s",
                             averror_text(ret, text, sizeof text),
                             ffmpeg_detail(detail, sizeof detail));
    }
    return 0;
}

static int describe_streams(const AVFormatContext *fmt, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < fmt->nb_streams && used < size; i++) {
        const char *type = av_get_media_type_string(fmt->streams[i]->codecpar->codec_type);
        const char *codec = avcodec_get_name(fmt->streams[i]->codecpar->codec_id);
        int n = snprintf(buf + used, size - used, "%s%s %s", i ? ", " : "", type ? type : "unknown",
                         codec);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return (int)fmt->nb_streams;
}

static int has_stream_of_type(const AVFormatContext *fmt, enum AVMediaType type)
{
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (fmt->streams[i]->codecpar->codec_type == type)
            return 1;
    return 0;
}

static int open_audio_stream(struct decoder *d, af_err *err)
{
    const AVCodec *decoder = NULL;
    int index = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (index == AVERROR_STREAM_NOT_FOUND && has_stream_of_type(d->fmt, AVMEDIA_TYPE_AUDIO)) {
        char detail[300];
        return decode_failed(d, AF_DECODE_CORRUPT, err,
                             "corrupt: FFmpeg found a %s audio stream but no decodable frame in it "
                             "(sample rate and channels unknown)%s",
                             d->fmt->iformat->name, ffmpeg_detail(detail, sizeof detail));
    }
    if (index == AVERROR_STREAM_NOT_FOUND) {
        char streams[256];
        int n = describe_streams(d->fmt, streams, sizeof streams);
        if (n == 0)
            return decode_failed(d, AF_DECODE_NO_AUDIO, err,
                                 "no audio stream: the %s input holds no stream at all",
                                 d->fmt->iformat->name);
        return decode_failed(d, AF_DECODE_NO_AUDIO, err,
                             "no audio stream: the %s input holds %d other stream%s (%s)",
                             d->fmt->iformat->name, n, n == 1 ? "" : "s", streams);
    }
    if (index == AVERROR_DECODER_NOT_FOUND || (index >= 0 && !decoder)) {
        int audio = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        const char *name =
            audio >= 0 ? avcodec_get_name(d->fmt->streams[audio]->codecpar->codec_id) : "?";
        return decode_failed(d, AF_DECODE_UNSUPPORTED, err,
                             "unsupported audio codec %s: this FFmpeg has no decoder for it", name);
    }
    if (index < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE];
        return decode_failed(d, AF_DECODE_UNREADABLE, err, "cannot select the audio stream: %s",
                             averror_text(index, text, sizeof text));
    }

    d->stream = d->fmt->streams[index];
    for (unsigned i = 0; i < d->fmt->nb_streams; i++)
        if ((int)i != index)
            d->fmt->streams[i]->discard = AVDISCARD_ALL; /* e.g. cover art: never read it */

    d->codec = avcodec_alloc_context3(decoder);
    if (!d->codec)
        return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory");
    int ret = avcodec_parameters_to_context(d->codec, d->stream->codecpar);
    if (ret >= 0) {
        d->codec->pkt_timebase = d->stream->time_base;
        ret = avcodec_open2(d->codec, decoder, NULL);
    }
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        return decode_failed(d, AF_DECODE_CORRUPT, err, "cannot open the %s decoder: %s%s",
                             decoder->name, averror_text(ret, text, sizeof text),
                             ffmpeg_detail(detail, sizeof detail));
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Metadata and tags. */

static int is_valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + extra >= len)
            return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += extra + 1;
    }
    return 1;
}

/* Trimmed UTF-8 copy of a tag (Latin-1 — what ID3v1 holds — is converted);
 * *out = NULL for an empty tag. Returns -1 only when out of memory. */
static int clean_tag(const char *value, char **out)
{
    *out = NULL;
    const unsigned char *start = (const unsigned char *)value;
    size_t len = strlen(value);
    while (len > 0 && (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n')) {
        start++;
        len--;
    }
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t' || start[len - 1] == '\r' ||
                       start[len - 1] == '\n'))
        len--;
    if (len == 0)
        return 0;

    if (is_valid_utf8(start, len)) {
        *out = strndup((const char *)start, len);
        return *out ? 0 : -1;
    }
    char *utf8 = malloc(2 * len + 1);
    if (!utf8)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (start[i] < 0x80) {
            utf8[j++] = (char)start[i];
        } else {
            utf8[j++] = (char)(0xC0 | (start[i] >> 6));
            utf8[j++] = (char)(0x80 | (start[i] & 0x3F));
        }
    }
    utf8[j] = '\0';
    *out = utf8;
    return 0;
}

/* The container's tag, else the audio stream's (Ogg keeps Vorbis comments there). */
static int read_tag(const struct decoder *d, const char *key, char **out)
{
    const AVDictionaryEntry *e = av_dict_get(d->fmt->metadata, key, NULL, 0);
    if (!e || !e->value || !e->value[0])
        e = av_dict_get(d->stream->metadata, key, NULL, 0);
    if (!e || !e->value) {
        *out = NULL;
        return 0;
    }
    return clean_tag(e->value, out);
}

static int read_metadata(struct decoder *d, af_err *err)
{
    struct af_audio *r = &d->result;
    const AVCodecParameters *par = d->stream->codecpar;
    r->source_sample_rate = par->sample_rate;
    r->source_channels = par->ch_layout.nb_channels;
    snprintf(r->codec, sizeof r->codec, "%s", avcodec_get_name(par->codec_id));
    snprintf(r->container, sizeof r->container, "%s", d->fmt->iformat->name);
    if (read_tag(d, "artist", &r->tags.artist) < 0 || read_tag(d, "title", &r->tags.title) < 0 ||
        read_tag(d, "album", &r->tags.album) < 0 || read_tag(d, "genre", &r->tags.genre) < 0)
        return decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory reading tags");
    return 0;
}

/* The duration the header states, or 0 when there is none or it is only an
 * estimate from the bitrate (which a cut file shares). */
static double declared_seconds(const struct decoder *d)
{
    if (d->fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
        return 0;
    if (d->stream->duration != AV_NOPTS_VALUE && d->stream->duration > 0)
        return (double)d->stream->duration * av_q2d(d->stream->time_base);
    if (d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0)
        return (double)d->fmt->duration / AV_TIME_BASE;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Checks on what was decoded. */

static int check_decoded(struct decoder *d, af_err *err)
{
    char text[AV_ERROR_MAX_STRING_SIZE] = "", detail[300];
    if (d->last_error)
        averror_text(d->last_error, text, sizeof text);

    if (d->n_out == 0 && d->seconds_in == 0) {
        if (d->decode_errors > 0 || d->demux_error)
            return decode_failed(d, AF_DECODE_CORRUPT, err,
                                 "corrupt: no audio could be decoded from %ld packet%s: %s%s",
                                 d->packets, d->packets == 1 ? "" : "s", text,
                                 ffmpeg_detail(detail, sizeof detail));
        return decode_failed(d, AF_DECODE_EMPTY, err,
                             "empty: the %s audio stream holds no samples", d->result.codec);
    }
    if (d->decode_errors * 2 > d->packets)
        return decode_failed(d, AF_DECODE_CORRUPT, err,
                             "corrupt: %ld of %ld packets failed to decode: %s%s",
                             d->decode_errors, d->packets, text,
                             ffmpeg_detail(detail, sizeof detail));

    double declared = declared_seconds(d);
    double missing = declared - d->seconds_in;
    if (declared > 0 && missing > TRUNCATION_MIN_SECONDS &&
        missing > TRUNCATION_MIN_FRACTION * declared)
        return decode_failed(d, AF_DECODE_TRUNCATED, err,
                             "truncated: decoded %.2f s of the %.2f s its header declares%s%s%s",
                             d->seconds_in, declared, text[0] ? ": " : "", text,
                             ffmpeg_detail(detail, sizeof detail));

    if (!d->probing && d->n_out < d->opts.min_samples)
        return decode_failed(d, AF_DECODE_TOO_SHORT, err,
                             "too short: %.3f s (%zu samples at %d Hz); the minimum is %zu samples",
                             (double)d->n_out / AF_SAMPLE_RATE, d->n_out, AF_SAMPLE_RATE,
                             d->opts.min_samples);
    return 0;
}

static void cut_central_excerpt(struct decoder *d)
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

/* Peak |x|, and whether any sample is NaN or inf (x * 0 is NaN exactly then).
 * Eight independent lanes, so that the compiler vectorises it at -O2. */
static float sample_peak(const float *x, size_t n, int *non_finite)
{
    enum { LANES = 8 };
    float peak[LANES] = {0}, poison[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            float a = fabsf(x[i + k]);
            peak[k] = a > peak[k] ? a : peak[k];
            poison[k] += x[i + k] * 0.0f;
        }
    for (; i < n; i++) {
        float a = fabsf(x[i]);
        peak[0] = a > peak[0] ? a : peak[0];
        poison[0] += x[i] * 0.0f;
    }
    float max = 0, sum = 0;
    for (int k = 0; k < LANES; k++) {
        max = peak[k] > max ? peak[k] : max;
        sum += poison[k];
    }
    *non_finite = sum != 0; /* NaN != 0 */
    return max;
}

static int check_samples(struct decoder *d, af_err *err)
{
    int non_finite;
    float peak = sample_peak(d->out, d->n_out, &non_finite);
    if (non_finite)
        return decode_failed(d, AF_DECODE_CORRUPT, err,
                             "corrupt: the decoded audio holds NaN or infinite samples");
    if ((double)peak < d->opts.silence_threshold) {
        if (d->result.excerpt_start > 0)
            return decode_failed(d, AF_DECODE_SILENT, err,
                                 "silent: every sample of the central %.1f s is below %g "
                                 "(peak %g)",
                                 (double)d->n_out / AF_SAMPLE_RATE, d->opts.silence_threshold,
                                 (double)peak);
        return decode_failed(d, AF_DECODE_SILENT, err,
                             "silent: every sample is below %g (peak %g)",
                             d->opts.silence_threshold, (double)peak);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Driver. */

static void close_input(struct decoder *d)
{
    avcodec_free_context(&d->codec);
    avformat_close_input(&d->fmt);
    if (d->avio) {
        av_freep(&d->avio->buffer);
        avio_context_free(&d->avio);
    }
    d->stream = NULL;
}

static void decoder_close(struct decoder *d)
{
    swr_free(&d->swr);
    av_frame_free(&d->frame);
    av_packet_free(&d->packet);
    close_input(d);
    free(d->mono);
    free(d->out);
    af_audio_free(&d->result);
}

static int run(struct decoder *d, const char *path, struct af_audio *out, af_err *err)
{
    int ret = -1;
    if (check_options(d, err) < 0 || open_input(d, path, err) < 0 ||
        open_audio_stream(d, err) < 0 || read_metadata(d, err) < 0)
        goto done;

    d->packet = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->packet || !d->frame) {
        decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory");
        goto done;
    }
    if (reserve_output(d, initial_capacity(d), err) < 0 || decode_all(d, err) < 0 ||
        check_decoded(d, err) < 0)
        goto done;
    cut_central_excerpt(d);
    if (check_samples(d, err) < 0)
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
    if (ret < 0) {
        memset(out, 0, sizeof *out);
        out->failure = d->result.failure ? d->result.failure : AF_DECODE_SYSTEM;
    }
    decoder_close(d);
    return ret;
}

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
    ffmpeg_message[0] = '\0';
    ffmpeg_message_level = 0;
    d->probe_decoded += d->seconds_in;
    close_input(d);
    d->memory.pos = 0;
    d->seconds_in = 0;
    d->packets = 0;
    d->decode_errors = 0;
    d->last_error = 0;
    d->demux_error = 0;
    d->frames = 0;
    d->end_seconds = NAN;
    if (open_input(d, path, err) < 0 || open_audio_stream(d, err) < 0)
        return -1;
    return 0;
}

/* The first two refusals of check_decoded, without failing: the probe then lets a whole
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
    if (decode_packets(d, 0, err) < 0)
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
    if (open_input(d, path, err) < 0 || open_audio_stream(d, err) < 0 ||
        read_metadata(d, err) < 0)
        goto done;
    d->packet = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->packet || !d->frame) {
        decode_failed(d, AF_DECODE_SYSTEM, err, "out of memory");
        goto done;
    }

    /* No usable declared duration (none, a bitrate estimate, or too short to split
     * into head and tail): decode it all, which is then the only proof there is. */
    const double declared = declared_seconds(d);
    double end = 0;
    int whole = declared <= PROBE_MIN_DECLARED_SECONDS;
    int more = decode_packets(d, whole ? 0 : PROBE_HEAD_SECONDS, err);
    if (more < 0)
        goto done;
    if (more) { /* the head decoded; the input goes on */
        int tail = mostly_failed(d) ? 1 : probe_tail(d, declared, &end, err);
        if (tail < 0)
            goto done;
        if (tail > 0) {
            whole = 1;
            if (reopen(d, path, err) < 0 || decode_packets(d, 0, err) < 0)
                goto done;
        }
    } else {
        whole = 1; /* the head reached the end of the input */
    }
    if (whole && check_decoded(d, err) < 0)
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

static void decoder_init(struct decoder *d, const struct af_decode_opts *opts)
{
    pthread_once(&ffmpeg_log_once, install_ffmpeg_log);
    ffmpeg_message[0] = '\0';
    ffmpeg_message_level = 0;
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

int af_decode_file(const char *path, const struct af_decode_opts *opts, struct af_audio *out,
                   af_err *err)
{
    struct decoder d;
    decoder_init(&d, opts);
    memset(out, 0, sizeof *out);

    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        out->failure = AF_DECODE_EMPTY;
        return af_err_set(err, "empty: the file has 0 bytes");
    }
    return run(&d, path, out, err);
}

int af_decode_memory(const void *data, size_t size, const struct af_decode_opts *opts,
                     struct af_audio *out, af_err *err)
{
    struct decoder d;
    decoder_init(&d, opts);
    memset(out, 0, sizeof *out);

    if (!data || size == 0) {
        out->failure = AF_DECODE_EMPTY;
        return af_err_set(err, "empty: the buffer has 0 bytes");
    }
    d.memory.data = data;
    d.memory.size = size;
    return run(&d, NULL, out, err);
}

int af_decode_probe_file(const char *path, struct af_audio_probe *out, af_err *err)
{
    struct decoder d;
    decoder_init(&d, NULL);
    memset(out, 0, sizeof *out);

    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        out->failure = AF_DECODE_EMPTY;
        return af_err_set(err, "empty: the file has 0 bytes");
    }
    return run_probe(&d, path, out, err);
}

int af_decode_probe_memory(const void *data, size_t size, struct af_audio_probe *out,
                           af_err *err)
{
    struct decoder d;
    decoder_init(&d, NULL);
    memset(out, 0, sizeof *out);

    if (!data || size == 0) {
        out->failure = AF_DECODE_EMPTY;
        return af_err_set(err, "empty: the buffer has 0 bytes");
    }
    d.memory.data = data;
    d.memory.size = size;
    return run_probe(&d, NULL, out, err);
}

void af_audio_probe_free(struct af_audio_probe *probe)
{
    if (!probe)
        return;
    free(probe->tags.artist);
    free(probe->tags.title);
    free(probe->tags.album);
    free(probe->tags.genre);
    memset(&probe->tags, 0, sizeof probe->tags);
}

void af_audio_free(struct af_audio *audio)
{
    if (!audio)
        return;
    free(audio->samples);
    free(audio->tags.artist);
    free(audio->tags.title);
    free(audio->tags.album);
    free(audio->tags.genre);
    audio->samples = NULL;
    audio->n_samples = 0;
    memset(&audio->tags, 0, sizeof audio->tags);
}

const char *af_decode_failure_name(enum af_decode_failure failure)
{
    switch (failure) {
    case AF_DECODE_OK: return "ok";
    case AF_DECODE_EMPTY: return "empty";
    case AF_DECODE_UNREADABLE: return "unreadable";
    case AF_DECODE_NO_AUDIO: return "no_audio";
    case AF_DECODE_UNSUPPORTED: return "unsupported";
    case AF_DECODE_CORRUPT: return "corrupt";
    case AF_DECODE_TRUNCATED: return "truncated";
    case AF_DECODE_TOO_SHORT: return "too_short";
    case AF_DECODE_TOO_LONG: return "too_long";
    case AF_DECODE_SILENT: return "silent";
    case AF_DECODE_SYSTEM: return "system";
    }
    return "unknown";
}
