/*
 * test_train_data.c — the pure parts of af-train: the in-memory dataset
 * (tracks, windows, NaN rejection, class order, grouping by split), the CSV
 * format (round trip, quoting, strict errors), hidden-layer parsing, the
 * evaluation literals and the HTML report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../train/csv.h"
#include "../../train/dataset.h"
#include "../../train/evaluation.h"
#include "../../train/report_html.h"
#include "../../train/split.h"
#include "../../train/trainer.h"
#include "strbuf.h"

/* Three tracks (ids 30, 10, 20) of genres rock, jazz, rock in train/val/test. */
static void make_small(af_dataset *ds)
{
    af_err err = {0};
    assert_int_equal(af_dataset_init(ds, 2, 0, &err), 0);
    int rock = af_dataset_class(ds, "rock", &err), jazz = af_dataset_class(ds, "jazz", &err);
    size_t t0, t1, t2;
    assert_int_equal(af_dataset_add_track(ds, 30, rock, AF_SPLIT_TRAIN, -1, &t0, &err), 0);
    assert_int_equal(af_dataset_add_track(ds, 10, jazz, AF_SPLIT_VAL, -1, &t1, &err), 0);
    assert_int_equal(af_dataset_add_track(ds, 20, rock, AF_SPLIT_TEST, -1, &t2, &err), 0);
    float rows[][2] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}};
    size_t of[] = {t0, t1, t0, t2, t1};
    for (int i = 0; i < 5; i++)
        assert_int_equal(af_dataset_add_window(ds, of[i], rows[i], i, NULL, &err), 0);
    assert_int_equal(af_dataset_finish(ds, &err), 0);
}

static void test_dataset_classes_sorted(void **state)
{
    (void)state;
    af_dataset ds;
    make_small(&ds);
    assert_int_equal(ds.n_classes, 2);
    assert_string_equal(ds.classes[0], "jazz");
    assert_string_equal(ds.classes[1], "rock");
    assert_int_equal(ds.track_class[af_dataset_find_track(&ds, 30)], 1);
    assert_int_equal(ds.track_class[af_dataset_find_track(&ds, 10)], 0);
    assert_int_equal(af_dataset_find_track(&ds, 99), -1);
    af_dataset_free(&ds);
}

static void test_dataset_rejects_nan_and_duplicates(void **state)
{
    (void)state;
    af_dataset ds;
    af_err err = {0};
    assert_int_equal(af_dataset_init(&ds, 3, 4, &err), 0);
    int c = af_dataset_class(&ds, "rock", &err);
    size_t t;
    assert_int_equal(af_dataset_add_track(&ds, 42, c, 0, -1, &t, &err), 0);
    assert_int_equal(af_dataset_add_track(&ds, 42, c, 0, -1, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "track 42 appears twice"));
    const char *names[] = {"a", "b", "c"};
    float bad[3] = {1, NAN, 2};
    assert_int_equal(af_dataset_add_window(&ds, t, bad, 7, names, &err), -1);
    assert_string_equal(err.msg, "track 42 window 7: feature 1 (b) is NaN");
    bad[1] = INFINITY;
    assert_int_equal(af_dataset_add_window(&ds, t, bad, 7, NULL, &err), -1);
    assert_string_equal(err.msg, "track 42 window 7: feature 1 is infinite");
    assert_int_equal(ds.n_windows, 0);
    af_dataset_free(&ds);
}

static void test_dataset_drops_tracks_without_windows(void **state)
{
    (void)state;
    af_dataset ds;
    af_err err = {0};
    assert_int_equal(af_dataset_init(&ds, 1, 0, &err), 0);
    int c = af_dataset_class(&ds, "x", &err);
    size_t a, b;
    af_dataset_add_track(&ds, 1, c, 0, -1, &a, &err);
    af_dataset_add_track(&ds, 2, c, 0, -1, NULL, &err);
    af_dataset_add_track(&ds, 3, c, 0, -1, &b, &err);
    /* tracks 1 and 3 by one artist (spelt two ways); track 2 by another */
    assert_int_equal(af_dataset_set_artist(&ds, a, "The Band", &err), 0);
    assert_int_equal(af_dataset_set_artist(&ds, 1, "Someone Else", &err), 0);
    assert_int_equal(af_dataset_set_artist(&ds, b, "  the  band ", &err), 0);
    uint64_t band = ds.track_group[a];
    assert_true(ds.track_group[1] != band);
    float v = 1;
    af_dataset_add_window(&ds, b, &v, 0, NULL, &err);
    af_dataset_add_window(&ds, a, &v, 0, NULL, &err);
    assert_int_equal(af_dataset_finish(&ds, &err), 0);
    assert_int_equal(ds.n_tracks, 2);
    assert_int_equal(af_dataset_find_track(&ds, 2), -1);
    assert_int_equal(ds.track_id[ds.track[0]], 3);
    assert_int_equal(ds.track_id[ds.track[1]], 1);
    /* the groups and names follow their tracks when others are dropped (the dropped
     * track's name is freed: ASan's leak check) */
    assert_true(ds.track_group[0] == band && ds.track_group[1] == band);
    assert_string_equal(ds.track_artist[0], "The Band");
    assert_string_equal(ds.track_artist[1], "  the  band ");
    af_dataset_free(&ds);
}

