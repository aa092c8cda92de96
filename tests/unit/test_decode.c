/*
 * test_decode.c — analysis/decode/decode.c on audio the test makes itself: WAVs written
 * here (exact sample checks), the same signal encoded by the ffmpeg CLI as
 * MP3, M4A (AAC), Ogg Vorbis, Opus, FLAC and AU, and every way an input can
 * be refused.  Where the librosa reference outputs exist (shared/reference,
 * beside the project or at $AF_REFERENCE_DIR), decoding is also compared with
 * librosa.load: same sample count, same RMS per frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "decode/decode.h"
#include "frames.h"
#include "npy.h"

#define PI 3.14159265358979323846

static char tmpdir[256];
static int have_ffmpeg;

/* ---------------------------------------------------------------------------
 * Helpers: WAV writing, files, signal checks. */

static void put_le(unsigned char **p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *(*p)++ = (unsigned char)(v >> (8 * i));
}

/* A canonical WAV (PCM s16 = format 1, or float32 = format 3) in memory. */
static unsigned char *wav_bytes(int rate, int channels, int float32, const void *samples,
                                size_t frames, size_t *size)
{
    const int bytes = float32 ? 4 : 2;
    const size_t data = frames * (size_t)channels * (size_t)bytes;
    *size = 44 + data;
    unsigned char *buf = malloc(*size), *p = buf;
    memcpy(p, "RIFF", 4), p += 4;
    put_le(&p, (uint32_t)(36 + data), 4);
    memcpy(p, "WAVEfmt ", 8), p += 8;
    put_le(&p, 16, 4);
    put_le(&p, float32 ? 3 : 1, 2);
    put_le(&p, (uint32_t)channels, 2);
    put_le(&p, (uint32_t)rate, 4);
    put_le(&p, (uint32_t)(rate * channels * bytes), 4);
    put_le(&p, (uint32_t)(channels * bytes), 2);
    put_le(&p, (uint32_t)(8 * bytes), 2);
    memcpy(p, "data", 4), p += 4;
    put_le(&p, (uint32_t)data, 4);
    memcpy(p, samples, data);
    return buf;
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    fclose(f);
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    *size = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* Interleaved s16 of a sine per channel: channel c has frequency freq[c], amplitude amp[c]. */
static int16_t *sine_s16(int rate, int channels, size_t frames, const double *freq,
                         const double *amp)
{
    int16_t *s = malloc(frames * (size_t)channels * sizeof *s);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            s[i * channels + c] =
                (int16_t)lrint(32767.0 * amp[c] * sin(2 * PI * freq[c] * (double)i / rate));
    return s;
}

/* A WAV file of a mono/stereo sine, for the ffmpeg CLI to encode. */
static void write_sine_wav(const char *name, int rate, int channels, double seconds, double hz)
{
    size_t frames = (size_t)llround(seconds * rate), size;
    double freq[2] = {hz, hz}, amp[2] = {0.5, 0.5};
    int16_t *s = sine_s16(rate, channels, frames, freq, amp);
    unsigned char *wav = wav_bytes(rate, channels, 0, s, frames, &size);
    char path[512];
    tmp_path(path, sizeof path, name);
    write_file(path, wav, size);
    free(wav);
    free(s);
}

/* Frequency from rising zero crossings over the middle of the signal (edges skipped). */
static double zero_crossing_hz(const float *x, size_t n, int rate)
{
    size_t from = n / 10, to = n - n / 10, first = 0, last = 0, count = 0;
    for (size_t i = from + 1; i < to; i++) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            if (count == 0)
                first = i;
            last = i;
            count++;
        }
    }
    assert_true(count > 2);
    return (double)(count - 1) * rate / (double)(last - first);
}

static double rms_of(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return sqrt(s / (double)n);
}

static int ffmpeg_cli(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && ffmpeg -nostdin -hide_banner -loglevel error -y %s",
             tmpdir, args);
    return system(cmd);
}

#define SKIP_WITHOUT_FFMPEG()                                                             \
    do {                                                                                  \
        if (!have_ffmpeg) {                                                               \
            print_message("ffmpeg CLI not found: skipping %s\n", __func__);              \
            skip();                                                                       \
        }                                                                                 \
    } while (0)

/* Asserts a refusal: -1, the expected reason, the message contains every given text,
 * nothing to free. */
static void assert_refused(int rc, const struct af_audio *a, const af_err *err,
                           enum af_decode_failure why, const char *text1, const char *text2)
{
    if (rc != -1 || a->failure != why || (text1 && !strstr(err->msg, text1)) ||
        (text2 && !strstr(err->msg, text2)))
        fail_msg("expected failure %s with \"%s\"%s%s, got rc %d, failure %s, message \"%s\"",
                 af_decode_failure_name(why), text1 ? text1 : "", text2 ? " and " : "",
                 text2 ? text2 : "", rc, af_decode_failure_name(a->failure), err->msg);
    assert_null(a->samples);
    assert_int_equal(a->n_samples, 0);
    assert_null(a->tags.artist);
}

static int decode_named(const char *name, const struct af_decode_opts *opts, struct af_audio *a,
                        af_err *err)
{
    char path[512];
    tmp_path(path, sizeof path, name);
    return af_decode_file(path, opts, a, err);
}

