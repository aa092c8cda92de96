/* pgcopy.c — PostgreSQL binary COPY encoding (network byte order); see pgcopy.h. */
#include "pgcopy.h"

#include <stdlib.h>
#include <string.h>

#define FLOAT4_OID 700

static int reserve(struct af_pgcopy *c, size_t more)
{
    if (c->failed)
        return -1;
    if (c->len + more <= c->cap)
        return 0;
    size_t cap = c->cap ? c->cap : 65536;
    while (cap < c->len + more)
        cap *= 2;
    unsigned char *grown = realloc(c->data, cap);
    if (!grown) {
        c->failed = 1;
        return -1;
    }
    c->data = grown;
    c->cap = cap;
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void append_u32(struct af_pgcopy *c, uint32_t v)
{
    if (reserve(c, 4) == 0) {
        put_u32(c->data + c->len, v);
        c->len += 4;
    }
}

static void append_u16(struct af_pgcopy *c, uint16_t v)
{
    if (reserve(c, 2) == 0) {
        c->data[c->len++] = (unsigned char)(v >> 8);
        c->data[c->len++] = (unsigned char)v;
    }
}

static uint32_t float_bits(float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

void af_pgcopy_init(struct af_pgcopy *c)
{
    memset(c, 0, sizeof *c);
    static const unsigned char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
    if (reserve(c, sizeof signature) == 0) {
        memcpy(c->data, signature, sizeof signature);
        c->len = sizeof signature;
    }
    append_u32(c, 0); /* flags */
    append_u32(c, 0); /* header extension length */
}

void af_pgcopy_row(struct af_pgcopy *c, int n_fields) { append_u16(c, (uint16_t)n_fields); }

void af_pgcopy_int8(struct af_pgcopy *c, int64_t v)
{
    append_u32(c, 8);
    append_u32(c, (uint32_t)((uint64_t)v >> 32));
    append_u32(c, (uint32_t)v);
}

void af_pgcopy_int4(struct af_pgcopy *c, int32_t v)
{
    append_u32(c, 4);
    append_u32(c, (uint32_t)v);
}

void af_pgcopy_float4(struct af_pgcopy *c, float v)
{
    append_u32(c, 4);
    append_u32(c, float_bits(v));
}

/* One-dimensional float4[] without NULLs, lower bound 1. */
void af_pgcopy_float4_array(struct af_pgcopy *c, const float *v, size_t n)
{
    append_u32(c, (uint32_t)(20 + 8 * n));
    append_u32(c, 1);         /* dimensions */
    append_u32(c, 0);         /* has nulls */
    append_u32(c, FLOAT4_OID);
    append_u32(c, (uint32_t)n);
    append_u32(c, 1);         /* lower bound */
    if (reserve(c, 8 * n) != 0)
        return;
    unsigned char *p = c->data + c->len;
    for (size_t i = 0; i < n; i++, p += 8) {
        put_u32(p, 4);
        put_u32(p + 4, float_bits(v[i]));
    }
    c->len += 8 * n;
}

void af_pgcopy_finish(struct af_pgcopy *c) { append_u16(c, 0xffff); }

void af_pgcopy_free(struct af_pgcopy *c)
{
    free(c->data);
    memset(c, 0, sizeof *c);
}
