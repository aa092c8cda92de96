/*
 * decode.h — the pipeline's audio input: any file FFmpeg reads (MP3, AAC/M4A,
 * Ogg Vorbis, Opus, FLAC, WAV, AU, ...) becomes mono float32 at 22050 Hz,
 * which is what frames.h expects, plus the file's metadata and tags.
 *
 * The samples equal librosa.load(path, sr=22050) up to the MP3 decoder:
 * channels are averaged (not FFmpeg's (L+R)/sqrt(2) downmix), then resampled
 * with soxr at 20-bit precision (librosa's "soxr_hq"), and the result is
 * trimmed or padded to ceil(n * 22050 / rate) samples like librosa does.
 * Input already at 22050 Hz is not resampled.
 *
 * Then the central excerpt is cut (default 30 s; 0 = whole input): samples
 * [(n - k) / 2, (n - k) / 2 + k) with k = round(excerpt * 22050), when n > k.
 *
 * Inputs that cannot be used fail with a message saying why (with FFmpeg's
 * error text where FFmpeg is the one who failed), and af_audio.failure says
 * which case it was, for the database:
 *   - truncated: decoded more than 0.25 s and 1 % short of the duration the
 *     header states (MP3 Xing/LAME, FLAC, AU, AIFF, MP4 state it, and a PCM WAV's
 *     data chunk, read by wav_size.c since FFmpeg fits it to the bytes present;
 *     Ogg, headerless CBR MP3 and a WAV whose data size is 0 or 0xFFFFFFFF, as
 *     writers to a pipe leave it, do not, so a cut there is just a shorter file);
 *   - corrupt: nothing decodes, more than half the packets fail, or NaN/inf samples;
 *   - too long: decoding stops as soon as it passes max_seconds, so memory
 *     stays about max_seconds * 22050 * 4 bytes at most (106 MB at 20 minutes);
 *     but an input longer than 2 minutes whose container states its duration,
 *     decoded for an excerpt, holds only the excerpt's span (span.c: the same
 *     samples, memory independent of the input's length), and is refused only
 *     past AF_DECODE_MAX_STREAM_SECONDS (12 hours: a bound on time, not memory);
 *   - too short: fewer than min_samples before the excerpt;
 *   - silent: every kept sample (the excerpt) below the threshold.
 * A few bad packets in an otherwise good file are concealed by FFmpeg and
 * counted in decode_errors.
 *
 * Messages do not name the input; callers prefix them (af_err_prefix).
 *
 * FFmpeg logs through one process-wide callback; the first call of a decode
 * function installs one that prints nothing and keeps each thread's last
 * FFmpeg warning to quote in error messages.  Decode functions are
 * thread-safe (one call per thread, nothing shared).
 */
#ifndef AF_DECODE_H
#define AF_DECODE_H

#include <stddef.h>

#include "error.h"

#define AF_DECODE_EXCERPT_SECONDS 30.0   /* central excerpt; 0 = whole input */
#define AF_DECODE_MAX_SECONDS 1200.0     /* 20 minutes, before excerpting */
#define AF_DECODE_MAX_STREAM_SECONDS 43200.0 /* 12 hours, when only the excerpt's span is held */
#define AF_DECODE_MIN_SAMPLES 2048       /* one n_fft frame at 22050 Hz */
#define AF_DECODE_SILENCE_THRESHOLD 1e-6 /* all |x| below this = silent */

struct af_decode_opts {
    double excerpt_seconds;   /* length of the central excerpt; 0 = keep the whole input */
    double max_seconds;       /* refuse inputs that decode to more than this (bounds memory);
                                 not applied to a span decode (see "too long" above) */
    size_t min_samples;       /* refuse inputs shorter than this many samples at 22050 Hz */
    double silence_threshold; /* refuse when every kept sample has |x| < this; 0 = never */
};

/* Why a decode failed. The names (af_decode_failure_name) are stable: the
 * database stores them. */
enum af_decode_failure {
    AF_DECODE_OK = 0,
    AF_DECODE_EMPTY,       /* zero bytes */
    AF_DECODE_UNREADABLE,  /* cannot be opened, or not a format FFmpeg knows (text, random bytes) */
    AF_DECODE_NO_AUDIO,    /* a container without an audio stream (a picture, a silent video) */
    AF_DECODE_UNSUPPORTED, /* an audio codec this FFmpeg cannot decode */
    AF_DECODE_CORRUPT,     /* most or all packets fail to decode */
    AF_DECODE_TRUNCATED,   /* much shorter than the duration its header declares */
    AF_DECODE_TOO_SHORT,   /* fewer than min_samples */
    AF_DECODE_TOO_LONG,    /* more than max_seconds */
    AF_DECODE_SILENT,      /* every sample below silence_threshold */
    AF_DECODE_SYSTEM,      /* out of memory, read error, bad options: not the input's fault */
};

/* Tags as UTF-8 (ID3v1's Latin-1 is converted), trimmed; NULL when absent or empty. */
struct af_audio_tags {
    char *artist;
    char *title;
    char *album;
    char *genre;
};

