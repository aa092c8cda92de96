/* report_spectro.c — af-report's spectrogram / MFCC picture per genre; see
 * report_spectro.h. */
#include "report_spectro.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_store.h"
#include "db.h"
#include "decode/decode.h"
#include "report_image.h"
#include "spectral/mel.h"
#include "spectral/mfcc.h"
#include "spectral/stft.h"

double af_hz_to_mel_slaney(double hz)
{
    const double f_sp = 200.0 / 3, min_log_hz = 1000, logstep = log(6.4) / 27;
    if (hz < min_log_hz)
        return hz / f_sp;
    return min_log_hz / f_sp + log(hz / min_log_hz) / logstep;
}

void af_spectro_free(struct af_spectro *s)
{
    free(s->mel);
    free(s->mfcc);
    memset(s, 0, sizeof *s);
}

struct analysis_tools {
    struct af_stft *stft;
    struct af_stft_buffers buf;
    struct af_mel mel;
    struct af_mfcc *mfcc;
    bool have_buf, have_mel;
};

static void tools_free(struct analysis_tools *t)
{
    if (t->have_buf)
        af_stft_buffers_destroy(&t->buf);
    if (t->have_mel)
        af_mel_destroy(&t->mel);
    free(t->stft);
    free(t->mfcc);
}

static int tools_init(struct analysis_tools *t, af_err *err)
{
    memset(t, 0, sizeof *t);
    if (!(t->stft = calloc(1, sizeof *t->stft)) || !(t->mfcc = malloc(sizeof *t->mfcc)))
        return af_err_set(err, "out of memory");
    if (af_stft_init(t->stft, err) != 0 || af_stft_buffers_init(&t->buf, err) != 0)
        return -1;
    t->have_buf = true;
    if (af_mel_init(&t->mel, err) != 0)
        return -1;
    t->have_mel = true;
    af_mfcc_init(t->mfcc);
    return 0;
}

/* Mel power averaged over groups of frames into power[cols][AF_N_MELS]. */
static int mel_columns(struct analysis_tools *t, const float *y, size_t n, int cols,
                       size_t group, float *power, af_err *err)
{
    float *mag = aligned_alloc(64, AF_MAG_STRIDE * sizeof *mag);
    if (!mag)
        return af_err_set(err, "out of memory");
    size_t frames = af_n_frames(n);
    float band[AF_N_MELS];
    for (int c = 0; c < cols; c++) {
        float *col = power + (size_t)c * AF_N_MELS;
        size_t first = (size_t)c * group, last = first + group < frames ? first + group : frames;
        for (size_t f = first; f < last; f++) {
            af_stft_magnitude(t->stft, &t->buf, y, n, f, mag);
            af_mel_apply(&t->mel, mag, band);
            for (int b = 0; b < AF_N_MELS; b++)
                col[b] += band[b] / (float)(last - first);
        }
    }
    free(mag);
    return 0;
}

static uint8_t level(double v, double lo, double hi)
{
    double f = hi > lo ? (v - lo) / (hi - lo) : 0;
    return (uint8_t)(f <= 0 ? 0 : f >= 1 ? 255 : f * 255 + 0.5);
}

