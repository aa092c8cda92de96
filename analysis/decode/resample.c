/*
 * resample.c — from decoded frames to the output buffer (decoder.h): channels
 * averaged to mono as librosa.to_mono does, other sample rates resampled to
 * 22050 Hz with soxr as librosa does, one segment per input rate.
 */
#include "decoder.h"

#include <math.h>
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include "frames.h"

/* ---------------------------------------------------------------------------
 * Output buffers. */

int decoder_reserve_output(struct decoder *d, size_t more, af_err *err)
{
    if (d->out_capacity - decoder_out_held(d) >= more)
        return 0;
    size_t need = decoder_out_held(d) + more;
    /* Grow by half, but never past what max_seconds can produce: that bounds memory. */
    size_t limit = (size_t)(d->opts.max_seconds * AF_SAMPLE_RATE) + 65536;
    size_t capacity = d->out_capacity + d->out_capacity / 2;
    if (capacity > limit)
        capacity = limit;
    if (capacity < need)
        capacity = need;
    float *grown = realloc(d->out, capacity * sizeof *grown);
    if (!grown)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory for %zu samples", capacity);
    d->out = grown;
    d->out_capacity = capacity;
    return 0;
}

int decoder_reserve_mono(struct decoder *d, size_t n, af_err *err)
{
    if (d->mono_capacity >= n)
        return 0;
    float *grown = realloc(d->mono, n * sizeof *grown);
    if (!grown)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "out of memory for a %zu-sample frame", n);
    d->mono = grown;
    d->mono_capacity = n;
    return 0;
}

/* First guess of the output size, from the container's duration (even a
 * bitrate estimate is good enough here), so that growing is rare. */
size_t decoder_initial_capacity(const struct decoder *d)
{
    double seconds = AF_DECODE_EXCERPT_SECONDS;
    if (d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0)
        seconds = (double)d->fmt->duration / AV_TIME_BASE;
    if (seconds > d->opts.max_seconds)
        seconds = d->opts.max_seconds;
    return (size_t)(seconds * 1.02 * AF_SAMPLE_RATE) + 8192;
}

/* ---------------------------------------------------------------------------
 * Mixing to mono: the mean of the channels, as librosa.to_mono does (float32
 * sum in channel order, then one division), from any FFmpeg sample format.
 * Integer formats are scaled like libsndfile/FFmpeg do: s16 / 32768 etc. */

#define MIX_CHANNEL(type, to_float)                                                   \
    do {                                                                              \
        const type *src = (const type *)base + offset;                               \
        if (first)                                                                    \
            for (size_t i = 0; i < n; i++)                                            \
                dst[i] = to_float(src[i * stride]);                                   \
        else                                                                          \
            for (size_t i = 0; i < n; i++)                                            \
                dst[i] += to_float(src[i * stride]);                                  \
    } while (0)

#define U8_TO_FLOAT(v) (((float)(v) - 128.0f) * (1.0f / 128.0f))
#define S16_TO_FLOAT(v) ((float)(v) * (1.0f / 32768.0f))
#define S32_TO_FLOAT(v) ((float)(v) * (1.0f / 2147483648.0f))
#define S64_TO_FLOAT(v) ((float)((double)(v) * (1.0 / 9223372036854775808.0)))
#define FLT_TO_FLOAT(v) (v)
#define DBL_TO_FLOAT(v) ((float)(v))

