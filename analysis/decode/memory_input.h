/*
 * memory_input.h — FFmpeg reading a buffer in memory: a read+seek AVIOContext over
 * the caller's bytes, attached to a new format context that may open nothing else.
 * The decoder (decode.h's *_memory entry points) and ingest's audio identity
 * (ingest/audio_id.c) open bytes from the database or a fetch through it.
 */
#ifndef AF_MEMORY_INPUT_H
#define AF_MEMORY_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

/* The bytes (not copied: they must outlive the format context) and the read position. */
struct af_memory_input {
    const uint8_t *data;
    size_t size;
    size_t pos;
    AVIOContext *avio; /* set by af_memory_input_attach, freed by af_memory_input_free */
};

/* Allocates *fmt reading in's bytes through custom I/O, and puts protocol_whitelist
 * "none" into *options for avformat_open_input(fmt, NULL, NULL, options): bytes from
 * the database must not open anything else.  0, or AVERROR(ENOMEM) with *fmt NULL and
 * nothing left allocated. */
int af_memory_input_attach(struct af_memory_input *in, AVFormatContext **fmt,
                           AVDictionary **options);

/* Frees the I/O context, after avformat_close_input; the position is kept. */
void af_memory_input_free(struct af_memory_input *in);

#endif
