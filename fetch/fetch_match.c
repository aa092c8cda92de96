/* fetch_match.c — search-result matching for af-fetch; see fetch_match.h. */
#include "fetch_match.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ASCII for U+00C0..U+00FF; 0 = drop. */
static const char latin1_fold[64][3] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};

/* First pass: fold case and accents, & → and, punctuation → space. */
static void fold(const char *in, char *out, size_t len)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p && w + 4 < len) {
        if (*p < 0x80) {
            if (isalnum(*p))
                out[w++] = (char)tolower(*p);
            else if (*p == '&' && w + 6 < len) {
                memcpy(out + w, " and ", 5);
                w += 5;
            } else if (*p == '(' || *p == ')' || *p == '[' || *p == ']')
                out[w++] = (char)*p; /* kept for the bracket pass */
            else if (*p == '\'' || *p == 0x60)
                ; /* "don't" = "dont" */
            else
                out[w++] = ' ';
            p++;
        } else if ((*p == 0xC3) && (p[1] & 0xC0) == 0x80) {
            /* U+00C0..U+00FF is C3 80..C3 BF */
            const char *f = latin1_fold[(p[1] - 0x80) & 63];
            for (; *f && w + 1 < len; f++)
                out[w++] = *f;
            p += 2;
        } else if (*p == 0xE2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99)) {
            p += 3; /* typographic apostrophes */
        } else if (*p == 0xE2 && p[1] == 0x80 && (p[2] >= 0x90 && p[2] <= 0x95)) {
            out[w++] = ' '; /* dashes */
            p += 3;
        } else {
            out[w++] = (char)*p++; /* other scripts: bytes as they are */
        }
    }
    out[w] = '\0';
}

static int is_word_at(const char *s, size_t i, const char *word)
{
    size_t n = strlen(word);
    return (i == 0 || s[i - 1] == ' ' || s[i - 1] == '(' || s[i - 1] == '[') &&
           strncmp(s + i, word, n) == 0 && (s[i + n] == ' ' || s[i + n] == '\0');
}

void af_match_normalise(const char *text, char *out, size_t len)
{
    if (len == 0)
        return;
    char *folded = malloc(len), *tmp = malloc(len);
    if (!folded || !tmp) {
        free(folded);
        free(tmp);
        out[0] = '\0';
        return;
    }
    /* " - Remastered 2011", " - Live", " - Radio Edit": cut at " - " before folding. */
    const char *dash = strstr(text, " - ");
    size_t keep = dash ? (size_t)(dash - text) : strlen(text);
    char *head = strndup(text, keep);
    fold(head ? head : text, folded, len);
    free(head);
    /* Drop bracketed parts and everything from "feat"/"ft"/"featuring" on. */
    size_t w = 0;
    int depth = 0;
    for (size_t i = 0; folded[i]; i++) {
        char c = folded[i];
        if (c == '(' || c == '[') {
            depth++;
            continue;
        }
        if (c == ')' || c == ']') {
            if (depth)
                depth--;
            tmp[w++] = ' ';
            continue;
        }
        if (depth)
            continue;
        if (is_word_at(folded, i, "feat") || is_word_at(folded, i, "ft") ||
            is_word_at(folded, i, "featuring"))
            break;
        tmp[w++] = c;
    }
    tmp[w] = '\0';
    /* Collapse spaces, drop a leading "the ". */
    w = 0;
    const char *p = tmp;
    while (*p == ' ')
        p++;
    if (strncmp(p, "the ", 4) == 0 && p[4])
        p += 4;
    for (; *p; p++) {
        if (*p == ' ' && (w == 0 || out[w - 1] == ' '))
            continue;
        if (w + 1 < len)
            out[w++] = *p;
    }
    while (w > 0 && out[w - 1] == ' ')
        w--;
    out[w] = '\0';
    /* Text that was only brackets or punctuation: keep its folded form. */
    if (w == 0) {
        fold(text, out, len);
    }
    free(folded);
    free(tmp);
}

static double levenshtein_ratio(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n == 0 && m == 0)
        return 1;
    if (n == 0 || m == 0)
        return 0;
    size_t *row = malloc((m + 1) * sizeof *row);
    if (!row)
        return 0;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t distance = row[m];
    free(row);
    return 1.0 - (double)distance / (double)(n > m ? n : m);
}

/* Share of the shorter text's words found in the longer one, scaled so that a
 * complete containment of a shorter text scores 0.9 (not a perfect match). */
static double token_overlap(const char *a, const char *b)
{
    const char *shorter = strlen(a) <= strlen(b) ? a : b;
    const char *longer = shorter == a ? b : a;
    int words = 0, found = 0;
    const char *p = shorter;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " ");
        words++;
        for (const char *q = longer; *q;) {
            while (*q == ' ')
                q++;
            size_t k = strcspn(q, " ");
            if (k == n && strncmp(p, q, n) == 0) {
                found++;
                break;
            }
            q += k;
        }
        p += n;
    }
    return words == 0 ? 0 : 0.9 * found / words;
}

double af_match_similarity(const char *a, const char *b)
{
    char na[512], nb[512];
    af_match_normalise(a ? a : "", na, sizeof na);
    af_match_normalise(b ? b : "", nb, sizeof nb);
    if (!na[0] || !nb[0])
        return 0;
    if (strcmp(na, nb) == 0)
        return 1;
    double lev = levenshtein_ratio(na, nb), tok = token_overlap(na, nb);
    return lev > tok ? lev : tok;
}

double af_match_duration_score(double wanted, double found)
{
    if (wanted <= 0 || found <= 0)
        return -1;
    double diff = fabs(wanted - found);
    if (diff <= 3)
        return 1;
    if (diff >= 30)
        return 0;
    return 1 - (diff - 3) / 27;
}

double af_match_score(const char *wanted_artist, const char *wanted_title, double wanted_seconds,
                      const char *found_artists, const char *found_title, double found_seconds)
{
    const char *artists = found_artists ? found_artists : "";
    double artist = 0;
    char joined[512];
    size_t w = 0;
    for (const char *p = artists; *p;) {
        size_t n = strcspn(p, "\n");
        char one[256];
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        double s = af_match_similarity(wanted_artist, one);
        if (s > artist)
            artist = s;
        if (w + n + 2 < sizeof joined) {
            if (w)
                joined[w++] = ' ';
            memcpy(joined + w, p, n);
            w += n;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    joined[w] = '\0';
    if (strchr(artists, '\n')) {
        double s = af_match_similarity(wanted_artist, joined);
        if (s > artist)
            artist = s;
    }
    double title = af_match_similarity(wanted_title, found_title);
    double duration = af_match_duration_score(wanted_seconds, found_seconds);
    if (duration < 0)
        return 0.5 * artist + 0.5 * title;
    return 0.45 * artist + 0.45 * title + 0.10 * duration;
}
