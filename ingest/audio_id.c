/* audio_id.c — the sha256 of a file's demuxed audio packets (tags excluded); see audio_id.h. */
#include "audio_id.h"

#include <libavformat/avformat.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <stdint.h>
#include <string.h>

#define IO_BUFFER_SIZE 65536

struct reader {
    const uint8_t *data;
    size_t size, pos;
};

static int reader_read(void *opaque, uint8_t *buf, int buf_size)
{
    struct reader *r = opaque;
    size_t left = r->size - r->pos;
    if (left == 0)
        return AVERROR_EOF;
    size_t n = left < (size_t)buf_size ? left : (size_t)buf_size;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return (int)n;
}

static int64_t reader_seek(void *opaque, int64_t offset, int whence)
{
    struct reader *r = opaque;
    int64_t target;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return (int64_t)r->size;
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = (int64_t)r->pos + offset; break;
    case SEEK_END: target = (int64_t)r->size + offset; break;
    default: return AVERROR(EINVAL);
    }
    if (target < 0 || (uint64_t)target > r->size)
        return AVERROR(EINVAL);
    r->pos = (size_t)target;
    return target;
}

/* Hashes the packets of the best audio stream; 0, or an AVERROR / 1 (no audio stream). */
static int hash_packets(AVFormatContext *fmt, struct AVSHA *sha)
{
    int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (stream < 0) {
        /* Containers that declare streams only as they come (MPEG-TS): look further. */
        if (avformat_find_stream_info(fmt, NULL) < 0)
            return 1;
        stream = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        if (stream < 0)
            return 1;
    }
    /* The codec is part of the identity: equal bytes in two codecs are two sounds. */
    uint32_t codec = (uint32_t)fmt->streams[stream]->codecpar->codec_id;
    av_sha_update(sha, (const uint8_t *)&codec, sizeof codec);
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return AVERROR(ENOMEM);
    int ret;
    long packets = 0;
    while ((ret = av_read_frame(fmt, pkt)) >= 0) {
        if (pkt->stream_index == stream && pkt->size > 0) {
            av_sha_update(sha, pkt->data, (unsigned)pkt->size);
            packets++;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    if (ret != AVERROR_EOF && packets == 0)
        return ret;
    return packets > 0 ? 0 : 1;
}

int af_audio_identity(const void *data, size_t len, unsigned char id[32], af_err *err)
{
    struct reader r = {.data = data, .size = len};
    AVFormatContext *fmt = avformat_alloc_context();
    uint8_t *io_buffer = av_malloc(IO_BUFFER_SIZE);
    AVIOContext *avio = io_buffer ? avio_alloc_context(io_buffer, IO_BUFFER_SIZE, 0, &r,
                                                       reader_read, NULL, reader_seek)
                                  : NULL;
    struct AVSHA *sha = av_sha_alloc();
    int rc = -1;
    if (!fmt || !avio || !sha) {
        if (!avio)
            av_free(io_buffer);
        avformat_free_context(fmt);
        fmt = NULL;
        af_err_set(err, "out of memory");
        goto out;
    }
    fmt->pb = avio;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVDictionary *options = NULL;
    av_dict_set(&options, "protocol_whitelist", "none", 0); /* bytes open nothing else */
    int ret = avformat_open_input(&fmt, NULL, NULL, &options); /* frees fmt on failure */
    av_dict_free(&options);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(ret, text, sizeof text);
        af_err_set(err, "audio identity: cannot open: %s", text);
        goto out;
    }
    av_sha_init(sha, 256);
    ret = hash_packets(fmt, sha);
    if (ret != 0) {
        char text[AV_ERROR_MAX_STRING_SIZE] = "no audio packets";
        if (ret < 0)
            av_strerror(ret, text, sizeof text);
        af_err_set(err, "audio identity: %s", text);
        goto out;
    }
    av_sha_final(sha, id);
    rc = 0;
out:
    avformat_close_input(&fmt);
    if (avio) {
        av_freep(&avio->buffer);
        avio_context_free(&avio);
    }
    av_free(sha);
    return rc;
}
