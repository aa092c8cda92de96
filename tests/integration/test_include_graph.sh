#!/usr/bin/env bash
# The include graph of lib/, analysis/ and the stage folders has no cycle
# (tests/include-graph), and the checker does find one when there is one.
source "$AF_PROJECT/tests/lib.sh"

run "$AF_PROJECT/tests/include-graph" "$AF_PROJECT"
expect_status 0 "include graph of the project has no cycle"
expect_out 'no cycle' "include-graph says what it checked"

# A two-module cycle like the old lib/db.c <-> lib/migrate.c, and a private header.
mkdir -p "$test_tmp/tree/lib"
printf '#include "b.h"\n' >"$test_tmp/tree/lib/a.c"
printf '#include "a.h"\n' >"$test_tmp/tree/lib/b.c"
printf '' >"$test_tmp/tree/lib/a.h"
printf '' >"$test_tmp/tree/lib/b.h"
run "$AF_PROJECT/tests/include-graph" "$test_tmp/tree"
expect_status 1 "a cycle between two modules (a.c includes b.h, b.c includes a.h) fails"
expect_out 'include cycle among lib/a, lib/b' "the cycle's modules are named"

rm "$test_tmp/tree/lib/b.c"
printf '#include "a_internal.h"\n' >"$test_tmp/tree/lib/a.c"
printf '#include "a.h"\n' >"$test_tmp/tree/lib/a_internal.h"
run "$AF_PROJECT/tests/include-graph" "$test_tmp/tree"
expect_status 0 "a module's private header (a_internal.h) including its public header is no cycle"
