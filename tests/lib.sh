# tests/lib.sh — helpers for integration tests (sourced). Each check prints
# "ok - NAME" or "not ok - NAME" with details; tests/run counts them.
#
#   run CMD...                     runs CMD; sets $status, $out (stdout), $err (stderr)
#   expect_status N NAME           the last run exited with N
#   expect_out PATTERN NAME        stdout matches the extended regex
#   expect_err PATTERN NAME        stderr matches the extended regex
#   expect_no PATTERN TEXT NAME    TEXT does not contain PATTERN
#   expect_eq EXPECTED ACTUAL NAME
#   use_fresh_database NAME        creates database af_test_NAME_<pid> and points PGDATABASE at it
#   sql QUERY                      prints the result of QUERY in the current database
set -u
: "${AF_BIN:?AF_BIN must name the directory of the programs}"
: "${AF_PROJECT:?AF_PROJECT must name the project}"
PATH="$AF_BIN:$PATH"
test_tmp=$(mktemp -d /tmp/af-it.XXXXXX)
created_databases=()
cleanup_lib() {
    for db in "${created_databases[@]}"; do dropdb --if-exists "$db" >/dev/null 2>&1; done
    rm -rf "$test_tmp"
}
trap cleanup_lib EXIT

run() {
    "$@" >"$test_tmp/out" 2>"$test_tmp/err"
    status=$?
    out=$(cat "$test_tmp/out")
    err=$(cat "$test_tmp/err")
}

pass() { echo "ok - $1"; }
fail() {
    echo "not ok - $1"
    shift
    for line in "$@"; do printf '#   %s\n' "$line"; done
    printf '#   stderr: %s\n' "$(printf '%s' "$err" | head -c 600)"
}

expect_status() {
    if [ "$status" -eq "$1" ]; then pass "$2"; else fail "$2" "expected exit $1, got $status"; fi
}
expect_out() {
    if printf '%s' "$out" | grep -Eq -- "$1"; then pass "$2"; else fail "$2" "stdout lacks /$1/: $(printf '%s' "$out" | head -c 400)"; fi
}
expect_err() {
    if printf '%s' "$err" | grep -Eq -- "$1"; then pass "$2"; else fail "$2" "stderr lacks /$1/"; fi
}
expect_no() {
    if printf '%s' "$2" | grep -Eq -- "$1"; then fail "$3" "found /$1/"; else pass "$3"; fi
}
expect_eq() {
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "expected '$1', got '$2'"; fi
}

use_fresh_database() {
    local name="af_test_${1}_$$"
    dropdb --if-exists "$name" >/dev/null 2>&1
    createdb "$name" || { echo "not ok - create database $name"; exit 1; }
    created_databases+=("$name")
    export PGDATABASE="$name"
}

sql() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
