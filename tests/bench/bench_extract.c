/*
 * bench_extract — the extract stage's speed, as ratios measured in one run:
 *   1. decode only vs decode + all features, one thread: × realtime per core, and
 *      the feature math's share of the time;
 *   2. decode + features with 2 threads vs 1 (throughput ratio);
 *   3. binary COPY of window vectors into PostgreSQL, as af-extract writes them: rows
 *      per second (when the PG* environment names a server, as tests/bench/run
 *      arranges);
 *   4. peak RSS.
 * Every figure is the best of 3 rounds (the machine is shared and noisy); the COPY
 * line also shows each round.  BENCH_REPS=N passes over the clips per round
 * (default 8; 0: the COPY figure only).  With 2 threads the last clip of a round
 * can leave one thread idle; 8 passes (80 clips, 40 per thread) keep that end effect
 * under 3% of a round, where 3 passes let it take up to 7% off the 2-thread figure.
 * Inputs: the MP3s in ../shared/reference/audio/ (GTZAN clips: 22.05 kHz mono; song.mp3:
 * 44.1 kHz stereo) when present, else clips generated with the ffmpeg CLI.
 * Build and run: make build/bench/bench_extract && build/bench/bench_extract
 */
#include <dirent.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "analysis.h"
#include "../../extract/jobs.h"
#include "db.h"
#include "migrate.h"
#include "pgcopy.h"
#include "ratelimit.h"

#define MAX_FILES 32

struct clip {
    char name[64];
    unsigned char *bytes;
    size_t size;
    double seconds;
};

struct group {
    const char *label;
    struct clip clips[MAX_FILES];
    int n;
};

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)len);
    if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return data;
}

static void add_clip(struct group *g, const char *path, const char *name)
{
    if (g->n == MAX_FILES)
        return;
    struct clip *c = &g->clips[g->n];
    c->bytes = read_file(path, &c->size);
    if (!c->bytes)
        return;
    snprintf(c->name, sizeof c->name, "%s", name);
    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = 0;
    struct af_audio audio;
    af_err err = {0};
    if (af_decode_memory(c->bytes, c->size, &opts, &audio, &err) != 0) {
        fprintf(stderr, "bench_extract: %s: %s\n", path, err.msg);
        free(c->bytes);
        return;
    }
    c->seconds = audio.n_samples / (double)AF_SAMPLE_RATE;
    af_audio_free(&audio);
    g->n++;
}

static void load_inputs(struct group *gtzan, struct group *preview)
{
    const char *dir = AF_PROJECT_DIR "/../shared/reference/audio";
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".mp3") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        add_clip(strcmp(e->d_name, "song.mp3") == 0 ? preview : gtzan, path, e->d_name);
    }
    if (d)
        closedir(d);
    if (gtzan->n && preview->n)
        return;
    printf("(../shared/reference/audio not found: using generated clips)\n");
    char tmp[] = "/tmp/af-bench-XXXXXX";
    if (!mkdtemp(tmp))
        return;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -f lavfi -i 'sine=f=220:d=30:r=22050' -f lavfi "
             "-i 'anoisesrc=d=30:c=pink:a=0.1:r=22050' -filter_complex amix=inputs=2 -ac 1 "
             "-b:a 64k %s/mono.mp3 && ffmpeg -nostdin -v error -f lavfi -i "
             "'sine=f=330:d=30:r=44100' -ac 2 -b:a 96k %s/stereo.mp3",
             tmp, tmp);
    if (system(cmd) != 0)
        return;
    char path[1100];
    snprintf(path, sizeof path, "%s/mono.mp3", tmp);
    add_clip(gtzan, path, "generated 22.05 kHz mono");
    snprintf(path, sizeof path, "%s/stereo.mp3", tmp);
    add_clip(preview, path, "generated 44.1 kHz stereo");
}

struct work {
    const struct group *g;
    const struct af_frame_ctx *ctx;
    int features; /* 0: decode only */
    int reps;
    atomic_int *next; /* the next item to take: threads share the work as af-extract's do */
    double feature_cpu, decode_cpu;
};

