/* taxonomy.c — parses config/genres.conf (inih) and registers taxonomy versions; see taxonomy.h. */
#include "taxonomy.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "normalise.h"
#include "paths.h"

#define KEY_MAX 512

const char *af_taxonomy_default_path(const char *flag, const char *configured)
{
    if (flag && *flag)
        return flag;
    if (configured && *configured)
        return configured;
    const char *found = af_paths_config_file("genres.conf");
    if (found)
        return found;
    /* None readable: the path named in the error is where it belongs. */
    static char expected[4200];
    if (af_paths_in_tree())
        snprintf(expected, sizeof expected, "%s/config/genres.conf", af_paths_project());
    else
        snprintf(expected, sizeof expected, "%s/genres.conf", af_paths_sysconfdir());
    return expected;
}

struct parse_state {
    struct af_taxonomy *tax;
    char why[700]; /* the first problem; inih reports its line */
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();
    return q;
}

static int valid_genre_name(const char *name)
{
    if (!*name || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    return 1;
}

static struct af_genre *find_genre(struct af_taxonomy *tax, const char *name)
{
    for (int i = 0; i < tax->n_genres; i++)
        if (strcmp(tax->genres[i].name, name) == 0)
            return &tax->genres[i];
    return NULL;
}

static int fail(struct parse_state *st, const char *fmt, const char *a, const char *b)
{
    if (!st->why[0])
        snprintf(st->why, sizeof st->why, fmt, a, b);
    return 0;
}

static void add_seeds(struct af_genre *g, const char *value)
{
    char *copy = xstrdup(value), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (!*tok)
            continue;
        g->seeds = xrealloc(g->seeds, (size_t)(g->n_seeds + 1) * sizeof *g->seeds);
        g->seeds[g->n_seeds++] = xstrdup(tok);
    }
    free(copy);
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    if (!*section)
        return fail(st, "key '%s' outside a [genre] section%s", name ? name : "", "");
    if (!valid_genre_name(section))
        return fail(st, "genre name [%s] must be lower-case letters, digits or '_'%s", section, "");
    struct af_genre *g = find_genre(st->tax, section);
    if (!g) {
        st->tax->genres = xrealloc(st->tax->genres,
                                   (size_t)(st->tax->n_genres + 1) * sizeof *st->tax->genres);
        g = &st->tax->genres[st->tax->n_genres++];
        memset(g, 0, sizeof *g);
        g->name = xstrdup(section);
    }
    if (strcmp(name, "seeds") == 0) {
        add_seeds(g, value);
        return 1;
    }
    char key[KEY_MAX];
    if (af_norm_key(name, key, sizeof key) == 0)
        return fail(st, "tag '%s' in [%s] has no letters or digits", name, section);
    if (!*value)
        return fail(st, "tag '%s' in [%s] has no weight", name, section);
    errno = 0;
    char *end;
    double w = strtod(value, &end);
    while (*end && isspace((unsigned char)*end))
        end++;
    if (errno || *end || !isfinite(w) || w <= 0 || w > 1000)
        return fail(st, "tag '%s': weight '%s' is not a number in (0, 1000]", name, value);
    for (int i = 0; i < g->n_tags; i++)
        if (strcmp(g->tags[i].key, key) == 0)
            return fail(st, "tag '%s' repeats '%s' in the same genre (tags match whatever their "
                            "case, spaces and punctuation)", name, g->tags[i].tag);
    g->tags = xrealloc(g->tags, (size_t)(g->n_tags + 1) * sizeof *g->tags);
    g->tags[g->n_tags].tag = xstrdup(name);
    g->tags[g->n_tags].key = xstrdup(key);
    g->tags[g->n_tags].weight = w;
    g->n_tags++;
    return 1;
}

static int compare_tag_keys(const void *a, const void *b)
{
    return strcmp(((const struct af_genre_tag *)a)->key, ((const struct af_genre_tag *)b)->key);
}

static int compare_genres(const void *a, const void *b)
{
    return strcmp(((const struct af_genre *)a)->name, ((const struct af_genre *)b)->name);
}

/* The canonical form: "genre<TAB>tagkey<TAB>weight\n", sorted; seeds do not change labels. */
static void compute_checksum(struct af_taxonomy *tax)
{
    struct af_buf buf = {0};
    for (int i = 0; i < tax->n_genres; i++) {
        struct af_genre *g = &tax->genres[i];
        for (int j = 0; j < g->n_tags; j++) {
            char line[KEY_MAX + 128];
            int n = snprintf(line, sizeof line, "%s\t%s\t%.6g\n", g->name, g->tags[j].key,
                             g->tags[j].weight);
            af_buf_append(&buf, line, (size_t)n);
        }
    }
    struct AVSHA *sha = av_sha_alloc();
    uint8_t digest[32];
    if (!sha)
        abort();
    av_sha_init(sha, 256);
    av_sha_update(sha, (const uint8_t *)(buf.data ? buf.data : ""), buf.len);
    av_sha_final(sha, digest);
    av_free(sha);
    for (int i = 0; i < 32; i++)
        snprintf(tax->checksum + 2 * i, 3, "%02x", digest[i]);
    af_buf_free(&buf);
}

