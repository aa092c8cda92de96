/* Unit tests of config.c: defaults, loading, errors naming file/line/key, overrides,
 * and that config/audiofiler.conf documents every key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exitcode.h"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/af-config-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void defaults_are_typed(void **state)
{
    struct af_config *cfg = af_config_new();
    assert_int_equal(af_config_int(cfg, "extract.jobs"), 0);
    assert_true(af_config_double(cfg, "extract.window_seconds") == 3.0);
    assert_string_equal(af_config_str(cfg, "extract.feature_set"), "v1");
    assert_true(af_config_bool(cfg, "train.class_weights"));
    af_config_free(cfg);
}

static void file_values_override_defaults(void **state)
{
    char *path = write_temp("; comment\n[extract]\njobs = 4\nwindow_seconds = 2.5\n"
                            "[train]\nclass_weights = no\n");
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, path, &err), 0);
    assert_int_equal(af_config_int(cfg, "extract.jobs"), 4);
    assert_true(af_config_double(cfg, "extract.window_seconds") == 2.5);
    assert_false(af_config_bool(cfg, "train.class_weights"));
    af_config_free(cfg);
    remove(path);
}

static void unknown_key_names_file_line_and_key(void **state)
{
    char *path = write_temp("[extract]\njobs = 4\n\nwindow_sconds = 2\n");
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, path, &err), -1);
    assert_int_equal(err.code, AF_EXIT_USAGE);
    char expected[256];
    snprintf(expected, sizeof expected, "%s:4: unknown key 'window_sconds' in section [extract]",
             path);
    assert_string_equal(err.msg, expected);
    af_config_free(cfg);
    remove(path);
}

static void unknown_section_is_an_error(void **state)
{
    char *path = write_temp("[extrct]\njobs = 4\n");
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, path, &err), -1);
    assert_non_null(strstr(err.msg, ":2: unknown key 'jobs' in section [extrct]"));
    af_config_free(cfg);
    remove(path);
}

static void bad_values_are_rejected(void **state)
{
    static const char *cases[][2] = {
        {"[extract]\njobs = four\n", "'four' is not a whole number"},
        {"[extract]\njobs = 2.5\n", "'2.5' is not a whole number"},
        {"[extract]\njobs = 100000\n", "out of range"},
        {"[extract]\nwindow_seconds = \n", "is not a number"},
        {"[train]\nclass_weights = maybe\n", "not a boolean"},
        {"[extract]\nthis line has no equals sign\n", "syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_temp(cases[i][0]);
        struct af_config *cfg = af_config_new();
        af_err err = {0};
        assert_int_equal(af_config_load(cfg, path, &err), -1);
        if (!strstr(err.msg, cases[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i][1]);
        assert_non_null(strstr(err.msg, ":2:"));
        af_config_free(cfg);
        remove(path);
    }
}

static void missing_file_is_an_error(void **state)
{
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, "/nonexistent/audiofiler.conf", &err), -1);
    assert_int_equal(err.code, AF_EXIT_USAGE);
    assert_non_null(strstr(err.msg, "/nonexistent/audiofiler.conf: cannot open"));
    af_config_free(cfg);
}

/* A line longer than inih's 200-character buffer is one key = value (it was cut into
 * a bogus second key), with its inline comment cut like any other line's; the lines
 * after it keep their numbers. */
static void long_lines_are_read_whole(void **state)
{
    char value[700];
    for (size_t i = 0; i < sizeof value - 1; i++)
        value[i] = "host=db.example.org "[i % 20];
    value[sizeof value - 1] = '\0';
    char *text = malloc(2 * sizeof value + 300);
    snprintf(text, 2 * sizeof value + 300,
             "[database]\nconninfo = %s   ; a long comment after it\n; %s\n[extract]\njobs = 3\nbogus = 1\n",
             value, value);
    char *path = write_temp(text);
    free(text);
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, path, &err), -1); /* the bogus key, on line 6 */
    char expected[128];
    snprintf(expected, sizeof expected, "%s:6: unknown key 'bogus'", path);
    assert_non_null(strstr(err.msg, expected));
    assert_string_equal(af_config_str(cfg, "database.conninfo"), value);
    assert_int_equal(af_config_int(cfg, "extract.jobs"), 3);
    af_config_free(cfg);
    remove(path);
}

/* A directory given as the configuration file is an error (it read as empty: defaults). */
static void directory_is_not_a_config_file(void **state)
{
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, "/tmp", &err), -1);
    assert_int_equal(err.code, AF_EXIT_USAGE);
    assert_non_null(strstr(err.msg, "/tmp: cannot open configuration file: not a regular file (a directory)"));
    af_config_free(cfg);
}

static void overrides_are_validated(void **state)
{
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_set(cfg, "extract.jobs", "2", "--jobs", &err), 0);
    assert_int_equal(af_config_int(cfg, "extract.jobs"), 2);
    assert_int_equal(af_config_set(cfg, "extract.jobs", "-1", "--jobs", &err), -1);
    assert_string_equal(err.msg, "--jobs: -1 is out of range (0 to 256)");
    assert_int_equal(af_config_int(cfg, "extract.jobs"), 2);
    af_config_free(cfg);
}

/* The shipped file must load and must mention every key, so that it documents them all. */
static void shipped_file_documents_every_key(void **state)
{
    const char *path = AF_PROJECT_DIR "/config/audiofiler.conf";
    struct af_config *cfg = af_config_new();
    af_err err = {0};
    assert_int_equal(af_config_load(cfg, path, &err), 0);
    af_config_free(cfg);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    for (int i = 0; af_config_key_at(i); i++) {
        char section[64], line[128];
        const char *key = af_config_key_at(i), *dot = strchr(key, '.');
        snprintf(section, sizeof section, "[%.*s]", (int)(dot - key), key);
        snprintf(line, sizeof line, "\n%s =", dot + 1);
        const char *in_section = strstr(text, section);
        if (!in_section || !strstr(in_section, line))
            fail_msg("config/audiofiler.conf does not document %s", key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_typed),
        cmocka_unit_test(file_values_override_defaults),
        cmocka_unit_test(long_lines_are_read_whole),
        cmocka_unit_test(directory_is_not_a_config_file),
        cmocka_unit_test(unknown_key_names_file_line_and_key),
        cmocka_unit_test(unknown_section_is_an_error),
        cmocka_unit_test(bad_values_are_rejected),
        cmocka_unit_test(missing_file_is_an_error),
        cmocka_unit_test(overrides_are_validated),
        cmocka_unit_test(shipped_file_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