static int decode_named_from_memory(const char *name, const struct af_decode_opts *opts,
                                    struct af_audio *a, af_err *err)
{
    char path[512];
    size_t size;
    tmp_path(path, sizeof path, name);
    unsigned char *data = read_file(path, &size);
    assert_non_null(data);
    int rc = af_decode_memory(data, size, opts, a, err);
    free(data);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Fixtures. */

/* Files made with the ffmpeg CLI; without it (or an encoder it lacks) the tests
 * that need them are skipped, and the rest still run. */
static int make_encoded_files(void)
{
    /* 3 s of a 1 kHz sine, 44.1 kHz stereo, with tags, in every format we claim. */
    write_sine_wav("sine.wav", 44100, 2, 3.0, 1000.0);
    const char *tags = "-metadata artist='Björk' -metadata title='Jóga' -metadata album='Homogenic' "
                       "-metadata genre='Electronic'";
    const char *outputs[] = {"sine.mp3", "sine.m4a", "sine.ogg", "sine.opus", "sine.flac", "sine.au"};
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        char args[512];
        snprintf(args, sizeof args, "-i sine.wav %s %s", tags, outputs[i]);
        if (ffmpeg_cli(args) != 0)
            return -1;
    }
    /* 10 s MP3 (with its Xing header stating the length), to cut. */
    write_sine_wav("long.wav", 44100, 2, 10.0, 440.0);
    if (ffmpeg_cli("-i long.wav long.mp3") != 0)
        return -1;
    /* The same 10 s in the other formats, for the probe (head, seek, tail); the M4A
     * with its index first, as streamed previews have it, so that a cut keeps it;
     * an MP3 without a Xing header (no declared duration). */
    const char *long_args[] = {"-i long.wav -movflags +faststart long.m4a", "-i long.wav long.ogg",
                               "-i long.wav long.flac", "-i long.wav long.au",
                               "-i long.wav long.aiff", "-i long.wav -rf64 always rf64.wav",
                               "-i long.wav -write_xing 0 noxing.mp3"};
    for (size_t i = 0; i < sizeof long_args / sizeof long_args[0]; i++)
        if (ffmpeg_cli(long_args[i]) != 0)
            return -1;
    /* A picture: a container FFmpeg reads, without audio. */
    return ffmpeg_cli("-f lavfi -i color=red:s=16x16 -frames:v 1 picture.png");
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "%s/af_test_decode_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    have_ffmpeg = system("ffmpeg -version >/dev/null 2>&1") == 0;
    if (!have_ffmpeg)
        print_message("ffmpeg CLI not found: the tests of encoded formats will be skipped\n");
    else if (make_encoded_files() != 0) {
        print_message("ffmpeg could not make the test files: those tests will be skipped\n");
        have_ffmpeg = 0;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------------------
 * Exact results from WAVs written here. */

static void test_wav_22050_mono_is_not_resampled(void **state)
{
    (void)state;
    const size_t n = 5 * 22050;
    double freq = 440, amp = 0.8;
    int16_t *s = sine_s16(22050, 1, n, &freq, &amp);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, s, n, &size);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    assert_int_equal(a.failure, AF_DECODE_OK);
    assert_int_equal(a.n_samples, n);
    assert_int_equal(a.source_sample_rate, 22050);
    assert_int_equal(a.source_channels, 1);
    assert_string_equal(a.codec, "pcm_s16le");
    assert_string_equal(a.container, "wav");
    assert_true(fabs(a.duration - 5.0) < 1e-9);
    assert_true(a.excerpt_start == 0);
    assert_int_equal(a.decode_errors, 0);
    for (size_t i = 0; i < n; i++) /* s16 / 32768 exactly, as libsndfile gives librosa */
        if (a.samples[i] != (float)s[i] / 32768.0f)
            fail_msg("sample %zu: %g != %g", i, (double)a.samples[i], s[i] / 32768.0);
    af_audio_free(&a);
    assert_null(a.samples);
    free(wav);
    free(s);
}

/* Mono is the mean of the channels (librosa.to_mono), not FFmpeg's (L+R)/sqrt(2). */
static void test_stereo_is_mean_of_channels(void **state)
{
    (void)state;
    const size_t n = 2 * 22050;
    double freq[2] = {440, 1250}, amp[2] = {0.6, 0.3};
    int16_t *s = sine_s16(22050, 2, n, freq, amp);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 2, 0, s, n, &size);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    assert_int_equal(a.n_samples, n);
    assert_int_equal(a.source_channels, 2);
    for (size_t i = 0; i < n; i++) {
        float left = (float)s[2 * i] / 32768.0f, right = (float)s[2 * i + 1] / 32768.0f;
        float mean = (left + right) / 2.0f;
        if (a.samples[i] != mean)
            fail_msg("sample %zu: %.9g != mean %.9g", i, (double)a.samples[i], (double)mean);
    }
    af_audio_free(&a);
    free(wav);
    free(s);
}

static void test_four_channels_and_float_wav(void **state)
{
    (void)state;
    const size_t n = 4096;
    float *s = malloc(n * 4 * sizeof *s);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 4; c++)
            s[i * 4 + c] = (float)(c + 1) * 0.1f * (float)sin(0.01 * (double)i * (c + 1));
    size_t size;
    unsigned char *wav = wav_bytes(22050, 4, 1, s, n, &size);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    assert_int_equal(a.source_channels, 4);
    assert_string_equal(a.codec, "pcm_f32le");
    for (size_t i = 0; i < n; i++) {
        float mean = (((s[4 * i] + s[4 * i + 1]) + s[4 * i + 2]) + s[4 * i + 3]) / 4.0f;
        assert_true(a.samples[i] == mean);
    }
    af_audio_free(&a);
    free(wav);
    free(s);
}

static void test_resample_44100_keeps_1khz(void **state)
{
    (void)state;
    const size_t n = 4 * 44100;
    double freq = 1000, amp = 0.5;
    int16_t *s = sine_s16(44100, 1, n, &freq, &amp);
    size_t size;
    unsigned char *wav = wav_bytes(44100, 1, 0, s, n, &size);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    assert_int_equal(a.source_sample_rate, 44100);
    assert_int_equal(a.n_samples, 4 * 22050); /* ceil(n * 22050 / 44100), like librosa */
    double hz = zero_crossing_hz(a.samples, a.n_samples, 22050);
    assert_true(fabs(hz - 1000.0) < 0.5);
    /* soxr keeps a 1 kHz tone's level: RMS of a 0.5 sine = 0.3536 */
    assert_true(fabs(rms_of(a.samples + 2205, a.n_samples - 4410) - 0.5 / sqrt(2)) < 1e-3);
    af_audio_free(&a);
    free(wav);
    free(s);
}

static void test_resample_48000_length(void **state)
{
    (void)state;
    const size_t n = 48000 * 2 + 123;
    double freq = 3000, amp = 0.5;
    int16_t *s = sine_s16(48000, 1, n, &freq, &amp);
    size_t size;
    unsigned char *wav = wav_bytes(48000, 1, 0, s, n, &size);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    assert_int_equal(a.n_samples, (n * 22050 + 47999) / 48000);
    assert_true(fabs(zero_crossing_hz(a.samples, a.n_samples, 22050) - 3000.0) < 1.0);
    af_audio_free(&a);
    free(wav);
    free(s);
}

/* 40 s where each sample encodes its own index: the default excerpt is exactly
 * samples [5 s, 35 s). */
static void test_excerpt_is_central_30s(void **state)
{
    (void)state;
    const size_t n = 40 * 22050;
    int16_t *s = malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = (int16_t)((int)(i % 30011) - 15005);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, s, n, &size);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    assert_int_equal(a.n_samples, 30 * 22050);
    assert_true(fabs(a.excerpt_start - 5.0) < 1e-9);
    assert_true(fabs(a.duration - 40.0) < 1e-9);
    const size_t start = 5 * 22050;
    for (size_t i = 0; i < a.n_samples; i++)
        if (a.samples[i] != (float)s[start + i] / 32768.0f)
            fail_msg("excerpt sample %zu is not input sample %zu", i, start + i);
    af_audio_free(&a);

    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = 0; /* whole input */
    assert_int_equal(af_decode_memory(wav, size, &opts, &a, &err), 0);
    assert_int_equal(a.n_samples, n);
    assert_true(a.excerpt_start == 0);
    af_audio_free(&a);

    opts.excerpt_seconds = 10; /* odd remainder: start = (n - keep) / 2 */
    assert_int_equal(af_decode_memory(wav, size - 2, &opts, &a, &err), 0); /* one sample less */
    assert_int_equal(a.n_samples, 10 * 22050);
    assert_true(a.samples[0] == (float)s[(n - 1 - 10 * 22050) / 2] / 32768.0f);
    af_audio_free(&a);

    opts.excerpt_seconds = 60; /* longer than the input: all of it */
    assert_int_equal(af_decode_memory(wav, size, &opts, &a, &err), 0);
    assert_int_equal(a.n_samples, n);
    af_audio_free(&a);
    free(wav);
    free(s);
}

/* ---------------------------------------------------------------------------
 * Every format, from a file and from memory. */

