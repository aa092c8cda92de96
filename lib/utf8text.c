/* utf8text.c — invalid UTF-8 made storable; see utf8text.h. */
#include "utf8text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "strbuf.h"

bool af_utf8_valid(const char *text, size_t len)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    utf8proc_int32_t cp;
    for (utf8proc_ssize_t step; len > 0; s += step, len -= (size_t)step)
        if ((step = utf8proc_iterate(s, (utf8proc_ssize_t)len, &cp)) < 0 || cp == 0)
            return false;
    return true;
}

bool af_utf8_is_valid(const char *text) { return af_utf8_valid(text, strlen(text)); }

char *af_utf8_escaped(const char *text)
{
    af_sb b = {0};
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    utf8proc_int32_t cp;
    while (*s) {
        utf8proc_ssize_t step = utf8proc_iterate(s, -1, &cp);
        if (step < 0) {
            af_sb_printf(&b, "\\x%02X", *s);
            s++;
            continue;
        }
        af_sb_printf(&b, "%.*s", (int)step, (const char *)s);
        s += step;
    }
    const char *out = af_sb_str(&b);
    char *copy = out ? strdup(out) : NULL;
    af_sb_free(&b);
    return copy;
}