static void *run_work(void *arg)
{
    struct work *w = arg;
    struct af_feature_params params;
    af_feature_params_init(&params);
    struct af_analyser analyser;
    af_err err = {0};
    if (af_analyser_init(&analyser, w->ctx, &params, &err) != 0) {
        fprintf(stderr, "bench_extract: %s\n", err.msg);
        return NULL;
    }
    for (int r; (r = atomic_fetch_add(w->next, 1)) < w->reps * w->g->n;) {
        const struct clip *c = &w->g->clips[r % w->g->n];
        if (w->features) {
            struct af_analysis a;
            if (af_analyse_memory(&analyser, c->bytes, c->size, false, &a, &err) == 0) {
                w->decode_cpu += a.decode_seconds;
                w->feature_cpu += a.feature_seconds;
                af_analysis_free(&a);
            }
        } else {
            struct af_audio audio;
            if (af_decode_memory(c->bytes, c->size, &analyser.decode, &audio, &err) == 0)
                af_audio_free(&audio);
        }
    }
    af_analyser_destroy(&analyser);
    return NULL;
}

/* Wall seconds to process reps passes over the group with n_threads. */
static double timed(const struct group *g, const struct af_frame_ctx *ctx, int features,
                    int reps, int n_threads, double *decode_cpu, double *feature_cpu)
{
    struct work w[8];
    atomic_int next = 0;
    pthread_t t[8];
    double start = af_monotonic_seconds();
    for (int i = 0; i < n_threads; i++) {
        w[i] = (struct work){g, ctx, features, reps, &next, 0, 0};
        pthread_create(&t[i], NULL, run_work, &w[i]);
    }
    for (int i = 0; i < n_threads; i++)
        pthread_join(t[i], NULL);
    double wall = af_monotonic_seconds() - start;
    if (decode_cpu) {
        *decode_cpu = *feature_cpu = 0;
        for (int i = 0; i < n_threads; i++) {
            *decode_cpu += w[i].decode_cpu;
            *feature_cpu += w[i].feature_cpu;
        }
    }
    return wall;
}

/* Each figure is the best of ROUNDS rounds, and the rounds interleave decode-only,
 * 1-thread and 2-thread runs, so that a busy moment of the (shared, noisy) machine
 * cannot fall on one of them only. */
#define ROUNDS 3

static double min_of(double a, double b)
{
    return a < b ? a : b;
}

static void bench_group(const struct group *g, const struct af_frame_ctx *ctx, int reps)
{
    if (!g->n)
        return;
    double audio = 0;
    for (int i = 0; i < g->n; i++)
        audio += g->clips[i].seconds;
    audio *= reps;
    timed(g, ctx, 1, 1, 1, NULL, NULL); /* warm-up: caches, FFTW wisdom */
    double decode_only = INFINITY, full1 = INFINITY, full2 = INFINITY, dec_cpu = 0, feat_cpu = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double d, f;
        decode_only = min_of(decode_only, timed(g, ctx, 0, reps, 1, NULL, NULL));
        full1 = min_of(full1, timed(g, ctx, 1, reps, 1, &d, &f));
        full2 = min_of(full2, timed(g, ctx, 1, reps, 2, NULL, NULL));
        dec_cpu += d;
        feat_cpu += f;
    }
    double clips = (double)g->n * reps * ROUNDS;
    printf("%s: %d clips x %d passes, %.0f s of audio, best of %d rounds\n", g->label, g->n, reps, audio,
           ROUNDS);
    printf("  decode only, 1 thread:          %8.0fx realtime\n", audio / decode_only);
    printf("  decode + features, 1 thread:    %8.0fx realtime per core\n", audio / full1);
    printf("  feature math / decode time:     %8.2f  (CPU: features %.1f ms, decode %.1f ms per clip)\n",
           feat_cpu / dec_cpu, 1000 * feat_cpu / clips, 1000 * dec_cpu / clips);
    printf("  decode + features, 2 threads:   %8.0fx realtime (%.2fx one thread)\n", audio / full2,
           full1 / full2);
}

/* Writes rows window rows (10 per track, tracks 1..) in transactions of 1000, as
 * af-extract does; returns rows per second, or -1 after printing the error. */