/* dst (=|+=) channel samples at base[offset + i * stride]. Returns -1 for an unknown format. */
static int mix_channel(float *dst, const uint8_t *base, enum AVSampleFormat packed_fmt,
                       size_t offset, size_t stride, size_t n, int first)
{
    switch (packed_fmt) {
    case AV_SAMPLE_FMT_U8:
        MIX_CHANNEL(uint8_t, U8_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_S16:
        MIX_CHANNEL(int16_t, S16_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_S32:
        MIX_CHANNEL(int32_t, S32_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_S64:
        MIX_CHANNEL(int64_t, S64_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_FLT:
        if (first && stride == 1) {
            memcpy(dst, (const float *)base + offset, n * sizeof *dst);
            return 0;
        }
        MIX_CHANNEL(float, FLT_TO_FLOAT);
        return 0;
    case AV_SAMPLE_FMT_DBL:
        MIX_CHANNEL(double, DBL_TO_FLOAT);
        return 0;
    default:
        return -1;
    }
}

static float peak_of(const float *x, size_t n)
{
    float peak = 0;
    for (size_t i = 0; i < n; i++)
        peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
    return peak;
}

int decoder_mix_to_mono(const AVFrame *frame, float *dst, float *first_channel_peak)
{
    const size_t channels = (size_t)frame->ch_layout.nb_channels;
    const size_t n = (size_t)frame->nb_samples;
    const enum AVSampleFormat fmt = frame->format;
    const int planar = av_sample_fmt_is_planar(fmt);
    const enum AVSampleFormat packed = av_get_packed_sample_fmt(fmt);

    for (size_t c = 0; c < channels; c++) {
        const uint8_t *base = frame->extended_data[planar ? c : 0];
        size_t offset = planar ? 0 : c;
        size_t stride = planar ? 1 : channels;
        if (mix_channel(dst, base, packed, offset, stride, n, c == 0) < 0)
            return -1;
        /* dst holds the first channel alone now: its peak tells a silent mix of
         * loud channels (antiphase stereo) from silence */
        if (c == 0 && channels > 1) {
            float peak = peak_of(dst, n);
            *first_channel_peak = peak > *first_channel_peak ? peak : *first_channel_peak;
        }
    }
    if (channels > 1) {
        const float count = (float)channels;
        for (size_t i = 0; i < n; i++)
            dst[i] /= count;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Resampling segments. */

int decoder_start_segment(struct decoder *d, int rate, af_err *err)
{
    d->segment_rate = rate;
    d->segment_in = 0;
    d->segment_out_start = d->n_out;
    if (rate == AF_SAMPLE_RATE)
        return 0;

    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int ret = swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_FLT, AF_SAMPLE_RATE, &mono,
                                  AV_SAMPLE_FMT_FLT, rate, 0, NULL);
    /* soxr at 20 bits is soxr's "HQ" recipe, librosa's default res_type "soxr_hq". */
    if (ret >= 0)
        ret = av_opt_set(d->swr, "resampler", "soxr", 0);
    if (ret >= 0)
        ret = av_opt_set_double(d->swr, "precision", 20.0, 0);
    if (ret >= 0)
        ret = swr_init(d->swr);
    if (ret < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE], detail[300];
        return decoder_fail(d, AF_DECODE_SYSTEM, err,
                            "cannot resample %d Hz to %d Hz with soxr (is FFmpeg built with "
                            "libsoxr?): %s%s",
                            rate, AF_SAMPLE_RATE, decoder_averror_text(ret, text, sizeof text),
                            decoder_ffmpeg_detail(detail, sizeof detail));
    }
    return 0;
}

/* librosa.resample fixes the length to ceil(n * target / source). */
static size_t resampled_length(uint64_t n_in, int rate)
{
    return (size_t)((n_in * AF_SAMPLE_RATE + (uint64_t)rate - 1) / (uint64_t)rate);
}

int decoder_finish_segment(struct decoder *d, af_err *err)
{
    if (d->swr) {
        for (;;) {
            if (decoder_reserve_output(d, 4096, err) < 0)
                return -1;
            uint8_t *dst = (uint8_t *)decoder_out_end(d);
            int got = swr_convert(d->swr, &dst, (int)(d->out_capacity - decoder_out_held(d)), NULL, 0);
            if (got < 0) {
                char text[AV_ERROR_MAX_STRING_SIZE];
                return decoder_fail(d, AF_DECODE_SYSTEM, err, "resampling failed: %s",
                                    decoder_averror_text(got, text, sizeof text));
            }
            if (got == 0)
                break;
            d->n_out += (size_t)got;
        }
        swr_free(&d->swr);
    }

    size_t want = resampled_length(d->segment_in, d->segment_rate);
    size_t have = d->n_out - d->segment_out_start;
    if (have > want) {
        d->n_out = d->segment_out_start + want;
        if (d->n_out < d->out_base) { /* dropped already (span.c): decode again whole */
            d->span_missed = 1;
            d->out_base = d->n_out;
        }
    } else if (have < want) {
        if (decoder_reserve_output(d, want - have, err) < 0)
            return -1;
        memset(decoder_out_end(d), 0, (want - have) * sizeof *d->out);
        d->n_out += want - have;
    }
    d->segment_rate = 0;
    return 0;
}

int decoder_resample_into_output(struct decoder *d, const float *mono, size_t n, af_err *err)
{
    int bound = swr_get_out_samples(d->swr, (int)n);
    if (bound < 0)
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "resampler state is invalid");
    if (decoder_reserve_output(d, (size_t)bound, err) < 0)
        return -1;
    uint8_t *dst = (uint8_t *)decoder_out_end(d);
    const uint8_t *src = (const uint8_t *)mono;
    int got = swr_convert(d->swr, &dst, bound, &src, (int)n);
    if (got < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE];
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "resampling failed: %s",
                            decoder_averror_text(got, text, sizeof text));
    }
    d->n_out += (size_t)got;
    return decoder_span_slide(d, err);
}
