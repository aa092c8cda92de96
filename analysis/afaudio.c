/*
 * afaudio.c — the public face of the analysis library (afaudio.h, built from
 * include/afaudio.h.in): a small, stable C interface over decode.h, frames.h and
 * feature_vectors.h for programs outside AudioFiler and for the Python module
 * (python/afaudio).  Only the afaudio_* functions are exported by libafaudio.so
 * (include/afaudio.map); everything else stays internal and may change.
 *
 * Errors: the library's own code reports through af_err (lib/error.h, which the
 * shared library carries); here they become afaudio_error, which has no exit code
 * (a pipeline notion) but the decode failure's stable name.
 */
#include "afaudio.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "error.h"
#include "featureset/feature_vectors.h"
#include "frames.h"

/* The public numbers are the internal ones (compared as ints: two enum types). */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(AFAUDIO_N_ROWS, AF_FRAME_DIMS) && SAME(AFAUDIO_ROW_MFCC, AF_ROW_MFCC) &&
                   SAME(AFAUDIO_ROW_CENTROID, AF_ROW_CENTROID) &&
                   SAME(AFAUDIO_ROW_BANDWIDTH, AF_ROW_BANDWIDTH) &&
                   SAME(AFAUDIO_ROW_ROLLOFF, AF_ROW_ROLLOFF) &&
                   SAME(AFAUDIO_ROW_FLATNESS, AF_ROW_FLATNESS) &&
                   SAME(AFAUDIO_ROW_CONTRAST, AF_ROW_CONTRAST) && SAME(AFAUDIO_ROW_ZCR, AF_ROW_ZCR) &&
                   SAME(AFAUDIO_ROW_RMS, AF_ROW_RMS) && SAME(AFAUDIO_ROW_CHROMA, AF_ROW_CHROMA) &&
                   SAME(AFAUDIO_ROW_ONSET, AF_ROW_ONSET),
               "afaudio.h rows follow frames.h");
_Static_assert(AFAUDIO_N_FEATURES == AF_N_FEATURES, "afaudio.h vectors follow feature_vectors.h");
_Static_assert(AFAUDIO_SAMPLE_RATE == AF_SAMPLE_RATE && AFAUDIO_N_FFT == AF_N_FFT &&
                   AFAUDIO_HOP_LENGTH == AF_HOP,
               "afaudio.h framing follows frames.h");
_Static_assert(AFAUDIO_ERROR_MAX >= AF_ERR_MAX, "an af_err message fits an afaudio_error");

struct afaudio {
    const struct af_frame_ctx *ctx; /* the shared one */
    struct af_frame_workspace *ws;
};

/* The plans and filterbanks: made once, under a lock (FFTW planning is not
 * thread-safe), shared by every handle, kept until the process ends. */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct af_frame_ctx *shared_ctx;

static int fail(afaudio_error *out, const af_err *err, enum af_decode_failure failure)
{
    if (!out)
        return -1;
    snprintf(out->message, sizeof out->message, "%s", err->msg[0] ? err->msg : "unknown error");
    snprintf(out->reason, sizeof out->reason, "%s",
             failure == AF_DECODE_OK ? "" : af_decode_failure_name(failure));
    return -1;
}

const char *afaudio_version(void)
{
    return AF_VERSION;
}

static int load(const char *path, const void *data, size_t size, double excerpt_seconds,
                float **samples, size_t *n_samples, afaudio_error *err)
{
    *samples = NULL;
    *n_samples = 0;
    af_err e = {0};
    if (!(excerpt_seconds >= 0)) {
        af_err_set(&e, "excerpt length %g s is negative", excerpt_seconds);
        return fail(err, &e, AF_DECODE_OK);
    }
    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = excerpt_seconds;
    struct af_audio audio;
    int rc = path ? af_decode_file(path, &opts, &audio, &e)
                  : af_decode_memory(data, size, &opts, &audio, &e);
    if (rc != 0) {
        if (path)
            af_err_prefix(&e, "%s", path);
        return fail(err, &e, audio.failure);
    }
    *samples = audio.samples; /* malloc'ed: afaudio_free releases it */
    *n_samples = audio.n_samples;
    audio.samples = NULL;
    af_audio_free(&audio);
    return 0;
}

