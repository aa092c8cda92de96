/* fetch_match.c — search-result matching for af-fetch; see fetch_match.h. */
#include "fetch_match.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "textkey.h"

/* First pass: fold case, width and accents (lib/textkey.c, the same folding as ingest's
 * keys), & -> and, apostrophes dropped, other punctuation and symbols -> space. */
static void fold(const char *in, char *out, size_t len)
{
    size_t w = 0;
    char *folded = af_text_fold(in, AF_TEXT_STRIP_MARKS);
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(folded ? folded : "");
    while (*p && w + 6 < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate(p, -1, &cp);
        if (step <= 0)
            break;
        if (cp < 0x80) {
            if (isalnum(cp))
                out[w++] = (char)cp;
            else if (cp == '&') {
                memcpy(out + w, " and ", 5);
                w += 5;
            } else if (cp == '(' || cp == ')' || cp == '[' || cp == ']')
                out[w++] = (char)cp; /* kept for the bracket pass */
            else if (cp != '\'' && cp != 0x60) /* "don't" = "dont" */
                out[w++] = ' ';
        } else if (cp == 0x2018 || cp == 0x2019) {
            ; /* typographic apostrophes */
        } else {
            utf8proc_category_t c = utf8proc_category(cp);
            if (c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_ZP) {
                out[w++] = ' '; /* punctuation, symbols, separators: dashes, ♫, ... */
            } else if (w + (size_t)step + 1 < len) {
                memcpy(out + w, p, (size_t)step); /* letters and digits of every script */
                w += (size_t)step;
            }
        }
        p += step;
    }
    out[w] = '\0';
    free(folded);
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
    /* The title the providers were searched with: without "(LP Version)" and the like. */
    char search_title[512];
    af_text_search_title(wanted_title, search_title, sizeof search_title);
    double title = af_match_similarity(search_title, found_title);
    double duration = af_match_duration_score(wanted_seconds, found_seconds);
    if (duration < 0)
        return 0.5 * artist + 0.5 * title;
    return 0.45 * artist + 0.45 * title + 0.10 * duration;
}