struct af_audio {
    float *samples;            /* n_samples mono float32 at AF_SAMPLE_RATE (22050 Hz) */
    size_t n_samples;
    double duration;           /* seconds of audio in the whole input, before the excerpt */
    double excerpt_start;      /* where samples[0] lies in the input, seconds */
    int source_sample_rate;    /* of the input, Hz */
    int source_channels;
    char codec[32];            /* FFmpeg's codec name: "mp3", "aac", "vorbis", "opus", "flac", "pcm_s16le" */
    char container[64];        /* FFmpeg's demuxer name: "mp3", "mov,mp4,m4a,3gp,3g2,mj2", "ogg", "wav" */
    int decode_errors;         /* packets FFmpeg could not decode and skipped */
    struct af_audio_tags tags;
    enum af_decode_failure failure; /* AF_DECODE_OK, or why the call returned -1 */
};

/* Defaults: 30 s excerpt, 20 min maximum, 2048 samples minimum, silence below 1e-6. */
void af_decode_opts_init(struct af_decode_opts *opts);

/* Decode a file / a buffer (e.g. bytes stored in the database; not copied, must
 * stay valid during the call). opts may be NULL for the defaults.
 * On success, out owns its samples and tags: release them with af_audio_free.
 * On failure, out holds nothing to free and out->failure says why. */
int af_decode_file(const char *path, const struct af_decode_opts *opts, struct af_audio *out,
                   af_err *err);
int af_decode_memory(const void *data, size_t size, const struct af_decode_opts *opts,
                     struct af_audio *out, af_err *err);

void af_audio_free(struct af_audio *audio);

/* ---------------------------------------------------------------------------
 * Probing: a cheap check that an input is usable audio of the length it claims,
 * for gating downloads (af-fetch) without the cost of a full decode (a sixth to a
 * tenth of it for a 30 s MP3: ~2.5 s decoded, no resampling at all).
 *
 * A probe opens the input exactly like af_decode_* (same demuxer options, same
 * stream choice), decodes its first ~1 s, then seeks to ~1.5 s before the end its
 * header declares and decodes from there to the end of the input.
 *
 * What a successful probe proves:
 *   - FFmpeg recognises the container, it holds an audio stream, and that stream's
 *     codec decodes: the first second and the last 1.5 s give real frames, with
 *     at most half of those packets failing;
 *   - the input really reaches the duration its header declares: the decoded
 *     audio ends no more than max(0.25 s, 1 %) short of it, af_decode_*'s
 *     truncation tolerance.
 * When head or tail cannot confirm this (most packets fail, the seek fails,
 * nothing decodes there, no timestamps, or it ends short), the whole input is
 * decoded (without resampling) and af_decode_*'s own rules decide.  So a probe
 * never refuses what af_decode_* accepts, and a refusal has the same failure and
 * message as af_decode_*'s; only refusals cost as much as a decode.
 * Inputs without a usable declared duration (headerless MP3 and raw ADTS AAC,
 * whose length FFmpeg only estimates from the bitrate) or declaring 3 s or less
 * are decoded whole, which proves what a full decode proves about them, minus the
 * checks listed below.  (Ogg's duration comes from its last page, and a WAV of
 * unknown length (data size 0 or 0xFFFFFFFF) has none: for them, as for
 * af_decode_*, a cut is just a shorter file.)
 * Failures: empty, unreadable (HTML, text, random bytes), no_audio, unsupported,
 * corrupt, truncated, and too_long only when decoding whole goes past
 * AF_DECODE_MAX_SECONDS (otherwise callers judge out->duration).
 *
 * What it does not prove, left to af-extract's full decode (which then marks that
 * track failed; acceptable because fetch only gates what it stores):
 *   - that the middle decodes: corrupt packets between the head and the tail,
 *     or a stretch missing from the middle of a file whose header and end are
 *     intact, go unseen;
 *   - silence, and NaN/inf samples (no sample is looked at);
 *   - too_short: no minimum length (callers judge out->duration).
 * out->duration is the end of the decoded audio measured from the stream's start,
 * or the seconds decoded when decoded whole (then it equals af_decode_*'s
 * duration); they agree within a frame or so.
 */
struct af_audio_probe {
    double duration;         /* seconds of audio in the input (see above) */
    double decoded_seconds;  /* seconds of audio actually decoded to prove it (the cost) */
    int whole;               /* 1 when it had to decode the whole input */
    int source_sample_rate;  /* Hz */
    int source_channels;
    char codec[32];          /* as in struct af_audio */
    char container[64];
    int decode_errors;       /* packets that failed among those decoded */
    struct af_audio_tags tags;
    enum af_decode_failure failure; /* AF_DECODE_OK, or why the call returned -1 */
};

/* Probe a buffer (not copied, must stay valid during the call) / a file.
 * Thread-safe like the decode functions.  On success, release out's tags with
 * af_audio_probe_free; on failure, out holds nothing to free and out->failure
 * says why. */
int af_decode_probe_memory(const void *data, size_t size, struct af_audio_probe *out,
                           af_err *err);
int af_decode_probe_file(const char *path, struct af_audio_probe *out, af_err *err);

void af_audio_probe_free(struct af_audio_probe *probe);

/* "ok", "empty", "unreadable", "no_audio", "unsupported", "corrupt", "truncated",
 * "too_short", "too_long", "silent", "system". */
const char *af_decode_failure_name(enum af_decode_failure failure);

#endif
