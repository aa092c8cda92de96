/*
 * ratelimit.h — pacing requests to web APIs: a token bucket per provider
 * (requests per second, with a small burst), a pause that a server can impose
 * (Last.fm error 29, HTTP 429 Retry-After), and exponential backoff with jitter
 * for retries.  Thread-safe; time is CLOCK_MONOTONIC seconds.
 */
#ifndef AF_RATELIMIT_H
#define AF_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

struct af_rate_limiter {
    pthread_mutex_t lock;
    double rate;         /* tokens per second; 0 = unlimited */
    double burst;        /* bucket size */
    double tokens;
    double last_refill;
    double paused_until; /* no token before this time */
};

double af_monotonic_seconds(void);

void af_rate_limiter_init(struct af_rate_limiter *rl, double requests_per_second, double burst);
void af_rate_limiter_destroy(struct af_rate_limiter *rl);

/* Takes a token if one is available now and returns 0; else returns the seconds to wait. */
double af_rate_limiter_try_take(struct af_rate_limiter *rl);
/* Blocks until a token is available, then takes it. */
void af_rate_limiter_take(struct af_rate_limiter *rl);
/* No requests for the next `seconds` (e.g. after a 429). */
void af_rate_limiter_pause(struct af_rate_limiter *rl, double seconds);

/* Seconds to wait before retry number `attempt` (1-based): base * 2^(attempt-1), capped
 * at max, with "full jitter" in [half, full] drawn from *seed. */
double af_backoff_seconds(int attempt, double base, double max, uint64_t *seed);

/* Sleeps for the given seconds (handles EINTR by returning early). */
void af_sleep_seconds(double seconds);

#endif
