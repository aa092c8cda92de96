/*
 * report_image.h — pictures for af-report without external tools: an 8-bit
 * paletted BMP (a viridis-like colour ramp, index 0 dark, 255 bright) written into
 * memory and appended to the page as a data: URI, so the report stays one
 * self-contained file.  report_spectro.c draws the per-genre spectrograms with it.
 */
#ifndef AF_TRAIN_REPORT_IMAGE_H
#define AF_TRAIN_REPORT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The ramp's colour of index i as "#rrggbb" (for legends). */
void af_ramp_colour(int i, char out[8]);

/* A w x h BMP of palette indices; pixels[row * w + col], row 0 at the BOTTOM (as
 * BMP stores rows).  Returns the file's bytes (malloc'd) and *len, NULL when out
 * of memory. */
uint8_t *af_bmp8(const uint8_t *pixels, int w, int h, size_t *len);

/* Appends "data:image/bmp;base64,..." of the BMP to out. */
void af_bmp8_data_uri(const uint8_t *pixels, int w, int h, af_sb *out);

#endif