int afaudio_load(const char *path, double excerpt_seconds, float **samples, size_t *n_samples,
                 afaudio_error *err)
{
    return load(path, NULL, 0, excerpt_seconds, samples, n_samples, err);
}

int afaudio_load_memory(const void *data, size_t size, double excerpt_seconds, float **samples,
                        size_t *n_samples, afaudio_error *err)
{
    return load(NULL, data, size, excerpt_seconds, samples, n_samples, err);
}

void afaudio_free(void *p)
{
    free(p);
}

static const struct af_frame_ctx *shared_context(af_err *e)
{
    pthread_mutex_lock(&shared_lock);
    if (!shared_ctx)
        shared_ctx = af_frame_ctx_new(e);
    const struct af_frame_ctx *ctx = shared_ctx;
    pthread_mutex_unlock(&shared_lock);
    return ctx;
}

afaudio *afaudio_new(afaudio_error *err)
{
    af_err e = {0};
    const struct af_frame_ctx *ctx = shared_context(&e);
    afaudio *a = ctx ? calloc(1, sizeof *a) : NULL;
    if (ctx && !a)
        af_err_set(&e, "out of memory");
    if (a)
        a->ctx = ctx;
    if (a && !(a->ws = af_frame_workspace_new(ctx, &e))) {
        free(a);
        a = NULL;
    }
    if (!a)
        fail(err, &e, AF_DECODE_OK);
    return a;
}

void afaudio_destroy(afaudio *a)
{
    if (!a)
        return;
    af_frame_workspace_free(a->ws);
    free(a);
}

int afaudio_compute(afaudio *a, const float *y, size_t n_samples, afaudio_frames *out,
                    afaudio_error *err)
{
    memset(out, 0, sizeof *out);
    af_err e = {0};
    struct af_frame_features f;
    if (af_frames_compute(a->ctx, a->ws, y, n_samples, &f, &e) != 0)
        return fail(err, &e, AF_DECODE_OK);
    out->n_frames = f.n_frames;
    out->data = f.data;
    out->harmonic_energy = f.harmonic_energy;
    out->percussive_energy = f.percussive_energy;
    out->tempo = f.tempo;
    out->tuning = f.tuning;
    return 0;
}

/* The internal view of the same arrays (nothing copied). */
static struct af_frame_features internal(const afaudio_frames *f)
{
    return (struct af_frame_features){
        .n_frames = f->n_frames,
        .data = f->data,
        .harmonic_energy = f->harmonic_energy,
        .percussive_energy = f->percussive_energy,
        .tempo = f->tempo,
        .tuning = (float)f->tuning,
    };
}

void afaudio_frames_free(afaudio_frames *f)
{
    if (!f)
        return;
    struct af_frame_features inner = internal(f);
    af_frame_features_free(&inner);
    memset(f, 0, sizeof *f);
}

const char *afaudio_row_name(int row)
{
    return row >= 0 && row < AF_FRAME_DIMS ? af_frame_row_name(row) : NULL;
}

const char *afaudio_feature_name(int index)
{
    return index >= 0 && index < AF_N_FEATURES ? af_feature_names(NULL)[index] : NULL;
}

int afaudio_vectors(const afaudio_frames *frames, double window_seconds, double hop_seconds,
                    float **windows, size_t *n_windows, float track[AFAUDIO_N_FEATURES],
                    afaudio_error *err)
{
    if (windows)
        *windows = NULL;
    if (n_windows)
        *n_windows = 0;
    af_err e = {0};
    struct af_frame_features inner = internal(frames);
    struct af_feature_params params;
    af_feature_params_init(&params);
    params.window_seconds = window_seconds;
    params.hop_seconds = hop_seconds;
    if (af_feature_params_check(&params, &e) != 0)
        return fail(err, &e, AF_DECODE_OK);
    if (track && af_features_track(&inner, track, &e) != 0)
        return fail(err, &e, AF_DECODE_OK);
    if (!windows)
        return 0;
    struct af_feature_matrix m;
    if (af_features_windows(&inner, &params, &m, &e) != 0)
        return fail(err, &e, AF_DECODE_OK);
    *windows = m.data;
    if (n_windows)
        *n_windows = m.rows;
    return 0;
}
