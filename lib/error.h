/*
 * error.h — the one error-handling convention of AudioFiler.
 *
 * A function that can fail returns 0 on success and -1 on failure, and
 * describes the failure in an af_err supplied by its caller.  The caller
 * decides what to do with the text: log it, store it with the track that
 * failed, or add context and pass it up with af_err_prefix().  Library code
 * never prints and never exits; only a program's main() turns an error into
 * a log line and an exit code (see exitcode.h).
 */
#ifndef AF_ERROR_H
#define AF_ERROR_H

#include <stddef.h>

#define AF_ERR_MAX 1024

typedef struct af_err {
    char msg[AF_ERR_MAX];
    int code; /* an AF_EXIT_* value that main() should exit with; 0 = unset (AF_EXIT_FAILURE) */
} af_err;

/* Sets the message (printf-style) and returns -1, so that
 * "return af_err_set(err, ...);" reads naturally. err may be NULL. */
int af_err_set(af_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like af_err_set, and also records the exit code main() should use. */
int af_err_set_code(af_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts context in front of an existing message: "reading x.mp3: <old>". Returns -1. */
int af_err_prefix(af_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void af_err_clear(af_err *err);

#endif
