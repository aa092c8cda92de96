/*
 * feature_vectors.c — feature set "v1" (see feature_vectors.h): window and track vectors
 * from frame features, their names, and the parameters that define them.
 */
#include "feature_vectors.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Definitions of v1 that are not parameters; they are in the JSON all the same. */
#define RMS_JUMP_FACTOR 0.5       /* a jump is |delta rms| > 0.5 * the window's mean rms */
#define MIN_PARTIAL_WINDOW 0.5    /* keep a final window covering at least half a window */
#define SILENT_HARMONIC_SHARE 0.5 /* harmonic_share when there is no energy at all */
#define MAX_SECONDS 1e5

#define NAME_SIZE 40

static char frame_row_names[AF_FRAME_DIMS][NAME_SIZE];
static char feature_name_storage[AF_N_FEATURES][NAME_SIZE];
static const char *feature_name_list[AF_N_FEATURES];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void numbered(int row, const char *prefix, int number)
{
    snprintf(frame_row_names[row], NAME_SIZE, "%s%02d", prefix, number);
}

static void build_names(void)
{
    static const struct {
        int row;
        const char *name;
    } single[] = {
        {AF_ROW_CENTROID, "centroid"}, {AF_ROW_BANDWIDTH, "bandwidth"},
        {AF_ROW_ROLLOFF, "rolloff"},   {AF_ROW_FLATNESS, "flatness"},
        {AF_ROW_ZCR, "zcr"},           {AF_ROW_RMS, "rms"},
        {AF_ROW_ONSET, "onset"},
    };
    for (int i = 0; i < 20; i++)
        numbered(AF_ROW_MFCC + i, "mfcc", i + 1);
    for (int i = 0; i < 7; i++)
        numbered(AF_ROW_CONTRAST + i, "contrast", i + 1);
    for (int i = 0; i < 12; i++)
        numbered(AF_ROW_CHROMA + i, "chroma", i + 1);
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
        snprintf(frame_row_names[single[i].row], NAME_SIZE, "%s", single[i].name);

    for (int row = 0; row < AF_FRAME_DIMS; row++)
        for (int stat = 0; stat < AF_N_STATS; stat++)
            snprintf(feature_name_storage[row * AF_N_STATS + stat], NAME_SIZE, "%.20s_%.10s",
                     frame_row_names[row], af_stat_name(stat));
    snprintf(feature_name_storage[AF_FEATURE_TEMPO], NAME_SIZE, "tempo");
    snprintf(feature_name_storage[AF_FEATURE_RMS_ABOVE_MEAN_FRACTION], NAME_SIZE,
             "rms_above_mean_fraction");
    snprintf(feature_name_storage[AF_FEATURE_RMS_JUMP_RATE], NAME_SIZE, "rms_jump_rate");
    snprintf(feature_name_storage[AF_FEATURE_HARMONIC_SHARE], NAME_SIZE, "harmonic_share");
    for (int i = 0; i < AF_N_FEATURES; i++)
        feature_name_list[i] = feature_name_storage[i];
}

const char *const *af_feature_names(size_t *count)
{
    pthread_once(&names_once, build_names);
    if (count)
        *count = AF_N_FEATURES;
    return feature_name_list;
}

const char *af_frame_row_name(int row)
{
    pthread_once(&names_once, build_names);
    return row >= 0 && row < AF_FRAME_DIMS ? frame_row_names[row] : "?";
}

/* ---------------------------------------------------------------------------
 * Parameters. */

void af_feature_params_init(struct af_feature_params *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", AF_FEATURE_SET_NAME);
    p->window_seconds = 3.0;
    p->hop_seconds = 3.0;
    p->excerpt_seconds = 30.0;
    p->sample_rate = AF_SAMPLE_RATE;
    p->n_fft = AF_N_FFT;
    p->hop_length = AF_HOP;
    p->n_mfcc = 20;
    p->n_mels = 128;
    p->n_chroma = 12;
    p->n_contrast = 7;
    p->hpss_kernel = 31;
}

