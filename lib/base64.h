/*
 * base64.h — standard base64 (RFC 4648, with padding), for HTTP Basic
 * authentication (Spotify's token request in af-fetch and the look-up).
 */
#ifndef AF_BASE64_H
#define AF_BASE64_H

#include <stddef.h>

/* Encodes n bytes into out (NUL-terminated).  0, or -1 when out (size bytes) is too
 * small for 4 * ceil(n / 3) + 1 characters; out is then "". */
int af_base64_encode(const void *data, size_t n, char *out, size_t size);

#endif
