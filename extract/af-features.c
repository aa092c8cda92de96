/*
 * af-features — prints the features of audio files, without any database:
 * the same numbers af-extract stores (decode.h -> frames.h -> feature_vectors.h,
 * through analysis.h), as CSV or as a float32 .npy, per frame, per window or
 * per track.  For looking at a file, comparing with librosa, and debugging.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "app.h"
#include "exitcode.h"
#include "featureset/feature_vectors.h"
#include "log.h"

static const char usage[] =
    "Usage: af-features [OPTION]... FILE...\n"
    "Print the audio features (feature set v1) of each FILE, without any database.\n"
    "FILE is anything FFmpeg reads: MP3, AAC/M4A, Ogg Vorbis, Opus, FLAC, WAV, AU, ...\n"
    "It is decoded to mono 22050 Hz (mean of the channels, soxr resampling: what\n"
    "librosa.load(path, sr=22050) gives), its central excerpt is analysed, and the\n"
    "features are printed.  These are the numbers of the analysis library libafaudio\n"
    "(afaudio.h; Python: python/afaudio), which af-extract stores too.\n"
    "\n"
    "What to print (one of):\n"
    "      --windows          one row per window: 326 values (the default): for each of\n"
    "                         the 46 frame features, its mean std skew kurtosis min max\n"
    "                         median over the window's frames (\"mfcc01_mean\" ...), then\n"
    "                         tempo, rms_above_mean_fraction, rms_jump_rate, harmonic_share\n"
    "      --track            one row per file: the same 326 values over the whole excerpt\n"
    "      --frames           one row per frame (2048 samples every 512, 23.2 ms, centred):\n"
    "                         the 46 frame features, then harmonic_energy and\n"
    "                         percussive_energy (per frame, sum of |H|^2 and |P|^2 of\n"
    "                         librosa.decompose.hpss(librosa.stft(y)))\n"
    "\n"
    "The 46 frame features equal librosa 0.10.1's, defaults, within 1e-4 of each array's\n"
    "maximum (rolloff: or one 10.77 Hz bin away on a few frames):\n"
    "  mfcc01..mfcc20     librosa.feature.mfcc          centroid   spectral_centroid\n"
    "  bandwidth          spectral_bandwidth            rolloff    spectral_rolloff\n"
    "  flatness           spectral_flatness             zcr        zero_crossing_rate\n"
    "  contrast01..07     spectral_contrast             rms        librosa.feature.rms\n"
    "  chroma01..chroma12 chroma_stft (C..B, tuning estimated)\n"
    "  onset              librosa.onset.onset_strength\n"
    "  tempo (in vectors) librosa.feature.tempo of the whole excerpt, BPM\n"
    "\n"
    "Output:\n"
    "      --format csv|npy   csv (default): a header row of names, then one row per\n"
    "                         frame, window or track; the first columns are file, index\n"
    "                         (frame or window number, 0 for a track) and time (seconds\n"
    "                         into the file: frame centre, window start, excerpt start).\n"
    "                         npy: a float32 NumPy array of the values only, the rows of\n"
    "                         all files one after the other (with --verbose the log says\n"
    "                         which rows are whose); never written to a terminal\n"
    "  -o, --output OUT       write to OUT instead of standard output\n"
    "\n"
    "Feature parameters (af-extract needs a new feature set name to change them):\n"
    "      --excerpt SECONDS  analyse the central SECONDS of each file (default 30;\n"
    "                         0 = the whole file)\n"
    "      --window SECONDS   window length (default 3)\n"
    "      --hop SECONDS      distance between window starts (default 3)\n"
    "\n"
    "A file that cannot be used (missing, not audio, corrupt, truncated, empty, silent,\n"
    "too short, longer than 20 minutes) is reported with the reason and skipped; the\n"
    "other files are still processed, and the exit code is 1.\n";

enum { OPT_FRAMES = AF_OPT_FIRST_PROGRAM_OPTION, OPT_WINDOWS, OPT_TRACK, OPT_FORMAT,
       OPT_EXCERPT, OPT_WINDOW, OPT_HOP };

enum mode { MODE_WINDOWS, MODE_TRACK, MODE_FRAMES };
enum format { FORMAT_CSV, FORMAT_NPY };

#define FRAME_COLUMNS (AF_FRAME_DIMS + 2)

struct options {
    enum mode mode;
    int mode_given;
    enum format format;
    const char *output;
    struct af_feature_params params;
};

/* Where rows go: written at once for CSV, collected for the .npy header's shape. */
struct output {
    FILE *fp;
    const char *name;
    enum format format;
    size_t columns;
    float *values;
    size_t rows, capacity_rows;
};