/* Set names become parts of view names (features_<name>_windows): keep them identifiers. */
static int is_set_name(const char *name)
{
    if (!(name[0] >= 'a' && name[0] <= 'z'))
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    return strlen(name) < sizeof ((struct af_feature_params *)0)->name;
}

int af_feature_params_check(const struct af_feature_params *p, af_err *err)
{
    struct af_feature_params v1;
    af_feature_params_init(&v1);
    if (!is_set_name(p->name))
        return af_err_set(err,
                          "feature set name \"%.15s\" must start with a lower-case letter and "
                          "hold only a-z, 0-9 and _ (at most 15 characters)",
                          p->name);
    if (p->sample_rate != v1.sample_rate || p->n_fft != v1.n_fft ||
        p->hop_length != v1.hop_length || p->n_mfcc != v1.n_mfcc || p->n_mels != v1.n_mels ||
        p->n_chroma != v1.n_chroma || p->n_contrast != v1.n_contrast ||
        p->hpss_kernel != v1.hpss_kernel)
        return af_err_set(err, "feature set v1 has fixed frame parameters (sample rate %d, "
                               "n_fft %d, hop %d, 20 MFCC, 128 mels, 12 chroma, 7 contrast, "
                               "HPSS kernel 31); only the durations can change",
                          v1.sample_rate, v1.n_fft, v1.hop_length);
    double min_window = (double)p->hop_length / p->sample_rate;
    if (!(p->window_seconds >= min_window && p->window_seconds <= MAX_SECONDS))
        return af_err_set(err, "window length %g s is not between %.4f s (one frame hop) and %g s",
                          p->window_seconds, min_window, MAX_SECONDS);
    if (!(p->hop_seconds * p->sample_rate >= 1 && p->hop_seconds <= MAX_SECONDS))
        return af_err_set(err, "window hop %g s is not between one sample and %g s",
                          p->hop_seconds, MAX_SECONDS);
    if (!(p->excerpt_seconds >= 0 && p->excerpt_seconds <= MAX_SECONDS))
        return af_err_set(err, "excerpt length %g s is not between 0 (whole track) and %g s",
                          p->excerpt_seconds, MAX_SECONDS);
    return 0;
}

static int set_json(json_t *object, const char *key, json_t *value)
{
    return value ? json_object_set_new(object, key, value) : -1;
}

char *af_feature_params_json(const struct af_feature_params *p, af_err *err)
{
    if (af_feature_params_check(p, err) < 0)
        return NULL;
    json_t *o = json_object();
    json_t *stats = json_array();
    int bad = !o || !stats;
    for (int i = 0; i < AF_N_STATS && !bad; i++)
        bad |= json_array_append_new(stats, json_string(af_stat_name(i))) < 0;
    if (!bad) {
        /* The definition this code computes; the set's name is the database's key. */
        bad |= set_json(o, "definition", json_string(AF_FEATURE_SET_NAME));
        bad |= set_json(o, "n_features", json_integer(AF_N_FEATURES));
        bad |= set_json(o, "window_seconds", json_real(p->window_seconds));
        bad |= set_json(o, "hop_seconds", json_real(p->hop_seconds));
        bad |= set_json(o, "excerpt_seconds", json_real(p->excerpt_seconds));
        bad |= set_json(o, "excerpt", json_string("central"));
        bad |= set_json(o, "sample_rate", json_integer(p->sample_rate));
        bad |= set_json(o, "mono", json_string("mean"));
        bad |= set_json(o, "resampler", json_string("soxr_hq"));
        bad |= set_json(o, "n_fft", json_integer(p->n_fft));
        bad |= set_json(o, "hop_length", json_integer(p->hop_length));
        bad |= set_json(o, "n_mfcc", json_integer(p->n_mfcc));
        bad |= set_json(o, "n_mels", json_integer(p->n_mels));
        bad |= set_json(o, "n_chroma", json_integer(p->n_chroma));
        bad |= set_json(o, "n_contrast", json_integer(p->n_contrast));
        bad |= set_json(o, "hpss_kernel", json_integer(p->hpss_kernel));
        bad |= set_json(o, "reference", json_string("librosa 0.10.1"));
        bad |= set_json(o, "stats", stats);
        stats = NULL; /* owned by o now, even if that failed */
        bad |= set_json(o, "rms_jump_factor", json_real(RMS_JUMP_FACTOR));
        bad |= set_json(o, "min_partial_window", json_real(MIN_PARTIAL_WINDOW));
        bad |= set_json(o, "silent_harmonic_share", json_real(SILENT_HARMONIC_SHARE));
    }
    char *text = bad ? NULL
                     : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    json_decref(stats);
    json_decref(o);
    if (!text)
        af_err_set(err, "out of memory serialising the feature parameters");
    return text;
}

