/* folder_names.c — display forms of raw file names, placeholder tags, artist from path; see folder_names.h. */
#include "folder_names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "normalise.h"
#include "utf8text.h"

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
             : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '\0')
            return 0;
    return n && af_utf8_valid((const char *)s, n) ? n : 0;
}

unsigned folder_display_name(const char *name, char *out, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t used = 0;
    unsigned escaped = 0;
    if (len == 0)
        return 0;
    while (*s) {
        size_t n = utf8_sequence(s);
        char esc[5];
        const char *piece = (const char *)s;
        size_t piece_len = n;
        if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7F))) {
            snprintf(esc, sizeof esc, "\\x%02X", *s);
            piece = esc;
            piece_len = 4;
            escaped |= n == 0 ? FOLDER_NAME_NOT_UTF8 : FOLDER_NAME_CONTROL;
            n = 1;
        }
        if (used + piece_len >= len)
            break;
        memcpy(out + used, piece, piece_len);
        used += piece_len;
        s += n;
    }
    out[used] = '\0';
    return escaped;
}

/* The key of text with its trailing digits dropped ("Track 07" -> "track"). */
static size_t key_without_number(const char *text, char *key, size_t len)
{
    size_t n = af_norm_key(text, key, len);
    while (n > 0 && isdigit((unsigned char)key[n - 1]))
        key[--n] = '\0';
    return n;
}

static bool in_list(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0)
            return true;
    return false;
}

bool folder_placeholder_artist(const char *artist)
{
    static const char *const names[] = {"", "unknown", "unknownartist", "artist", "noartist",
                                        "variousartists", "various", "va", "none", "na",
                                        "anonymous", "untitled", NULL};
    char key[256];
    if (!artist)
        return true;
    key_without_number(artist, key, sizeof key);
    return in_list(key, names);
}

bool folder_placeholder_title(const char *title)
{
    static const char *const names[] = {"", "track", "audiotrack", "piste", "pista", "titel",
                                        "title", "notitle", "untitled", "unknown",
                                        "unknowntitle", "unknowntrack", "none", "na", NULL};
    char key[256];
    if (!title)
        return true;
    size_t with_number = af_norm_key(title, key, sizeof key);
    if (key_without_number(title, key, sizeof key) == 0 && with_number > 3)
        return false; /* "1999" is a song; "03" a track number */
    return in_list(key, names);
}

int folder_artist_pattern_compile(struct artist_pattern *p, const char *pattern, af_err *err)
{
    static const char marker[] = "{artist}";
    memset(p, 0, sizeof *p);
    const char *at = strstr(pattern, marker);
    if (!at || strstr(at + 1, marker))
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "--artist-from-path '%s': the pattern needs '{artist}' exactly "
                               "once (e.g. '*/{artist}/*')", pattern);
    if (strlen(pattern) > 1024)
        return af_err_set_code(err, AF_EXIT_USAGE, "--artist-from-path: the pattern is too long");
    p->pattern = strdup(pattern);
    if (!p->pattern)
        abort();
    return 0;
}

/* The length of the character at s (a UTF-8 sequence, or one byte of an invalid one). */
static size_t char_length(const char *s)
{
    size_t n = utf8_sequence((const unsigned char *)s);
    return n ? n : 1;
}

struct capture {
    const char *start, *end;
};

/* Matches pattern against the whole of s, backtracking: '*' and '**' try their longest
 * run first, '{artist}' its shortest; *cap is where '{artist}' matched. */
static bool glob_match(const char *pat, const char *s, struct capture *cap)
{
    static const char marker[] = "{artist}";
    if (*pat == '\0')
        return *s == '\0';
    if (pat[0] == '*') {
        bool across = pat[1] == '*';
        size_t n = across ? strlen(s) : strcspn(s, "/");
        for (size_t i = n + 1; i-- > 0;)
            if (glob_match(pat + (across ? 2 : 1), s + i, cap))
                return true;
        return false;
    }
    if (strncmp(pat, marker, sizeof marker - 1) == 0) {
        size_t n = strcspn(s, "/");
        for (size_t i = 1; i <= n; i++)
            if (glob_match(pat + sizeof marker - 1, s + i, cap)) {
                *cap = (struct capture){s, s + i};
                return true;
            }
        return false;
    }
    if (pat[0] == '?')
        return *s && *s != '/' && glob_match(pat + 1, s + char_length(s), cap);
    return *s == *pat && glob_match(pat + 1, s + 1, cap);
}

const char *folder_artist_from_path(const struct artist_pattern *p, const char *relative,
                                    char *out, size_t len)
{
    struct capture cap = {NULL, NULL};
    if (!p || !p->pattern || !glob_match(p->pattern, relative, &cap) || !cap.start)
        return NULL;
    const char *start = cap.start, *end = cap.end;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    if (start == end)
        return NULL;
    snprintf(out, len, "%.*s", (int)(end - start), start);
    return folder_placeholder_artist(out) ? NULL : out; /* an "Unknown Artist" folder */
}

void folder_artist_pattern_free(struct artist_pattern *p)
{
    free(p->pattern);
    p->pattern = NULL;
}