static void check_grouped(const af_grouped *g)
{
    /* train: windows 0 and 2 (track 30), val: 1 and 4 (track 10), test: 3 (track 20) */
    assert_int_equal(g->n[0], 2);
    assert_int_equal(g->n[1], 2);
    assert_int_equal(g->n[2], 1);
    const float want[] = {1, 2, 5, 6, 3, 4, 9, 10, 7, 8};
    for (int i = 0; i < 10; i++)
        assert_float_equal(g->x[i], want[i], 0);
    const int y[] = {1, 1, 0, 0, 1};
    for (int i = 0; i < 5; i++)
        assert_int_equal(g->y[i], y[i]);
}

static void test_dataset_group_copy_and_in_place(void **state)
{
    (void)state;
    af_dataset ds;
    af_err err = {0};
    make_small(&ds);
    int bucket[3];
    for (size_t t = 0; t < ds.n_tracks; t++)
        bucket[t] = ds.track_split[t];
    af_grouped g;
    assert_int_equal(af_dataset_group(&ds, bucket, false, &g, &err), 0);
    check_grouped(&g);
    assert_float_equal(ds.x[2], 3, 0); /* the dataset is untouched */
    af_grouped_free(&g);
    assert_int_equal(af_dataset_group(&ds, bucket, true, &g, &err), 0);
    check_grouped(&g);
    assert_ptr_equal(g.x, ds.x);
    size_t counts[2];
    af_grouped_class_counts(&g, 0, 2, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], 2);
    af_grouped_free(&g);
    /* leaving a bucket out */
    bucket[1] = AF_DATASET_UNUSED;
    assert_int_equal(af_dataset_group(&ds, bucket, false, &g, &err), 0);
    assert_int_equal(g.n[1], 0);
    assert_int_equal(g.n[0] + g.n[2], 3);
    af_grouped_free(&g);
    af_dataset_free(&ds);
}

static char *write_csv(const af_dataset *ds)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    af_err err = {0};
    assert_int_equal(af_csv_write(f, ds, NULL, &err), 0);
    fclose(f);
    return buf;
}

static int read_csv(const char *text, af_dataset *ds, af_err *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    int rc = af_csv_read(f, "t.csv", ds, err);
    fclose(f);
    return rc;
}

static void test_csv_round_trip(void **state)
{
    (void)state;
    af_dataset ds, back;
    af_err err = {0};
    make_small(&ds);
    ds.x[0] = 0.1f;
    ds.x[1] = -3.4028235e38f;
    long t10 = af_dataset_find_track(&ds, 10), t20 = af_dataset_find_track(&ds, 20);
    assert_int_equal(af_dataset_set_artist(&ds, (size_t)t10, "Earth, Wind & \"Fire\"", &err), 0);
    assert_int_equal(af_dataset_set_artist(&ds, (size_t)t20, "Miles", &err), 0);
    char *text = write_csv(&ds);
    assert_non_null(strstr(text, "track_id,label,split,artist,f0,f1\n"
                                 "30,rock,train,,0.100000001,-3.40282347e+38\n"
                                 "10,jazz,val,\"Earth, Wind & \"\"Fire\"\"\",3,4\n"));
    assert_int_equal(read_csv(text, &back, &err), 0);
    assert_int_equal(back.dim, 2);
    assert_int_equal(back.n_windows, 5);
    assert_int_equal(back.n_tracks, 3);
    assert_memory_equal(back.x, ds.x, 10 * sizeof(float));
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(back.track_id[back.track[i]], ds.track_id[ds.track[i]]);
        assert_int_equal(back.track_split[back.track[i]], ds.track_split[ds.track[i]]);
        assert_string_equal(back.classes[back.track_class[back.track[i]]],
                            ds.classes[ds.track_class[ds.track[i]]]);
        /* the artist groups come back with the names: the networks draw alike */
        assert_true(back.track_group[back.track[i]] == ds.track_group[ds.track[i]]);
    }
    assert_null(back.track_artist[af_dataset_find_track(&back, 30)]);
    assert_string_equal(back.track_artist[af_dataset_find_track(&back, 10)], "Earth, Wind & \"Fire\"");
    char *again = write_csv(&back);
    assert_string_equal(text, again);
    free(text);
    free(again);
    af_dataset_free(&ds);
    af_dataset_free(&back);
}