int af_spectro_compute(const float *samples, size_t n, struct af_spectro *out, af_err *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return af_err_set(err, "no samples");
    size_t frames = af_n_frames(n);
    size_t group = (frames + AF_SPECTRO_MAX_COLS - 1) / AF_SPECTRO_MAX_COLS;
    int cols = (int)((frames + group - 1) / group);
    struct analysis_tools t;
    float *power = calloc((size_t)cols * AF_N_MELS, sizeof *power);
    int rc = power ? tools_init(&t, err) : af_err_set(err, "out of memory");
    if (rc == 0)
        rc = mel_columns(&t, samples, n, cols, group, power, err);
    if (rc == 0) {
        out->cols = cols;
        out->seconds = (double)n / AF_SAMPLE_RATE;
        out->mel = malloc((size_t)cols * AF_N_MELS);
        out->mfcc = malloc((size_t)cols * AF_N_MFCC);
        float *coef = malloc((size_t)cols * AF_N_MFCC * sizeof *coef);
        if (!out->mel || !out->mfcc || !coef) {
            rc = af_err_set(err, "out of memory");
        } else {
            af_power_to_db(power, (size_t)cols * AF_N_MELS, AF_TOP_DB);
            float top = -INFINITY;
            for (size_t i = 0; i < (size_t)cols * AF_N_MELS; i++)
                top = fmaxf(top, power[i]);
            out->mel_db_max = top;
            for (int c = 0; c < cols; c++) {
                for (int b = 0; b < AF_N_MELS; b++)
                    out->mel[(size_t)b * (size_t)cols + (size_t)c] =
                        level(power[(size_t)c * AF_N_MELS + (size_t)b], top - AF_TOP_DB, top);
                af_mfcc_frame(t.mfcc, power + (size_t)c * AF_N_MELS, coef + (size_t)c * AF_N_MFCC);
            }
            /* Each coefficient on its own range: c0 (loudness) would flatten the rest. */
            for (int k = 0; k < AF_N_MFCC; k++) {
                float lo = INFINITY, hi = -INFINITY;
                for (int c = 0; c < cols; c++) {
                    lo = fminf(lo, coef[(size_t)c * AF_N_MFCC + (size_t)k]);
                    hi = fmaxf(hi, coef[(size_t)c * AF_N_MFCC + (size_t)k]);
                }
                for (int c = 0; c < cols; c++)
                    out->mfcc[(size_t)k * (size_t)cols + (size_t)c] =
                        level(coef[(size_t)c * AF_N_MFCC + (size_t)k], lo, hi);
            }
        }
        free(coef);
    }
    if (power)
        tools_free(&t);
    free(power);
    if (rc != 0)
        af_spectro_free(out);
    return rc;
}

/* ---- the section ---- */

#define PIC_X 70
#define PIC_W 600
#define MEL_H 192
#define MFCC_H 80

static void time_axis(af_sb *out, double seconds, int y)
{
    af_sb_printf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", PIC_X,
                 PIC_X + PIC_W, y, y);
    double step = seconds > 20 ? 5 : seconds > 8 ? 2 : 1;
    for (double s = 0; s <= seconds + 1e-9; s += step) {
        double x = PIC_X + PIC_W * s / seconds;
        af_sb_printf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#000\"/>"
                          "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">"
                          "%g</text>\n", x, x, y, y + 4, x, y + 16, s);
    }
    af_sb_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">"
                      "time (s)</text>\n", PIC_X + PIC_W / 2, y + 30);
}

