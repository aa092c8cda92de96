/*
 * open.c — opening an input for decoding (decode.h, decoder.h): a file (local
 * files only) or a buffer in memory, the audio stream FFmpeg finds in it, its
 * tags, and FFmpeg's own log message kept to explain a failure.
 */
#include "decoder.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Installs the log callback once per process and forgets this thread's message. */
void decoder_ffmpeg_log_reset(void)
{
    pthread_once(&ffmpeg_log_once, install_ffmpeg_log);
    ffmpeg_message[0] = '\0';
    ffmpeg_message_level = 0;
}

/* " (FFmpeg: <message>)" or "" — appended to messages where FFmpeg failed. */
const char *decoder_ffmpeg_detail(char *buf, size_t size)
{
    if (!ffmpeg_message[0])
        return "";
    snprintf(buf, size, " (FFmpeg: %s)", ffmpeg_message);
    return buf;
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

/* Some demuxers (FLAC's among them) answer a read past the end of a tiny input with
 * EIO, not EOF.  When the bytes themselves read fine (always, from memory), that
 * EIO is the input ending inside its headers; -1 when reading really fails. */
static long long readable_size(const struct decoder *d, const char *path)
{
    if (!path)
        return (long long)d->memory.size;
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    char buf[4096];
    long long total = 0;
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0 && total < (1 << 20))
        total += got;
    close(fd);
    return got < 0 ? -1 : total;
}

int decoder_open_input(struct decoder *d, const char *path, af_err *err)
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
            return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory");
        snprintf(url, len, "file:%s", path);
        av_dict_set(&options, "protocol_whitelist", "file", 0);
    } else {
        if (af_memory_input_attach(&d->memory, &d->fmt, &options) < 0)
            return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory");
    }

    ret = avformat_open_input(&d->fmt, url, NULL, &options); /* frees d->fmt on failure */
    av_dict_free(&options);
    free(url);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        decoder_averror_text(ret, text, sizeof text);
        if (ret == AVERROR(ENOMEM))
            return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory opening the input");
        long long size = ret == AVERROR(EIO) ? readable_size(d, path) : -1;
        if (size >= 0 && size < (1 << 20))
            return decoder_fail(d, AF_DECODE_TRUNCATED, err,
                                "truncated: the input (%lld bytes) ends inside its headers%s", size,
                                decoder_ffmpeg_detail(detail, sizeof detail));
        if (is_file_system_error(ret))
            return decoder_fail(d, AF_DECODE_UNREADABLE, err, "cannot open: %s", text);
        if (ret == AVERROR_EOF)
            return decoder_fail(d, AF_DECODE_TRUNCATED, err,
                                "truncated: the input ends inside its headers: %s%s", text,
                                decoder_ffmpeg_detail(detail, sizeof detail));
        return decoder_fail(d, AF_DECODE_UNREADABLE, err, "not a recognised audio format: %s%s",
                            text, decoder_ffmpeg_detail(detail, sizeof detail));
    }

    ret = avformat_find_stream_info(d->fmt, NULL);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        return decoder_fail(d, AF_DECODE_UNREADABLE, err, "cannot read the stream layout: %s%s",
                            decoder_averror_text(ret, text, sizeof text),
                            decoder_ffmpeg_detail(detail, sizeof detail));
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

int decoder_open_audio_stream(struct decoder *d, af_err *err)
{
    const AVCodec *decoder = NULL;
    int index = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (index == AVERROR_STREAM_NOT_FOUND && has_stream_of_type(d->fmt, AVMEDIA_TYPE_AUDIO)) {
        char detail[300];
        return decoder_fail(d, AF_DECODE_CORRUPT, err,
                            "corrupt: FFmpeg found a %s audio stream but no decodable frame in it "
                            "(sample rate and channels unknown)%s",
                            d->fmt->iformat->name, decoder_ffmpeg_detail(detail, sizeof detail));
    }
    if (index == AVERROR_STREAM_NOT_FOUND) {
        char streams[256];
        int n = describe_streams(d->fmt, streams, sizeof streams);
        if (n == 0)
            return decoder_fail(d, AF_DECODE_NO_AUDIO, err,
                                "no audio stream: the %s input holds no stream at all",
                                d->fmt->iformat->name);
        return decoder_fail(d, AF_DECODE_NO_AUDIO, err,
                            "no audio stream: the %s input holds %d other stream%s (%s)",
                            d->fmt->iformat->name, n, n == 1 ? "" : "s", streams);
    }
    if (index == AVERROR_DECODER_NOT_FOUND || (index >= 0 && !decoder)) {
        int audio = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        const char *name =
            audio >= 0 ? avcodec_get_name(d->fmt->streams[audio]->codecpar->codec_id) : "?";
        return decoder_fail(d, AF_DECODE_UNSUPPORTED, err,
                            "unsupported audio codec %s: this FFmpeg has no decoder for it", name);
    }
    if (index < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE];
        return decoder_fail(d, AF_DECODE_UNREADABLE, err, "cannot select the audio stream: %s",
                            decoder_averror_text(index, text, sizeof text));
    }

    d->stream = d->fmt->streams[index];
    for (unsigned i = 0; i < d->fmt->nb_streams; i++)
        if ((int)i != index)
            d->fmt->streams[i]->discard = AVDISCARD_ALL; /* e.g. cover art: never read it */

    d->codec = avcodec_alloc_context3(decoder);
    if (!d->codec)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory");
    int ret = avcodec_parameters_to_context(d->codec, d->stream->codecpar);
    if (ret >= 0) {
        d->codec->pkt_timebase = d->stream->time_base;
        ret = avcodec_open2(d->codec, decoder, NULL);
    }
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        return decoder_fail(d, AF_DECODE_CORRUPT, err, "cannot open the %s decoder: %s%s",
                            decoder->name, decoder_averror_text(ret, text, sizeof text),
                            decoder_ffmpeg_detail(detail, sizeof detail));
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

int decoder_read_metadata(struct decoder *d, af_err *err)
{
    struct af_audio *r = &d->result;
    const AVCodecParameters *par = d->stream->codecpar;
    r->source_sample_rate = par->sample_rate;
    r->source_channels = par->ch_layout.nb_channels;
    snprintf(r->codec, sizeof r->codec, "%s", avcodec_get_name(par->codec_id));
    snprintf(r->container, sizeof r->container, "%s", d->fmt->iformat->name);
    if (read_tag(d, "artist", &r->tags.artist) < 0 || read_tag(d, "title", &r->tags.title) < 0 ||
        read_tag(d, "album", &r->tags.album) < 0 || read_tag(d, "genre", &r->tags.genre) < 0)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory reading tags");
    return 0;
}

int decoder_open(struct decoder *d, const char *path, af_err *err)
{
    if (decoder_open_input(d, path, err) < 0 || decoder_open_audio_stream(d, err) < 0 ||
        decoder_read_metadata(d, err) < 0)
        return -1;
    d->wav_declared = decoder_wav_declared_seconds(d, path);
    d->packet = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->packet || !d->frame)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory");
    return 0;
}

void decoder_close_input(struct decoder *d)
{
    avcodec_free_context(&d->codec);
    avformat_close_input(&d->fmt);
    af_memory_input_free(&d->memory);
    d->stream = NULL;
}
