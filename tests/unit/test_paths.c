/* test_paths.c — a program run from its own source tree uses the tree (lib/paths.c);
 * the installed case is tests/integration/test_deploy.sh (the tree deleted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "paths.h"

static void the_tree_is_recognised(void **state)
{
    assert_true(af_paths_in_tree()); /* this test runs from build/tests or build-asan/tests */
    assert_string_equal(af_paths_project(), AF_PROJECT_DIR);
    char expected[4200];
    snprintf(expected, sizeof expected, "%s/config/genres.conf", AF_PROJECT_DIR);
    assert_string_equal(af_paths_config_file("genres.conf"), expected);
    /* found once and kept: the same pointer every time */
    assert_ptr_equal(af_paths_config_file("genres.conf"), af_paths_config_file("genres.conf"));
    assert_null(af_paths_config_file("no-such-file.conf"));
}

static void the_installed_directories_follow_the_program(void **state)
{
    /* <dir of the program>/../share/audiofiler: build/share/audiofiler here. */
    const char *datadir = af_paths_datadir();
    assert_non_null(strstr(datadir, "/share/audiofiler"));
    assert_int_equal(strncmp(datadir, AF_PROJECT_DIR, strlen(AF_PROJECT_DIR)), 0);
    assert_true(af_paths_sysconfdir()[0] == '/');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_tree_is_recognised),
        cmocka_unit_test(the_installed_directories_follow_the_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