static void check_sine_decode(const char *name, const struct af_audio *a, const char *codec,
                              int tags)
{
    if (strcmp(a->codec, codec) != 0)
        fail_msg("%s: codec %s, expected %s", name, a->codec, codec);
    if (fabs(a->duration - 3.0) > 0.05)
        fail_msg("%s: duration %.4f s, expected 3 s", name, a->duration);
    if (labs((long)a->n_samples - 3 * 22050) > 22050 / 20)
        fail_msg("%s: %zu samples, expected about %d", name, a->n_samples, 3 * 22050);
    double hz = zero_crossing_hz(a->samples, a->n_samples, 22050);
    if (fabs(hz - 1000.0) > 1.0)
        fail_msg("%s: %.2f Hz, expected 1000 Hz", name, hz);
    double level = rms_of(a->samples + 4410, a->n_samples - 8820);
    if (fabs(level - 0.5 / sqrt(2)) > 0.02) /* same sine in both channels: mean = either */
        fail_msg("%s: RMS %.4f, expected %.4f", name, level, 0.5 / sqrt(2));
    if (tags) {
        if (!a->tags.artist || strcmp(a->tags.artist, "Björk") != 0 || !a->tags.title ||
            strcmp(a->tags.title, "Jóga") != 0 || !a->tags.album ||
            strcmp(a->tags.album, "Homogenic") != 0 || !a->tags.genre ||
            strcmp(a->tags.genre, "Electronic") != 0)
            fail_msg("%s: tags %s / %s / %s / %s", name, a->tags.artist ? a->tags.artist : "-",
                     a->tags.title ? a->tags.title : "-", a->tags.album ? a->tags.album : "-",
                     a->tags.genre ? a->tags.genre : "-");
    }
}

static void test_formats(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    const struct {
        const char *file, *codec;
        int rate;
    } formats[] = {
        {"sine.mp3", "mp3", 44100},   {"sine.m4a", "aac", 44100},   {"sine.ogg", "vorbis", 44100},
        {"sine.opus", "opus", 48000}, {"sine.flac", "flac", 44100}, {"sine.au", "pcm_s16be", 44100},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct af_audio from_file, from_memory;
        af_err err = {0};
        if (decode_named(formats[i].file, NULL, &from_file, &err) != 0)
            fail_msg("%s: %s", formats[i].file, err.msg);
        check_sine_decode(formats[i].file, &from_file, formats[i].codec, 1);
        assert_int_equal(from_file.source_sample_rate, formats[i].rate);
        assert_int_equal(from_file.source_channels, 2);

        if (decode_named_from_memory(formats[i].file, NULL, &from_memory, &err) != 0)
            fail_msg("%s from memory: %s", formats[i].file, err.msg);
        assert_int_equal(from_memory.n_samples, from_file.n_samples);
        assert_memory_equal(from_memory.samples, from_file.samples,
                            from_file.n_samples * sizeof(float));
        assert_string_equal(from_memory.tags.artist, from_file.tags.artist);
        af_audio_free(&from_file);
        af_audio_free(&from_memory);
    }
}

/* ID3v1 holds Latin-1: the tag must reach the database as UTF-8. */
static void test_id3v1_latin1_tag(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    assert_int_equal(ffmpeg_cli("-i sine.wav -id3v2_version 0 plain.mp3"), 0);
    char path[512];
    size_t size;
    tmp_path(path, sizeof path, "plain.mp3");
    unsigned char *mp3 = read_file(path, &size);
    unsigned char tag[128] = "TAG";
    memcpy(tag + 3, "Title", 5);                 /* title: 30 bytes, NUL padded */
    memcpy(tag + 33, "Bj\xf6rk                        ", 30); /* artist, space padded */
    tag[127] = 255;                              /* no genre */
    unsigned char *with_tag = malloc(size + sizeof tag);
    memcpy(with_tag, mp3, size);
    memcpy(with_tag + size, tag, sizeof tag);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(with_tag, size + sizeof tag, NULL, &a, &err), 0);
    assert_non_null(a.tags.artist);
    assert_string_equal(a.tags.artist, "Bj\xc3\xb6rk");
    assert_string_equal(a.tags.title, "Title");
    af_audio_free(&a);
    free(with_tag);
    free(mp3);
}

/* ---------------------------------------------------------------------------
 * Refusals. */

static void test_refuses_empty(void **state)
{
    (void)state;
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory("", 0, NULL, &a, &err), &a, &err, AF_DECODE_EMPTY, "empty",
                   "0 bytes");
    assert_refused(af_decode_memory(NULL, 0, NULL, &a, &err), &a, &err, AF_DECODE_EMPTY, "empty",
                   NULL);

    char path[512];
    tmp_path(path, sizeof path, "empty.mp3");
    write_file(path, "", 0);
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_EMPTY, "empty",
                   "0 bytes");

    /* A valid WAV header with no data. */
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, "", 0, &size);
    assert_refused(af_decode_memory(wav, size, NULL, &a, &err), &a, &err, AF_DECODE_EMPTY,
                   "no samples", NULL);
    free(wav);
}

static void test_refuses_random_bytes(void **state)
{
    (void)state;
    unsigned char *junk = malloc(100000);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        junk[i] = (unsigned char)x;
    }
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory(junk, 100000, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "not a recognised audio format", "Invalid data found when processing input");

    char path[512];
    tmp_path(path, sizeof path, "junk.bin");
    write_file(path, junk, 100000);
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "not a recognised audio format", "Invalid data found when processing input");

    /* Named .mp3, FFmpeg tries the MP3 demuxer and finds no frame. */
    tmp_path(path, sizeof path, "junk.mp3");
    write_file(path, junk, 100000);
    int rc = af_decode_file(path, NULL, &a, &err);
    assert_int_equal(rc, -1);
    assert_true(a.failure == AF_DECODE_CORRUPT || a.failure == AF_DECODE_UNREADABLE);
    free(junk);
}

static void test_refuses_text(void **state)
{
    (void)state;
    const char *text = "This is not audio.\nJust some lines of text, the kind a user might "
                       "drop into a music folder by mistake.\n";
    char path[512];
    tmp_path(path, sizeof path, "notes.txt");
    write_file(path, text, strlen(text));
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "not a recognised audio format", "Invalid data");
    assert_refused(af_decode_memory(text, strlen(text), NULL, &a, &err), &a, &err,
                   AF_DECODE_UNREADABLE, "not a recognised audio format", "Invalid data");
}

static void test_refuses_truncated_mp3(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    char path[512];
    size_t size;
    tmp_path(path, sizeof path, "long.mp3");
    unsigned char *mp3 = read_file(path, &size);
    assert_non_null(mp3);

    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_memory(mp3, size, NULL, &a, &err), 0); /* the whole file is fine */
    assert_true(fabs(a.duration - 10.0) < 0.05);
    af_audio_free(&a);

    size_t cut = size * 3 / 10;
    assert_refused(af_decode_memory(mp3, cut, NULL, &a, &err), &a, &err, AF_DECODE_TRUNCATED,
                   "truncated", "header declares");
    tmp_path(path, sizeof path, "cut.mp3");
    write_file(path, mp3, cut);
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_TRUNCATED,
                   "truncated", "10.0");
    free(mp3);
}

