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

# start_fakeapi WORLD_JSON: starts tests/fakeapi/server.py on a free port; sets
# $fakeapi_url (http://127.0.0.1:PORT) and stops the server when the test ends.
start_fakeapi() {
    local port_file="$test_tmp/fakeapi.port"
    rm -f "$port_file"
    python3 "$AF_PROJECT/tests/fakeapi/server.py" --world "$1" --port 0 --port-file "$port_file" \
        >"$test_tmp/fakeapi.log" 2>&1 &
    fakeapi_pid=$!
    for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
    [ -s "$port_file" ] || { echo "not ok - fake API server did not start"; cat "$test_tmp/fakeapi.log"; exit 1; }
    fakeapi_url="http://127.0.0.1:$(cat "$port_file")"
    trap 'kill $fakeapi_pid 2>/dev/null; cleanup_lib' EXIT
}

# fakeapi_fault JSON: injects a fault (see tests/fakeapi/server.py).
fakeapi_fault() { curl -sf -X POST -d "$1" "$fakeapi_url/_control/fault" >/dev/null; }
fakeapi_reset() { curl -sf -X POST "$fakeapi_url/_control/reset" >/dev/null; }
# fakeapi_count PATH_PREFIX: how many requests the server saw under that path.
fakeapi_count() {
    curl -sf "$fakeapi_url/_control/requests" |
        python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["path"].startswith(sys.argv[1])))' "$1"
}
