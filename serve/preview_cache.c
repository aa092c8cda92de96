/* preview_cache.c — af-serve's shared, locked preview cache; see preview_cache.h. */
#include "preview_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 16

struct slot {
    char key[96]; /* "deezer:701" */
    char *data;
    size_t size;
    char content_type[32];
    unsigned long used; /* last use, for eviction */
};

struct preview_cache {
    pthread_mutex_t lock;
    struct slot slots[CACHE_SLOTS];
    unsigned long clock;
};

int preview_cache_new(struct preview_cache **out, af_err *err)
{
    struct preview_cache *c = calloc(1, sizeof *c);
    if (!c)
        return af_err_set(err, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

void preview_cache_free(struct preview_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        free(c->slots[i].data);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

bool preview_cache_get(struct preview_cache *c, const char *key, char **data, size_t *size,
                       char content_type[32])
{
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < CACHE_SLOTS && !found; i++) {
        struct slot *s = &c->slots[i];
        if (!s->data || strcmp(s->key, key) != 0)
            continue;
        if ((*data = malloc(s->size ? s->size : 1))) {
            memcpy(*data, s->data, s->size);
            *size = s->size;
            snprintf(content_type, 32, "%s", s->content_type);
            s->used = ++c->clock;
            found = true;
        }
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

void preview_cache_put(struct preview_cache *c, const char *key, char *data, size_t size,
                       const char *codec)
{
    pthread_mutex_lock(&c->lock);
    struct slot *slot = &c->slots[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (c->slots[i].data && strcmp(c->slots[i].key, key) == 0) {
            slot = &c->slots[i]; /* two workers fetched the same preview: keep one */
            break;
        }
        if (!c->slots[i].data || c->slots[i].used < slot->used)
            slot = &c->slots[i];
    }
    free(slot->data);
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->data = data;
    slot->size = size;
    snprintf(slot->content_type, sizeof slot->content_type, "%s",
             strcmp(codec, "aac") == 0   ? "audio/mp4"
             : strcmp(codec, "mp3") == 0 ? "audio/mpeg"
                                         : "application/octet-stream");
    slot->used = ++c->clock;
    pthread_mutex_unlock(&c->lock);
}
