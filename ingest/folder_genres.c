/* folder_genres.c — folder labels the taxonomy does not know: warn, or add them; see folder_genres.h. */
#include "folder_genres.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "normalise.h"

void folder_labels_add(struct folder_labels *labels, const char *label)
{
    if (!label)
        return;
    for (int i = 0; i < labels->n; i++)
        if (strcmp(labels->items[i].label, label) == 0) {
            labels->items[i].files++;
            return;
        }
    labels->items = realloc(labels->items, (size_t)(labels->n + 1) * sizeof *labels->items);
    if (!labels->items)
        abort();
    labels->items[labels->n].label = strdup(label);
    if (!labels->items[labels->n].label)
        abort();
    labels->items[labels->n++].files = 1;
}

void folder_labels_free(struct folder_labels *labels)
{
    for (int i = 0; i < labels->n; i++)
        free(labels->items[i].label);
    free(labels->items);
    labels->items = NULL;
    labels->n = 0;
}

static bool known(const struct af_taxonomy *tax, const char *label)
{
    char key[512];
    if (af_norm_key(label, key, sizeof key) == 0)
        return false;
    for (int g = 0; g < tax->n_genres; g++)
        for (int t = 0; t < tax->genres[g].n_tags; t++)
            if (strcmp(tax->genres[g].tags[t].key, key) == 0)
                return true;
    return false;
}

/* The genre name for a folder name ("Hip-Hop" -> "hip_hop"); false when it cannot be one
 * (no ASCII letter or digit, or characters inih would read otherwise). */
static bool genre_name(const char *label, char *out, size_t len)
{
    if (strpbrk(label, "=:;#[]\n\r"))
        return false;
    size_t n = 0;
    bool letters = false;
    for (const unsigned char *s = (const unsigned char *)label; *s && n + 1 < len; s++) {
        if (*s >= 0x80)
            return false;
        if (isalnum(*s)) {
            out[n++] = (char)tolower(*s);
            letters = true;
        } else if (n > 0 && out[n - 1] != '_') {
            out[n++] = '_';
        }
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    return letters;
}

static int append_genres(const struct folder_labels *labels, const struct af_taxonomy *tax,
                         af_err *err)
{
    FILE *f = fopen(tax->path, "a");
    if (!f)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: cannot add the folder genres: %s",
                               tax->path, strerror(errno));
    fprintf(f, "\n; Added by af-ingest dir --add-folder-genres: folder names as genres.\n");
    for (int i = 0; i < labels->n; i++) {
        const char *label = labels->items[i].label;
        char name[128];
        if (known(tax, label))
            continue;
        if (!genre_name(label, name, sizeof name)) {
            log_warn("folder '%s' cannot become a genre name (lower-case ASCII letters, digits, "
                     "'_'): add it to %s by hand", label, tax->path);
            continue;
        }
        fprintf(f, "[%s]\n%s = 1\n", name, label);
        log_info("%s: added the genre [%s] (tag '%s', %ld file(s))", tax->path, name, label,
                 labels->items[i].files);
    }
    if (fclose(f) != 0)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: cannot add the folder genres: %s",
                               tax->path, strerror(errno));
    return 0;
}

int folder_genres_check(const struct folder_labels *labels, const struct af_taxonomy *tax,
                        bool add, int *unknown, af_err *err)
{
    char list[2048] = "";
    size_t used = 0;
    long files = 0;
    *unknown = 0;
    for (int i = 0; i < labels->n; i++) {
        if (known(tax, labels->items[i].label))
            continue;
        (*unknown)++;
        files += labels->items[i].files;
        if (used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s (%ld file%s)",
                                     used ? ", " : "", labels->items[i].label,
                                     labels->items[i].files, labels->items[i].files == 1 ? "" : "s");
    }
    if (*unknown == 0)
        return 0;
    if (add)
        return append_genres(labels, tax, err);
    log_warn("%d folder name(s) are no genre of the taxonomy %s: %s. Their %ld file(s) get no "
             "label at `af-ingest label`; run again with --add-folder-genres to take these "
             "folder names as genres, or add them to the taxonomy", *unknown, tax->path, list,
             files);
    return 0;
}