/* ---------------------------------------------------------------------------
 * Command line. */

static double parse_seconds(const struct af_app *app, const char *flag, const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < 0)
        af_app_usage_error(app, "%s: '%s' is not a number of seconds", flag, text);
    return v;
}

static void set_mode(const struct af_app *app, struct options *o, enum mode mode)
{
    if (o->mode_given && o->mode != mode)
        af_app_usage_error(app, "--frames, --windows and --track exclude each other");
    o->mode = mode;
    o->mode_given = 1;
}

static int parse_command_line(struct af_app *app, int argc, char **argv, struct options *o)
{
    static const struct option long_options[] = {
        AF_APP_LONG_OPTIONS,
        {"frames", no_argument, NULL, OPT_FRAMES},
        {"windows", no_argument, NULL, OPT_WINDOWS},
        {"track", no_argument, NULL, OPT_TRACK},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"excerpt", required_argument, NULL, OPT_EXCERPT},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"hop", required_argument, NULL, OPT_HOP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    af_feature_params_init(&o->params);

    int opt;
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT "o:", long_options, NULL)) != -1) {
        if (af_app_option(app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_FRAMES: set_mode(app, o, MODE_FRAMES); break;
        case OPT_WINDOWS: set_mode(app, o, MODE_WINDOWS); break;
        case OPT_TRACK: set_mode(app, o, MODE_TRACK); break;
        case OPT_FORMAT:
            if (strcmp(optarg, "csv") == 0)
                o->format = FORMAT_CSV;
            else if (strcmp(optarg, "npy") == 0)
                o->format = FORMAT_NPY;
            else
                af_app_usage_error(app, "--format: '%s' is neither csv nor npy", optarg);
            break;
        case 'o': o->output = optarg; break;
        case OPT_EXCERPT: o->params.excerpt_seconds = parse_seconds(app, "--excerpt", optarg); break;
        case OPT_WINDOW: o->params.window_seconds = parse_seconds(app, "--window", optarg); break;
        case OPT_HOP: o->params.hop_seconds = parse_seconds(app, "--hop", optarg); break;
        default: af_app_usage_error(app, "unexpected option");
        }
    }
    if (optind >= argc)
        af_app_usage_error(app, "no FILE given");

    af_err err = {0};
    if (af_feature_params_check(&o->params, &err) != 0)
        af_app_usage_error(app, "%s", err.msg);
    if (o->format == FORMAT_NPY && !o->output && isatty(STDOUT_FILENO))
        af_app_usage_error(app, "will not write a binary .npy to a terminal: use -o FILE or "
                                "redirect standard output");
    return optind;
}

/* ---------------------------------------------------------------------------
 * Output. */

static void csv_field(FILE *fp, const char *text)
{
    if (!strpbrk(text, ",\"\n\r")) {
        fputs(text, fp);
        return;
    }
    fputc('"', fp); /* RFC 4180: quoted, quotes doubled */
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            fputc('"', fp);
        fputc(*c, fp);
    }
    fputc('"', fp);
}

static void write_csv_header(struct output *out, enum mode mode)
{
    fputs("file,index,time", out->fp);
    if (mode == MODE_FRAMES) {
        for (int r = 0; r < AF_FRAME_DIMS; r++)
            fprintf(out->fp, ",%s", af_frame_row_name(r));
        fputs(",harmonic_energy,percussive_energy", out->fp);
    } else {
        const char *const *names = af_feature_names(NULL);
        for (size_t i = 0; i < AF_N_FEATURES; i++)
            fprintf(out->fp, ",%s", names[i]);
    }
    fputc('\n', out->fp);
}