/* ---------------------------------------------------------------------------
 * Windows. */

static size_t seconds_to_samples(double seconds, int sample_rate)
{
    return (size_t)llround(seconds * sample_rate);
}

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

void af_window_frames(size_t window, size_t n_frames, const struct af_feature_params *p,
                      size_t *first, size_t *end)
{
    const size_t hop = (size_t)p->hop_length;
    const size_t start = window * seconds_to_samples(p->hop_seconds, p->sample_rate);
    const size_t stop = start + seconds_to_samples(p->window_seconds, p->sample_rate);
    *first = ceil_div(start, hop);
    *end = ceil_div(stop, hop);
    if (*end > n_frames)
        *end = n_frames;
    if (*first > *end)
        *first = *end;
}

size_t af_window_count(size_t n_frames, const struct af_feature_params *p)
{
    const double length = (double)seconds_to_samples(p->window_seconds, p->sample_rate);
    const double hop = (double)seconds_to_samples(p->hop_seconds, p->sample_rate);
    /* Frames are all this module sees: the excerpt is taken to be n_frames hops
     * long, which is within one hop of its true length. */
    const double excerpt = (double)n_frames * p->hop_length;
    size_t count = 0;
    for (size_t w = 0;; w++) {
        size_t first, end;
        af_window_frames(w, n_frames, p, &first, &end);
        if (first >= n_frames)
            break;
        double start = (double)w * hop;
        double covered = excerpt - start < length ? excerpt - start : length;
        if (w > 0 && covered < MIN_PARTIAL_WINDOW * length)
            break; /* only the last window can be short; window 0 is always kept */
        count++;
    }
    return count;
}

/* ---------------------------------------------------------------------------
 * Vectors. */

static int check_frames(const struct af_frame_features *f, af_err *err)
{
    if (!f || f->n_frames == 0 || !f->data || !f->harmonic_energy || !f->percussive_energy)
        return af_err_set(err, "no frame features to summarise");
    if (!isfinite(f->tempo) || f->tempo < 0)
        return af_err_set(err, "frame features hold an invalid tempo %g", f->tempo);
    return 0;
}

static void energy_dynamics(const struct af_frame_features *f, size_t first, size_t end,
                            float *out)
{
    const float *rms = f->data + (size_t)AF_ROW_RMS * f->n_frames;
    const size_t n = end - first;
    double sum = 0;
    for (size_t t = first; t < end; t++)
        sum += rms[t];
    const double mean = sum / (double)n;

    size_t above = 0, jumps = 0;
    for (size_t t = first; t < end; t++) {
        above += rms[t] > mean;
        if (t > first && fabs((double)rms[t] - rms[t - 1]) > RMS_JUMP_FACTOR * mean)
            jumps++;
    }
    out[AF_FEATURE_RMS_ABOVE_MEAN_FRACTION] = (float)((double)above / (double)n);
    out[AF_FEATURE_RMS_JUMP_RATE] = n > 1 ? (float)((double)jumps / (double)(n - 1)) : 0.0f;
}

