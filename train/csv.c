/* csv.c — reading and writing the training data as CSV; see csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

static void put_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

int af_csv_write(FILE *out, const af_dataset *ds, const char *const *feature_names,
                 af_err *err)
{
    fputs("track_id,label,split,artist", out);
    for (int j = 0; j < ds->dim; j++) {
        fputc(',', out);
        if (feature_names)
            put_field(out, feature_names[j]);
        else
            fprintf(out, "f%d", j);
    }
    fputc('\n', out);
    for (size_t i = 0; i < ds->n_windows; i++) {
        size_t t = ds->track[i];
        fprintf(out, "%lld,", (long long)ds->track_id[t]);
        put_field(out, ds->classes[ds->track_class[t]]);
        fprintf(out, ",%s,", af_split_name((enum af_split)ds->track_split[t]));
        if (ds->track_artist[t])
            put_field(out, ds->track_artist[t]);
        const float *row = ds->x + i * (size_t)ds->dim;
        for (int j = 0; j < ds->dim; j++)
            fprintf(out, ",%.9g", (double)row[j]);
        fputc('\n', out);
    }
    if (fflush(out) != 0 || ferror(out))
        return af_err_set(err, "writing CSV: %s", strerror(errno));
    return 0;
}

/* Splits a line in place into fields (quotes removed).  Returns the number of
 * fields, or -1 on an unterminated quote. */
