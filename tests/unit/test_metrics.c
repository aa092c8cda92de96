/*
 * test_metrics.c — train/metrics.c against hand-computed examples, including
 * the undefined cases (class never predicted, class absent, empty matrix)
 * that must give 0 and never NaN, and track-level aggregation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "../../train/metrics.h"

#define EPS 1e-12

/* cmocka of this distribution has no double comparison */
#define assert_double_equal(a, b, eps) check_near((a), (b), (eps), #a, __LINE__)

static void check_near(double a, double b, double eps, const char *what, int line)
{
    if (!(fabs(a - b) <= eps))
        fail_msg("line %d: %s = %.17g, expected %.17g", line, what, a, b);
}

static af_confusion make(int classes, const int *truth, const int *pred, size_t n)
{
    af_confusion cm;
    af_err err = {0};
    assert_int_equal(af_confusion_init(&cm, classes, &err), 0);
    assert_int_equal(af_confusion_add(&cm, truth, pred, n, &err), 0);
    return cm;
}

static void test_hand_computed_three_classes(void **state)
{
    (void)state;
    /* confusion (rows truth, columns predicted):
     *   [2 1 0]
     *   [1 1 0]
     *   [1 1 2]                                */
    const int truth[] = {0, 0, 0, 1, 1, 2, 2, 2, 2};
    const int pred[] = {0, 0, 1, 1, 0, 2, 2, 1, 0};
    af_confusion cm = make(3, truth, pred, 9);
    assert_int_equal(af_confusion_total(&cm), 9);
    assert_int_equal(af_confusion_at(&cm, 2, 0), 1);
    assert_int_equal(af_confusion_at(&cm, 0, 2), 0);
    assert_int_equal(af_confusion_at(&cm, 5, 0), 0);

    af_class_metrics m[3];
    af_metrics_per_class(&cm, m);
    assert_double_equal(m[0].precision, 2.0 / 4, EPS);
    assert_double_equal(m[0].recall, 2.0 / 3, EPS);
    assert_double_equal(m[0].f1, 4.0 / 7, EPS);
    assert_double_equal(m[1].precision, 1.0 / 3, EPS);
    assert_double_equal(m[1].recall, 1.0 / 2, EPS);
    assert_double_equal(m[1].f1, 2.0 / 5, EPS);
    assert_double_equal(m[2].precision, 1.0, EPS);
    assert_double_equal(m[2].recall, 2.0 / 4, EPS);
    assert_double_equal(m[2].f1, 2.0 / 3, EPS);
    assert_int_equal(m[2].support, 4);
    assert_int_equal(m[0].predicted, 4);

    assert_double_equal(af_metrics_accuracy(&cm), 5.0 / 9, EPS);
    assert_double_equal(af_metrics_balanced_accuracy(&cm), (2.0 / 3 + 0.5 + 0.5) / 3, EPS);
    assert_double_equal(af_metrics_macro_f1(&cm), 172.0 / 315, EPS);
    af_confusion_free(&cm);
}

static void test_class_never_predicted(void **state)
{
    (void)state;
    /* class 2 is never predicted; class 3 appears nowhere */
    const int truth[] = {0, 1, 2, 2};
    const int pred[] = {0, 1, 1, 1};
    af_confusion cm = make(4, truth, pred, 4);
    af_class_metrics m[4];
    af_metrics_per_class(&cm, m);
    assert_true(m[2].precision == 0.0 && m[2].recall == 0.0 && m[2].f1 == 0.0);
    assert_true(m[3].precision == 0.0 && m[3].recall == 0.0 && m[3].f1 == 0.0);
    for (int c = 0; c < 4; c++)
        assert_false(isnan(m[c].precision) || isnan(m[c].recall) || isnan(m[c].f1));
    assert_double_equal(m[1].precision, 1.0 / 3, EPS);
    assert_double_equal(m[1].f1, 0.5, EPS);
    assert_double_equal(af_metrics_accuracy(&cm), 0.5, EPS);
    /* class 3 takes no part in either average */
    assert_double_equal(af_metrics_balanced_accuracy(&cm), 2.0 / 3, EPS);
    assert_double_equal(af_metrics_macro_f1(&cm), 0.5, EPS);
    af_confusion_free(&cm);
}

