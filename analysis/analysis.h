/*
 * analysis.h — one audio input to its feature vectors: decode (decode.h), frame
 * features (frames.h), window and track vectors (feature_vectors.h).  af-extract,
 * af-features and af-predict all go through here, so a model always sees the
 * numbers the dataset was built from.
 *
 * An af_analyser belongs to one thread (it owns a frames workspace); the
 * af_frame_ctx it points to is shared by all threads.
 */
#ifndef AF_ANALYSIS_H
#define AF_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>

#include "decode/decode.h"
#include "error.h"
#include "featureset/feature_vectors.h"
#include "frames.h"

struct af_analyser {
    const struct af_frame_ctx *ctx;
    struct af_frame_workspace *ws;
    struct af_feature_params params;
    struct af_decode_opts decode;
};

struct af_analysis {
    struct af_feature_matrix windows;   /* one row per window */
    float track[AF_N_FEATURES];         /* the whole excerpt */
    struct af_frame_features frames;    /* kept only when asked (keep_frames) */
    double duration;                    /* of the whole input, seconds */
    double excerpt_start, excerpt_seconds;
    int source_sample_rate, source_channels;
    char codec[32];
    enum af_decode_failure failure;     /* why it failed (AF_DECODE_OK when not decoding) */
    double decode_seconds, feature_seconds; /* CPU time spent, for progress and benchmarks */
};

/* The decode options follow the feature parameters (the excerpt length). */
int af_analyser_init(struct af_analyser *a, const struct af_frame_ctx *ctx,
                     const struct af_feature_params *params, af_err *err);
void af_analyser_destroy(struct af_analyser *a);

int af_analyse_memory(struct af_analyser *a, const void *data, size_t size, bool keep_frames,
                      struct af_analysis *out, af_err *err);
int af_analyse_file(struct af_analyser *a, const char *path, bool keep_frames,
                    struct af_analysis *out, af_err *err);
void af_analysis_free(struct af_analysis *analysis);

#endif
