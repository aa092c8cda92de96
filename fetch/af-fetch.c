/*
 * af-fetch — downloads a 30-second preview for every labelled track that has no
 * audio yet, from Spotify, Deezer and iTunes in the configured order, checks
 * that it decodes and stores it (deduplicated by sha256).  Every request and
 * the final outcome per track and provider are recorded, so `af-db status`
 * shows why a track has no audio; outcomes carry a re-check date.  Several
 * af-fetch processes may run at once: tracks are claimed with a lease.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "exitcode.h"
#include "fetch_config.h"
#include "fetch_engine.h"
#include "log.h"

static const char usage[] =
    "Usage: af-fetch [OPTION]...\n"
    "Download 30-second previews for the labelled tracks that have no audio yet.\n"
    "\n"
    "For each track the providers are asked in order: a search (by ISRC when known,\n"
    "else artist and title), the best match (artist/title similarity and duration),\n"
    "its preview downloaded at once, decoded to check it (5-40 s of audio) and stored.\n"
    "A provider without a match or a preview hands the track to the next one.\n"
    "Spotify needs SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET in the environment;\n"
    "without them it is skipped. Interrupting (Ctrl-C) finishes the transfers in\n"
    "flight and saves them; running again continues where it stopped.\n"
    "\n"
    "Options:\n"
    "  --provider LIST     providers in order, e.g. deezer,itunes ([fetch] providers)\n"
    "  --limit N           at most N tracks in this run (default: all)\n"
    "  --concurrency C     transfers in flight at once ([fetch] concurrency)\n"
    "  --timeout SECONDS   total time one transfer may take ([fetch] timeout_seconds)\n"
    "\n"
    "A run takes each track once. Transient failures (5xx, resets, timeouts, answers\n"
    "that are not understood) are retried up to [fetch] max_retries times per track\n"
    "and provider; a provider failing [fetch] provider_failure_limit times in a row is\n"
    "not asked again in this run. A pause a provider asks for (Retry-After) is capped\n"
    "at [fetch] max_provider_pause_seconds. Tracks that failed are due again at the\n"
    "next run.\n"
    "\n"
    "Exit status: 0 all tracks done (stored, or no preview anywhere), 1 some tracks\n"
    "failed, 2 usage or configuration, 3 database unavailable, 4 schema mismatch,\n"
    "6 Spotify rejected the credentials.\n";

enum { OPT_PROVIDER = AF_OPT_FIRST_PROGRAM_OPTION, OPT_LIMIT, OPT_CONCURRENCY, OPT_TIMEOUT };

int main(int argc, char **argv)
{
    static const struct option options[] = {AF_APP_LONG_OPTIONS,
                                            {"provider", required_argument, NULL, OPT_PROVIDER},
                                            {"limit", required_argument, NULL, OPT_LIMIT},
                                            {"concurrency", required_argument, NULL,
                                             OPT_CONCURRENCY},
                                            {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                            {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-fetch", usage, argc, argv);
    long limit = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_PROVIDER: {
            af_err perr = {0};
            if (af_fetch_check_providers(optarg, &perr) != 0)
                af_app_usage_error(&app, "--provider: %s", perr.msg);
            af_app_override(&app, "fetch.providers", optarg, "--provider");
            break;
        }
        case OPT_LIMIT:
            limit = af_app_parse_count(&app, "--limit", optarg, 1);
            break;
        case OPT_CONCURRENCY:
            af_app_override(&app, "fetch.concurrency", optarg, "--concurrency");
            break;
        case OPT_TIMEOUT:
            af_app_override(&app, "fetch.timeout_seconds", optarg, "--timeout");
            break;
        default:
            af_app_usage_error(&app, "unexpected option");
        }
    }
    if (optind != argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    int exit_code = AF_EXIT_OK;
    if (af_fetch_run(&app, limit, &exit_code, &err) != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, exit_code,
                         exit_code == AF_EXIT_CREDENTIALS ? "Spotify rejected the credentials"
                         : exit_code == AF_EXIT_FAILURE   ? "some tracks failed (see af-db status)"
                                                          : NULL);
}
