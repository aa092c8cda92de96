/* textkey.c — Unicode folding (utf8proc), comparison keys and search titles; see textkey.h. */
#include "textkey.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

static bool is_ascii(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p >= 0x80)
            return false;
    return true;
}

/* Case folding leaves a few letters that ICU's lower(upper(x)) — the SQL side — maps
 * further: the dotless ı (-> i) and Cherokee (folded to capitals, lowered by ICU).
 * Each code point goes through upper then lower case as well, and a change is
 * normalised again (a letter that had no precomposed capital recomposes). */
static char *agree_with_icu(utf8proc_uint8_t *folded, utf8proc_option_t options)
{
    utf8proc_ssize_t len = (utf8proc_ssize_t)strlen((char *)folded);
    utf8proc_int32_t *cps = malloc(((size_t)len + 1) * sizeof *cps);
    if (!cps) {
        free(folded);
        return NULL;
    }
    utf8proc_ssize_t n = 0, changed = 0;
    for (utf8proc_ssize_t off = 0; off < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(folded + off, len - off, &cp);
        if (step <= 0)
            break;
        utf8proc_int32_t mapped = utf8proc_tolower(utf8proc_toupper(cp));
        changed |= mapped != cp;
        cps[n++] = mapped;
        off += step;
    }
    if (!changed) {
        free(cps);
        return (char *)folded;
    }
    free(folded);
    utf8proc_uint8_t *out = NULL;
    if (utf8proc_reencode(cps, n, 0) < 0 ||
        utf8proc_map((const utf8proc_uint8_t *)cps, 0, &out, options & ~UTF8PROC_CASEFOLD) < 0) {
        free(cps);
        return NULL;
    }
    free(cps);
    return (char *)out;
}

char *af_text_fold(const char *text, int flags)
{
    if (!text)
        return NULL;
    if (is_ascii(text)) { /* NFKC leaves ASCII alone; folding is then tolower (the bulk of data) */
        char *out = strdup(text);
        for (char *p = out; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        return out;
    }
    utf8proc_option_t options = UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT |
                                UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
    if (flags & AF_TEXT_STRIP_MARKS)
        options |= UTF8PROC_STRIPMARK;
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, 0, &out, options);
    if (n >= 0)
        return agree_with_icu(out, options);
    if (n == UTF8PROC_ERROR_NOMEM)
        return NULL;
    /* Not valid UTF-8: ASCII folded, other bytes dropped (input is checked upstream). */
    char *ascii = malloc(strlen(text) + 1), *w = ascii;
    if (!ascii)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x80)
            *w++ = (char)tolower(*p);
    *w = '\0';
    return ascii;
}

/* Letters and decimal digits: what ICU's u_isalnum() (PostgreSQL's [[:alnum:]]
 * under an ICU collation) keeps, so that the SQL key agrees. */
static bool key_char(utf8proc_int32_t cp)
{
    if (cp < 0x80)
        return isalnum(cp);
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || c == UTF8PROC_CATEGORY_ND;
}

size_t af_text_key(const char *text, char *out, size_t out_len)
{
    if (out_len == 0)
        return 0;
    out[0] = '\0';
    char *folded = af_text_fold(text, 0);
    if (!folded)
        return 0;
    size_t n = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)folded;
    for (;;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(p, -1, &cp);
        if (step <= 0 || cp == 0)
            break;
        if (key_char(cp)) {
            if (n + (size_t)step + 1 > out_len)
                break; /* full: never half a character */
            memcpy(out + n, p, (size_t)step);
            n += (size_t)step;
        }
        p += step;
    }
    out[n] = '\0';
    free(folded);
    return n;
}

/* ---- search titles ---- */

/* Words that name a version or release of a song, not the song. */
static const char *const version_words[] = {
    "version", "live", "remaster", "remastered", "remasterd", "edit", "mono", "stereo",
    "explicit", "clean", "demo", "bonus", "reissue", "digitally", "lp", NULL};

static bool names_a_version(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && !isalnum((unsigned char)s[i]))
            i++;
        size_t start = i;
        while (i < len && isalnum((unsigned char)s[i]))
            i++;
        size_t n = i - start;
        for (int w = 0; n && version_words[w]; w++)
            if (strlen(version_words[w]) == n && strncasecmp(s + start, version_words[w], n) == 0)
                return true;
    }
    return false;
}

static size_t trim_end(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

/* Length of s[0..n) without one trailing version suffix, or n when there is none. */
static size_t without_version_suffix(const char *s, size_t n)
{
    n = trim_end(s, n);
    if (n == 0)
        return 0;
    char close = s[n - 1];
    if (close == ')' || close == ']') {
        char open = close == ')' ? '(' : '[';
        int depth = 0;
        for (size_t i = n; i-- > 0;) {
            if (s[i] == close)
                depth++;
            else if (s[i] == open && --depth == 0)
                return i > 0 && names_a_version(s + i + 1, n - i - 2) ? trim_end(s, i) : n;
        }
        return n;
    }
    /* "Title - Remastered 2011": the last " - " whose tail names a version. */
    for (size_t i = n; i-- > 2;)
        if (s[i - 2] == ' ' && s[i - 1] == '-' && s[i] == ' ')
            return i > 2 && names_a_version(s + i + 1, n - i - 1) ? trim_end(s, i - 2) : n;
    return n;
}

size_t af_text_search_title(const char *title, char *out, size_t out_len)
{
    if (out_len == 0)
        return 0;
    size_t n = 0;
    for (const char *p = title ? title : ""; *p && n + 1 < out_len; p++)
        out[n++] = *p == '_' ? ',' : *p;
    /* Do not cut inside a UTF-8 character when the title did not fit. */
    if (title && title[n] && ((unsigned char)title[n] & 0xC0) == 0x80) {
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--;
    }
    out[n] = '\0';
    for (;;) {
        size_t shorter = without_version_suffix(out, n);
        if (shorter == 0 || shorter == trim_end(out, n))
            break;
        n = shorter;
        out[n] = '\0';
    }
    n = trim_end(out, n);
    out[n] = '\0';
    return n;
}