static void picture(af_sb *out, const struct af_spectro *s, const char *name)
{
    const int top = 10, mfcc_top = top + MEL_H + 40, height = mfcc_top + MFCC_H + 40;
    af_sb_printf(out, "<svg class=\"spectrogram\" width=\"%d\" height=\"%d\" role=\"img\" "
                      "aria-label=\"spectrogram of ", PIC_X + PIC_W + 90, height);
    af_sb_html(out, name);
    af_sb_puts(out, "\">\n");
    /* the mel spectrogram, its frequency axis in Hz at the mel bands' positions */
    af_sb_printf(out, "<image class=\"mel\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                      "preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"",
                 PIC_X, top, PIC_W, MEL_H);
    af_bmp8_data_uri(s->mel, s->cols, AF_N_MELS, out);
    af_sb_puts(out, "\"/>\n");
    static const double ticks[] = {0, 250, 500, 1000, 2000, 4000, 8000};
    double mel_max = af_hz_to_mel_slaney(AF_SAMPLE_RATE / 2.0);
    for (size_t i = 0; i < sizeof ticks / sizeof *ticks; i++) {
        double y = top + MEL_H * (1 - af_hz_to_mel_slaney(ticks[i]) / mel_max);
        af_sb_printf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>"
                          "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n",
                     PIC_X - 4, PIC_X, y, y, PIC_X - 6, y + 4, ticks[i]);
    }
    af_sb_printf(out, "<text transform=\"translate(14 %d) rotate(-90)\" font-size=\"12\" "
                      "text-anchor=\"middle\">frequency (Hz, mel scale)</text>\n",
                 top + MEL_H / 2);
    time_axis(out, s->seconds, top + MEL_H);
    /* the colour scale: 80 dB below the loudest cell up to it */
    for (int i = 0; i < 16; i++) {
        char colour[8];
        af_ramp_colour(255 - i * 17, colour);
        af_sb_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"%d\" fill=\"%s\"/>\n",
                     PIC_X + PIC_W + 14, top + i * MEL_H / 16, MEL_H / 16 + 1, colour);
    }
    af_sb_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.0f dB</text>"
                      "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.0f dB</text>\n",
                 PIC_X + PIC_W + 30, top + 10, s->mel_db_max, PIC_X + PIC_W + 30, top + MEL_H,
                 s->mel_db_max - AF_TOP_DB);
    /* the MFCCs: coefficient 0 at the bottom */
    af_sb_printf(out, "<image class=\"mfcc\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                      "preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"",
                 PIC_X, mfcc_top, PIC_W, MFCC_H);
    af_bmp8_data_uri(s->mfcc, s->cols, AF_N_MFCC, out);
    af_sb_puts(out, "\"/>\n");
    for (int k = 0; k < AF_N_MFCC; k += 5) {
        double y = mfcc_top + MFCC_H * (1 - (k + 0.5) / AF_N_MFCC);
        af_sb_printf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>"
                          "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%d</text>\n",
                     PIC_X - 4, PIC_X, y, y, PIC_X - 6, y + 4, k);
    }
    af_sb_printf(out, "<text transform=\"translate(14 %d) rotate(-90)\" font-size=\"12\" "
                      "text-anchor=\"middle\">MFCC</text>\n", mfcc_top + MFCC_H / 2);
    time_axis(out, s->seconds, mfcc_top + MFCC_H);
    af_sb_puts(out, "</svg>\n");
}

/* A malloc'd copy of what PQunescapeBytea gives (which PQfreemem must release), so
 * that audio from the database and from the directory are freed alike. */
static unsigned char *unescape_copy(const char *text, size_t *len)
{
    unsigned char *raw = PQunescapeBytea((const unsigned char *)text, len);
    unsigned char *copy = raw ? malloc(*len ? *len : 1) : NULL;
    if (copy)
        memcpy(copy, raw, *len);
    PQfreemem(raw);
    return copy;
}

/* The track's encoded audio (malloc'd) from where it is stored; *data NULL with why
 * set when it is not available, which is not an error. */
static int read_audio(PGconn *db, const char *track, unsigned char **data, size_t *len,
                      char *why, size_t why_len, af_err *err)
{
    *data = NULL;
    const char *p[] = {track};
    PGresult *res = af_db_query(db,
                                "SELECT a.stored, a.bytes, encode(a.sha256, 'hex')"
                                "  FROM track_audio ta JOIN audio a ON a.sha256 = ta.sha256"
                                " WHERE ta.track_id = $1::bigint",
                                1, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        snprintf(why, why_len, "track %s has no stored audio", track);
    } else if (strcmp(PQgetvalue(res, 0, 0), "none") == 0) {
        snprintf(why, why_len, "the audio of track %s is not kept ([audio] store = none drops "
                               "it once its features are stored)", track);
    } else if (strcmp(PQgetvalue(res, 0, 0), "database") == 0) {
        if (!(*data = unescape_copy(PQgetvalue(res, 0, 1), len)))
            snprintf(why, why_len, "out of memory reading the audio of track %s", track);
    } else {
        unsigned char digest[32];
        const char *hex = PQgetvalue(res, 0, 2);
        for (int i = 0; i < 32; i++)
            sscanf(hex + 2 * i, "%2hhx", &digest[i]);
        af_err read_err = {0};
        if (af_audio_store_read_file(digest, data, len, &read_err) != 0) {
            *data = NULL;
            snprintf(why, why_len, "the audio of track %s is in the audio directory but "
                                   "cannot be read: %.200s", track, read_err.msg);
        }
    }
    PQclear(res);
    return 0;
}