static void test_class_only_predicted(void **state)
{
    (void)state;
    const int truth[] = {0, 0};
    const int pred[] = {0, 1};
    af_confusion cm = make(2, truth, pred, 2);
    /* class 1 was predicted but never true: counts in macro-F1 (as F1 0),
     * not in balanced accuracy (it has no recall) */
    assert_double_equal(af_metrics_macro_f1(&cm), (2.0 / 3 + 0.0) / 2, EPS);
    assert_double_equal(af_metrics_balanced_accuracy(&cm), 0.5, EPS);
    af_confusion_free(&cm);
}

static void test_empty_and_invalid(void **state)
{
    (void)state;
    af_confusion cm;
    af_err err = {0};
    assert_int_equal(af_confusion_init(&cm, 3, &err), 0);
    assert_true(af_metrics_accuracy(&cm) == 0.0);
    assert_true(af_metrics_balanced_accuracy(&cm) == 0.0);
    assert_true(af_metrics_macro_f1(&cm) == 0.0);
    const int truth[] = {0, 1, 3};
    const int pred[] = {0, 1, 0};
    assert_int_equal(af_confusion_add(&cm, truth, pred, 3, &err), -1);
    assert_int_equal(af_confusion_total(&cm), 0); /* nothing half-added */
    const int neg[] = {-1};
    assert_int_equal(af_confusion_add(&cm, pred, neg, 1, &err), -1);
    af_confusion_free(&cm);
    assert_int_equal(af_confusion_init(&cm, 0, &err), -1);
}

static void test_perfect(void **state)
{
    (void)state;
    const int y[] = {0, 1, 2, 1};
    af_confusion cm = make(3, y, y, 4);
    assert_double_equal(af_metrics_accuracy(&cm), 1.0, EPS);
    assert_double_equal(af_metrics_balanced_accuracy(&cm), 1.0, EPS);
    assert_double_equal(af_metrics_macro_f1(&cm), 1.0, EPS);
    af_confusion_free(&cm);
}

static void test_argmax_takes_first_of_ties(void **state)
{
    (void)state;
    const float p[] = {0.2f, 0.5f, 0.3f, 0.4f, 0.4f, 0.2f, 0.1f, 0.1f, 0.8f};
    int pred[3];
    af_metrics_argmax(p, 3, 3, pred);
    assert_int_equal(pred[0], 1);
    assert_int_equal(pred[1], 0);
    assert_int_equal(pred[2], 2);
}

static void test_track_aggregation(void **state)
{
    (void)state;
    /* track 0: windows 0, 2, 3; track 1: window 1; track 2: none.
     * Track 0's windows vote 1, 0, 0 by argmax, but the mean favours class 1:
     * aggregation averages probabilities, it does not count votes. */
    const float p[] = {
        0.0f, 0.9f, 0.1f, /* w0 -> t0 */
        0.1f, 0.1f, 0.8f, /* w1 -> t1 */
        0.5f, 0.4f, 0.1f, /* w2 -> t0 */
        0.5f, 0.4f, 0.1f, /* w3 -> t0 */
    };
    const size_t track[] = {0, 1, 0, 0};
    float tp[9];
    int tpred[3];
    af_err err = {0};
    assert_int_equal(af_metrics_aggregate_tracks(p, track, 4, 3, 3, tp, tpred, &err), 0);
    assert_float_equal(tp[0], 1.0f / 3, 1e-6f);
    assert_float_equal(tp[1], 1.7f / 3, 1e-6f);
    assert_float_equal(tp[2], 0.3f / 3, 1e-6f);
    assert_int_equal(tpred[0], 1);
    assert_float_equal(tp[5], 0.8f, 1e-6f);
    assert_int_equal(tpred[1], 2);
    assert_true(tp[6] == 0.0f && tp[7] == 0.0f && tp[8] == 0.0f);
    assert_int_equal(tpred[2], -1);

    const size_t bad[] = {0, 3, 0, 0};
    assert_int_equal(af_metrics_aggregate_tracks(p, bad, 4, 3, 3, tp, tpred, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_three_classes),
        cmocka_unit_test(test_class_never_predicted),
        cmocka_unit_test(test_class_only_predicted),
        cmocka_unit_test(test_empty_and_invalid),
        cmocka_unit_test(test_perfect),
        cmocka_unit_test(test_argmax_takes_first_of_ties),
        cmocka_unit_test(test_track_aggregation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
