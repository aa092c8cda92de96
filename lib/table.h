/*
 * table.h — plain-text tables for terminal reports (af-db status, af-train's
 * evaluation summary): columns sized to their widest cell, numbers right-aligned.
 */
#ifndef AF_TABLE_H
#define AF_TABLE_H

#include <libpq-fe.h>
#include <stdio.h>

struct af_table;

struct af_table *af_table_new(int n_columns, const char *const *headers);
/* Adds a row of n_columns cells (copied, control characters escaped as \n, \t,
 * \xHH). A cell that looks like a number is right-aligned. */
void af_table_add(struct af_table *t, const char *const *cells);
/* Adds a row from printf-style cells separated by '\t'. */
void af_table_addf(struct af_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A table of every row of a query result, one column per field, under headers
 * (PQnfields(res) of them). */
struct af_table *af_table_from_result(const PGresult *res, const char *const *headers);
void af_table_print(const struct af_table *t, FILE *out);
void af_table_free(struct af_table *t);

#endif