static int add_row(struct output *out, const char *file, size_t index, double time,
                   const float *values)
{
    if (out->format == FORMAT_CSV) {
        csv_field(out->fp, file);
        fprintf(out->fp, ",%zu,%.6f", index, time);
        for (size_t i = 0; i < out->columns; i++)
            fprintf(out->fp, ",%.9g", (double)values[i]); /* %.9g: float32 round-trips */
        fputc('\n', out->fp);
        return ferror(out->fp) ? -1 : 0;
    }
    if (out->rows == out->capacity_rows) {
        size_t capacity = out->capacity_rows ? 2 * out->capacity_rows : 64;
        float *grown = realloc(out->values, capacity * out->columns * sizeof *grown);
        if (!grown)
            return -1;
        out->values = grown;
        out->capacity_rows = capacity;
    }
    memcpy(out->values + out->rows * out->columns, values, out->columns * sizeof *values);
    out->rows++;
    return 0;
}

/* NumPy format 1.0: magic, header length, a dict padded with spaces to a multiple
 * of 64 bytes ending in '\n', then the raw little-endian float32 rows. */
static int write_npy(struct output *out)
{
    char dict[128];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
                       out->rows, out->columns);
    size_t header = 10 + (size_t)len + 1;
    size_t padded = (header + 63) / 64 * 64;
    unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                  (unsigned char)((padded - 10) & 0xFF),
                                  (unsigned char)((padded - 10) >> 8)};
    fwrite(preamble, 1, sizeof preamble, out->fp);
    fputs(dict, out->fp);
    for (size_t i = header; i < padded; i++)
        fputc(' ', out->fp);
    fputc('\n', out->fp);

    const size_t n = out->rows * out->columns;
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe == 1) {
        fwrite(out->values, sizeof(float), n, out->fp);
    } else {
        for (size_t i = 0; i < n; i++) { /* big-endian host: swap to '<f4' */
            uint8_t b[4];
            memcpy(b, &out->values[i], 4);
            uint8_t le[4] = {b[3], b[2], b[1], b[0]};
            fwrite(le, 1, 4, out->fp);
        }
    }
    return ferror(out->fp) ? -1 : 0;
}

static int open_output(struct output *out, const struct options *o)
{
    memset(out, 0, sizeof *out);
    out->format = o->format;
    out->columns = o->mode == MODE_FRAMES ? FRAME_COLUMNS : AF_N_FEATURES;
    out->name = o->output ? o->output : "standard output";
    out->fp = o->output ? fopen(o->output, o->format == FORMAT_NPY ? "wb" : "w") : stdout;
    if (!out->fp) {
        log_error("cannot write %s: %s", o->output, strerror(errno));
        return -1;
    }
    if (out->format == FORMAT_CSV)
        write_csv_header(out, o->mode);
    return 0;
}

/* Writes the .npy if any, flushes and closes; -1 when anything could not be written. */
static int close_output(struct output *out)
{
    int rc = 0;
    if (out->format == FORMAT_NPY)
        rc = write_npy(out);
    if (fflush(out->fp) != 0 || ferror(out->fp))
        rc = -1;
    if (out->fp != stdout && fclose(out->fp) != 0)
        rc = -1;
    if (rc != 0)
        log_error("cannot write %s: %s", out->name, strerror(errno));
    free(out->values);
    return rc;
}

/* ---------------------------------------------------------------------------
 * One file. */