static double copy_window_rows(PGconn *conn, int rows)
{
    float v[AF_N_FEATURES];
    for (int i = 0; i < AF_N_FEATURES; i++)
        v[i] = (float)i * 0.37f;
    af_err err = {0};
    double start = af_monotonic_seconds();
    for (int batch = 0; batch < rows / 1000; batch++) {
        struct af_pgcopy c;
        af_pgcopy_init(&c);
        for (int r = 0; r < 1000; r++) {
            af_pgcopy_row(&c, 5);
            af_pgcopy_int8(&c, 1 + (batch * 1000 + r) / 10);
            af_pgcopy_int4(&c, 1);
            af_pgcopy_int4(&c, r % 10);
            af_pgcopy_float4(&c, (float)(3 * (r % 10)));
            af_pgcopy_float4_array(&c, v, AF_N_FEATURES);
        }
        af_pgcopy_finish(&c);
        PQclear(PQexec(conn, "BEGIN"));
        int rc = af_db_copy_begin(conn, "COPY window_features (track_id, feature_set_id, window_index,"
                                        " start_seconds, feature_values) FROM STDIN (FORMAT binary)", &err);
        if (rc == 0)
            rc = af_db_copy_put(conn, (const char *)c.data, c.len, &err);
        if (rc == 0)
            rc = af_db_copy_end(conn, &err);
        af_pgcopy_free(&c);
        if (rc != 0) {
            printf(" COPY failed: %s\n", err.msg);
            return -1;
        }
        PQclear(PQexec(conn, "COMMIT"));
    }
    return rows / (af_monotonic_seconds() - start);
}

/* COPY of window rows: rows/s into a throwaway database on the PG* server. */
static void bench_copy(void)
{
    if (!getenv("PGHOST") && !getenv("PGDATABASE")) {
        printf("COPY: skipped (no PG* environment)\n");
        return;
    }
    char name[64], sql[256];
    snprintf(name, sizeof name, "af_bench_copy_%d", (int)getpid());
    PGconn *admin = PQconnectdb("dbname=postgres");
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PQclear(PQexec(admin, sql));
    char conninfo[128];
    snprintf(conninfo, sizeof conninfo, "dbname=%s", name);
    af_err err = {0};
    PGconn *conn = af_db_connect(conninfo, &err);
    int applied;
    if (!conn || af_migrate_apply(conn, &applied, &err) != 0) {
        printf("COPY: %s\n", err.msg);
        return;
    }
    PQclear(PQexec(conn, "INSERT INTO tracks (track_id) SELECT generate_series(1, 10000)"));
    PQclear(PQexec(conn, "INSERT INTO feature_sets (name, parameters, feature_names) VALUES ('v1', '{}', '{}')"));
    /* As af-extract writes them: each track's vector with its windows. */
    PQclear(PQexec(conn, "INSERT INTO track_features (track_id, feature_set_id, excerpt_start,"
                         " excerpt_seconds, n_windows, feature_values)"
                         " SELECT t, 1, 0, 30, 10, '{}' FROM generate_series(1, 10000) t"));
    af_jobs_session_init(conn, &err); /* as af-extract's session: asynchronous commit */
    double best = 0;
    printf("COPY of window rows (326 floats, 1000 rows per transaction):");
    for (int round = 0; round < ROUNDS; round++) {
        PQclear(PQexec(conn, "TRUNCATE window_features"));
        double rate = copy_window_rows(conn, 100000);
        if (rate < 0)
            break;
        printf(" %.0f", rate);
        best = rate > best ? rate : best;
    }
    printf(" rows/s (best %.0f)\n", best);
    PQfinish(conn);
    snprintf(sql, sizeof sql, "DROP DATABASE %s", name);
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
}

int main(void)
{
    static struct group gtzan = {.label = "GTZAN-like (22.05 kHz mono MP3)"};
    static struct group preview = {.label = "preview-like (44.1 kHz stereo MP3)"};
    load_inputs(&gtzan, &preview);
    af_err err = {0};
    struct af_frame_ctx *ctx = af_frame_ctx_new(&err);
    if (!ctx) {
        fprintf(stderr, "bench_extract: %s\n", err.msg);
        return 1;
    }
    int reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 8;
    if (reps > 0) { /* BENCH_REPS=0: only the COPY figure */
        bench_group(&gtzan, ctx, reps);
        bench_group(&preview, ctx, reps * 4); /* an even number of items for 2 threads */
    }
    af_frame_ctx_free(ctx);
    bench_copy();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MB\n", ru.ru_maxrss / 1024.0);
    return 0;
}
