#!/usr/bin/env bash
# Foundation behaviour shared by every program: --help, --version, usage errors,
# configuration errors, the database being unavailable, migrations, af-db status
# and run records.
source "$AF_PROJECT/tests/lib.sh"

# The arguments with which each program would go on to use the database.
db_args() {
    case "$1" in
    af-db) echo status ;;
    af-ingest) echo label ;;
    af-predict) echo "$AF_PROJECT/tests/data/librosa/synth/tones.wav" ;;
    af-label) echo list ;;
    af-similar) echo 1 ;;
    *) echo "" ;;
    esac
}

programs=$(cd "$AF_BIN" && ls af-* | grep -v '\.d$')
for program in $programs; do
    run "$program" --help
    expect_status 0 "$program --help exits 0"
    expect_out '^Usage: '"$program" "$program --help starts with a usage line"
    expect_out 'Exit codes' "$program --help documents the exit codes"
    run "$program" --version
    expect_out "^$program \(AudioFiler\) [0-9]+\.[0-9]+" "$program --version"
    run "$program" --no-such-option
    expect_status 2 "$program rejects an unknown option with exit 2"
    expect_err "Try '$program --help'" "$program points to --help on a usage error"
done

# A dead database: exit 3, a message naming the target, never the password.
dead="host=$test_tmp/nowhere dbname=somedb user=someone password=s3cret-pw"
for program in $programs; do
    [ "$program" = af-features ] && continue
    run "$program" --db "$dead" $(db_args "$program")
    expect_status 3 "$program exits 3 when the database is unavailable"
    expect_err "somedb.*someone.*$test_tmp/nowhere" "$program names the connection target"
    expect_no 's3cret-pw' "$err$out" "$program never prints the password"
done

# Configuration errors name file, line and key, and exit 2.
printf '[extract]\njobs = 2\nwindow_secs = 3\n' >"$test_tmp/unknown-key.conf"
run af-db --config "$test_tmp/unknown-key.conf" status
expect_status 2 "an unknown configuration key exits 2"
expect_err "unknown-key.conf:3: unknown key 'window_secs' in section \[extract\]" \
    "an unknown key is named with file and line"
printf '[extract]\njobs = many\n' >"$test_tmp/bad-value.conf"
run af-db --config "$test_tmp/bad-value.conf" status
expect_status 2 "a bad configuration value exits 2"
expect_err "bad-value.conf:2: key 'extract.jobs': 'many' is not a whole number" \
    "a bad value is named with file, line and key"
run af-db --config "$test_tmp/does-not-exist.conf" status
expect_status 2 "a missing configuration file exits 2"
expect_err "does-not-exist.conf: cannot open" "a missing configuration file is named"
run af-db --config "$AF_PROJECT/config/audiofiler.conf" --db "$dead" status
expect_status 3 "the shipped configuration file loads (the program gets as far as the database)"

# Migrations: the first run creates the schema, the second is a no-op.
use_fresh_database foundation
run af-db status
expect_status 4 "a program refuses an empty database with exit 4"
expect_err "run 'af-db migrate'" "and says to run af-db migrate"
run af-db migrate
expect_status 0 "af-db migrate succeeds on an empty database"
expect_err "applied migration 001_" "af-db migrate reports what it applied"
tables_before=$(sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
run af-db migrate
expect_status 0 "a second af-db migrate succeeds"
expect_err "up to date.*nothing to do" "a second af-db migrate does nothing"
expect_eq "$tables_before" "$(sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" \
    "a second af-db migrate changes no table"
expect_eq 1 "$(sql "SELECT count(*) FROM schema_migrations WHERE version = 1")" \
    "each migration is recorded once"

run af-db status
expect_status 0 "af-db status succeeds on an empty database"
expect_out 'ingest +0 +0 +0' "af-db status prints zeros for ingest"
expect_out 'label +0 +0 +0' "af-db status prints zeros for label"
expect_out 'Last run of each program' "af-db status lists the last runs"

# Run records: program, version, arguments with secrets masked, status, end time.
run af-db --db "dbname=$PGDATABASE password=topsecret" migrate
expect_status 0 "af-db migrate with a password in --db"
args=$(sql "SELECT arguments::text FROM runs WHERE program = 'af-db' ORDER BY run_id DESC LIMIT 1")
expect_no topsecret "$args" "run records never store a password"
if printf '%s' "$args" | grep -q 'password=\*\*\*'; then pass "run records mask the password"; else fail "run records mask the password" "$args"; fi
expect_eq "succeeded|t|t|t" "$(sql "SELECT status, finished_at IS NOT NULL, host <> '', pid > 0 FROM runs ORDER BY run_id DESC LIMIT 1")" \
    "a run record has status, end time, host and pid"

# A schema newer than the program: refused with exit 4.
sql "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, '999_future', 'x')"
run af-db status
expect_status 4 "a newer schema is refused with exit 4"
expect_err "newer than this program" "the message says the schema is newer"
run af-db migrate
expect_status 4 "af-db migrate refuses a newer schema"

# tests/bench/run refuses a benchmark binary older than the library (it would
# measure old code).  Checked on a scratch tree with stand-in files.
bench_tree="$test_tmp/bench-tree"
mkdir -p "$bench_tree/tests/bench" "$bench_tree/build/bench"
cp "$AF_PROJECT/tests/bench/run" "$bench_tree/tests/bench/"
printf '#!/bin/sh\necho measured\n' >"$bench_tree/build/bench/bench_stub"
chmod +x "$bench_tree/build/bench/bench_stub"
touch -d '2 hours ago' "$bench_tree/build/bench/bench_stub"
touch "$bench_tree/build/libaf.a"
run "$bench_tree/tests/bench/run"
expect_status 2 "a benchmark older than the library is refused"
expect_err "older than build/libaf.a" "the refusal says why and what to run"
touch "$bench_tree/build/bench/bench_stub"
run "$bench_tree/tests/bench/run"
expect_status 0 "an up-to-date benchmark runs"
expect_out "measured" "its figures are printed"

# The build embeds exactly the migrations in sql/: removing one (not only editing
# one) remakes the embedded list.  Checked on a scratch copy of the build inputs.
tree="$test_tmp/build-tree"
mkdir -p "$tree/scripts" "$tree/sql"
cp "$AF_PROJECT/Makefile" "$AF_PROJECT/VERSION" "$tree/"
cp "$AF_PROJECT/scripts/embed-migrations" "$tree/scripts/"
cp "$AF_PROJECT"/sql/[0-9][0-9][0-9]_*.sql "$tree/sql/"
printf -- '-- scratch\nSELECT 1;\n' >"$tree/sql/998_scratch.sql"
run make -s -C "$tree" build-gen/migrations.c
expect_status 0 "make builds the embedded migrations in a scratch tree"
expect_eq 1 "$(grep -c '"998_scratch"' "$tree/build-gen/migrations.c")" "a new migration file is embedded"
rm "$tree/sql/998_scratch.sql"
run make -s -C "$tree" build-gen/migrations.c
expect_eq 0 "$(grep -c '"998_scratch"' "$tree/build-gen/migrations.c")" "a removed migration file is no longer embedded"
