/* test_log.c — log lines stay one line each whatever they quote (lib/log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void control_characters_are_escaped(void **state)
{
    char buf[128];
    af_log_escape("a\nb\rc\td\x1b[2Je\x7f", buf, sizeof buf);
    assert_string_equal(buf, "a\\nb\\rc\\td\\x1b[2Je\\x7f");
    af_log_escape("chanson d'été.mp3", buf, sizeof buf);
    assert_string_equal(buf, "chanson d'été.mp3");
    af_log_escape("\n\n\n\n", buf, 7); /* truncated at a whole escape */
    assert_string_equal(buf, "\\n\\n\\n");
}

/* A file name with a newline cannot forge a second log line. */
static void a_name_with_a_newline_cannot_forge_a_line(void **state)
{
    char path[] = "/tmp/af-test-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    af_log_init("af-test");
    log_warn("cannot decode %s", "evil\n2026-01-01T00:00:00Z ERROR af-db: forged.mp3");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fopen(path, "r");
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, f))
        lines++;
    fclose(f);
    close(fd);
    unlink(path);
    assert_int_equal(lines, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(control_characters_are_escaped),
        cmocka_unit_test(a_name_with_a_newline_cannot_forge_a_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
