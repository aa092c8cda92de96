/*
 * memory_input.c — FFmpeg reading a buffer in memory (memory_input.h), for the
 * decoder's and the audio identity's inputs from the database or a fetch.
 */
#include "memory_input.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/mem.h>

#define IO_BUFFER_SIZE (64 * 1024)

static int memory_read(void *opaque, uint8_t *buf, int buf_size)
{
    struct af_memory_input *r = opaque;
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
    struct af_memory_input *r = opaque;
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

int af_memory_input_attach(struct af_memory_input *in, AVFormatContext **fmt,
                           AVDictionary **options)
{
    *fmt = avformat_alloc_context();
    uint8_t *io_buffer = av_malloc(IO_BUFFER_SIZE);
    in->avio = io_buffer ? avio_alloc_context(io_buffer, IO_BUFFER_SIZE, 0, in, memory_read,
                                              NULL, memory_seek)
                         : NULL;
    if (!*fmt || !in->avio) {
        if (!in->avio)
            av_free(io_buffer);
        af_memory_input_free(in);
        avformat_free_context(*fmt);
        *fmt = NULL;
        return AVERROR(ENOMEM);
    }
    (*fmt)->pb = in->avio;
    (*fmt)->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (av_dict_set(options, "protocol_whitelist", "none", 0) < 0) {
        avformat_free_context(*fmt);
        *fmt = NULL;
        af_memory_input_free(in);
        return AVERROR(ENOMEM);
    }
    return 0;
}

void af_memory_input_free(struct af_memory_input *in)
{
    if (!in->avio)
        return;
    /* FFmpeg may have replaced the buffer it was given: free the one it holds. */
    av_freep(&in->avio->buffer);
    avio_context_free(&in->avio);
}
