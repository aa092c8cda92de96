/*
 * verdict.c — whether a decoded input is usable, and why not (decode.h's
 * af_decode_failure): options, corrupt, truncated, too short, silent or
 * non-finite audio, each with a message that names what is wrong.
 */
#include "decoder.h"

#include <stdarg.h>
#include <stdio.h>

#include "frames.h"

int decoder_fail(struct decoder *d, enum af_decode_failure why, af_err *err, const char *fmt, ...)
{
    char msg[AF_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->result.failure = why;
    return af_err_set(err, "%s", msg);
}

const char *decoder_averror_text(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0)
        snprintf(buf, size, "FFmpeg error %d", code);
    return buf;
}

int decoder_check_options(struct decoder *d, af_err *err)
{
    const struct af_decode_opts *o = &d->opts;
    if (!(o->excerpt_seconds >= 0 && o->excerpt_seconds < 1e7))
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "bad excerpt length %g s",
                            o->excerpt_seconds);
    if (!(o->max_seconds > 0 && o->max_seconds < 1e7))
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "bad maximum duration %g s", o->max_seconds);
    if (!(o->silence_threshold >= 0 && o->silence_threshold < 1))
        return decoder_fail(d, AF_DECODE_SYSTEM, err, "bad silence threshold %g",
                            o->silence_threshold);
    double excerpt_samples = o->excerpt_seconds * AF_SAMPLE_RATE;
    if (o->excerpt_seconds > 0 && excerpt_samples < (double)o->min_samples)
        return decoder_fail(d, AF_DECODE_SYSTEM, err,
                            "excerpt of %g s is shorter than the %zu-sample minimum",
                            o->excerpt_seconds, o->min_samples);
    return 0;
}

/* The duration the header states, or 0 when there is none or it is only an
 * estimate from the bitrate (which a cut file shares).  A WAV's comes from its data
 * chunk (wav_size.c): FFmpeg reports the bytes present instead. */
double decoder_declared_seconds(const struct decoder *d)
{
    if (d->wav_declared > 0)
        return d->wav_declared;
    if (d->fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
        return 0;
    if (d->stream->duration != AV_NOPTS_VALUE && d->stream->duration > 0)
        return (double)d->stream->duration * av_q2d(d->stream->time_base);
    if (d->fmt->duration != AV_NOPTS_VALUE && d->fmt->duration > 0)
        return (double)d->fmt->duration / AV_TIME_BASE;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Checks on what was decoded. */

int decoder_check_decoded(struct decoder *d, af_err *err)
{
    char text[AV_ERROR_MAX_STRING_SIZE] = "", detail[300];
    if (d->last_error)
        decoder_averror_text(d->last_error, text, sizeof text);

    if (d->n_out == 0 && d->seconds_in == 0) {
        if (d->decode_errors > 0 || d->demux_error)
            return decoder_fail(d, AF_DECODE_CORRUPT, err,
                                "corrupt: no audio could be decoded from %ld packet%s: %s%s",
                                d->packets, d->packets == 1 ? "" : "s", text,
                                decoder_ffmpeg_detail(detail, sizeof detail));
        return decoder_fail(d, AF_DECODE_EMPTY, err,
                            "empty: the %s audio stream holds no samples", d->result.codec);
    }
    if (d->decode_errors * 2 > d->packets)
        return decoder_fail(d, AF_DECODE_CORRUPT, err,
                            "corrupt: %ld of %ld packets failed to decode: %s%s",
                            d->decode_errors, d->packets, text,
                            decoder_ffmpeg_detail(detail, sizeof detail));

    double declared = decoder_declared_seconds(d);
    double missing = declared - d->seconds_in;
    if (declared > 0 && missing > TRUNCATION_MIN_SECONDS &&
        missing > TRUNCATION_MIN_FRACTION * declared)
        return decoder_fail(d, AF_DECODE_TRUNCATED, err,
                            "truncated: decoded %.2f s of the %.2f s its header declares%s%s%s",
                            d->seconds_in, declared, text[0] ? ": " : "", text,
                            decoder_ffmpeg_detail(detail, sizeof detail));

    if (!d->probing && d->n_out < d->opts.min_samples)
        return decoder_fail(d, AF_DECODE_TOO_SHORT, err,
                            "too short: %.3f s (%zu samples at %d Hz, from %d-channel audio at "
                            "%d Hz); the minimum is %zu samples",
                            (double)d->n_out / AF_SAMPLE_RATE, d->n_out, AF_SAMPLE_RATE,
                            d->result.source_channels, d->result.source_sample_rate,
                            d->opts.min_samples);
    return 0;
}

/* Peak |x|, and whether any sample is NaN or inf (x * 0 is NaN exactly then).
 * Eight independent lanes, so that the compiler vectorises it at -O2. */
static float sample_peak(const float *x, size_t n, int *non_finite)
{
    enum { LANES = 8 };
    float peak[LANES] = {0}, poison[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            float a = fabsf(x[i + k]);
            peak[k] = a > peak[k] ? a : peak[k];
            poison[k] += x[i + k] * 0.0f;
        }
    for (; i < n; i++) {
        float a = fabsf(x[i]);
        peak[0] = a > peak[0] ? a : peak[0];
        poison[0] += x[i] * 0.0f;
    }
    float max = 0, sum = 0;
    for (int k = 0; k < LANES; k++) {
        max = peak[k] > max ? peak[k] : max;
        sum += poison[k];
    }
    *non_finite = sum != 0; /* NaN != 0 */
    return max;
}

int decoder_check_samples(struct decoder *d, af_err *err)
{
    int non_finite;
    float peak = sample_peak(d->out, d->n_out, &non_finite);
    if (non_finite)
        return decoder_fail(d, AF_DECODE_CORRUPT, err,
                            "corrupt: the decoded audio holds NaN or infinite samples");
    if ((double)peak < d->opts.silence_threshold) {
        if ((double)d->first_channel_peak >= d->opts.silence_threshold)
            return decoder_fail(d, AF_DECODE_SILENT, err,
                                "silent: the %d channels cancel out when mixed to mono (the first "
                                "peaks at %g, the mix at %g: antiphase or phase-inverted channels)",
                                d->result.source_channels, (double)d->first_channel_peak,
                                (double)peak);
        if (d->result.excerpt_start > 0)
            return decoder_fail(d, AF_DECODE_SILENT, err,
                                "silent: every sample of the central %.1f s is below %g "
                                "(peak %g)",
                                (double)d->n_out / AF_SAMPLE_RATE, d->opts.silence_threshold,
                                (double)peak);
        return decoder_fail(d, AF_DECODE_SILENT, err,
                            "silent: every sample is below %g (peak %g)",
                            d->opts.silence_threshold, (double)peak);
    }
    return 0;
}

const char *af_decode_failure_name(enum af_decode_failure failure)
{
    switch (failure) {
    case AF_DECODE_OK: return "ok";
    case AF_DECODE_EMPTY: return "empty";
    case AF_DECODE_UNREADABLE: return "unreadable";
    case AF_DECODE_NO_AUDIO: return "no_audio";
    case AF_DECODE_UNSUPPORTED: return "unsupported";
    case AF_DECODE_CORRUPT: return "corrupt";
    case AF_DECODE_TRUNCATED: return "truncated";
    case AF_DECODE_TOO_SHORT: return "too_short";
    case AF_DECODE_TOO_LONG: return "too_long";
    case AF_DECODE_SILENT: return "silent";
    case AF_DECODE_SYSTEM: return "system";
    }
    return "unknown";
}
