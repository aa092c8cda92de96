/*
 * serve_pool.h — af-serve's engines ([serve] workers of them): each has its own
 * database connection, model, analyser and provider client (serve_engine.h).  An API
 * request, in its connection's thread, borrows one for its duration, so that a slow
 * request (a preview downloading, a file being analysed) holds one engine while the
 * others keep answering; when all are busy the next request waits for one.
 * The preview cache is the one thing the engines share (preview_cache.h).
 */
#ifndef AF_SERVE_POOL_H
#define AF_SERVE_POOL_H

#include "app.h"
#include "error.h"
#include "serve_engine.h"

struct serve_pool;

int serve_pool_open(struct serve_pool **out, struct af_app *app, const char *model, int n,
                    af_err *err);
void serve_pool_close(struct serve_pool *p);

/* Waits until an engine is free and takes it. */
struct serve_engine *serve_pool_acquire(struct serve_pool *p);
void serve_pool_release(struct serve_pool *p, struct serve_engine *e);

#endif
