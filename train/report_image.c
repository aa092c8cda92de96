/* report_image.c — paletted BMPs as data: URIs for af-report; see report_image.h. */
#include "report_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

/* viridis at 0, 1/4, 1/2, 3/4 and 1, linearly interpolated between */
static const uint8_t stops[5][3] = {
    {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};

static void ramp(int i, uint8_t rgb[3])
{
    int seg = i * 4 / 256;
    double f = (i * 4.0 / 255.0) - seg;
    if (seg >= 4) {
        seg = 3;
        f = 1;
    }
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)(stops[seg][c] + f * (stops[seg + 1][c] - stops[seg][c]) + 0.5);
}

void af_ramp_colour(int i, char out[8])
{
    uint8_t rgb[3];
    ramp(i < 0 ? 0 : i > 255 ? 255 : i, rgb);
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t *af_bmp8(const uint8_t *pixels, int w, int h, size_t *len)
{
    const size_t header = 14 + 40, palette = 256 * 4, stride = ((size_t)w + 3) & ~(size_t)3;
    size_t size = header + palette + stride * (size_t)h;
    uint8_t *b = calloc(1, size);
    if (!b)
        return NULL;
    b[0] = 'B', b[1] = 'M';
    le32(b + 2, (uint32_t)size);
    le32(b + 10, (uint32_t)(header + palette)); /* where the pixels start */
    le32(b + 14, 40);                           /* BITMAPINFOHEADER */
    le32(b + 18, (uint32_t)w);
    le32(b + 22, (uint32_t)h); /* positive: bottom-up rows */
    b[26] = 1;                 /* planes */
    b[28] = 8;                 /* bits per pixel */
    le32(b + 34, (uint32_t)(stride * (size_t)h));
    le32(b + 38, 2835), le32(b + 42, 2835); /* 72 dpi */
    le32(b + 46, 256), le32(b + 50, 256);   /* colours used, important */
    for (int i = 0; i < 256; i++) {
        uint8_t rgb[3];
        ramp(i, rgb);
        uint8_t *q = b + header + 4 * (size_t)i; /* stored as B, G, R, 0 */
        q[0] = rgb[2], q[1] = rgb[1], q[2] = rgb[0];
    }
    for (int r = 0; r < h; r++)
        memcpy(b + header + palette + stride * (size_t)r, pixels + (size_t)r * (size_t)w,
               (size_t)w);
    *len = size;
    return b;
}

void af_bmp8_data_uri(const uint8_t *pixels, int w, int h, af_sb *out)
{
    size_t len;
    uint8_t *bmp = af_bmp8(pixels, w, h, &len);
    size_t text_len = 4 * ((len + 2) / 3) + 1;
    char *text = bmp ? malloc(text_len) : NULL;
    if (!text) {
        free(bmp);
        af_sb_puts(out, "data:,"); /* out of memory: an empty picture, not a crash */
        return;
    }
    af_base64_encode(bmp, len, text, text_len);
    af_sb_puts(out, "data:image/bmp;base64,");
    af_sb_puts(out, text);
    free(text);
    free(bmp);
}
