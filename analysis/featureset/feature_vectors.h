/*
 * feature_vectors.h — feature set "v1": what the pipeline stores and learns from.
 * Turns the frame-level features of one excerpt (frames.h) into
 *   (a) one vector per window of the excerpt (default 3 s windows, 3 s hop), and
 *   (b) one vector for the whole excerpt (the "track" vector),
 * both of AF_N_FEATURES = 326 float values with stable names.
 *
 * Layout of a vector (index: name):
 *   row * 7 + stat   for each of the 46 frame rows, in frames.h order, the 7
 *                    statistics of stats.h in order mean std skew kurtosis min max
 *                    median: "mfcc01_mean" (0) ... "onset_median" (321).
 *                    Row names: mfcc01..mfcc20, centroid, bandwidth, rolloff,
 *                    flatness, contrast01..contrast07, zcr, rms, chroma01..chroma12
 *                    (chroma01 = C ... chroma12 = B), onset.
 *   322 tempo                    BPM of the whole excerpt (the same in every window).
 *   323 rms_above_mean_fraction  fraction of the window's frames whose RMS is strictly
 *                                above the window's mean RMS (0 for a constant RMS).
 *   324 rms_jump_rate            fraction of the window's consecutive frame pairs with
 *                                |rms[t] - rms[t-1]| > 0.5 * the window's mean RMS;
 *                                0 with fewer than 2 frames, and for silence.
 *   325 harmonic_share           sum(harmonic energy) / (sum(harmonic) + sum(percussive))
 *                                over the window's frames; 0.5 (neither dominates)
 *                                when both sums are 0, i.e. for digital silence.
 *
 * Windows (all arithmetic on whole samples, so it is exact):
 *   L = round(window_seconds * 22050) samples, H = round(hop_seconds * 22050).
 *   Frame t is centred on sample t * 512 (frames.h: centred frames).
 *   Window w holds the frames whose centre lies in [w*H, w*H + L): frames
 *   first = ceil(w*H / 512) up to, not including, end = min(ceil((w*H + L) / 512), n_frames).
 *   Windows are taken for w = 0, 1, ... while they hold a frame; only the final
 *   one can be partial, and it is kept when it covers at least half a window:
 *   E - w*H >= L / 2, where E = n_frames * 512 stands for the excerpt's length
 *   (frames are all this module sees; E is within one hop, 23 ms, of the true
 *   length).  So 30 s -> 10 windows; 31.5 s -> 11 (a final 1.5 s is kept);
 *   31.4 s -> 10.  An excerpt shorter than half a window gives one window of
 *   all its frames, so that every decodable track has at least one window.
 *
 * No NaN or inf ever leaves this module: frame features holding one are
 * refused with an error (they would be a bug upstream); the cases that have no
 * value (constant rows, silence) have the documented values above and in stats.h.
 */
#ifndef AF_FEATURE_VECTORS_H
#define AF_FEATURE_VECTORS_H

#include <stddef.h>

#include "error.h"
#include "frames.h"
#include "stats/stats.h"

/* The feature definition this code computes, and the default feature set name. A set
 * may have any name: the name labels one choice of the durations below. */
#define AF_FEATURE_SET_NAME "v1"
#define AF_N_ROW_FEATURES (AF_FRAME_DIMS * AF_N_STATS) /* 322 */
#define AF_N_FEATURES (AF_N_ROW_FEATURES + 4)          /* 326 */

enum af_feature_extra {
    AF_FEATURE_TEMPO = AF_N_ROW_FEATURES,
    AF_FEATURE_RMS_ABOVE_MEAN_FRACTION,
    AF_FEATURE_RMS_JUMP_RATE,
    AF_FEATURE_HARMONIC_SHARE,
};

/* What v1 is computed with. Everything that changes a value is here and in the
 * JSON (af_feature_params_json), so the database can tell when stored features
 * were made with other parameters. Only the three durations may be changed;
 * the others are fixed by frames.h and checked. */
struct af_feature_params {
    char name[16];          /* the set's name, default "v1"; [a-z][a-z0-9_]* */
    double window_seconds;  /* 3.0 */
    double hop_seconds;     /* 3.0 */
    double excerpt_seconds; /* 30.0: decode.h's central excerpt; 0 = whole track */
    int sample_rate;        /* 22050 */
    int n_fft;              /* 2048 */
    int hop_length;         /* 512 */
    int n_mfcc;             /* 20 */
    int n_mels;             /* 128 */
    int n_chroma;           /* 12 */
    int n_contrast;         /* 7 (6 bands + 1) */
    int hpss_kernel;        /* 31 */
};

void af_feature_params_init(struct af_feature_params *params);
int af_feature_params_check(const struct af_feature_params *params, af_err *err);

/* Canonical JSON (sorted keys, no spaces) of every parameter that affects a value:
 * equal parameters give byte-equal strings. Release with free(). NULL on error. */
char *af_feature_params_json(const struct af_feature_params *params, af_err *err);

/* The AF_N_FEATURES names, in vector order (static storage; count may be NULL). */
const char *const *af_feature_names(size_t *count);
/* Name of one frame row (enum af_frame_row index 0..45): "mfcc01", "centroid", ... */
const char *af_frame_row_name(int row);

/* Windowing (see above). n_frames >= 1. */
size_t af_window_count(size_t n_frames, const struct af_feature_params *params);
void af_window_frames(size_t window, size_t n_frames, const struct af_feature_params *params,
                      size_t *first, size_t *end);

/* rows x AF_N_FEATURES floats, row-major. */
struct af_feature_matrix {
    size_t rows;
    float *data;
};

/* One vector per window. out->data is allocated here; af_feature_matrix_free it. */
int af_features_windows(const struct af_frame_features *frames,
                        const struct af_feature_params *params, struct af_feature_matrix *out,
                        af_err *err);
/* The track vector: the same values over every frame of the excerpt. */
int af_features_track(const struct af_frame_features *frames, float out[AF_N_FEATURES],
                      af_err *err);
void af_feature_matrix_free(struct af_feature_matrix *m);

#endif