static void test_refuses_no_audio_stream(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    struct af_audio a;
    af_err err = {0};
    assert_refused(decode_named("picture.png", NULL, &a, &err), &a, &err, AF_DECODE_NO_AUDIO,
                   "no audio stream", "video png");
    assert_refused(decode_named_from_memory("picture.png", NULL, &a, &err), &a, &err,
                   AF_DECODE_NO_AUDIO, "no audio stream", NULL);
}

static void test_refuses_silence(void **state)
{
    (void)state;
    const size_t n = 3 * 22050;
    int16_t *zeros = calloc(n, sizeof *zeros);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, zeros, n, &size);
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory(wav, size, NULL, &a, &err), &a, &err, AF_DECODE_SILENT,
                   "silent", "1e-06");
    free(wav);

    /* Quieter than the threshold is silent too; the threshold is a parameter. */
    zeros[100] = 1; /* 1 / 32768 = 3e-5 */
    wav = wav_bytes(22050, 1, 0, zeros, n, &size);
    assert_int_equal(af_decode_memory(wav, size, NULL, &a, &err), 0);
    af_audio_free(&a);
    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.silence_threshold = 1e-4;
    assert_refused(af_decode_memory(wav, size, &opts, &a, &err), &a, &err, AF_DECODE_SILENT,
                   "silent", NULL);
    opts.silence_threshold = 0; /* never refuse for silence */
    free(wav);
    memset(zeros, 0, n * sizeof *zeros);
    wav = wav_bytes(22050, 1, 0, zeros, n, &size);
    assert_int_equal(af_decode_memory(wav, size, &opts, &a, &err), 0);
    af_audio_free(&a);
    free(wav);
    free(zeros);
}

static void test_refuses_too_short(void **state)
{
    (void)state;
    const size_t n = 2000; /* < n_fft = 2048 */
    double freq = 440, amp = 0.5;
    int16_t *s = sine_s16(22050, 1, n, &freq, &amp);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, s, n, &size);
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory(wav, size, NULL, &a, &err), &a, &err, AF_DECODE_TOO_SHORT,
                   "too short", "2048");

    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.min_samples = 1000;
    assert_int_equal(af_decode_memory(wav, size, &opts, &a, &err), 0);
    assert_int_equal(a.n_samples, n);
    af_audio_free(&a);
    free(wav);
    free(s);
}

static void test_refuses_too_long(void **state)
{
    (void)state;
    const size_t n = 5 * 22050;
    double freq = 440, amp = 0.5;
    int16_t *s = sine_s16(22050, 1, n, &freq, &amp);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, s, n, &size);
    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.max_seconds = 4;
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory(wav, size, &opts, &a, &err), &a, &err, AF_DECODE_TOO_LONG,
                   "too long", "4 s");
    free(wav);
    free(s);
}

/* A long input decoded for its excerpt holds only the excerpt's span (span.c): it
 * is not refused for max_seconds, which bounds what is held, and its excerpt is the
 * very samples a whole decode would cut (a changing tone plus noise, resampled
 * from 16 kHz, so that any shift or resampler difference shows). */
static void test_long_input_decodes_only_excerpt_span(void **state)
{
    (void)state;
    const int rate = 16000;
    const size_t frames = (size_t)300 * rate;
    int16_t *s = malloc(frames * sizeof *s);
    uint32_t lcg = 12345;
    double phase = 0;
    for (size_t i = 0; i < frames; i++) {
        double t = (double)i / rate;
        phase += 2 * PI * (200.0 + 10.0 * t) / rate;
        lcg = lcg * 1664525u + 1013904223u;
        double noise = ((double)(lcg >> 8) / 16777216.0 - 0.5) * 0.1;
        s[i] = (int16_t)lrint(32767.0 * (0.4 * sin(phase) + noise));
    }
    size_t size;
    unsigned char *wav = wav_bytes(rate, 1, 0, s, frames, &size);
    free(s);

    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.max_seconds = 60; /* the 30 s excerpt fits; the 300 s input does not */
    struct af_audio part, whole;
    af_err err = {0};
    assert_int_equal(af_decode_memory(wav, size, &opts, &part, &err), 0);
    assert_int_equal(part.n_samples, 30 * 22050);
    assert_true(fabs(part.duration - 300.0) < 1e-9);

    opts.excerpt_seconds = 0;
    opts.max_seconds = 400;
    assert_int_equal(af_decode_memory(wav, size, &opts, &whole, &err), 0);
    assert_int_equal(whole.n_samples, 300 * 22050);
    size_t start = (whole.n_samples - part.n_samples) / 2;
    assert_true(fabs(part.excerpt_start - (double)start / 22050) < 1e-12);
    assert_memory_equal(part.samples, whole.samples + start, part.n_samples * sizeof(float));
    af_audio_free(&part);
    af_audio_free(&whole);
    free(wav);
}

/* A FIFO (or any non-regular file) is refused at once instead of blocking the open
 * for ever; SIGALRM ends the test program if it blocks. */
static void test_refuses_fifo_and_directory(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "pipe.mp3");
    assert_int_equal(mkfifo(path, 0600), 0);
    struct af_audio a;
    af_err err = {0};
    alarm(20);
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "not a regular file", "FIFO");
    assert_refused(af_decode_file(tmpdir, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "not a regular file", "directory");
    alarm(0);
    unlink(path);
}

/* Reasons that tell the truth: antiphase stereo mixes to silence (it said only
 * "peak 0"), a 10-byte FLAC ends inside its header (it said "Input/output error"),
 * a too-short input says its channel count (255 channels of 44100 bytes). */
static void test_misleading_reasons(void **state)
{
    (void)state;
    const size_t n = 3 * 22050;
    double freq[2] = {440, 440}, amp[2] = {0.5, -0.5};
    int16_t *s = sine_s16(22050, 2, n, freq, amp);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 2, 0, s, n, &size);
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory(wav, size, NULL, &a, &err), &a, &err, AF_DECODE_SILENT,
                   "channels cancel out", "antiphase");
    free(wav);
    free(s);

    static const unsigned char flac10[] = {'f', 'L', 'a', 'C', 0, 0, 0, 0x22, 0x12, 0};
    /* from memory, FFmpeg's probe does not take it for FLAC at all */
    assert_refused(af_decode_memory(flac10, sizeof flac10, NULL, &a, &err), &a, &err,
                   AF_DECODE_UNREADABLE, "not a recognised audio format", NULL);
    char path[512];
    tmp_path(path, sizeof path, "ten.flac");
    write_file(path, flac10, sizeof flac10);
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_TRUNCATED,
                   "10 bytes", "ends inside its headers");

    int16_t *mono = calloc(22050, sizeof *mono);
    for (size_t i = 0; i < 22050; i++)
        mono[i] = (int16_t)(8000 * ((i / 20) % 2 ? 1 : -1));
    /* 44100 bytes declared as 255 channels: 86 frames */
    unsigned char *odd = wav_bytes(22050, 1, 0, mono, 22050, &size);
    odd[22] = 255;                                    /* channels */
    odd[28] = (unsigned char)((22050 * 510) & 0xff);  /* byte rate */
    odd[29] = (unsigned char)((22050 * 510) >> 8 & 0xff);
    odd[30] = (unsigned char)((22050 * 510) >> 16 & 0xff);
    odd[31] = (unsigned char)((22050 * 510) >> 24 & 0xff);
    odd[32] = (unsigned char)(510 & 0xff);            /* block align */
    odd[33] = (unsigned char)(510 >> 8);
    assert_refused(af_decode_memory(odd, size, NULL, &a, &err), &a, &err, AF_DECODE_TOO_SHORT,
                   "too short", "255-channel");
    free(odd);
    free(mono);
}

