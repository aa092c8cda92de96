/*
 * log.h — the logging convention of every AudioFiler program.
 *
 * Lines go to stderr as "2026-11-21T13:20:01Z INFO af-extract: message".
 * --quiet shows warnings and errors only; --verbose adds debug lines.
 * A progress line (af_progress) is drawn in place on a terminal and is
 * printed as an ordinary INFO line at most every 10 s otherwise, so that
 * cron logs stay readable.  All functions are thread-safe.
 *
 * Every message is one line whatever it quotes: control characters (a file
 * name with a newline, a terminal escape from an API's JSON) are written as
 * \n, \r, \t or \xNN, so that no input can forge a log line.
 */
#ifndef AF_LOG_H
#define AF_LOG_H

#include <stddef.h>

enum af_log_level { AF_LOG_DEBUG, AF_LOG_INFO, AF_LOG_WARN, AF_LOG_ERROR };

void af_log_init(const char *program);
void af_log_set_level(enum af_log_level level);
enum af_log_level af_log_get_level(void);
/* Whether a stage prints the report or tables that sum up its work on stdout: they are
 * information, so -q (warnings and errors only: what cron mails) leaves them out. */
int af_log_reports_wanted(void);
const char *af_log_program(void);

/* text with control characters escaped as above, truncated to fit buf. */
void af_log_escape(const char *text, char *buf, size_t len);

void af_log(enum af_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) af_log(AF_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) af_log(AF_LOG_INFO, __VA_ARGS__)
#define log_warn(...) af_log(AF_LOG_WARN, __VA_ARGS__)
#define log_error(...) af_log(AF_LOG_ERROR, __VA_ARGS__)

/* A progress report for long work: "done/total unit (rate/s) extra".
 * total may be 0 when unknown. Call as often as you like: it rate-limits itself. */
void af_progress(const char *unit, long done, long total, const char *extra);
/* Ends a progress line drawn on a terminal (prints the final state and a newline). */
void af_progress_end(void);

#endif
