/* log.c — timestamped, levelled log lines and progress reports on stderr; see log.h. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "audiofiler";
static enum af_log_level log_level = AF_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int progress_drawn; /* a progress line without newline is on the terminal */

static const char *level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void af_log_init(const char *program)
{
    const char *slash = strrchr(program, '/');
    log_program = slash ? slash + 1 : program;
}

void af_log_set_level(enum af_log_level level) { log_level = level; }
enum af_log_level af_log_get_level(void) { return log_level; }
int af_log_reports_wanted(void) { return log_level <= AF_LOG_INFO; }
const char *af_log_program(void) { return log_program; }

static void format_time(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void clear_progress_locked(void)
{
    if (progress_drawn) {
        fputs("\r\033[K", stderr);
        progress_drawn = 0;
    }
}

void af_log_escape(const char *text, char *buf, size_t len)
{
    static const char *named[32] = {['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
    size_t w = 0;
    if (len == 0)
        return;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        char piece[5] = {(char)*c, '\0'};
        if (*c < 0x20 && named[*c])
            snprintf(piece, sizeof piece, "%s", named[*c]);
        else if (*c < 0x20 || *c == 0x7f)
            snprintf(piece, sizeof piece, "\\x%02x", *c);
        size_t n = strlen(piece);
        if (w + n >= len)
            break;
        memcpy(buf + w, piece, n);
        w += n;
    }
    buf[w] = '\0';
}

void af_log(enum af_log_level level, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char when[32];
    format_time(when, sizeof when);
    char message[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char escaped[4 * sizeof message];
    af_log_escape(message, escaped, sizeof escaped);
    pthread_mutex_lock(&log_lock);
    clear_progress_locked();
    fprintf(stderr, "%s %s %s: %s\n", when, level_names[level], log_program, escaped);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double progress_start, progress_last;
static char progress_text[512];

static void format_progress(const char *unit, long done, long total, const char *extra, double now)
{
    double elapsed = now - progress_start;
    double rate = elapsed > 0 ? done / elapsed : 0;
    if (total > 0)
        snprintf(progress_text, sizeof progress_text, "%ld/%ld %s (%.0f%%, %.1f/s)%s%s", done,
                 total, unit, 100.0 * done / total, rate, extra ? " " : "", extra ? extra : "");
    else
        snprintf(progress_text, sizeof progress_text, "%ld %s (%.1f/s)%s%s", done, unit, rate,
                 extra ? " " : "", extra ? extra : "");
}

void af_progress(const char *unit, long done, long total, const char *extra)
{
    if (log_level > AF_LOG_INFO)
        return;
    double now = monotonic_seconds();
    pthread_mutex_lock(&log_lock);
    if (progress_start == 0)
        progress_start = progress_last = now;
    int tty = isatty(STDERR_FILENO);
    double interval = tty ? 0.2 : 10.0;
    if (now - progress_last < interval && !(total > 0 && done == total)) {
        pthread_mutex_unlock(&log_lock);
        return;
    }
    progress_last = now;
    char extra_escaped[256];
    if (extra)
        af_log_escape(extra, extra_escaped, sizeof extra_escaped);
    format_progress(unit, done, total, extra ? extra_escaped : NULL, now);
    pthread_mutex_unlock(&log_lock);
    if (!tty) {
        log_info("progress: %s", progress_text);
        return;
    }
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "\r\033[K%s: %s", log_program, progress_text);
    fflush(stderr);
    progress_drawn = 1;
    pthread_mutex_unlock(&log_lock);
}

void af_progress_end(void)
{
    pthread_mutex_lock(&log_lock);
    if (progress_drawn) {
        fputc('\n', stderr);
        progress_drawn = 0;
    }
    progress_start = 0;
    pthread_mutex_unlock(&log_lock);
}