static void test_refuses_nan_samples(void **state)
{
    (void)state;
    const size_t n = 4096;
    float *s = calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = 0.25f;
    s[77] = NAN;
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 1, s, n, &size);
    struct af_audio a;
    af_err err = {0};
    assert_refused(af_decode_memory(wav, size, NULL, &a, &err), &a, &err, AF_DECODE_CORRUPT,
                   "NaN", NULL);
    free(wav);
    free(s);
}

static void test_refuses_missing_file_and_bad_options(void **state)
{
    (void)state;
    struct af_audio a;
    af_err err = {0};
    char path[512];
    tmp_path(path, sizeof path, "does-not-exist.mp3");
    assert_refused(af_decode_file(path, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "cannot open", "No such file or directory");
    assert_refused(af_decode_file(tmpdir, NULL, &a, &err), &a, &err, AF_DECODE_UNREADABLE,
                   "not a regular file", "directory");

    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = -1;
    assert_refused(af_decode_memory("x", 1, &opts, &a, &err), &a, &err, AF_DECODE_SYSTEM,
                   "excerpt", NULL);
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = 0.01; /* shorter than the minimum it would then refuse */
    assert_refused(af_decode_memory("x", 1, &opts, &a, &err), &a, &err, AF_DECODE_SYSTEM,
                   "minimum", NULL);
}

/* A filename with a colon must be a file, never a protocol. */
static void test_colon_in_file_name(void **state)
{
    (void)state;
    const size_t n = 4096;
    double freq = 440, amp = 0.5;
    int16_t *s = sine_s16(22050, 1, n, &freq, &amp);
    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, s, n, &size);
    char path[512];
    tmp_path(path, sizeof path, "http:artist - title.wav");
    write_file(path, wav, size);
    struct af_audio a;
    af_err err = {0};
    assert_int_equal(af_decode_file(path, NULL, &a, &err), 0);
    assert_int_equal(a.n_samples, n);
    af_audio_free(&a);
    free(wav);
    free(s);
}

/* Cut and damaged copies of every format: each decodes or is refused cleanly
 * (run under ASan/valgrind, this is the crash and leak check). */
static void check_outcome(const char *what, int rc, const struct af_audio *a, const af_err *err)
{
    if (rc == 0) {
        assert_non_null(a->samples);
        assert_true(a->n_samples >= AF_DECODE_MIN_SAMPLES);
        for (size_t i = 0; i < a->n_samples; i++)
            if (!isfinite(a->samples[i]))
                fail_msg("%s: sample %zu is not finite", what, i);
    } else {
        if (rc != -1 || a->failure == AF_DECODE_OK || !err->msg[0] || a->samples)
            fail_msg("%s: rc %d, failure %s, message \"%s\"", what, rc,
                     af_decode_failure_name(a->failure), err->msg);
    }
}

static void test_damaged_inputs_never_crash(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    const char *files[] = {"sine.mp3", "sine.m4a", "sine.ogg", "sine.opus", "sine.flac", "sine.au"};
    uint32_t x = 88172645u;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[512], what[128];
        size_t size;
        tmp_path(path, sizeof path, files[f]);
        unsigned char *data = read_file(path, &size);
        unsigned char *copy = malloc(size);
        struct af_audio a;
        af_err err = {0};
        for (int k = 1; k < 8; k++) { /* cut at k/8 */
            int rc = af_decode_memory(data, size * (size_t)k / 8, NULL, &a, &err);
            snprintf(what, sizeof what, "%s cut at %d/8", files[f], k);
            check_outcome(what, rc, &a, &err);
            af_audio_free(&a);
        }
        for (int k = 0; k < 8; k++) { /* 64 junk bytes somewhere */
            memcpy(copy, data, size);
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            size_t at = x % (size - 64);
            for (size_t i = 0; i < 64; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                copy[at + i] = (unsigned char)x;
            }
            int rc = af_decode_memory(copy, size, NULL, &a, &err);
            snprintf(what, sizeof what, "%s damaged at %zu", files[f], at);
            check_outcome(what, rc, &a, &err);
            af_audio_free(&a);
        }
        free(copy);
        free(data);
    }
}

/* ---------------------------------------------------------------------------
 * Probing (af_decode_probe_*): same verdicts as a full decode, a fraction of the work. */

static int probe_named_from_memory(const char *name, size_t percent, struct af_audio_probe *p,
                                   af_err *err)
{
    char path[512];
    size_t size;
    tmp_path(path, sizeof path, name);
    unsigned char *data = read_file(path, &size);
    assert_non_null(data);
    int rc = af_decode_probe_memory(data, size * percent / 100, p, err);
    free(data);
    return rc;
}

static int decode_named_cut(const char *name, size_t percent, struct af_audio *a, af_err *err)
{
    char path[512];
    size_t size;
    tmp_path(path, sizeof path, name);
    unsigned char *data = read_file(path, &size);
    assert_non_null(data);
    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = 0;
    int rc = af_decode_memory(data, size * percent / 100, &opts, a, err);
    free(data);
    return rc;
}

/* A refused probe: -1, the reason, nothing to free. */
static void assert_probe_refused(int rc, const struct af_audio_probe *p, const af_err *err,
                                 enum af_decode_failure why, const char *text)
{
    if (rc != -1 || p->failure != why || (text && !strstr(err->msg, text)))
        fail_msg("expected probe failure %s with \"%s\", got rc %d, failure %s, message \"%s\"",
                 af_decode_failure_name(why), text ? text : "", rc,
                 af_decode_failure_name(p->failure), err->msg);
    assert_null(p->tags.artist);
    assert_int_equal(p->codec[0], '\0');
}

