/*
 * test_row_sample.c — train/row_sample.c, the cap on the baselines' training
 * rows: below the cap (or with no cap) the rows are used as they are, above it
 * exactly max_rows distinct rows come out, in order, with their own labels, the
 * same ones for the same seed, and every row equally likely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "../../train/row_sample.h"

enum { DIM = 3 };

/* Row i holds i, i + 0.25, i + 0.5 and label i % 7: a row's origin is visible. */
static void make_rows(float *x, int *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < DIM; j++)
            x[i * DIM + (size_t)j] = (float)i + 0.25f * (float)j;
        y[i] = (int)(i % 7);
    }
}

static void test_no_copy_within_the_cap(void **state)
{
    (void)state;
    float x[10 * DIM];
    int y[10];
    make_rows(x, y, 10);
    af_err err = {0};
    af_row_sample s;
    size_t caps[] = {0, 10, 11, 1000};
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
        assert_int_equal(af_row_sample_take(x, y, 10, DIM, caps[c], 1, &s, &err), 0);
        assert_ptr_equal(s.x, x);
        assert_ptr_equal(s.y, y);
        assert_int_equal(s.n, 10);
        assert_null(s.copy_x);
        af_row_sample_free(&s);
    }
}

static void test_sample_is_ordered_distinct_rows(void **state)
{
    (void)state;
    enum { N = 1000, MAX = 100 };
    float *x = malloc(N * DIM * sizeof *x);
    int *y = malloc(N * sizeof *y);
    make_rows(x, y, N);
    af_err err = {0};
    af_row_sample s, again, other;
    assert_int_equal(af_row_sample_take(x, y, N, DIM, MAX, 42, &s, &err), 0);
    assert_int_equal(s.n, MAX);
    assert_ptr_not_equal(s.x, x);
    long prev = -1;
    for (size_t r = 0; r < s.n; r++) {
        long i = (long)s.x[r * DIM];
        assert_true(i > prev && i < N); /* in order, hence distinct */
        for (int j = 0; j < DIM; j++)
            assert_true(s.x[r * DIM + (size_t)j] == (float)i + 0.25f * (float)j);
        assert_int_equal(s.y[r], i % 7);
        prev = i;
    }
    assert_int_equal(af_row_sample_take(x, y, N, DIM, MAX, 42, &again, &err), 0);
    assert_memory_equal(again.x, s.x, MAX * DIM * sizeof *x);
    assert_int_equal(af_row_sample_take(x, y, N, DIM, MAX, 43, &other, &err), 0);
    assert_memory_not_equal(other.x, s.x, MAX * DIM * sizeof *x);
    af_row_sample_free(&s);
    af_row_sample_free(&again);
    af_row_sample_free(&other);
    free(x);
    free(y);
}

/* 4,000 samples of 5 of 20 rows: each row is expected 1,000 times (sd ~27). */
static void test_every_row_equally_likely(void **state)
{
    (void)state;
    enum { N = 20, MAX = 5, DRAWS = 4000 };
    float x[N * DIM];
    int y[N];
    make_rows(x, y, N);
    int hits[N] = {0};
    af_err err = {0};
    for (uint64_t seed = 0; seed < DRAWS; seed++) {
        af_row_sample s;
        assert_int_equal(af_row_sample_take(x, y, N, DIM, MAX, seed, &s, &err), 0);
        assert_int_equal(s.n, MAX);
        for (size_t r = 0; r < s.n; r++)
            hits[(int)s.x[r * DIM]]++;
        af_row_sample_free(&s);
    }
    for (int i = 0; i < N; i++)
        assert_in_range(hits[i], 880, 1120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_copy_within_the_cap),
        cmocka_unit_test(test_sample_is_ordered_distinct_rows),
        cmocka_unit_test(test_every_row_equally_likely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
