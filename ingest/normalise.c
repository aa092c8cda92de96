/* normalise.c — tag keys, match keys, UTF-8 checks and COPY escaping; see normalise.h. */
#include "normalise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textkey.h"

size_t af_norm_key(const char *text, char *out, size_t out_len)
{
    return af_text_key(text, out, out_len);
}

size_t af_match_key(const char *artist, const char *title, char *out, size_t out_len)
{
    if (out_len < 3 || !artist || !title) {
        if (out_len)
            out[0] = '\0';
        return 0;
    }
    size_t half = out_len / 2;
    size_t a = af_norm_key(artist, out, half);
    if (a == 0)
        return out[0] = '\0', 0;
    out[a] = '\t';
    size_t t = af_norm_key(title, out + a + 1, out_len - a - 1);
    if (t == 0)
        return out[0] = '\0', 0;
    return a + 1 + t;
}

/* Room for need bytes in all (doubling from 64 KiB); -1 when out of memory. */
static int buf_reserve(struct af_buf *buf, size_t need)
{
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 65536;
    while (cap < need)
        cap *= 2;
    char *grown = realloc(buf->data, cap);
    if (!grown)
        return -1;
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

int af_buf_append(struct af_buf *buf, const char *data, size_t len)
{
    if (buf_reserve(buf, buf->len + len + 1) != 0)
        return -1;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int af_buf_copy_field(struct af_buf *buf, const char *text)
{
    if (!text)
        return af_buf_append(buf, "\\N", 2);
    size_t len = strlen(text);
    if (buf_reserve(buf, buf->len + 2 * len + 1) != 0) /* once, for the worst case */
        return -1;
    char *w = buf->data + buf->len;
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '\\': *w++ = '\\'; *w++ = '\\'; break;
        case '\t': *w++ = '\\'; *w++ = 't'; break;
        case '\n': *w++ = '\\'; *w++ = 'n'; break;
        case '\r': *w++ = '\\'; *w++ = 'r'; break;
        default: *w++ = *p;
        }
    }
    buf->len = (size_t)(w - buf->data);
    buf->data[buf->len] = '\0';
    return 0;
}

void af_buf_free(struct af_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

char *af_repair_controls(const char *text, char *what, size_t what_len)
{
    size_t quotes = 0, dashes = 0, removed = 0, len = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++, len++) {
        quotes += *p == 0x19;
        dashes += *p == 0x13;
        removed += *p < 0x20 && *p != 0x19 && *p != 0x13;
    }
    if (quotes + dashes + removed == 0)
        return NULL;
    char *out = malloc(len + 2 * (quotes + dashes) + 1), *w = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == 0x19)
            memcpy(w, "\xE2\x80\x99" /* ’ */, 3), w += 3;
        else if (*p == 0x13)
            memcpy(w, "\xE2\x80\x93" /* – */, 3), w += 3;
        else if (*p >= 0x20)
            *w++ = (char)*p;
    }
    *w = '\0';
    snprintf(what, what_len, "%zu U+0019 read as \u2019, %zu U+0013 read as \u2013, %zu other "
             "control character%s removed (cp1252 damage)", quotes, dashes, removed,
             removed == 1 ? "" : "s");
    return out;
}

bool af_tag_weight_ok(double weight, double max)
{
    return isfinite(weight) && weight >= 0 && weight <= max;
}
