/*
 * test_fftw_threads.c — FFTW's planner is entered by one thread at a time.
 *
 * The plans are made once per process in two pthread_once blocks (stft.c and
 * tempo.c); without one shared lock, two threads starting analysis contexts at
 * once can be inside the planner together, which FFTW does not allow.  FFTW's
 * planner hooks (called on entering and leaving the planner) count how many
 * threads are inside at once; the "before" hook sleeps to make an overlap
 * certain when nothing prevents it.  This must be the first planning of the
 * process: its own program, one test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "frames.h"
#include "rhythm/tempo.h"
#include "spectral/stft.h"

/* Exported by libfftw3 since 3.3.5 but not declared in fftw3.h. */
void fftw_set_planner_hooks(void (*before)(void), void (*after)(void));

#define THREADS 24

static atomic_int inside, most_inside;

static void before_planning(void)
{
    int now = atomic_fetch_add(&inside, 1) + 1;
    int seen = atomic_load(&most_inside);
    while (now > seen && !atomic_compare_exchange_weak(&most_inside, &seen, now))
        ;
    struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

static void after_planning(void)
{
    atomic_fetch_sub(&inside, 1);
}

static pthread_barrier_t start;

struct starter {
    pthread_t thread;
    int kind; /* 0 stft, 1 tempo, 2 a whole frame context */
    int index;
    int rc;
};

static struct af_tempo tempos[THREADS]; /* large: not on a thread's stack */

static void *start_context(void *arg)
{
    struct starter *s = arg;
    af_err err = {0};
    pthread_barrier_wait(&start);
    if (s->kind == 0) {
        struct af_stft stft;
        s->rc = af_stft_init(&stft, &err);
    } else if (s->kind == 1) {
        s->rc = af_tempo_init(&tempos[s->index], &err);
    } else {
        struct af_frame_ctx *ctx = af_frame_ctx_new(&err);
        s->rc = ctx ? 0 : -1;
        af_frame_ctx_free(ctx);
    }
    return NULL;
}

static void test_many_contexts_at_once_plan_one_at_a_time(void **state)
{
    (void)state;
    fftw_set_planner_hooks(before_planning, after_planning);
    static struct starter starters[THREADS];
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        starters[i].kind = i % 3;
        starters[i].index = i;
        assert_int_equal(pthread_create(&starters[i].thread, NULL, start_context, &starters[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(starters[i].thread, NULL);
        assert_int_equal(starters[i].rc, 0);
    }
    pthread_barrier_destroy(&start);
    assert_true(atomic_load(&most_inside) >= 1); /* the hooks did see the planner */
    assert_int_equal(atomic_load(&most_inside), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_contexts_at_once_plan_one_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
