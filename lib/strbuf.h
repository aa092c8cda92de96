/*
 * strbuf.h — a growable string for building parameter values (PostgreSQL
 * array literals of numbers, JSON) and HTML.  Allocation failure is sticky:
 * later appends do nothing and af_sb_ok() turns false, so callers check once
 * at the end.
 */
#ifndef AF_TRAIN_STRBUF_H
#define AF_TRAIN_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct af_sb {
    char *s;
    size_t len, cap;
    bool failed;
} af_sb;

void af_sb_printf(af_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void af_sb_puts(af_sb *b, const char *s);
/* s with & < > " ' escaped for HTML text and attribute values. */
void af_sb_html(af_sb *b, const char *s);
bool af_sb_ok(const af_sb *b);
/* The text ("" when empty); NULL after a failed allocation. */
const char *af_sb_str(af_sb *b);
void af_sb_free(af_sb *b);

#endif