/* The feature set's names head the columns, so that the file read back on a
 * fresh database names its features as the database did. */
static void test_csv_header_names_the_features(void **state)
{
    (void)state;
    af_dataset ds;
    af_err err = {0};
    make_small(&ds);
    const char *const names[] = {"chroma01_mean", "tempo"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(af_csv_write(f, &ds, names, &err), 0);
    fclose(f);
    assert_non_null(strstr(buf, "track_id,label,split,artist,chroma01_mean,tempo\n30,rock,train,,"));
    free(buf);
    af_dataset_free(&ds);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    af_dataset ds;
    af_err err = {0};
    assert_int_equal(read_csv("track_id,label,split,f0\r\n1,\"rock, \"\"hard\"\"\",test,2.5\r\n"
                              "2,pop,val,1\n\n",
                              &ds, &err),
                     0);
    assert_int_equal(ds.n_classes, 2);
    assert_string_equal(ds.classes[1], "rock, \"hard\"");
    char *text = write_csv(&ds);
    assert_non_null(strstr(text, "1,\"rock, \"\"hard\"\"\",test,,2.5\n"));
    free(text);
    af_dataset_free(&ds);
}

/* The artist column is optional (older exports lack it), and an empty field is no
 * artist: each such track is a group of its own, as a track without one in the
 * database is. */
static void test_csv_artist_column(void **state)
{
    (void)state;
    af_dataset old, with;
    af_err err = {0};
    assert_int_equal(read_csv("track_id,label,split,f0\n1,a,train,1\n2,a,train,2\n", &old, &err), 0);
    assert_int_equal(old.dim, 1);
    assert_null(old.track_artist[0]);
    assert_true(old.track_group[0] != old.track_group[1]);
    assert_int_equal(read_csv("track_id,label,split,artist,f0\n1,a,train,The Band,1\n"
                              "2,a,train,the band,2\n3,a,train,,3\n4,a,train,,4\n",
                              &with, &err),
                     0);
    assert_int_equal(with.dim, 1);
    assert_float_equal(with.x[3], 4, 0);
    assert_true(with.track_group[0] == with.track_group[1]);
    assert_null(with.track_artist[2]);
    assert_true(with.track_group[2] != with.track_group[3]);
    af_dataset_free(&old);
    af_dataset_free(&with);
}

static void expect_csv_error(const char *text, const char *message)
{
    af_dataset ds;
    af_err err = {0};
    assert_int_equal(read_csv(text, &ds, &err), -1);
    if (!strstr(err.msg, message))
        fail_msg("expected '%s' in '%s'", message, err.msg);
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_csv_error("", "t.csv is empty");
    expect_csv_error("id,label,split,f0\n", "the header must be track_id,label,split");
    expect_csv_error("track_id,label,split\n", "the header must be");
    expect_csv_error("track_id,label,split,artist\n", "the header must be track_id,label,split[,artist]");
    expect_csv_error("track_id,label,split,artist,f0\n1,a,train,x,1\n1,a,train,y,1\n",
                     "line 3: track 1 has another label, split or artist");
    expect_csv_error("track_id,label,split,artist,f0\n1,a,train,x,1\n1,a,train,,1\n",
                     "another label, split or artist");
    expect_csv_error("track_id,label,split,artist,f0\n1,a,train,1\n",
                     "line 2: 0 features, the header has 1");
    expect_csv_error("track_id,label,split,f0,f1\n1,a,train,1\n",
                     "t.csv line 2: 1 features, the header has 2 (mismatched dimensions)");
    expect_csv_error("track_id,label,split,f0\nx,a,train,1\n", "line 2: track_id 'x' is not an integer");
    expect_csv_error("track_id,label,split,f0\n1,a,dev,1\n", "line 2: split 'dev' is not train, val or test");
    expect_csv_error("track_id,label,split,f0\n1,a,train,1e\n", "line 2: f0 '1e' is not a number");
    expect_csv_error("track_id,label,split,f0\n1,a,train,\n", "line 2: f0 '' is not a number");
    expect_csv_error("track_id,label,split,tempo,rms_mean\n1,a,train,1,x\n",
                     "line 2: rms_mean 'x' is not a number");
    expect_csv_error("track_id,label,split,f0\n1,a,train,inf\n", "line 2: track 1 window 0: feature 0 is infinite");
    expect_csv_error("track_id,label,split,f0\n1,a,train,1\n1,a,train,nan\n",
                     "line 3: track 1 window 1: feature 0 is NaN");
    expect_csv_error("track_id,label,split,f0\n1,a,train,1\n1,b,train,1\n",
                     "line 3: track 1 has another label, split or artist");
    expect_csv_error("track_id,label,split,f0\n1,a,train,1\n1,a,test,1\n", "another label, split");
    expect_csv_error("track_id,label,split,f0\n1,\"a,train,1\n", "line 2: unterminated quoted field");
    expect_csv_error("track_id,label,split,f0\n1,,train,1\n", "line 2: empty genre label");
}

static void test_parse_hidden(void **state)
{
    (void)state;
    int n, w[AF_MLP_MAX_HIDDEN];
    af_err err = {0};
    assert_int_equal(af_parse_hidden("256,128,64", &n, w, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(w[0], 256);
    assert_int_equal(w[2], 64);
    assert_int_equal(af_parse_hidden(" 32 , 16", &n, w, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(af_parse_hidden("", &n, w, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(af_parse_hidden("0", &n, w, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(af_parse_hidden("12,x", &n, w, &err), -1);
    assert_int_equal(af_parse_hidden("12,", &n, w, &err), -1);
    assert_int_equal(af_parse_hidden("-4", &n, w, &err), -1);
    assert_int_equal(af_parse_hidden("1,2,3,4,5,6,7,8,9", &n, w, &err), -1);
    assert_non_null(strstr(err.msg, "at most 8 layers"));
}

static void test_eval_literals(void **state)
{
    (void)state;
    af_eval e = {0};
    af_err err = {0};
    assert_int_equal(af_confusion_init(&e.cm, 2, &err), 0);
    e.per_class = calloc(2, sizeof *e.per_class);
    int truth[] = {0, 0, 1, 1, 1}, pred[] = {0, 1, 1, 1, 0};
    af_confusion_add(&e.cm, truth, pred, 5, &err);
    af_eval_compute(&e);
    assert_int_equal(e.n, 5);
    assert_float_equal(e.accuracy, 0.6, 1e-12);
    char *lit = af_eval_confusion_literal(&e);
    assert_string_equal(lit, "{{1,1},{1,2}}");
    char *classes[] = {"jazz", "rock \"n\" roll"};
    char *json = af_eval_per_class_json(&e, classes);
    assert_non_null(strstr(json, "\"rock \\\"n\\\" roll\":{\"precision\":0.666667"));
    assert_non_null(strstr(json, "\"support\":3"));
    free(lit);
    free(json);
    af_eval_free(&e);
}

static void test_report_html(void **state)
{
    (void)state;
    double tl[] = {1.0, 0.5, 0.25}, vl[] = {1.1, 0.6, NAN}, ta[] = {0.3, 0.6, 0.9},
           va[] = {0.2, 0.5, 0.8}, s[] = {0.1, 0.1, 0.1};
    af_report_curve curve = {0, 3, tl, vl, ta, va, s};
    af_report_eval_row rows[] = {{-1, 0, 10, 0.5, 0.5, 0.5}, {-1, 1, 4, 0.75, 0.75, 0.7}};
    char *genres[] = {"a<b", "c&d"};
    long cm[] = {2, 0, 1, 1};
    af_report r = {.model_id = 7, .created = "now", .feature_set = "v1",
                   .hyperparameters = "{\"x\": \"<y>\"}", .n_genres = 2, .genres = genres,
                   .n_curves = 1, .curves = &curve, .n_evals = 2, .evals = rows,
                   .confusion = {NULL, cm}};
    af_sb b = {0};
    assert_true(af_report_html(&r, &b));
    const char *html = af_sb_str(&b);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "model 7"));
    assert_non_null(strstr(html, "a&lt;b"));
    assert_non_null(strstr(html, "c&amp;d"));
    assert_null(strstr(html, "a<b"));
    assert_null(strstr(html, "src="));
    assert_non_null(strstr(html, "&lt;y&gt;"));
    int polylines = 0, cells = 0;
    for (const char *p = html; (p = strstr(p, "<polyline")); p++)
        polylines++;
    for (const char *p = html; (p = strstr(p, "<rect class=\"cell\"")); p++)
        cells++;
    assert_int_equal(polylines, 4);
    assert_int_equal(cells, 4);
    assert_non_null(strstr(html, "<td>0.667</td>")); /* precision of a: 2 / 3 */
    af_sb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_classes_sorted),
        cmocka_unit_test(test_dataset_rejects_nan_and_duplicates),
        cmocka_unit_test(test_dataset_drops_tracks_without_windows),
        cmocka_unit_test(test_dataset_group_copy_and_in_place),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_csv_header_names_the_features),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_artist_column),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_parse_hidden),
        cmocka_unit_test(test_eval_literals),
        cmocka_unit_test(test_report_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