struct af_taxonomy *af_taxonomy_load(const char *path, af_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        af_err_set_code(err, AF_EXIT_USAGE, "%s: cannot open the genre taxonomy: %s", path,
                        strerror(errno));
        return NULL;
    }
    struct af_taxonomy *tax = calloc(1, sizeof *tax);
    if (!tax)
        abort();
    tax->path = xstrdup(path);
    struct parse_state st = {.tax = tax};
    int rc = ini_parse_file(f, on_entry, &st);
    fclose(f);
    if (rc != 0) {
        af_err_set_code(err, AF_EXIT_USAGE, "%s:%d: %s", path, rc,
                        st.why[0] ? st.why
                                  : "cannot parse this line (expected '[genre]', "
                                    "'tag = weight' or 'seeds = tag, tag')");
        af_taxonomy_free(tax);
        return NULL;
    }
    if (tax->n_genres == 0) {
        af_err_set_code(err, AF_EXIT_USAGE, "%s: no genres defined", path);
        af_taxonomy_free(tax);
        return NULL;
    }
    for (int i = 0; i < tax->n_genres; i++) {
        struct af_genre *g = &tax->genres[i];
        if (g->n_tags == 0) {
            af_err_set_code(err, AF_EXIT_USAGE, "%s: genre [%s] has no tags", path, g->name);
            af_taxonomy_free(tax);
            return NULL;
        }
        if (g->n_seeds == 0) { /* default seeds: the tags of the highest weight */
            double top = 0;
            for (int j = 0; j < g->n_tags; j++)
                top = fmax(top, g->tags[j].weight);
            for (int j = 0; j < g->n_tags; j++)
                if (g->tags[j].weight == top)
                    add_seeds(g, g->tags[j].tag);
        }
        qsort(g->tags, (size_t)g->n_tags, sizeof *g->tags, compare_tag_keys);
    }
    qsort(tax->genres, (size_t)tax->n_genres, sizeof *tax->genres, compare_genres);
    compute_checksum(tax);
    return tax;
}

void af_taxonomy_free(struct af_taxonomy *tax)
{
    if (!tax)
        return;
    for (int i = 0; i < tax->n_genres; i++) {
        struct af_genre *g = &tax->genres[i];
        for (int j = 0; j < g->n_tags; j++) {
            free(g->tags[j].tag);
            free(g->tags[j].key);
        }
        for (int j = 0; j < g->n_seeds; j++)
            free(g->seeds[j]);
        free(g->tags);
        free(g->seeds);
        free(g->name);
    }
    free(tax->genres);
    free(tax->path);
    free(tax);
}

int af_taxonomy_register(PGconn *conn, const struct af_taxonomy *tax, int *version, af_err *err)
{
    if (af_db_begin(conn, err) != 0)
        return -1;
    /* Serialises concurrent registrations of the same taxonomy. */
    const char *lock_params[] = {tax->checksum};
    if (af_db_command(conn, "SELECT pg_advisory_xact_lock(hashtext('audiofiler:taxonomy:' || $1))",
                      1, lock_params, err) != 0)
        goto fail;
    const char *p1[] = {tax->checksum};
    PGresult *res = af_db_query(conn,
                                "SELECT taxonomy_version FROM taxonomy_versions WHERE checksum = $1",
                                1, p1, err);
    if (!res)
        goto fail;
    if (PQntuples(res) == 1) {
        *version = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
        return af_db_commit(conn, err);
    }
    PQclear(res);
    const char *p2[] = {tax->checksum, tax->path};
    res = af_db_query(conn,
                      "INSERT INTO taxonomy_versions (checksum, source_file) VALUES ($1, $2)"
                      " RETURNING taxonomy_version", 2, p2, err);
    if (!res)
        goto fail;
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", *version);
    for (int i = 0; i < tax->n_genres; i++) {
        const struct af_genre *g = &tax->genres[i];
        const char *pg[] = {g->name};
        if (af_db_command(conn, "INSERT INTO genres (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                          1, pg, err) != 0)
            goto fail;
        for (int j = 0; j < g->n_tags; j++) {
            char wtext[32];
            snprintf(wtext, sizeof wtext, "%.6g", g->tags[j].weight);
            const char *pt[] = {vtext, g->name, g->tags[j].key, wtext};
            if (af_db_command(conn,
                              "INSERT INTO genre_tags (taxonomy_version, genre_id, tag_key, weight)"
                              " SELECT $1, genre_id, $3, $4 FROM genres WHERE name = $2",
                              4, pt, err) != 0)
                goto fail;
        }
    }
    return af_db_commit(conn, err);
fail:
    af_db_rollback(conn);
    return af_err_prefix(err, "registering the taxonomy %s", tax->path);
}
