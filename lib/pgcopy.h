/*
 * pgcopy.h — rows in PostgreSQL's binary COPY format, for bulk writes of
 * feature vectors (a real[] of 326 values per row is ~4x smaller and much
 * cheaper for the server to parse in binary than as text).
 *
 *   struct af_pgcopy c; af_pgcopy_init(&c);
 *   af_pgcopy_row(&c, 3); af_pgcopy_int8(&c, id); af_pgcopy_int4(&c, n);
 *   af_pgcopy_float4_array(&c, values, count);
 *   af_pgcopy_finish(&c);  then send c.data/c.len after "COPY t (...) FROM STDIN (FORMAT binary)"
 */
#ifndef AF_PGCOPY_H
#define AF_PGCOPY_H

#include <stddef.h>
#include <stdint.h>

struct af_pgcopy {
    unsigned char *data;
    size_t len, cap;
    int failed; /* out of memory: the buffer is unusable */
};

void af_pgcopy_init(struct af_pgcopy *c);  /* writes the header */
void af_pgcopy_row(struct af_pgcopy *c, int n_fields);
void af_pgcopy_int8(struct af_pgcopy *c, int64_t v);
void af_pgcopy_int4(struct af_pgcopy *c, int32_t v);
void af_pgcopy_float4(struct af_pgcopy *c, float v);
void af_pgcopy_float4_array(struct af_pgcopy *c, const float *v, size_t n);
void af_pgcopy_finish(struct af_pgcopy *c); /* writes the trailer */
void af_pgcopy_free(struct af_pgcopy *c);

#endif
