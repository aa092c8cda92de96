/*
 * bytes.h — little-endian encoding helpers and CRC-32 for the model buffer
 * (mlp.c) and the standardiser block inside it (scaler.c).
 *
 * A writer appends to a buffer whose size was computed beforehand; a reader
 * walks a received buffer and refuses to read past its end, so a truncated or
 * hostile buffer ends in an error, never in an out-of-bounds read.
 */
#ifndef AF_TRAIN_BYTES_H
#define AF_TRAIN_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct af_writer {
    uint8_t *p; /* next byte to write; the caller sized the buffer */
} af_writer;

typedef struct af_reader {
    const uint8_t *p;
    const uint8_t *end;
    bool overrun; /* set once a read went past the end; reads then yield 0 */
} af_reader;

void af_put_u32(af_writer *w, uint32_t v);
void af_put_f32(af_writer *w, float v);
void af_put_f32s(af_writer *w, const float *v, size_t n);
void af_put_bytes(af_writer *w, const void *src, size_t n);

void af_reader_init(af_reader *r, const uint8_t *buf, size_t len);
size_t af_reader_left(const af_reader *r);
uint32_t af_get_u32(af_reader *r);
float af_get_f32(af_reader *r);
/* Reads n floats into dst; returns false (and sets overrun) if fewer remain. */
bool af_get_f32s(af_reader *r, float *dst, size_t n);
bool af_get_bytes(af_reader *r, void *dst, size_t n);

/* CRC-32 as in zlib/PNG (reflected polynomial 0xEDB88320). */
uint32_t af_crc32(const uint8_t *buf, size_t len);

#endif
