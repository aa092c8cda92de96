/* ratelimit.c — token bucket, server-imposed pauses and backoff; see ratelimit.h. */
#include "ratelimit.h"

#include <math.h>
#include <time.h>

double af_monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void af_sleep_seconds(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)seconds,
                          .tv_nsec = (long)((seconds - floor(seconds)) * 1e9)};
    nanosleep(&ts, NULL);
}

void af_rate_limiter_init(struct af_rate_limiter *rl, double requests_per_second, double burst)
{
    pthread_mutex_init(&rl->lock, NULL);
    rl->rate = requests_per_second;
    rl->burst = burst < 1 ? 1 : burst;
    rl->tokens = rl->burst;
    rl->last_refill = af_monotonic_seconds();
    rl->paused_until = 0;
}

void af_rate_limiter_destroy(struct af_rate_limiter *rl) { pthread_mutex_destroy(&rl->lock); }

double af_rate_limiter_try_take(struct af_rate_limiter *rl)
{
    pthread_mutex_lock(&rl->lock);
    double now = af_monotonic_seconds();
    double wait = 0;
    if (now < rl->paused_until) {
        wait = rl->paused_until - now;
    } else if (rl->rate > 0) {
        rl->tokens = fmin(rl->burst, rl->tokens + (now - rl->last_refill) * rl->rate);
        rl->last_refill = now;
        if (rl->tokens >= 1)
            rl->tokens -= 1;
        else
            wait = (1 - rl->tokens) / rl->rate;
    }
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

void af_rate_limiter_take(struct af_rate_limiter *rl)
{
    double wait;
    while ((wait = af_rate_limiter_try_take(rl)) > 0)
        af_sleep_seconds(wait);
}

void af_rate_limiter_pause(struct af_rate_limiter *rl, double seconds)
{
    pthread_mutex_lock(&rl->lock);
    double until = af_monotonic_seconds() + seconds;
    if (until > rl->paused_until)
        rl->paused_until = until;
    rl->tokens = 0;
    pthread_mutex_unlock(&rl->lock);
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double af_backoff_seconds(int attempt, double base, double max, uint64_t *seed)
{
    double full = base * pow(2, attempt > 1 ? attempt - 1 : 0);
    if (full > max)
        full = max;
    double unit = (double)(splitmix64(seed) >> 11) / (double)(1ull << 53);
    return full * (0.5 + 0.5 * unit);
}
