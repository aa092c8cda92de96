/*
 * frames.c — implements frames.h: owns the shared context (plans, filterbanks)
 * and the per-thread workspace, and runs the feature modules in an order that
 * reads each STFT frame while it is hot:
 *
 *   0. the waveform, in one pass: every sample checked, zero crossings and
 *      squares summed per hop block -> zero crossing rate and RMS (temporal.c);
 *   1. per frame, 4 frames at a time and stage by stage: STFT magnitude
 *      (stft.c) -> mel power (mel.c), centroid, bandwidth, flatness, contrast
 *      peaks/valleys (spectral.c), piptrack peaks (chroma.c), rolloff for each
 *      16 frames (spectral.c), and HPSS
 *      (hpss.c) as far as the rows so far allow, about 48 frames behind; the
 *      magnitude row is kept for the passes below;
 *   2. whole clip: dB mel with the clip's maximum -> MFCC (mfcc.c)
 *      and onset strength (onset.c), contrast dB, tuning -> chroma, tempo
 *      (tempo.c).
 */
#include "frames.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "descriptors/spectral.h"
#include "descriptors/temporal.h"
#include "hpss/hpss.h"
#include "rhythm/onset.h"
#include "rhythm/tempo.h"
#include "simd.h"
#include "spectral/chroma.h"
#include "spectral/mel.h"
#include "spectral/mfcc.h"
#include "spectral/stft.h"

/* Larger samples could overflow float32 power sums; decoded audio is within +-1. */
#define MAX_ABS_SAMPLE AF_MAX_ABS_SAMPLE

struct af_frame_ctx {
    struct af_stft stft;
    struct af_mel mel;
    struct af_mfcc mfcc;
    struct af_spectral spectral;
    struct af_contrast contrast;
    struct af_tempo tempo;
};

struct af_frame_workspace {
    struct af_stft_buffers stft;
    struct af_tempo_buffers tempo;
    float *hpss;     /* af_hpss_scratch_floats() */
    size_t capacity; /* frames the arrays below hold */
    float *mag;      /* capacity x AF_MAG_STRIDE */
    float *mel_db;   /* capacity x AF_N_MELS */
    float *peak;     /* AF_CONTRAST_BANDS x capacity */
    float *valley;   /* AF_CONTRAST_BANDS x capacity */
    float *scratch;  /* af_tempo_scratch_floats(capacity) */
    double *blocks;  /* 2 * AF_CONTRAST_BANDS * capacity: zcr/rms blocks, contrast dB */
    struct af_pitch_list pitches;
    float *pitch_scratch;
    size_t pitch_scratch_cap;
    float *chroma_fb[AF_TUNING_STEPS]; /* filterbanks by tuning, built on first use */
};

