/* table.c — aligned plain-text tables; see table.h. */
#include "table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct af_table {
    int n_columns, n_rows, cap_rows;
    char **cells; /* n_rows x n_columns, row 0 = headers */
};

struct af_table *af_table_new(int n_columns, const char *const *headers)
{
    struct af_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n_columns = n_columns;
    af_table_add(t, headers);
    return t;
}

/* A cell as it is printed: control characters escaped as in log lines, so that a
 * name holding a newline (stored before names were checked, or from another
 * program) cannot break the table into rows that are not rows. */
static char *cell_copy(const char *text)
{
    size_t size = 4 * strlen(text) + 1; /* every byte at most \xHH */
    char *cell = malloc(size);
    if (cell)
        af_log_escape(text, cell, size);
    return cell;
}

void af_table_add(struct af_table *t, const char *const *cells)
{
    if (!t)
        return;
    if (t->n_rows == t->cap_rows) {
        int cap = t->cap_rows ? 2 * t->cap_rows : 16;
        char **grown = realloc(t->cells, (size_t)cap * t->n_columns * sizeof *grown);
        if (!grown)
            return;
        t->cells = grown;
        t->cap_rows = cap;
    }
    for (int c = 0; c < t->n_columns; c++)
        t->cells[t->n_rows * t->n_columns + c] = cell_copy(cells[c] ? cells[c] : "");
    t->n_rows++;
}

void af_table_addf(struct af_table *t, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const char *cells[64] = {0};
    char *save = NULL, *cell = strtok_r(line, "\t", &save);
    for (int c = 0; c < t->n_columns && c < 64; c++) {
        cells[c] = cell ? cell : "";
        cell = strtok_r(NULL, "\t", &save);
    }
    af_table_add(t, cells);
}

struct af_table *af_table_from_result(const PGresult *res, const char *const *headers)
{
    int n_columns = PQnfields(res);
    struct af_table *t = af_table_new(n_columns, headers);
    const char *cells[64];
    for (int r = 0; t && r < PQntuples(res); r++) {
        for (int c = 0; c < n_columns && c < 64; c++)
            cells[c] = PQgetvalue(res, r, c);
        af_table_add(t, cells);
    }
    return t;
}

static int looks_numeric(const char *s)
{
    if (!*s)
        return 0;
    char *end;
    strtod(s, &end);
    return *end == '\0' || *end == '%';
}

void af_table_print(const struct af_table *t, FILE *out)
{
    if (!t)
        return;
    int width[64] = {0};
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < t->n_columns && c < 64; c++) {
            int len = (int)strlen(t->cells[r * t->n_columns + c]);
            if (len > width[c])
                width[c] = len;
        }
    for (int r = 0; r < t->n_rows; r++) {
        for (int c = 0; c < t->n_columns && c < 64; c++) {
            const char *cell = t->cells[r * t->n_columns + c];
            int right = r > 0 && looks_numeric(cell);
            int last = c == t->n_columns - 1;
            fprintf(out, "%s%*s", c ? "  " : "", right ? width[c] : last ? 0 : -width[c], cell);
        }
        fputc('\n', out);
        if (r == 0) {
            for (int c = 0; c < t->n_columns && c < 64; c++)
                fprintf(out, "%s%.*s", c ? "  " : "", width[c],
                        "------------------------------------------------------------------------");
            fputc('\n', out);
        }
    }
}

void af_table_free(struct af_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_rows * t->n_columns; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
