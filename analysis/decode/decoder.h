/*
 * decoder.h — internal to analysis/decode/: the decoder state shared by the
 * files that make up decode.h's API, and the functions they call across.
 *   open.c      opening a file or buffer, choosing the audio stream, tags,
 *               FFmpeg's log messages
 *   decode.c    the decode loop, the public af_decode_* entry points and the
 *               checks before opening that the probe shares
 *   resample.c  mixing to mono, resampling to 22050 Hz, the output buffer
 *   excerpt.c   cutting the central excerpt
 *   probe.c     af_decode_probe_*: head and tail only
 *   verdict.c   the checks that refuse an input, and failure names
 *   wav_size.c  the duration a WAV's data chunk declares (FFmpeg fits it to the bytes)
 *   memory_input.c  FFmpeg reading a buffer (memory_input.h, also used by ingest)
 * Nothing here is part of the library's public contract.
 */
#ifndef AF_DECODER_H
#define AF_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswresample/swresample.h>

#include "decode.h"
#include "error.h"
#include "memory_input.h"

/* A decode is "truncated" when it falls short of the header's duration by more
 * than both of these: headers count encoder padding, and some are a little off. */
#define TRUNCATION_MIN_SECONDS 0.25
#define TRUNCATION_MIN_FRACTION 0.01

/* Decoder state. */
struct decoder {
    struct af_decode_opts opts;
    struct af_memory_input memory; /* the buffer and its custom I/O; unused for files */
    AVFormatContext *fmt;
    AVCodecContext *codec;
    AVStream *stream;
    AVPacket *packet;
    AVFrame *frame;

    /* One segment per input sample rate (a rate change mid-stream starts a new one);
     * each is resampled on its own and fixed to librosa's length. */
    SwrContext *swr;
    int segment_rate;
    uint64_t segment_in;
    size_t segment_out_start;

    float *mono; /* one decoded frame mixed to mono, before resampling */
    size_t mono_capacity;
    float *out; /* the result at 22050 Hz: samples [out_base, n_out) of the whole */
    size_t out_base; /* samples dropped before out[0] (span.c); 0 when decoding whole */
    size_t n_out;    /* samples produced so far, dropped ones included */
    size_t out_capacity;

    /* Holding only the excerpt's span of a long input (span.c). */
    int span, no_span, span_missed;
    size_t span_lo, span_hi; /* the samples held, predicted from the header */
    float *kept;             /* [kept_lo, kept_lo + kept_n), once decoding is past it */
    size_t kept_lo, kept_n;

    double wav_declared; /* what a PCM WAV's data chunk declares, s; 0 = no claim (wav_size.c) */
    double seconds_in; /* decoded so far, at the source rate(s) */
    float first_channel_peak; /* |x| of the first channel before mixing (2+ channels) */
    long packets;
    long decode_errors;
    int last_error; /* last AVERROR from demuxing or decoding, 0 = none */
    int demux_error;

    /* A probe (af_decode_probe_*) only counts and times what decodes: no mixing,
     * no resampling. */
    int probing;
    long frames;          /* decoded frames with samples */
    double end_seconds;   /* where the last decoded frame ends (stream time, s); NAN = unknown */
    double probe_decoded; /* seconds decoded before a reopen */

    struct af_audio result;
};

/* verdict.c */
int decoder_fail(struct decoder *d, enum af_decode_failure why, af_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *decoder_averror_text(int code, char *buf, size_t size);
int decoder_check_options(struct decoder *d, af_err *err);
double decoder_declared_seconds(const struct decoder *d);
int decoder_check_decoded(struct decoder *d, af_err *err);
int decoder_check_samples(struct decoder *d, af_err *err);

/* wav_size.c: the seconds a PCM WAV's data chunk declares; 0 when it is no PCM WAV or
 * states no size (0 or 0xFFFFFFFF: written to a pipe).  After decoder_open_audio_stream. */
double decoder_wav_declared_seconds(const struct decoder *d, const char *path);

/* open.c */
void decoder_ffmpeg_log_reset(void);
const char *decoder_ffmpeg_detail(char *buf, size_t size);
int decoder_open_input(struct decoder *d, const char *path, af_err *err);
int decoder_open_audio_stream(struct decoder *d, af_err *err);
int decoder_read_metadata(struct decoder *d, af_err *err);
/* All of the above, then the packet and frame to decode with (decode and probe alike). */
int decoder_open(struct decoder *d, const char *path, af_err *err);
void decoder_close_input(struct decoder *d);

/* resample.c */
int decoder_reserve_output(struct decoder *d, size_t more, af_err *err);
int decoder_reserve_mono(struct decoder *d, size_t n, af_err *err);
size_t decoder_initial_capacity(const struct decoder *d);
int decoder_mix_to_mono(const AVFrame *frame, float *dst, float *first_channel_peak);
int decoder_start_segment(struct decoder *d, int rate, af_err *err);
int decoder_finish_segment(struct decoder *d, af_err *err);
int decoder_resample_into_output(struct decoder *d, const float *mono, size_t n, af_err *err);

/* excerpt.c: 0, or 1 when a span decode did not hold the excerpt (decode again whole) */
int decoder_cut_excerpt(struct decoder *d, af_err *err);

/* span.c */
void decoder_span_plan(struct decoder *d);
size_t decoder_span_capacity(const struct decoder *d);
int decoder_span_slide(struct decoder *d, af_err *err);
int decoder_span_find(const struct decoder *d, size_t from, size_t n, const float **src);

/* Where the next output sample goes, and how many are held. */
static inline size_t decoder_out_held(const struct decoder *d)
{
    return d->n_out - d->out_base;
}
static inline float *decoder_out_end(struct decoder *d)
{
    return d->out + decoder_out_held(d);
}

/* decode.c */
void decoder_init(struct decoder *d, const struct af_decode_opts *opts);
int decoder_decode_packets(struct decoder *d, double stop_after, af_err *err);
void decoder_close(struct decoder *d);
/* Starts a decode or probe of a file (path) or a buffer (path NULL: data, size):
 * d initialised with opts (NULL: defaults), then what cannot be audio refused before
 * opening: a file that is empty or not a regular file (a FIFO or device would block
 * for ever), an empty buffer.  0, or -1 with *failure and err set. */
int decoder_start(struct decoder *d, const struct af_decode_opts *opts, const char *path,
                  const void *data, size_t size, enum af_decode_failure *failure, af_err *err);
/* Frees the tags' strings and clears them (af_audio_free, af_audio_probe_free). */
void decoder_free_tags(struct af_audio_tags *tags);

#endif
