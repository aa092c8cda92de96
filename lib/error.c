/* error.c — af_err helpers; see error.h for the convention. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_message(af_err *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int af_err_set(af_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, fmt, ap);
    va_end(ap);
    return -1;
}

int af_err_set_code(af_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, fmt, ap);
    va_end(ap);
    err->code = code;
    return -1;
}

int af_err_prefix(af_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[AF_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t prefix_len = strlen(prefix);
    if (prefix_len + 2 >= sizeof err->msg)
        prefix_len = sizeof err->msg - 3;
    /* Shift the old message right, then write the prefix in front of it. */
    size_t old_len = strnlen(err->msg, sizeof err->msg - 1);
    size_t keep = sizeof err->msg - 1 - prefix_len - 2;
    if (old_len > keep)
        old_len = keep;
    memmove(err->msg + prefix_len + 2, err->msg, old_len);
    err->msg[prefix_len + 2 + old_len] = '\0';
    memcpy(err->msg, prefix, prefix_len);
    memcpy(err->msg + prefix_len, ": ", 2);
    return -1;
}

void af_err_clear(af_err *err)
{
    if (!err)
        return;
    err->msg[0] = '\0';
    err->code = 0;
}
