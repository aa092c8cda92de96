/* test_table.c — plain-text tables keep one line per row (lib/table.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static char *printed(const struct af_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    af_table_print(t, f);
    fclose(f);
    return buf;
}

static void columns_are_aligned(void **state)
{
    (void)state;
    static const char *const headers[] = {"name", "n"};
    struct af_table *t = af_table_new(2, headers);
    af_table_addf(t, "%s\t%d", "rock", 12);
    af_table_addf(t, "%s\t%d", "electronic", 3);
    char *text = printed(t);
    assert_string_equal(text, "name        n\n"
                              "----------  --\n"
                              "rock        12\n"
                              "electronic   3\n");
    free(text);
    af_table_free(t);
}

/* A name holding a newline or an escape sequence stays inside its cell. */
static void control_characters_stay_in_their_cell(void **state)
{
    (void)state;
    static const char *const headers[] = {"by", "note"};
    struct af_table *t = af_table_new(2, headers);
    const char *row[] = {"two\nlines", "bell\a\x1b[2J"};
    af_table_add(t, row);
    char *text = printed(t);
    assert_non_null(strstr(text, "two\\nlines  bell\\x07\\x1b[2J\n"));
    int lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
    free(text);
    af_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_are_aligned),
        cmocka_unit_test(control_characters_stay_in_their_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