static int harmonic_share(const struct af_frame_features *f, size_t first, size_t end,
                          float *out, af_err *err)
{
    double harmonic = 0, percussive = 0;
    for (size_t t = first; t < end; t++) {
        float h = f->harmonic_energy[t], p = f->percussive_energy[t];
        if (!(h >= 0 && p >= 0 && isfinite(h) && isfinite(p)))
            return af_err_set(err, "frame %zu has an invalid harmonic/percussive energy (%g, %g)",
                              t, (double)h, (double)p);
        harmonic += h;
        percussive += p;
    }
    double total = harmonic + percussive;
    *out = total > 0 ? (float)(harmonic / total) : (float)SILENT_HARMONIC_SHARE;
    return 0;
}

/* The AF_N_FEATURES values of frames [first, end). scratch: AF_SELECT_SCRATCH_FLOATS(n_frames). */
static int summarise(const struct af_frame_features *f, size_t first, size_t end, float *scratch,
                     float *out, af_err *err)
{
    for (int row = 0; row < AF_FRAME_DIMS; row++) {
        double stats[AF_N_STATS];
        const float *values = f->data + (size_t)row * f->n_frames + first;
        if (af_stats_compute(values, end - first, scratch, stats, err) < 0)
            return af_err_prefix(err, "frame row %s", af_frame_row_name(row));
        for (int s = 0; s < AF_N_STATS; s++)
            out[row * AF_N_STATS + s] = (float)stats[s];
    }
    out[AF_FEATURE_TEMPO] = (float)f->tempo;
    energy_dynamics(f, first, end, out);
    if (harmonic_share(f, first, end, &out[AF_FEATURE_HARMONIC_SHARE], err) < 0)
        return -1;

    /* The promise of this module: nothing non-finite leaves it (a double beyond
     * float's range would become inf here; finite frames cannot produce one). */
    for (int i = 0; i < AF_N_FEATURES; i++)
        if (!isfinite(out[i]))
            return af_err_set(err, "feature %s of frames %zu..%zu is not finite (a bug)",
                              af_feature_names(NULL)[i], first, end);
    return 0;
}

int af_features_windows(const struct af_frame_features *f, const struct af_feature_params *p,
                        struct af_feature_matrix *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    if (af_feature_params_check(p, err) < 0 || check_frames(f, err) < 0)
        return -1;

    const size_t rows = af_window_count(f->n_frames, p);
    float *data = malloc(rows * AF_N_FEATURES * sizeof *data);
    float *scratch = malloc(AF_SELECT_SCRATCH_FLOATS(f->n_frames) * sizeof *scratch);
    if (!data || !scratch) {
        free(data);
        free(scratch);
        return af_err_set(err, "out of memory for %zu windows", rows);
    }
    for (size_t w = 0; w < rows; w++) {
        size_t first, end;
        af_window_frames(w, f->n_frames, p, &first, &end);
        if (summarise(f, first, end, scratch, data + w * AF_N_FEATURES, err) < 0) {
            free(data);
            free(scratch);
            return af_err_prefix(err, "window %zu", w);
        }
    }
    free(scratch);
    out->rows = rows;
    out->data = data;
    return 0;
}

int af_features_track(const struct af_frame_features *f, float out[AF_N_FEATURES], af_err *err)
{
    if (check_frames(f, err) < 0)
        return -1;
    float *scratch = malloc(AF_SELECT_SCRATCH_FLOATS(f->n_frames) * sizeof *scratch);
    if (!scratch)
        return af_err_set(err, "out of memory for %zu frames", f->n_frames);
    int ret = summarise(f, 0, f->n_frames, scratch, out, err);
    free(scratch);
    return ret;
}

void af_feature_matrix_free(struct af_feature_matrix *m)
{
    if (!m)
        return;
    free(m->data);
    m->data = NULL;
    m->rows = 0;
}
