/*
 * npy.h — minimal reader for NumPy .npy files (format 1.x/2.x, little-endian
 * float32 or float64, C order), enough for the librosa reference arrays in
 * tests/data.  Header-only: the Makefile builds every tests/unit/test_*.c as
 * its own program, so shared test helpers live in headers.
 */
#ifndef AF_TEST_NPY_H
#define AF_TEST_NPY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct npy_array {
    size_t shape[4];
    int ndim;
    size_t count; /* product of shape */
    double *data; /* converted to double */
};

static inline void npy_free(struct npy_array *a)
{
    free(a->data);
    a->data = NULL;
}

/* Parses "(a, b)" after 'shape': in the header dict. */
static inline int npy_parse_shape(const char *header, struct npy_array *a)
{
    const char *p = strstr(header, "'shape':");
    if (!p || !(p = strchr(p, '(')))
        return -1;
    p++;
    a->ndim = 0;
    a->count = 1;
    while (*p && *p != ')') {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (a->ndim == 4)
            return -1;
        a->shape[a->ndim++] = v;
        a->count *= v;
        p = end;
    }
    return 0;
}

/* Returns 0 and fills a (free with npy_free), or -1. */
static inline int npy_load(const char *path, struct npy_array *a)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char magic[10];
    int rc = -1;
    char *header = NULL;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0)
        goto out;
    size_t header_len;
    if (magic[6] == 1) {
        unsigned char l[2];
        if (fread(l, 1, 2, f) != 2)
            goto out;
        header_len = l[0] | (size_t)l[1] << 8;
    } else {
        unsigned char l[4];
        if (fread(l, 1, 4, f) != 4)
            goto out;
        header_len = l[0] | (size_t)l[1] << 8 | (size_t)l[2] << 16 | (size_t)l[3] << 24;
    }
    header = calloc(1, header_len + 1);
    if (!header || fread(header, 1, header_len, f) != header_len)
        goto out;
    int fortran = strstr(header, "'fortran_order': True") != NULL;
    if (npy_parse_shape(header, a) || (fortran && a->ndim > 2))
        goto out;
    int is_f4 = strstr(header, "'<f4'") != NULL, is_f8 = strstr(header, "'<f8'") != NULL;
    if (!is_f4 && !is_f8)
        goto out;
    a->data = malloc((a->count ? a->count : 1) * sizeof(double));
    if (!a->data)
        goto out;
    for (size_t i = 0; i < a->count; i++) {
        if (is_f4) {
            float v;
            if (fread(&v, sizeof v, 1, f) != 1)
                goto out;
            a->data[i] = v;
        } else if (fread(&a->data[i], sizeof(double), 1, f) != 1) {
            goto out;
        }
    }
    if (fortran && a->ndim == 2) {
        double *c_order = malloc((a->count ? a->count : 1) * sizeof(double));
        if (!c_order)
            goto out;
        size_t rows = a->shape[0], cols = a->shape[1];
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                c_order[i * cols + j] = a->data[j * rows + i];
        free(a->data);
        a->data = c_order;
    }
    rc = 0;
out:
    if (rc)
        npy_free(a);
    free(header);
    fclose(f);
    return rc;
}

#endif
