/*
 * af-extract — the extract stage: decodes the stored audio of every track that
 * has none of the chosen feature set's features yet, computes them with N
 * threads, and writes window and track vectors to the database.
 *
 * The main thread claims a batch of tracks (jobs.h), the worker threads analyse
 * it (analysis.h), the main thread writes it in one transaction, and so on until
 * no work is left.  Any number of af-extract processes, on any hosts, can work
 * on one database at once.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "app.h"
#include "exitcode.h"
#include "feature_set.h"
#include "jobs.h"
#include "log.h"
#include "ratelimit.h"

static const char usage[] =
    "Usage: af-extract [OPTION]...\n"
    "Compute the features of every track that has audio and no features yet, and store\n"
    "them (one vector per window and one per track) in the database.\n"
    "\n"
    "Options:\n"
    "  -j, --jobs N           worker threads (default: [extract] jobs; 0 = one per core)\n"
    "  -n, --limit N          process at most N tracks, then stop\n"
    "      --feature-set NAME feature set to compute (default: [extract] feature_set, v1)\n"
    "      --retry-failed     also retry tracks that failed before\n"
    "      --window SECONDS   window length (v1: 3)\n"
    "      --hop SECONDS      window hop (v1: 3)\n"
    "      --excerpt SECONDS  central excerpt analysed; 0 = whole file (v1: 30)\n"
    "      --batch N          tracks per transaction (default: [extract] batch_tracks)\n"
    "      --batch-mb N       stored audio per batch, MB (default: [extract] batch_megabytes;\n"
    "                         a larger file goes alone)\n"
    "      --lease SECONDS    how long a claim is held before others may take it over\n"
    "\n"
    "A feature set's durations never change: other durations than v1's (options or\n"
    "[extract] window_seconds, hop_seconds, excerpt_seconds) need a new set name,\n"
    "--feature-set NAME; with the name v1 they are refused (exit 2), nothing stored.\n"
    "\n"
    "A track that cannot be decoded (corrupt, truncated, empty, silent, too short, not\n"
    "audio) is marked failed with the reason, logged as \"track ID (SOURCE) failed:\n"
    "REASON\" (SOURCE: the file's path, or the provider and its track id); the others\n"
    "go on. Exit code 1 when any track failed in this run. SIGINT/SIGTERM: finish the\n"
    "current batch, commit, exit 0.\n";

enum { OPT_FEATURE_SET = AF_OPT_FIRST_PROGRAM_OPTION, OPT_RETRY, OPT_WINDOW, OPT_HOP,
       OPT_EXCERPT, OPT_BATCH, OPT_BATCH_MB, OPT_LEASE };

struct worker {
    pthread_t thread;
    struct af_analyser analyser;
    struct af_job_batch *batch;
    atomic_size_t *next;
};

static void analyse_job(struct af_analyser *analyser, struct af_job *job)
{
    af_err err = {0};
    job->ok = af_analyse_memory(analyser, job->audio, job->audio_size, false, &job->analysis,
                                &err) == 0;
    if (!job->ok) {
        /* Decoding succeeded when the analysis itself failed: its reason is not "ok". */
        const char *reason = job->analysis.failure == AF_DECODE_OK
                                 ? "analysis"
                                 : af_decode_failure_name(job->analysis.failure);
        /* "<reason>: <message>" (af-db status reads the reason before the colon); most
         * decode messages already start with their reason: not twice. */
        size_t n = strlen(reason);
        bool prefixed = strncmp(err.msg, reason, n) == 0 && err.msg[n] == ':';
        snprintf(job->error, sizeof job->error, "%s%s%s", prefixed ? "" : reason,
                 prefixed ? "" : ": ", err.msg);
        /* The audio's source too: a cron user looks for the file, not the track id. */
        if (job->source)
            log_warn("track %lld (%s) failed: %s", job->track_id, job->source, job->error);
        else
            log_warn("track %lld failed: %s", job->track_id, job->error);
    }
    af_job_release_audio(job); /* keep memory per batch low */
}

static void *work(void *arg)
{
    struct worker *w = arg;
    size_t i;
    while ((i = atomic_fetch_add(w->next, 1)) < w->batch->count)
        analyse_job(&w->analyser, &w->batch->jobs[i]);
    return NULL;
}

static int analyse_batch(struct worker *workers, int n_workers, struct af_job_batch *batch,
                         af_err *err)
{
    atomic_size_t next = 0;
    int started = 0;
    for (; started < n_workers; started++) {
        workers[started].batch = batch;
        workers[started].next = &next;
        if (pthread_create(&workers[started].thread, NULL, work, &workers[started]) != 0)
            break;
    }
    if (started == 0)
        return af_err_set(err, "cannot start worker threads");
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    return 0;
}

struct totals {
    long tracks, failed, windows;
    double audio_seconds;
    double started;
};

