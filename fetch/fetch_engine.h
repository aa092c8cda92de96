/*
 * fetch_engine.h — af-fetch's work loop: claims labelled tracks, asks the
 * providers in order (search, then the preview at once), checks and stores
 * the audio, and records every attempt and outcome.  One thread drives all
 * HTTP transfers through libcurl's multi interface (lib/http_multi.h), paced
 * by a token bucket per provider; previews are decoded on a small thread pool
 * (fetch_verify.h).  See fetch/af-fetch.c for the user's view.
 */
#ifndef AF_FETCH_ENGINE_H
#define AF_FETCH_ENGINE_H

#include "app.h"
#include "error.h"

/* Fetches previews for at most limit tracks (0 = all) with the configuration in
 * app->cfg, recording into app->db and app->run. On SIGINT/SIGTERM it finishes
 * the transfers in flight, saves what it learnt and returns 0.  *exit_code is set
 * to AF_EXIT_CREDENTIALS when Spotify rejected the credentials (the other
 * providers still ran), to AF_EXIT_FAILURE when some tracks failed (a provider
 * kept failing for them: 5xx, resets, bad answers, throttling), else AF_EXIT_OK.
 * Each track is taken once per run, and a provider failing [fetch]
 * provider_failure_limit times in a row is not asked again in the run, so the run
 * ends whatever the providers do. */
int af_fetch_run(struct af_app *app, long limit, int *exit_code, af_err *err);

#endif