static void test_probe_formats(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    const struct {
        const char *file, *codec;
        int rate, declared; /* declared: the header states the duration (head + tail suffice) */
    } formats[] = {
        {"long.mp3", "mp3", 44100, 1},        {"long.m4a", "aac", 44100, 1},
        {"long.ogg", "vorbis", 44100, 1},     {"long.flac", "flac", 44100, 1},
        {"long.au", "pcm_s16be", 44100, 1},   {"long.wav", "pcm_s16le", 44100, 1},
        {"long.aiff", "pcm_s16be", 44100, 1}, {"rf64.wav", "pcm_s16le", 44100, 1},
        {"noxing.mp3", "mp3", 44100, 0},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        const char *name = formats[i].file;
        struct af_audio_probe p, from_file;
        struct af_audio a;
        af_err err = {0};
        if (probe_named_from_memory(name, 100, &p, &err) != 0)
            fail_msg("%s: %s", name, err.msg);
        assert_int_equal(p.failure, AF_DECODE_OK);
        if (strcmp(p.codec, formats[i].codec) != 0)
            fail_msg("%s: codec %s, expected %s", name, p.codec, formats[i].codec);
        assert_int_equal(p.source_sample_rate, formats[i].rate);
        assert_int_equal(p.source_channels, 2);
        if (fabs(p.duration - 10.0) > 0.05)
            fail_msg("%s: duration %.4f s, expected 10 s", name, p.duration);

        /* The full decode measures the same duration... */
        if (decode_named(name, NULL, &a, &err) != 0)
            fail_msg("%s: %s", name, err.msg);
        if (fabs(p.duration - a.duration) > 0.01)
            fail_msg("%s: probe %.4f s, full decode %.4f s", name, p.duration, a.duration);
        assert_string_equal(p.container, a.container);
        af_audio_free(&a);

        /* ... but the probe decoded a quarter of it, where the header allows. */
        if (formats[i].declared && (p.whole || p.decoded_seconds > 3.5))
            fail_msg("%s: the probe decoded %.2f s of 10 s (whole %d)", name, p.decoded_seconds,
                     p.whole);
        if (!formats[i].declared && !(p.whole && fabs(p.decoded_seconds - 10.0) < 0.05))
            fail_msg("%s: no declared duration, yet decoded %.2f s (whole %d)", name,
                     p.decoded_seconds, p.whole);

        char path[512];
        tmp_path(path, sizeof path, name);
        if (af_decode_probe_file(path, &from_file, &err) != 0)
            fail_msg("%s from a file: %s", name, err.msg);
        assert_true(fabs(from_file.duration - p.duration) < 1e-9);
        assert_string_equal(from_file.codec, p.codec);
        af_audio_probe_free(&from_file);
        af_audio_probe_free(&p);
    }
}

/* 3 s inputs are decoded whole (head and tail would overlap); tags come through. */
static void test_probe_short_inputs_and_tags(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    const char *files[] = {"sine.mp3", "sine.m4a", "sine.ogg", "sine.opus", "sine.flac", "sine.au"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct af_audio_probe p;
        struct af_audio a;
        af_err err = {0};
        if (probe_named_from_memory(files[i], 100, &p, &err) != 0)
            fail_msg("%s: %s", files[i], err.msg);
        assert_int_equal(decode_named(files[i], NULL, &a, &err), 0);
        if (fabs(p.duration - a.duration) > 0.01)
            fail_msg("%s: probe %.4f s, full decode %.4f s", files[i], p.duration, a.duration);
        assert_string_equal(p.codec, a.codec);
        assert_non_null(p.tags.artist);
        assert_string_equal(p.tags.artist, "Björk");
        assert_string_equal(p.tags.title, "Jóga");
        assert_string_equal(p.tags.album, "Homogenic");
        assert_string_equal(p.tags.genre, "Electronic");
        af_audio_free(&a);
        af_audio_probe_free(&p);
    }
}

/* Cut files, with a declared duration: truncated, with the full decode's message.
 * 95 % loses only the tail, which the head alone would never notice.  (A WAV's
 * duration FFmpeg fits to the bytes present: wav_size.c reads its data chunk.) */
static void test_probe_truncated(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    const char *files[] = {"long.mp3", "long.m4a", "long.flac", "long.au",
                           "long.wav", "long.aiff", "rf64.wav"};
    const size_t cuts[] = {60, 95};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            struct af_audio_probe p;
            struct af_audio a;
            af_err err = {0}, full_err = {0};
            int rc = probe_named_from_memory(files[i], cuts[c], &p, &err);
            if (rc != -1 || p.failure != AF_DECODE_TRUNCATED)
                fail_msg("%s cut at %zu %%: probe rc %d, %s: %s", files[i], cuts[c], rc,
                         af_decode_failure_name(p.failure), err.msg);
            assert_probe_refused(rc, &p, &err, AF_DECODE_TRUNCATED, "header declares");
            assert_int_equal(decode_named_cut(files[i], cuts[c], &a, &full_err), -1);
            assert_int_equal(a.failure, AF_DECODE_TRUNCATED);
            assert_string_equal(err.msg, full_err.msg);
        }

    /* From a file too. */
    char path[512];
    size_t size;
    tmp_path(path, sizeof path, "long.mp3");
    unsigned char *mp3 = read_file(path, &size);
    tmp_path(path, sizeof path, "cut_probe.mp3");
    write_file(path, mp3, size * 6 / 10);
    struct af_audio_probe p;
    af_err err = {0};
    assert_probe_refused(af_decode_probe_file(path, &p, &err), &p, &err, AF_DECODE_TRUNCATED,
                         "10.0");
    free(mp3);
}

/* A WAV whose data chunk states no size (0, or 0xFFFFFFFF as writers to a pipe leave
 * it) has an unknown length: cut, it is just a shorter file, for probe and decode. */
static void test_wav_of_unknown_length_is_not_truncated(void **state)
{
    (void)state;
    const int rate = 22050;
    const size_t frames = 10 * (size_t)rate;
    double freq[1] = {440}, amp[1] = {0.5};
    int16_t *s = sine_s16(rate, 1, frames, freq, amp);
    size_t size;
    unsigned char *wav = wav_bytes(rate, 1, 0, s, frames, &size);
    const size_t cut = size * 6 / 10;
    struct af_audio a;
    struct af_audio_probe p;
    af_err err = {0};

    assert_refused(af_decode_memory(wav, cut, NULL, &a, &err), &a, &err, AF_DECODE_TRUNCATED,
                   "of the 10.00 s its header declares", NULL);
    const uint32_t unknown[] = {0, 0xFFFFFFFFu};
    for (size_t i = 0; i < 2; i++) {
        unsigned char *p_size = wav + 40; /* the data chunk's size */
        put_le(&p_size, unknown[i], 4);
        if (af_decode_memory(wav, cut, NULL, &a, &err) != 0)
            fail_msg("data size 0x%x: %s", unknown[i], err.msg);
        assert_true(fabs(a.duration - 6.0) < 0.01);
        af_audio_free(&a);
        if (af_decode_probe_memory(wav, cut, &p, &err) != 0)
            fail_msg("probe, data size 0x%x: %s", unknown[i], err.msg);
        assert_true(fabs(p.duration - 6.0) < 0.01);
        af_audio_probe_free(&p);
    }
    free(wav);
    free(s);
}

/* Everything af_decode_* refuses before decoding much: same failure, same message. */
static void check_probe_like_decode(const char *what, const void *data, size_t size,
                                    enum af_decode_failure why)
{
    struct af_audio_probe p;
    struct af_audio a;
    af_err err = {0}, full_err = {0};
    int rc = af_decode_probe_memory(data, size, &p, &err);
    assert_int_equal(af_decode_memory(data, size, NULL, &a, &full_err), -1);
    if (a.failure != why)
        fail_msg("%s: full decode %s, expected %s", what, af_decode_failure_name(a.failure),
                 af_decode_failure_name(why));
    assert_probe_refused(rc, &p, &err, why, NULL);
    if (strcmp(err.msg, full_err.msg) != 0)
        fail_msg("%s: probe says \"%s\", full decode \"%s\"", what, err.msg, full_err.msg);
}

