/* utf8text.c — invalid UTF-8 made storable; see utf8text.h. */
#include "utf8text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "strbuf.h"

bool af_utf8_is_valid(const char *text)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    utf8proc_int32_t cp;
    for (utf8proc_ssize_t step; *s; s += step)
        if ((step = utf8proc_iterate(s, -1, &cp)) < 0)
            return false;
    return true;
}

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
