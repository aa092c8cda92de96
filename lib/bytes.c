/* bytes.c — little-endian writer/reader and CRC-32; see bytes.h. */
#include "bytes.h"

#include <pthread.h>
#include <string.h>

void af_put_u32(af_writer *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *w->p++ = (uint8_t)(v >> (8 * i));
}

void af_put_f32(af_writer *w, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    af_put_u32(w, bits);
}

void af_put_f32s(af_writer *w, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        af_put_f32(w, v[i]);
}

void af_put_bytes(af_writer *w, const void *src, size_t n)
{
    memcpy(w->p, src, n);
    w->p += n;
}

void af_reader_init(af_reader *r, const uint8_t *buf, size_t len)
{
    r->p = buf;
    r->end = buf + len;
    r->overrun = false;
}

size_t af_reader_left(const af_reader *r) { return (size_t)(r->end - r->p); }

static bool take(af_reader *r, size_t n)
{
    if (r->overrun || af_reader_left(r) < n) {
        r->overrun = true;
        return false;
    }
    return true;
}

uint32_t af_get_u32(af_reader *r)
{
    if (!take(r, 4))
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    return v;
}

float af_get_f32(af_reader *r)
{
    uint32_t bits = af_get_u32(r);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

bool af_get_f32s(af_reader *r, float *dst, size_t n)
{
    if (n > af_reader_left(r) / 4) {
        r->overrun = true;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = af_get_f32(r);
    return !r->overrun;
}

bool af_get_bytes(af_reader *r, void *dst, size_t n)
{
    if (!take(r, n))
        return false;
    memcpy(dst, r->p, n);
    r->p += n;
    return true;
}

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void build_crc_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t af_crc32(const uint8_t *buf, size_t len)
{
    pthread_once(&crc_table_once, build_crc_table);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = crc_table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