static void account(struct af_app *app, const struct af_job_batch *batch, size_t stored,
                    struct totals *t)
{
    long failed = 0, windows = 0;
    for (size_t i = 0; i < batch->count; i++) {
        const struct af_job *job = &batch->jobs[i];
        failed += !job->ok;
        windows += job->ok ? (long)job->analysis.windows.rows : 0;
        t->audio_seconds += job->ok ? job->analysis.excerpt_seconds : 0;
    }
    t->tracks += (long)batch->count;
    t->failed += failed;
    t->windows += windows;
    af_run_count(app->run, "tracks_done", (long long)stored);
    af_run_count(app->run, "tracks_failed", failed);
    af_run_count(app->run, "windows", windows);
    char extra[96];
    double elapsed = af_monotonic_seconds() - t->started;
    snprintf(extra, sizeof extra, "%ld failed, %.0fx realtime", t->failed,
             elapsed > 0 ? t->audio_seconds / elapsed : 0);
    af_progress("tracks", t->tracks, 0, extra);
}

/* Nothing of a batch whose write failed was stored: unless the database is gone, give
 * its claims back so that they are claimed again (each retry counts an attempt). */
static int give_back(struct af_app *app, const struct af_claim_options *opts,
                     const struct af_job_batch *batch, af_err *err)
{
    if (err->code == AF_EXIT_DB_UNAVAILABLE)
        return -1;
    log_error("writing a batch of %zu track(s) failed, will retry: %s", batch->count, err->msg);
    af_run_count(app->run, "batch_retries", 1);
    af_err release_err = {0};
    if (af_jobs_release(app->db, opts, batch, err->msg, &release_err) != 0) {
        *err = release_err;
        return -1;
    }
    af_err_clear(err);
    return 0;
}

/* What set a duration key: its option ("--window") when one was given, else the
 * configuration ("[extract] window_seconds"). */
static void describe_origin(const struct af_app *app, const char *key, char *buf, size_t size)
{
    for (int i = app->n_overrides - 1; i >= 0; i--)
        if (strcmp(app->overrides[i].key, key) == 0) {
            snprintf(buf, size, "%s", app->overrides[i].origin);
            return;
        }
    const char *dot = strchr(key, '.');
    snprintf(buf, size, "[%.*s] %s =", (int)(dot - key), key, dot + 1);
}

/* The default set name stands for the definition's default durations: registered with
 * others (on a fresh database, where nothing refuses it), every later run without those
 * options would fail on "exists with other parameters".  So other durations need their
 * own set name, and nothing is registered. */
static int check_default_name(const struct af_app *app, const struct af_feature_params *p,
                              af_err *err)
{
    struct af_feature_params standard;
    af_feature_params_init(&standard);
    if (strcmp(p->name, standard.name) != 0)
        return 0;
    const struct {
        const char *key;
        double value, standard;
    } durations[] = {
        {"extract.window_seconds", p->window_seconds, standard.window_seconds},
        {"extract.hop_seconds", p->hop_seconds, standard.hop_seconds},
        {"extract.excerpt_seconds", p->excerpt_seconds, standard.excerpt_seconds},
    };
    char differ[256] = "", origin[64];
    size_t used = 0, n = 0;
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        if (durations[i].value == durations[i].standard)
            continue;
        describe_origin(app, durations[i].key, origin, sizeof origin);
        int len = snprintf(differ + used, sizeof differ - used, "%s%s %g", n ? ", " : "", origin,
                           durations[i].value);
        used += len > 0 && (size_t)len < sizeof differ - used ? (size_t)len : 0;
        n++;
    }
    if (n == 0)
        return 0;
    return af_err_set_code(err, AF_EXIT_USAGE,
                           "feature set '%s' is the default set: %g-s windows every %g s over the "
                           "central %g s; %s %s: pass --feature-set NAME (or set [extract] "
                           "feature_set) to store features of other durations under a new name",
                           p->name, standard.window_seconds, standard.hop_seconds,
                           standard.excerpt_seconds, differ, n == 1 ? "differs" : "differ");
}

static int read_params(struct af_app *app, struct af_feature_params *params, af_err *err)
{
    af_feature_params_init(params);
    const char *name = af_config_str(app->cfg, "extract.feature_set");
    if (strlen(name) >= sizeof params->name)
        return af_err_set_code(err, AF_EXIT_USAGE, "feature set name '%s' is too long", name);
    snprintf(params->name, sizeof params->name, "%s", name);
    params->window_seconds = af_config_double(app->cfg, "extract.window_seconds");
    params->hop_seconds = af_config_double(app->cfg, "extract.hop_seconds");
    params->excerpt_seconds = af_config_double(app->cfg, "extract.excerpt_seconds");
    if (af_feature_params_check(params, err) != 0) {
        err->code = AF_EXIT_USAGE;
        return -1;
    }
    return check_default_name(app, params, err);
}

static int start_workers(struct worker *workers, int n, const struct af_frame_ctx *ctx,
                         const struct af_feature_params *params, af_err *err)
{
    for (int i = 0; i < n; i++)
        if (af_analyser_init(&workers[i].analyser, ctx, params, err) != 0)
            return -1;
    return 0;
}