static int emit_frames(struct output *out, const char *file, const struct af_analysis *an)
{
    const struct af_frame_features *f = &an->frames;
    float row[FRAME_COLUMNS];
    for (size_t t = 0; t < f->n_frames; t++) {
        for (int r = 0; r < AF_FRAME_DIMS; r++)
            row[r] = f->data[(size_t)r * f->n_frames + t];
        row[AF_FRAME_DIMS] = f->harmonic_energy[t];
        row[AF_FRAME_DIMS + 1] = f->percussive_energy[t];
        double time = an->excerpt_start + (double)t * AF_HOP / AF_SAMPLE_RATE;
        if (add_row(out, file, t, time, row) != 0)
            return -1;
    }
    return 0;
}

static int emit(struct output *out, enum mode mode, const struct af_feature_params *params,
                const char *file, const struct af_analysis *an)
{
    switch (mode) {
    case MODE_FRAMES:
        return emit_frames(out, file, an);
    case MODE_TRACK:
        return add_row(out, file, 0, an->excerpt_start, an->track);
    case MODE_WINDOWS:
        for (size_t w = 0; w < an->windows.rows; w++) {
            double start = an->excerpt_start + (double)w * params->hop_seconds;
            if (add_row(out, file, w, start, an->windows.data + w * AF_N_FEATURES) != 0)
                return -1;
        }
        return 0;
    }
    return -1;
}

static size_t rows_of(enum mode mode, const struct af_analysis *an)
{
    return mode == MODE_FRAMES ? an->frames.n_frames : mode == MODE_TRACK ? 1 : an->windows.rows;
}

/* 0 done, 1 the file failed (reported), -1 the output failed (stop). */
static int process_file(struct af_analyser *analyser, const struct options *o,
                        struct output *out, const char *path)
{
    struct af_analysis an;
    af_err err = {0};
    if (af_analyse_file(analyser, path, o->mode == MODE_FRAMES, &an, &err) != 0) {
        log_error("%s: %s", path, err.msg);
        return 1;
    }
    size_t first_row = out->rows;
    log_debug("%s: %s %d Hz %d ch, %.2f s; central %.2f s from %.2f s; decode %.1f ms, "
              "features %.1f ms",
              path, an.codec, an.source_sample_rate, an.source_channels, an.duration,
              an.excerpt_seconds, an.excerpt_start, an.decode_seconds * 1e3,
              an.feature_seconds * 1e3);
    int rc = emit(out, o->mode, &o->params, path, &an);
    if (rc == 0 && out->format == FORMAT_NPY)
        log_debug("%s: rows %zu..%zu of the .npy", path, first_row, first_row + rows_of(o->mode, &an) - 1);
    af_analysis_free(&an);
    if (rc != 0)
        log_error("cannot write %s: %s", out->name, strerror(errno));
    return rc;
}

int main(int argc, char **argv)
{
    struct af_app app;
    struct options o;
    af_err err = {0};
    af_app_init(&app, "af-features", usage, argc, argv);
    int first_file = parse_command_line(&app, argc, argv, &o);
    if (af_app_start(&app, AF_APP_NO_DB, &err) != 0)
        return af_app_fail(&app, &err);

    struct af_frame_ctx *ctx = af_frame_ctx_new(&err);
    if (!ctx)
        return af_app_fail(&app, &err);
    struct af_analyser analyser;
    if (af_analyser_init(&analyser, ctx, &o.params, &err) != 0) {
        af_frame_ctx_free(ctx);
        return af_app_fail(&app, &err);
    }

    struct output out;
    int failed = 0, output_failed = open_output(&out, &o) != 0;
    const int n_files = argc - first_file;
    for (int i = first_file; i < argc && !output_failed && !af_app_stop_requested(); i++) {
        int rc = process_file(&analyser, &o, &out, argv[i]);
        failed += rc == 1;
        output_failed = rc < 0;
    }
    if (out.fp && close_output(&out) != 0)
        output_failed = 1;

    af_analyser_destroy(&analyser);
    af_frame_ctx_free(ctx);
    if (failed)
        log_warn("%d of %d file%s failed", failed, n_files, n_files == 1 ? "" : "s");
    int code = failed || output_failed ? AF_EXIT_FAILURE : AF_EXIT_OK;
    return af_app_finish(&app, code, failed ? "some files failed" : NULL);
}