static void one_genre(PGconn *db, const PGresult *res, int row, af_sb *out, bool *failed,
                      af_err *err)
{
    const char *genre = PQgetvalue(res, row, 0);
    af_sb_puts(out, "<h3>");
    af_sb_html(out, genre);
    af_sb_puts(out, "</h3>\n");
    if (PQgetisnull(res, row, 1)) {
        af_sb_puts(out, "<p>No test track of this genre was classified right.</p>\n");
        return;
    }
    const char *track = PQgetvalue(res, row, 1);
    af_sb_printf(out, "<p>Track %s, ", track);
    af_sb_html(out, PQgetvalue(res, row, 2));
    af_sb_puts(out, " - ");
    af_sb_html(out, PQgetvalue(res, row, 3));
    af_sb_puts(out, " (probability of ");
    af_sb_html(out, genre);
    af_sb_printf(out, ": %.3f)", atof(PQgetvalue(res, row, 4)));
    unsigned char *data = NULL;
    size_t len = 0;
    char why[400] = "";
    if (read_audio(db, track, &data, &len, why, sizeof why, err) != 0) {
        *failed = true;
        return;
    }
    struct af_audio audio = {0};
    af_err decode_err = {0};
    struct af_spectro s = {0};
    if (data && af_decode_memory(data, len, NULL, &audio, &decode_err) != 0)
        snprintf(why, sizeof why, "its audio cannot be decoded: %.300s", decode_err.msg);
    else if (data && af_spectro_compute(audio.samples, audio.n_samples, &s, &decode_err) != 0)
        snprintf(why, sizeof why, "its audio cannot be analysed: %.300s", decode_err.msg);
    else if (data)
        why[0] = '\0';
    free(data);
    if (why[0]) {
        af_sb_puts(out, ": <span class=\"no-audio\">");
        af_sb_html(out, why);
        af_sb_puts(out, "</span>.</p>\n");
    } else {
        af_sb_printf(out, ", %.1f s from %.1f s on.</p>\n", s.seconds, audio.excerpt_start);
        picture(out, &s, genre);
    }
    af_audio_free(&audio);
    af_spectro_free(&s);
}

int af_report_spectro_section(PGconn *db, long long model_id, af_sb *out, af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    /* per genre (in the model's order) its most confidently right test track */
    PGresult *res = af_db_query(
        db,
        "SELECT g.name, best.track_id, best.artist, best.title, best.confidence"
        "  FROM models m, unnest(m.genres) WITH ORDINALITY AS g(name, i)"
        "  LEFT JOIN LATERAL ("
        "    SELECT p.track_id, coalesce(t.artist, '') AS artist, coalesce(t.title, '') AS title,"
        "           p.probabilities[g.i] AS confidence"
        "      FROM predictions p LEFT JOIN tracks t USING (track_id)"
        "     WHERE p.model_id = $1::bigint AND p.classifier = 'network' AND p.fold IS NULL"
        "       AND p.true_genre = g.name AND p.predicted_genre = g.name"
        "     ORDER BY p.probabilities[g.i] DESC, p.track_id LIMIT 1) best ON true"
        " WHERE m.model_id = $1::bigint ORDER BY g.i",
        1, p, err);
    if (!res)
        return -1;
    af_sb_puts(out, "<h2>A typical track per genre</h2>\n<p>For each genre the test track the "
                    "model classified right with the highest probability: its mel spectrogram "
                    "(128 bands, dB, the 30 s excerpt the features are computed from) and its "
                    "20 MFCCs (each coefficient scaled to its own range), computed from the "
                    "stored audio with the same analysis code as the features.</p>\n");
    bool failed = false;
    for (int r = 0; r < PQntuples(res) && !failed; r++)
        one_genre(db, res, r, out, &failed, err);
    PQclear(res);
    return failed ? -1 : 0;
}