static int extract(struct af_app *app, long limit, int n_workers, bool retry_failed, af_err *err)
{
    struct af_feature_params params;
    int feature_set_id;
    if (read_params(app, &params, err) != 0 || af_jobs_session_init(app->db, err) != 0 ||
        af_feature_set_register(app->db, &params, &feature_set_id, err) != 0)
        return -1;
    char worker_name[300], host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    snprintf(worker_name, sizeof worker_name, "%s:%d", host, (int)getpid());
    struct af_claim_options opts = {
        .feature_set_id = feature_set_id,
        .worker = worker_name,
        .run_id = af_run_id(app->run),
        .lease_seconds = (int)af_config_int(app->cfg, "extract.lease_seconds"),
        .max_attempts = (int)af_config_int(app->cfg, "extract.max_attempts"),
        .retry_failed = retry_failed,
        .hop_seconds = params.hop_seconds,
        .batch_bytes = af_config_int(app->cfg, "extract.batch_megabytes") * 1048576LL,
    };
    size_t batch_size = (size_t)af_config_int(app->cfg, "extract.batch_tracks");
    if (batch_size < (size_t)n_workers)
        batch_size = (size_t)n_workers;

    struct af_frame_ctx *ctx = af_frame_ctx_new(err);
    struct worker *workers = calloc((size_t)n_workers, sizeof *workers);
    int rc = ctx && workers ? start_workers(workers, n_workers, ctx, &params, err) : -1;
    log_info("extracting feature set %s with %d thread(s)", params.name, n_workers);
    struct totals totals = {.started = af_monotonic_seconds()};
    while (rc == 0 && !af_app_stop_requested() && (limit == 0 || totals.tracks < limit)) {
        opts.batch_size = limit ? (size_t)(limit - totals.tracks) : batch_size;
        if (opts.batch_size > batch_size)
            opts.batch_size = batch_size;
        struct af_job_batch batch;
        if (af_jobs_claim(app->db, &opts, &batch, err) != 0) {
            rc = -1;
            break;
        }
        totals.failed += (long)batch.given_up; /* failed in this run too: exit 1 */
        if (batch.count == 0) {
            af_job_batch_free(&batch);
            break;
        }
        size_t stored = 0;
        rc = analyse_batch(workers, n_workers, &batch, err);
        if (rc == 0 && af_jobs_store(app->db, &opts, &batch, &stored, err) != 0)
            rc = give_back(app, &opts, &batch, err);
        else if (rc == 0)
            account(app, &batch, stored, &totals);
        af_job_batch_free(&batch);
    }
    af_progress_end();
    if (rc == 0)
        log_info("%ld track(s) processed, %ld failed, %ld windows stored%s", totals.tracks,
                 totals.failed, totals.windows,
                 af_app_stop_requested() ? " (stopped by a signal)" : "");
    for (int i = 0; workers && i < n_workers; i++)
        af_analyser_destroy(&workers[i].analyser);
    free(workers);
    af_frame_ctx_free(ctx);
    if (rc == 0 && totals.failed > 0)
        return af_err_set_code(err, AF_EXIT_FAILURE, "%ld track(s) failed; see af-db status",
                               totals.failed);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        AF_APP_LONG_OPTIONS,
        {"jobs", required_argument, NULL, 'j'},
        {"limit", required_argument, NULL, 'n'},
        {"feature-set", required_argument, NULL, OPT_FEATURE_SET},
        {"retry-failed", no_argument, NULL, OPT_RETRY},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"hop", required_argument, NULL, OPT_HOP},
        {"excerpt", required_argument, NULL, OPT_EXCERPT},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"batch-mb", required_argument, NULL, OPT_BATCH_MB},
        {"lease", required_argument, NULL, OPT_LEASE},
        {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-extract", usage, argc, argv);
    long limit = 0;
    bool retry_failed = false;
    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "j:n:", options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case 'j': af_app_override(&app, "extract.jobs", optarg, "--jobs"); break;
        case 'n': limit = af_app_parse_count(&app, "--limit", optarg, 1); break;
        case OPT_FEATURE_SET: af_app_override(&app, "extract.feature_set", optarg, "--feature-set"); break;
        case OPT_RETRY: retry_failed = true; break;
        case OPT_WINDOW: af_app_override(&app, "extract.window_seconds", optarg, "--window"); break;
        case OPT_HOP: af_app_override(&app, "extract.hop_seconds", optarg, "--hop"); break;
        case OPT_EXCERPT: af_app_override(&app, "extract.excerpt_seconds", optarg, "--excerpt"); break;
        case OPT_BATCH: af_app_override(&app, "extract.batch_tracks", optarg, "--batch"); break;
        case OPT_BATCH_MB: af_app_override(&app, "extract.batch_megabytes", optarg, "--batch-mb"); break;
        case OPT_LEASE: af_app_override(&app, "extract.lease_seconds", optarg, "--lease"); break;
        }
    }
    if (optind != argc)
        af_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    int jobs = (int)af_config_int(app.cfg, "extract.jobs");
    if (jobs == 0)
        jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (extract(&app, limit, jobs > 0 ? jobs : 1, retry_failed, &err) != 0)
        return af_app_fail(&app, &err);
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}
