/* audio_id.c — the sha256 of a file's demuxed audio packets (tags excluded); see audio_id.h. */
#include "audio_id.h"

#include "decode/memory_input.h"

#include <libavformat/avformat.h>
#include <libavutil/sha.h>
#include <stdint.h>

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
    struct af_memory_input in = {.data = data, .size = len};
    AVFormatContext *fmt = NULL;
    AVDictionary *options = NULL;
    struct AVSHA *sha = av_sha_alloc();
    int rc = -1;
    if (!sha || af_memory_input_attach(&in, &fmt, &options) < 0) {
        af_err_set(err, "out of memory");
        goto out;
    }
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
    af_memory_input_free(&in);
    av_free(sha);
    return rc;
}