static void test_probe_refusals(void **state)
{
    (void)state;
    struct af_audio_probe p;
    af_err err = {0};
    assert_probe_refused(af_decode_probe_memory(NULL, 0, &p, &err), &p, &err, AF_DECODE_EMPTY,
                         "0 bytes");
    check_probe_like_decode("empty", "", 0, AF_DECODE_EMPTY);
    char path[512];
    tmp_path(path, sizeof path, "empty_probe.mp3");
    write_file(path, "", 0);
    assert_probe_refused(af_decode_probe_file(path, &p, &err), &p, &err, AF_DECODE_EMPTY,
                         "0 bytes");
    tmp_path(path, sizeof path, "no_such_file.mp3");
    assert_probe_refused(af_decode_probe_file(path, &p, &err), &p, &err, AF_DECODE_UNREADABLE,
                         "cannot open");
    /* The probe refuses what decoding refuses before opening (it blocked on a FIFO);
     * SIGALRM ends the test program if it blocks. */
    tmp_path(path, sizeof path, "probe_pipe.mp3");
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(20);
    assert_probe_refused(af_decode_probe_file(path, &p, &err), &p, &err, AF_DECODE_UNREADABLE,
                         "not a regular file (a FIFO)");
    alarm(0);
    unlink(path);
    assert_probe_refused(af_decode_probe_file(tmpdir, &p, &err), &p, &err, AF_DECODE_UNREADABLE,
                         "not a regular file (a directory)");

    unsigned char *junk = malloc(100000);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        junk[i] = (unsigned char)x;
    }
    check_probe_like_decode("random bytes", junk, 100000, AF_DECODE_UNREADABLE);
    free(junk);

    const char *html = "<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>"
                       "<body><h1>Forbidden</h1><p>Request has expired.</p></body></html>\n";
    check_probe_like_decode("HTML", html, strlen(html), AF_DECODE_UNREADABLE);
    const char *text = "This is not audio.\nJust some lines of text.\n";
    check_probe_like_decode("text", text, strlen(text), AF_DECODE_UNREADABLE);

    size_t size;
    unsigned char *wav = wav_bytes(22050, 1, 0, "", 0, &size);
    check_probe_like_decode("WAV without samples", wav, size, AF_DECODE_EMPTY);
    free(wav);

    if (have_ffmpeg) {
        tmp_path(path, sizeof path, "picture.png");
        unsigned char *png = read_file(path, &size);
        check_probe_like_decode("picture", png, size, AF_DECODE_NO_AUDIO);
        free(png);
    }
}

/* Cut and damaged copies of the 10 s files (the seek and tail paths): a probe
 * never crashes or leaks, and on a cut it agrees with the full decode. */
static void test_probe_damaged_inputs(void **state)
{
    (void)state;
    SKIP_WITHOUT_FFMPEG();
    const char *files[] = {"long.mp3", "long.m4a", "long.ogg", "long.flac", "long.au", "noxing.mp3"};
    uint32_t x = 88172645u;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[512];
        size_t size;
        tmp_path(path, sizeof path, files[f]);
        unsigned char *data = read_file(path, &size);
        unsigned char *copy = malloc(size);
        for (int k = 1; k < 16; k++) { /* cut at k/16 */
            struct af_audio_probe p;
            struct af_audio a;
            af_err err = {0}, full_err = {0};
            size_t cut = size * (size_t)k / 16;
            int rc = af_decode_probe_memory(data, cut, &p, &err);
            struct af_decode_opts opts;
            af_decode_opts_init(&opts);
            opts.excerpt_seconds = 0;
            opts.min_samples = 0;
            opts.silence_threshold = 0;
            int full_rc = af_decode_memory(data, cut, &opts, &a, &full_err);
            if (rc != full_rc || p.failure != a.failure)
                fail_msg("%s cut at %d/16: probe rc %d %s \"%s\", full decode rc %d %s \"%s\"",
                         files[f], k, rc, af_decode_failure_name(p.failure), err.msg, full_rc,
                         af_decode_failure_name(a.failure), full_err.msg);
            if (rc == 0 && fabs(p.duration - a.duration) > 0.05)
                fail_msg("%s cut at %d/16: probe %.3f s, full decode %.3f s", files[f], k,
                         p.duration, a.duration);
            af_audio_probe_free(&p);
            af_audio_free(&a);
        }
        for (int k = 0; k < 8; k++) { /* 64 junk bytes somewhere */
            memcpy(copy, data, size);
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            size_t at = x % (size - 64);
            for (size_t i = 0; i < 64; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                copy[at + i] = (unsigned char)x;
            }
            struct af_audio_probe p;
            af_err err = {0};
            int rc = af_decode_probe_memory(copy, size, &p, &err);
            if (rc == 0 ? p.failure != AF_DECODE_OK || !p.codec[0]
                        : rc != -1 || p.failure == AF_DECODE_OK || !err.msg[0] || p.codec[0])
                fail_msg("%s damaged at %zu: rc %d, failure %s, message \"%s\"", files[f], at, rc,
                         af_decode_failure_name(p.failure), err.msg);
            if (rc != 0) { /* a probe never refuses what a full decode accepts */
                struct af_audio a;
                af_err full_err = {0};
                assert_int_equal(af_decode_memory(copy, size, NULL, &a, &full_err), -1);
                if (a.failure != p.failure)
                    fail_msg("%s damaged at %zu: probe %s, full decode %s", files[f], at,
                             af_decode_failure_name(p.failure), af_decode_failure_name(a.failure));
            }
            af_audio_probe_free(&p);
        }
        free(copy);
        free(data);
    }
}

static void test_failure_names(void **state)
{
    (void)state;
    assert_string_equal(af_decode_failure_name(AF_DECODE_OK), "ok");
    assert_string_equal(af_decode_failure_name(AF_DECODE_EMPTY), "empty");
    assert_string_equal(af_decode_failure_name(AF_DECODE_UNREADABLE), "unreadable");
    assert_string_equal(af_decode_failure_name(AF_DECODE_NO_AUDIO), "no_audio");
    assert_string_equal(af_decode_failure_name(AF_DECODE_UNSUPPORTED), "unsupported");
    assert_string_equal(af_decode_failure_name(AF_DECODE_CORRUPT), "corrupt");
    assert_string_equal(af_decode_failure_name(AF_DECODE_TRUNCATED), "truncated");
    assert_string_equal(af_decode_failure_name(AF_DECODE_TOO_SHORT), "too_short");
    assert_string_equal(af_decode_failure_name(AF_DECODE_TOO_LONG), "too_long");
    assert_string_equal(af_decode_failure_name(AF_DECODE_SILENT), "silent");
    assert_string_equal(af_decode_failure_name(AF_DECODE_SYSTEM), "system");
}

/* ---------------------------------------------------------------------------
 * librosa reference (shared/reference/librosa), when it is there. */

static const char *reference_dir(void)
{
    static char dir[1024];
    const char *env = getenv("AF_REFERENCE_DIR");
    struct stat st;
    if (env && *env)
        return env;
    snprintf(dir, sizeof dir, "%s/../shared/reference", AF_PROJECT_DIR);
    if (stat(dir, &st) == 0)
        return dir;
    return "/work/shared/reference";
}

