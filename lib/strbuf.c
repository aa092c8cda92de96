/* strbuf.c — growable strings; see strbuf.h. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(af_sb *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void af_sb_printf(af_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void af_sb_puts(af_sb *b, const char *s)
{
    size_t n = strlen(s);
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

void af_sb_html(af_sb *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': af_sb_puts(b, "&amp;"); break;
        case '<': af_sb_puts(b, "&lt;"); break;
        case '>': af_sb_puts(b, "&gt;"); break;
        case '"': af_sb_puts(b, "&quot;"); break;
        case '\'': af_sb_puts(b, "&#39;"); break;
        default: {
            char c[2] = {*s, '\0'};
            af_sb_puts(b, c);
        }
        }
    }
}

bool af_sb_ok(const af_sb *b) { return !b->failed; }

const char *af_sb_str(af_sb *b)
{
    if (b->failed)
        return NULL;
    if (!b->s && !reserve(b, 0))
        return NULL;
    b->s[b->len] = '\0';
    return b->s;
}

void af_sb_free(af_sb *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