static void *alloc_aligned(size_t bytes)
{
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

struct af_frame_ctx *af_frame_ctx_new(af_err *err)
{
    struct af_frame_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        af_err_set(err, "frame context: out of memory");
        return NULL;
    }
    af_mfcc_init(&ctx->mfcc);
    af_spectral_init(&ctx->spectral);
    af_contrast_init(&ctx->contrast, &ctx->spectral);
    if (af_stft_init(&ctx->stft, err) || af_mel_init(&ctx->mel, err) ||
        af_tempo_init(&ctx->tempo, err)) {
        af_frame_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void af_frame_ctx_free(struct af_frame_ctx *ctx)
{
    if (!ctx)
        return;
    af_mel_destroy(&ctx->mel);
    free(ctx);
}

struct af_frame_workspace *af_frame_workspace_new(const struct af_frame_ctx *ctx, af_err *err)
{
    (void)ctx;
    struct af_frame_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) {
        af_err_set(err, "frame workspace: out of memory");
        return NULL;
    }
    if (af_stft_buffers_init(&ws->stft, err) || af_tempo_buffers_init(&ws->tempo, err)) {
        af_frame_workspace_free(ws);
        return NULL;
    }
    ws->hpss = alloc_aligned(af_hpss_scratch_floats() * sizeof(float));
    if (!ws->hpss) {
        af_err_set(err, "frame workspace: out of memory");
        af_frame_workspace_free(ws);
        return NULL;
    }
    return ws;
}

static void free_frame_arrays(struct af_frame_workspace *ws)
{
    free(ws->mag);
    free(ws->mel_db);
    free(ws->peak);
    free(ws->valley);
    free(ws->scratch);
    free(ws->blocks);
    ws->mag = ws->mel_db = ws->peak = ws->valley = ws->scratch = NULL;
    ws->blocks = NULL;
    ws->capacity = 0;
}

void af_frame_workspace_free(struct af_frame_workspace *ws)
{
    if (!ws)
        return;
    af_stft_buffers_destroy(&ws->stft);
    af_tempo_buffers_destroy(&ws->tempo);
    free(ws->hpss);
    free_frame_arrays(ws);
    af_pitch_list_free(&ws->pitches);
    free(ws->pitch_scratch);
    for (int i = 0; i < AF_TUNING_STEPS; i++)
        free(ws->chroma_fb[i]);
    free(ws);
}

static int reserve_frames(struct af_frame_workspace *ws, size_t n_frames, af_err *err)
{
    if (n_frames <= ws->capacity)
        return 0;
    free_frame_arrays(ws);
    size_t cap = n_frames + n_frames / 8; /* some room for slightly longer clips */
    ws->mag = alloc_aligned(cap * AF_MAG_STRIDE * sizeof(float));
    ws->mel_db = alloc_aligned(cap * AF_N_MELS * sizeof(float));
    ws->peak = malloc(AF_CONTRAST_BANDS * cap * sizeof(float));
    ws->valley = malloc(AF_CONTRAST_BANDS * cap * sizeof(float));
    ws->scratch = malloc(af_tempo_scratch_floats(cap) * sizeof(float));
    ws->blocks = malloc(2 * AF_CONTRAST_BANDS * cap * sizeof(double));
    if (!ws->mag || !ws->mel_db || !ws->peak || !ws->valley || !ws->scratch || !ws->blocks) {
        free_frame_arrays(ws);
        return af_err_set(err, "frame features: out of memory for %zu frames", n_frames);
    }
    ws->capacity = cap;
    return 0;
}

static const float *chroma_filterbank_for(struct af_frame_workspace *ws, double tuning, af_err *err)
{
    int i = af_tuning_index(tuning);
    if (!ws->chroma_fb[i]) {
        float *fb = alloc_aligned(sizeof(float) * AF_N_CHROMA * AF_CHROMA_FB_STRIDE);
        if (!fb) {
            af_err_set(err, "chroma: out of memory");
            return NULL;
        }
        af_chroma_filterbank(tuning, fb);
        ws->chroma_fb[i] = fb;
    }
    return ws->chroma_fb[i];
}

static int check_length(const float *y, size_t n_samples, af_err *err)
{
    if (!y)
        return af_err_set(err, "frame features: no samples");
    if (n_samples < AF_N_FFT)
        return af_err_set(err, "frame features: %zu samples, need at least %d", n_samples, AF_N_FFT);
    return 0;
}

static int refuse_sample_out_of_range(const float *y, size_t n_samples, af_err *err)
{
    for (size_t i = 0; i < n_samples; i++)
        if (!(fabsf(y[i]) <= MAX_ABS_SAMPLE))
            return af_err_set(err, "frame features: sample %zu is %g (must be finite, |x| <= %g)", i,
                              (double)y[i], (double)MAX_ABS_SAMPLE);
    return af_err_set(err, "frame features: a sample is out of range"); /* not reached */
}

static float *row_of(struct af_frame_features *out, int row)
{
    return out->data + (size_t)row * out->n_frames;
}

/* Frames per step of the per-frame pass: each stage runs over the step's frames
 * before the next, so that its tables (FFT twiddles, windows, mel weights) stay in
 * L1 from one frame to the next; 4 rows of magnitudes fit beside them, 8 did not
 * (feature samples -1.5% against decode in perf; 8 frames: no gain). */
#define FRAME_STEP 4
_Static_assert(AF_ROLLOFF_BATCH % FRAME_STEP == 0, "rolloff batches end on a step");

static float *mag_row(const struct af_frame_workspace *ws, size_t t)
{
    return ws->mag + t * AF_MAG_STRIDE;
}

/* Pass 1: everything that needs only one STFT frame. */
static int per_frame_pass(const struct af_frame_ctx *ctx, struct af_frame_workspace *ws, const float *y,
                          size_t n_samples, struct af_frame_features *out, af_err *err)
{
    size_t n = out->n_frames;
    ws->pitches.n = 0;
    /* HPSS follows the rows while they are in cache (2.1 -> 1.5 ms per clip in perf) */
    struct af_hpss_run hpss;
    af_hpss_begin(&hpss, AF_HPSS_AUTO, ws->mag, n, ws->hpss, out->harmonic_energy, out->percussive_energy);
    for (size_t t0 = 0; t0 < n; t0 += FRAME_STEP) {
        size_t t1 = t0 + FRAME_STEP < n ? t0 + FRAME_STEP : n;
        for (size_t t = t0; t < t1; t++)
            af_stft_magnitude(&ctx->stft, &ws->stft, y, n_samples, t, mag_row(ws, t));
        for (size_t t = t0; t < t1; t++)
            af_mel_apply(&ctx->mel, mag_row(ws, t), ws->mel_db + t * AF_N_MELS);
        for (size_t t = t0; t < t1; t++) {
            float centroid, bandwidth;
            af_spectral_centroid_bandwidth(&ctx->spectral, mag_row(ws, t), &centroid, &bandwidth);
            row_of(out, AF_ROW_CENTROID)[t] = centroid;
            row_of(out, AF_ROW_BANDWIDTH)[t] = bandwidth;
        }
        for (size_t t = t0; t < t1; t++)
            row_of(out, AF_ROW_FLATNESS)[t] = af_spectral_flatness(mag_row(ws, t));
        for (size_t t = t0; t < t1; t++) {
            float peak[AF_CONTRAST_BANDS], valley[AF_CONTRAST_BANDS];
            af_contrast_frame(&ctx->contrast, mag_row(ws, t), peak, valley);
            for (int b = 0; b < AF_CONTRAST_BANDS; b++) {
                ws->peak[b * n + t] = peak[b];
                ws->valley[b * n + t] = valley[b];
            }
        }
        for (size_t t = t0; t < t1; t++)
            if (af_piptrack_frame(mag_row(ws, t), &ws->pitches, err))
                return -1;
        /* rolloff takes 16 frames at a time, while their rows are still in L2 */
        size_t batch_start = t0 / AF_ROLLOFF_BATCH * AF_ROLLOFF_BATCH;
        if (t1 == batch_start + AF_ROLLOFF_BATCH || t1 == n)
            af_spectral_rolloff(mag_row(ws, batch_start), t1 - batch_start,
                                row_of(out, AF_ROW_ROLLOFF) + batch_start);
        af_hpss_advance(&hpss, t1);
    }
    return 0;
}

static void mfcc_and_onset(const struct af_frame_ctx *ctx, struct af_frame_workspace *ws,
                           struct af_frame_features *out)
{
    size_t n = out->n_frames;
    af_power_to_db(ws->mel_db, n * AF_N_MELS, AF_TOP_DB);
    for (size_t t = 0; t < n; t++) {
        float c[AF_N_MFCC];
        af_mfcc_frame(&ctx->mfcc, ws->mel_db + t * AF_N_MELS, c);
        for (int k = 0; k < AF_N_MFCC; k++)
            row_of(out, AF_ROW_MFCC + k)[t] = c[k];
    }
    af_onset_strength(ws->mel_db, n, row_of(out, AF_ROW_ONSET));
}

static int chroma_pass(struct af_frame_workspace *ws, struct af_frame_features *out, af_err *err)
{
    size_t n = out->n_frames;
    size_t scratch_floats = af_tuning_scratch_floats(ws->pitches.n);
    if (scratch_floats > ws->pitch_scratch_cap) {
        float *s = realloc(ws->pitch_scratch, scratch_floats * sizeof *s);
        if (!s)
            return af_err_set(err, "chroma: out of memory");
        ws->pitch_scratch = s;
        ws->pitch_scratch_cap = scratch_floats;
    }
    double tuning = af_tuning_from_pitches(&ws->pitches, ws->pitch_scratch);
    out->tuning = (float)tuning;
    const float *fb = chroma_filterbank_for(ws, tuning, err);
    if (!fb)
        return -1;
    af_chroma_frames(fb, ws->mag, n, row_of(out, AF_ROW_CHROMA));
    return 0;
}

static int compute_all(const struct af_frame_ctx *ctx, struct af_frame_workspace *ws, const float *y,
                       size_t n_samples, struct af_frame_features *out, af_err *err)
{
    size_t n = out->n_frames;
    /* the one pass over the waveform checks every sample before anything else reads it */
    double *block_crossings = ws->blocks, *block_squares = ws->blocks + n;
    if (!af_waveform_blocks(y, n_samples, MAX_ABS_SAMPLE, block_crossings, block_squares))
        return refuse_sample_out_of_range(y, n_samples, err);
    af_zero_crossing_rate(y, n_samples, n, block_crossings, row_of(out, AF_ROW_ZCR));
    af_rms(n_samples, n, block_squares, row_of(out, AF_ROW_RMS));
    if (per_frame_pass(ctx, ws, y, n_samples, out, err))
        return -1;
    mfcc_and_onset(ctx, ws, out);
    af_contrast_finish(ws->peak, ws->valley, n, ws->blocks, row_of(out, AF_ROW_CONTRAST));
    if (chroma_pass(ws, out, err))
        return -1;
    out->tempo = af_tempo_estimate(&ctx->tempo, &ws->tempo, row_of(out, AF_ROW_ONSET), n, ws->scratch, NULL);
    return 0;
}

int af_frames_compute(const struct af_frame_ctx *ctx, struct af_frame_workspace *ws, const float *y,
                      size_t n_samples, struct af_frame_features *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    if (!ctx || !ws)
        return af_err_set(err, "frame features: no context or workspace");
    if (check_length(y, n_samples, err))
        return -1;
    size_t n = af_n_frames(n_samples);
    if (reserve_frames(ws, n, err))
        return -1;
    out->n_frames = n;
    out->data = malloc((size_t)AF_FRAME_DIMS * n * sizeof(float));
    out->harmonic_energy = malloc(n * sizeof(float));
    out->percussive_energy = malloc(n * sizeof(float));
    if (!out->data || !out->harmonic_energy || !out->percussive_energy) {
        af_frame_features_free(out);
        return af_err_set(err, "frame features: out of memory for %zu frames", n);
    }
    if (compute_all(ctx, ws, y, n_samples, out, err)) {
        af_frame_features_free(out);
        return -1;
    }
    return 0;
}

void af_frame_features_free(struct af_frame_features *f)
{
    if (!f)
        return;
    free(f->data);
    free(f->harmonic_energy);
    free(f->percussive_energy);
    memset(f, 0, sizeof *f);
}