static long split_fields(char *line, char ***fields, size_t *cap)
{
    size_t n = 0;
    char *r = line;
    for (;;) {
        if (n == *cap) {
            size_t c = *cap ? 2 * *cap : 64;
            char **grown = realloc(*fields, c * sizeof *grown);
            if (!grown)
                return -2;
            *fields = grown;
            *cap = c;
        }
        char *w = r;
        (*fields)[n++] = w;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0')
                    return -1;
                if (*r == '"') {
                    if (r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            if (*r != ',' && *r != '\0')
                return -1;
        } else {
            while (*r && *r != ',')
                *w++ = *r++;
        }
        if (*r == '\0') {
            *w = '\0';
            return (long)n;
        }
        *w = '\0';
        r++;
    }
}

static int parse_split(const char *s)
{
    for (int k = 0; k < AF_SPLIT_COUNT; k++)
        if (strcmp(s, af_split_name((enum af_split)k)) == 0)
            return k;
    return -1;
}

/* The columns before the features: track_id,label,split and, when the fourth
 * column is named so, artist. */
static int leading_columns(char **fields, long nf)
{
    if (nf < 4 || strcmp(fields[0], "track_id") != 0 || strcmp(fields[1], "label") != 0 ||
        strcmp(fields[2], "split") != 0)
        return -1;
    int lead = strcmp(fields[3], "artist") == 0 ? 4 : 3;
    return nf > lead ? lead : -1;
}

int af_csv_read_header(FILE *in, const char *name, char ***names, int *n, int *first_column,
                       af_err *err)
{
    char *line = NULL, **fields = NULL;
    size_t line_cap = 0, fields_cap = 0;
    *names = NULL;
    *n = 0;
    int rc = -1, lead = -1;
    ssize_t len = getline(&line, &line_cap, in);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    long nf = len > 0 ? split_fields(line, &fields, &fields_cap) : 0;
    if (len < 0 && !ferror(in)) {
        af_err_set(err, "%s is empty (no header)", name);
    } else if (nf == -2) {
        af_err_set(err, "out of memory");
    } else if ((lead = leading_columns(fields, nf)) < 0) {
        af_err_set(err, "%s: the header must be track_id,label,split[,artist],<feature names> "
                        "(at least one feature)", name);
    } else if (!(*names = calloc((size_t)(nf - lead), sizeof **names))) {
        af_err_set(err, "out of memory");
    } else {
        for (*n = 0; *n < nf - lead; (*n)++)
            if (!((*names)[*n] = strdup(fields[*n + lead])))
                break;
        rc = *n == nf - lead ? 0 : af_err_set(err, "out of memory");
    }
    if (rc != 0) {
        af_csv_free_names(*names, *n);
        *names = NULL;
        *n = 0;
    } else if (first_column) {
        *first_column = lead + 1;
    }
    free(fields);
    free(line);
    return rc;
}

void af_csv_free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static bool same_artist(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

int af_csv_read(FILE *in, const char *name, af_dataset *ds, af_err *err)
{
    char *line = NULL, **fields = NULL, **names = NULL;
    size_t line_cap = 0, fields_cap = 0, *per_track = NULL, per_track_cap = 0;
    float *row = NULL;
    int dim = 0, lead = 0;
    long line_no = 1;
    int rc = -1;
    bool have_ds = false;
    ssize_t len;
    memset(ds, 0, sizeof *ds);
    if (af_csv_read_header(in, name, &names, &dim, &lead, err) != 0)
        return -1;
    lead--; /* fields before the first feature */
    if (af_dataset_init(ds, dim, 0, err) != 0)
        goto out;
    have_ds = true;
    if (!(row = malloc((size_t)dim * sizeof *row))) {
        af_err_set(err, "out of memory");
        goto out;
    }
    while ((len = getline(&line, &line_cap, in)) >= 0) {
        line_no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue; /* a trailing empty line */
        long nf = split_fields(line, &fields, &fields_cap);
        if (nf == -2) {
            af_err_set(err, "out of memory");
            goto out;
        }
        if (nf < 0) {
            af_err_set(err, "%s line %ld: unterminated quoted field", name, line_no);
            goto out;
        }
        if (nf != dim + lead) {
            af_err_set(err, "%s line %ld: %ld features, the header has %d (mismatched dimensions)",
                       name, line_no, nf - lead, dim);
            goto out;
        }
        char *end;
        errno = 0;
        long long id = strtoll(fields[0], &end, 10);
        if (!fields[0][0] || *end || errno) {
            af_err_set(err, "%s line %ld: track_id '%.40s' is not an integer", name, line_no,
                       fields[0]);
            goto out;
        }
        int split = parse_split(fields[2]);
        if (split < 0) {
            af_err_set(err, "%s line %ld: split '%.40s' is not train, val or test", name, line_no,
                       fields[2]);
            goto out;
        }
        for (long j = lead; j < nf; j++) {
            row[j - lead] = strtof(fields[j], &end);
            if (!fields[j][0] || *end) {
                af_err_set(err, "%s line %ld: %s '%.40s' is not a number", name, line_no,
                           names[j - lead], fields[j]);
                goto out;
            }
        }
        const char *artist = lead == 4 && fields[3][0] ? fields[3] : NULL;
        int cls = af_dataset_class(ds, fields[1], err);
        if (cls < 0) {
            af_err_prefix(err, "%s line %ld", name, line_no);
            goto out;
        }
        long t = af_dataset_find_track(ds, id);
        if (t < 0) {
            size_t idx;
            if (af_dataset_add_track(ds, id, cls, split, -1, &idx, err) != 0 ||
                af_dataset_set_artist(ds, idx, artist, err) != 0) {
                af_err_prefix(err, "%s line %ld", name, line_no);
                goto out;
            }
            t = (long)idx;
            if (idx >= per_track_cap) {
                size_t c = per_track_cap ? 2 * per_track_cap : 256;
                size_t *grown = realloc(per_track, c * sizeof *grown);
                if (!grown) {
                    af_err_set(err, "out of memory");
                    goto out;
                }
                memset(grown + per_track_cap, 0, (c - per_track_cap) * sizeof *grown);
                per_track = grown;
                per_track_cap = c;
            }
        } else if (ds->track_class[t] != cls || ds->track_split[t] != split ||
                   !same_artist(ds->track_artist[t], artist)) {
            af_err_set(err, "%s line %ld: track %lld has another label, split or artist than on "
                            "its earlier lines", name, line_no, id);
            goto out;
        }
        if (af_dataset_add_window(ds, (size_t)t, row, (long)per_track[t]++, NULL, err) != 0) {
            af_err_prefix(err, "%s line %ld", name, line_no);
            goto out;
        }
    }
    if (ferror(in)) {
        af_err_set(err, "reading %s: %s", name, strerror(errno));
        goto out;
    }
    rc = af_dataset_finish(ds, err);
out:
    if (rc != 0 && have_ds)
        af_dataset_free(ds);
    af_csv_free_names(names, dim);
    free(line);
    free(fields);
    free(row);
    free(per_track);
    return rc;
}
