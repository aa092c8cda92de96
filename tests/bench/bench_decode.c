/*
 * bench_decode.c — decode speed (x realtime) of analysis/decode/decode.c on real MP3s,
 * next to a bare FFmpeg decode loop (demux + decode, frames discarded) measured
 * in the same run as the ceiling, and the cost of a probe (af_decode_probe_memory,
 * what af-fetch verifies previews with) as a ratio to the full decode of the same
 * file, measured interleaved in the same run.  Not part of `make test`.
 *
 * Build and run from the project root:
 *   make build/bench/bench_decode && build/bench/bench_decode [FILE...]
 * (`make bench` runs it with the others.)  Without the Makefile:
 *   cc -O2 -std=c17 -D_GNU_SOURCE -iquote lib tests/bench/bench_decode.c build/libaf.a \
 *      $(pkg-config --cflags --libs libavformat libavcodec libavutil libswresample) \
 *      -lm -lpthread -o build/bench_decode
 * Default files: every .mp3 in $AF_REFERENCE_DIR/audio, else in shared/reference/audio
 * beside the project. Each file is read into memory once; every figure is the
 * median of RUNS runs.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "decode/decode.h"

#define RUNS 15
#ifndef AF_PROJECT_DIR
#define AF_PROJECT_DIR "."
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = len > 0 ? malloc((size_t)len) : NULL;
    if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return data;
}

/* The ceiling: FFmpeg alone, decoding every frame of the file and dropping it. */
static double bare_ffmpeg_seconds(const char *path)
{
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
        return -1;
    avformat_find_stream_info(fmt, NULL);
    const AVCodec *dec = NULL;
    int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &dec, 0);
    AVCodecContext *ctx = avcodec_alloc_context3(dec);
    avcodec_parameters_to_context(ctx, fmt->streams[idx]->codecpar);
    avcodec_open2(ctx, dec, NULL);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == idx && avcodec_send_packet(ctx, pkt) >= 0)
            while (avcodec_receive_frame(ctx, frame) >= 0)
                av_frame_unref(frame);
        av_packet_unref(pkt);
    }
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    avformat_close_input(&fmt);
    return 0;
}

static void bench_file(const char *path, double *sum_audio, double *sum_time, double *sum_probe,
                       double *sum_full)
{
    size_t size;
    unsigned char *data = read_all(path, &size);
    if (!data) {
        fprintf(stderr, "%s: cannot read\n", path);
        return;
    }
    struct af_decode_opts opts;
    af_decode_opts_init(&opts);
    double t_mem[RUNS], t_file[RUNS], t_bare[RUNS], t_probe[RUNS], ratio[RUNS], duration = 0;
    struct af_audio audio;
    struct af_audio_probe probe;
    af_err err = {0};
    int probed_whole = 0;

    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        if (af_decode_memory(data, size, &opts, &audio, &err) < 0) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            free(data);
            return;
        }
        t_mem[r] = now() - t0;
        duration = audio.duration;
        af_audio_free(&audio);

        t0 = now();
        if (af_decode_file(path, &opts, &audio, &err) == 0)
            af_audio_free(&audio);
        t_file[r] = now() - t0;

        t0 = now();
        bare_ffmpeg_seconds(path);
        t_bare[r] = now() - t0;

        t0 = now();
        if (af_decode_probe_memory(data, size, &probe, &err) < 0) {
            fprintf(stderr, "%s: probe: %s\n", path, err.msg);
            free(data);
            return;
        }
        t_probe[r] = now() - t0;
        ratio[r] = t_mem[r] / t_probe[r]; /* full decode / probe, back to back */
        probed_whole = probe.whole;
        af_audio_probe_free(&probe);
    }
    double m = median(t_mem, RUNS), f = median(t_file, RUNS), b = median(t_bare, RUNS);
    double pr = median(t_probe, RUNS);
    qsort(ratio, RUNS, sizeof *ratio, compare_double);
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    printf("%-16s %6.2f s  memory %6.2f ms %6.0fx  file %6.2f ms %6.0fx  bare FFmpeg %6.2f ms %6.0fx"
           "  probe %5.2f ms%s: full/probe %4.1f (runs %.1f-%.1f)\n",
           name, duration, m * 1e3, duration / m, f * 1e3, duration / f, b * 1e3, duration / b,
           pr * 1e3, probed_whole ? " (whole)" : "", median(ratio, RUNS), ratio[0],
           ratio[RUNS - 1]);
    *sum_audio += duration;
    *sum_time += m;
    *sum_probe += pr;
    *sum_full += m;
    free(data);
}

int main(int argc, char **argv)
{
    double audio = 0, time_spent = 0, probe_time = 0, full_time = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            bench_file(argv[i], &audio, &time_spent, &probe_time, &full_time);
    } else {
        char pattern[1024];
        const char *dir = getenv("AF_REFERENCE_DIR");
        if (dir && *dir)
            snprintf(pattern, sizeof pattern, "%s/audio/*.mp3", dir);
        else
            snprintf(pattern, sizeof pattern, "%s/../shared/reference/audio/*.mp3", AF_PROJECT_DIR);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) != 0) {
            printf("bench_decode: no files match %s: nothing measured\n", pattern);
            return 0;
        }
        for (size_t i = 0; i < g.gl_pathc; i++)
            bench_file(g.gl_pathv[i], &audio, &time_spent, &probe_time, &full_time);
        globfree(&g);
    }
    if (time_spent > 0)
        printf("total: %.1f s of audio in %.1f ms from memory: %.0fx realtime\n", audio,
               time_spent * 1e3, audio / time_spent);
    if (probe_time > 0)
        printf("probe (af-fetch's check) vs full decode, sums of medians: %.2f ms vs %.2f ms: "
               "%.1fx cheaper\n",
               probe_time * 1e3, full_time * 1e3, full_time / probe_time);
    return 0;
}
