/*
 * preview_cache.h — the previews af-serve downloaded, shared by all its worker
 * threads: the page's player (GET /api/preview) and a repeated prediction are
 * answered from here whichever worker downloaded the preview.  A few slots, the
 * least recently used evicted; every call takes the cache's lock, and what is read
 * out is a copy, so an eviction by another thread never frees what a caller holds.
 */
#ifndef AF_SERVE_PREVIEW_CACHE_H
#define AF_SERVE_PREVIEW_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct preview_cache;

int preview_cache_new(struct preview_cache **out, af_err *err);
void preview_cache_free(struct preview_cache *c);

/* A copy of the preview under key: *data malloc'd (caller frees), its size and
 * content type.  false when not cached (or out of memory). */
bool preview_cache_get(struct preview_cache *c, const char *key, char **data, size_t *size,
                       char content_type[32]);

/* Stores data (taken over) under key; codec ("mp3", "aac") gives its content type. */
void preview_cache_put(struct preview_cache *c, const char *key, char *data, size_t size,
                       const char *codec);

#endif
