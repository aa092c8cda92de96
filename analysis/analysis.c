/* analysis.c — decode, frame features, window and track vectors; see analysis.h. */
#include "analysis.h"

#include <string.h>
#include <time.h>

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int af_analyser_init(struct af_analyser *a, const struct af_frame_ctx *ctx,
                     const struct af_feature_params *params, af_err *err)
{
    memset(a, 0, sizeof *a);
    if (af_feature_params_check(params, err) != 0)
        return -1;
    a->ctx = ctx;
    a->params = *params;
    af_decode_opts_init(&a->decode);
    a->decode.excerpt_seconds = params->excerpt_seconds;
    a->ws = af_frame_workspace_new(ctx, err);
    return a->ws ? 0 : -1;
}

void af_analyser_destroy(struct af_analyser *a)
{
    af_frame_workspace_free(a->ws);
    a->ws = NULL;
}

static void keep_metadata(const struct af_audio *audio, struct af_analysis *out)
{
    out->duration = audio->duration;
    out->excerpt_start = audio->excerpt_start;
    out->excerpt_seconds = (double)audio->n_samples / AF_SAMPLE_RATE;
    out->source_sample_rate = audio->source_sample_rate;
    out->source_channels = audio->source_channels;
    memcpy(out->codec, audio->codec, sizeof out->codec);
}

/* Frames → vectors; takes ownership of nothing, frees audio whatever happens. */
static int compute(struct af_analyser *a, struct af_audio *audio, bool keep_frames,
                   struct af_analysis *out, af_err *err)
{
    keep_metadata(audio, out);
    double started = thread_cpu_seconds();
    int rc = af_frames_compute(a->ctx, a->ws, audio->samples, audio->n_samples, &out->frames, err);
    af_audio_free(audio);
    if (rc == 0)
        rc = af_features_windows(&out->frames, &a->params, &out->windows, err);
    if (rc == 0)
        rc = af_features_track(&out->frames, out->track, err);
    out->feature_seconds = thread_cpu_seconds() - started;
    if (!keep_frames || rc != 0)
        af_frame_features_free(&out->frames);
    if (rc != 0)
        af_analysis_free(out);
    return rc;
}

int af_analyse_memory(struct af_analyser *a, const void *data, size_t size, bool keep_frames,
                      struct af_analysis *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    struct af_audio audio;
    double started = thread_cpu_seconds();
    int rc = af_decode_memory(data, size, &a->decode, &audio, err);
    out->decode_seconds = thread_cpu_seconds() - started;
    if (rc != 0) {
        out->failure = audio.failure;
        return -1;
    }
    return compute(a, &audio, keep_frames, out, err);
}

int af_analyse_file(struct af_analyser *a, const char *path, bool keep_frames,
                    struct af_analysis *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    struct af_audio audio;
    double started = thread_cpu_seconds();
    int rc = af_decode_file(path, &a->decode, &audio, err);
    out->decode_seconds = thread_cpu_seconds() - started;
    if (rc != 0) {
        out->failure = audio.failure;
        return -1;
    }
    return compute(a, &audio, keep_frames, out, err);
}

void af_analysis_free(struct af_analysis *analysis)
{
    af_feature_matrix_free(&analysis->windows);
    af_frame_features_free(&analysis->frames);
}