/* librosa.feature.rms: frames of 2048 centred on t * 512, zero padded. */
static double frame_rms(const float *y, size_t n, size_t t)
{
    double sum = 0;
    long centre = (long)t * AF_HOP;
    for (long k = centre - AF_N_FFT / 2; k < centre + AF_N_FFT / 2; k++)
        if (k >= 0 && k < (long)n)
            sum += (double)y[k] * y[k];
    return sqrt(sum / AF_N_FFT);
}

/* Largest |ours - librosa| of one frame row against an .npy of the same frames. */
static double row_difference(const struct af_frame_features *f, int row, const char *dir,
                             const char *npy, double *peak)
{
    char path[1400];
    struct npy_array ref;
    snprintf(path, sizeof path, "%s/%s", dir, npy);
    assert_int_equal(npy_load(path, &ref), 0);
    assert_int_equal(ref.count, f->n_frames);
    double worst = 0;
    *peak = 0;
    for (size_t t = 0; t < ref.count; t++) {
        double d = fabs((double)f->data[(size_t)row * f->n_frames + t] - ref.data[t]);
        worst = d > worst ? d : worst;
        *peak = fabs(ref.data[t]) > *peak ? fabs(ref.data[t]) : *peak;
    }
    npy_free(&ref);
    return worst;
}

/* The same through frames.c: rms and zero crossing rate, exact in librosa's
 * float32 pipeline (README: "zcr, rms and tempo match exactly"). */
static void compare_frames_with_librosa(const struct af_audio *a, const char *dir)
{
    af_err err = {0};
    struct af_frame_ctx *ctx = af_frame_ctx_new(&err);
    if (!ctx)
        fail_msg("af_frame_ctx_new: %s", err.msg);
    struct af_frame_workspace *ws = af_frame_workspace_new(ctx, &err);
    assert_non_null(ws);
    struct af_frame_features f;
    if (af_frames_compute(ctx, ws, a->samples, a->n_samples, &f, &err) != 0)
        fail_msg("af_frames_compute: %s", err.msg);

    double rms_peak, zcr_peak;
    double rms = row_difference(&f, AF_ROW_RMS, dir, "rms.npy", &rms_peak);
    double zcr = row_difference(&f, AF_ROW_ZCR, dir, "zero_crossing_rate.npy", &zcr_peak);
    print_message("  through frames.c: rms max difference %.3g, zcr %.3g\n", rms, zcr);
    assert_true(rms <= 1e-5 * rms_peak);
    /* A sample within float rounding of 0 may cross on one side and not the other. */
    assert_true(zcr <= 2.0 / AF_N_FFT + 1e-7);
    af_frame_features_free(&f);
    af_frame_workspace_free(ws);
    af_frame_ctx_free(ctx);
}

static void compare_with_librosa(const char *audio, const char *clip, double excerpt_seconds)
{
    char dir[1024], path[1280];
    snprintf(dir, sizeof dir, "%s/librosa/clips/%s", reference_dir(), clip);
    snprintf(path, sizeof path, "%s/meta.json", dir);
    json_error_t jerr;
    json_t *meta = json_load_file(path, 0, &jerr);
    if (!meta)
        fail_msg("%s: %s", path, jerr.text);
    size_t n_samples = (size_t)json_integer_value(json_object_get(meta, "n_samples"));
    size_t n_frames = (size_t)json_integer_value(json_object_get(meta, "n_frames"));
    json_decref(meta);

    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    opts.excerpt_seconds = excerpt_seconds;
    struct af_audio a;
    af_err err = {0};
    snprintf(path, sizeof path, "%s/audio/%s", reference_dir(), audio);
    if (af_decode_file(path, &opts, &a, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    if (a.n_samples != n_samples)
        fail_msg("%s: %zu samples, librosa.load gives %zu", audio, a.n_samples, n_samples);
    assert_int_equal(1 + a.n_samples / AF_HOP, n_frames);

    /* RMS is exact in librosa's float32 pipeline, so it shows the samples themselves. */
    struct npy_array rms;
    snprintf(path, sizeof path, "%s/rms.npy", dir);
    assert_int_equal(npy_load(path, &rms), 0);
    assert_int_equal(rms.count, n_frames);
    double worst = 0, peak = 0;
    for (size_t t = 0; t < n_frames; t++) {
        double d = fabs(frame_rms(a.samples, a.n_samples, t) - rms.data[t]);
        worst = d > worst ? d : worst;
        peak = rms.data[t] > peak ? rms.data[t] : peak;
    }
    print_message("%s vs librosa %s: %zu samples, RMS max difference %.3g (%.2g of max)\n", audio,
                  clip, a.n_samples, worst, worst / peak);
    assert_true(worst <= 1e-5 * peak);
    npy_free(&rms);
    compare_frames_with_librosa(&a, dir);
    af_audio_free(&a);
}

static void test_librosa_reference(void **state)
{
    (void)state;
    char clips[1100];
    struct stat st;
    snprintf(clips, sizeof clips, "%s/librosa/clips", reference_dir());
    if (stat(clips, &st) != 0) {
        print_message("no librosa reference at %s (set AF_REFERENCE_DIR): skipping\n", clips);
        skip();
    }
    /* 44.1 kHz stereo MP3: mean of channels + soxr HQ = librosa.load(path, sr=22050). */
    compare_with_librosa("song.mp3", "song_soxr", AF_DECODE_EXCERPT_SECONDS);
    /* 22050 Hz mono, 30.013 s: no resampling; compared whole (no excerpt). */
    compare_with_librosa("blues.mp3", "blues", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wav_22050_mono_is_not_resampled),
        cmocka_unit_test(test_stereo_is_mean_of_channels),
        cmocka_unit_test(test_four_channels_and_float_wav),
        cmocka_unit_test(test_resample_44100_keeps_1khz),
        cmocka_unit_test(test_resample_48000_length),
        cmocka_unit_test(test_excerpt_is_central_30s),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_id3v1_latin1_tag),
        cmocka_unit_test(test_refuses_empty),
        cmocka_unit_test(test_refuses_random_bytes),
        cmocka_unit_test(test_refuses_text),
        cmocka_unit_test(test_refuses_truncated_mp3),
        cmocka_unit_test(test_refuses_no_audio_stream),
        cmocka_unit_test(test_refuses_silence),
        cmocka_unit_test(test_refuses_too_short),
        cmocka_unit_test(test_refuses_too_long),
        cmocka_unit_test(test_refuses_fifo_and_directory),
        cmocka_unit_test(test_misleading_reasons),
        cmocka_unit_test(test_long_input_decodes_only_excerpt_span),
        cmocka_unit_test(test_refuses_nan_samples),
        cmocka_unit_test(test_refuses_missing_file_and_bad_options),
        cmocka_unit_test(test_colon_in_file_name),
        cmocka_unit_test(test_damaged_inputs_never_crash),
        cmocka_unit_test(test_probe_formats),
        cmocka_unit_test(test_probe_short_inputs_and_tags),
        cmocka_unit_test(test_probe_truncated),
        cmocka_unit_test(test_wav_of_unknown_length_is_not_truncated),
        cmocka_unit_test(test_probe_refusals),
        cmocka_unit_test(test_probe_damaged_inputs),
        cmocka_unit_test(test_failure_names),
        cmocka_unit_test(test_librosa_reference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
