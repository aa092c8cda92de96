/*
 * decoder.h — internal to analysis/decode/: the decoder state shared by the
 * files that make up decode.h's API, and the functions they call across.
 *   open.c      opening a file or buffer, choosing the audio stream, tags,
 *               FFmpeg's log messages
 *   decode.c    the decode loop and the public af_decode_* entry points
 *   resample.c  mixing to mono, resampling to 22050 Hz, the output buffer
 *   excerpt.c   cutting the central excerpt
 *   probe.c     af_decode_probe_*: head and tail only
 *   verdict.c   the checks that refuse an input, and failure names
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

/* A decode is "truncated" when it falls short of the header's duration by more
 * than both of these: headers count encoder padding, and some are a little off. */
#define TRUNCATION_MIN_SECONDS 0.25
#define TRUNCATION_MIN_FRACTION 0.01

/* Reading from memory: a read+seek AVIOContext over the caller's buffer (open.c). */
struct memory_reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

/* Decoder state. */
struct decoder {
    struct af_decode_opts opts;
    struct memory_reader memory;
    AVIOContext *avio; /* custom I/O for memory input; NULL for files */
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
    float *out; /* the result at 22050 Hz */
    size_t n_out;
    size_t out_capacity;

    double seconds_in; /* decoded so far, at the source rate(s) */
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

/* open.c */
void decoder_ffmpeg_log_reset(void);
const char *decoder_ffmpeg_detail(char *buf, size_t size);
int decoder_open_input(struct decoder *d, const char *path, af_err *err);
int decoder_open_audio_stream(struct decoder *d, af_err *err);
int decoder_read_metadata(struct decoder *d, af_err *err);
void decoder_close_input(struct decoder *d);

/* resample.c */
int decoder_reserve_output(struct decoder *d, size_t more, af_err *err);
int decoder_reserve_mono(struct decoder *d, size_t n, af_err *err);
size_t decoder_initial_capacity(const struct decoder *d);
int decoder_mix_to_mono(const AVFrame *frame, float *dst);
int decoder_start_segment(struct decoder *d, int rate, af_err *err);
int decoder_finish_segment(struct decoder *d, af_err *err);
int decoder_resample_into_output(struct decoder *d, const float *mono, size_t n, af_err *err);

/* excerpt.c */
void decoder_cut_excerpt(struct decoder *d);

/* decode.c */
void decoder_init(struct decoder *d, const struct af_decode_opts *opts);
int decoder_decode_packets(struct decoder *d, double stop_after, af_err *err);
void decoder_close(struct decoder *d);

#endif
