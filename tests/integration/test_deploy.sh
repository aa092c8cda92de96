#!/usr/bin/env bash
# Deployment: secrets never stored or logged (conninfo masked by libpq's own parser),
# log lines that input cannot forge, quiet runs for cron, scripts/db and scripts/setup
# as a first user meets them (also as root in a private directory), database roles,
# and an installation that works without the source tree.
source "$AF_PROJECT/tests/lib.sh"
pipeline="$AF_PROJECT/scripts/af-pipeline"
empty="$test_tmp/empty"
mkdir -p "$empty"

# ---- secrets ---------------------------------------------------------------------------------
use_migrated_database deploy_secrets
# The test server trusts local connections, so any password connects.
base="host=$PGHOST dbname=$PGDATABASE user=${PGUSER:-$(id -un)}"
uri="postgresql:///$PGDATABASE?host=$(printf '%s' "$PGHOST" | sed 's#/#%2F#g')"
i=0
for conninfo in "$base password = spaced-S3CRET" \
    "$base password='quoted S3CRET words'" \
    "$base password=first-S3CRET password=second-S3CRET" \
    "$uri&password=uri-S3CRET"; do
    i=$((i + 1))
    run "$pipeline" --sources dir --dir "$empty" --db "$conninfo"
    expect_status 0 "secrets $i: the pipeline runs with a password in --db"
    expect_no 'S3CRET|quoted|words' "$err" "secrets $i: the pipeline's log shows no part of the password"
    expect_err "password=\*\*\*" "secrets $i: the log shows the password masked"
    stored=$(sql "SELECT string_agg(arguments::text, ' ') FROM runs")
    expect_no 'S3CRET|quoted|words' "$stored" "secrets $i: no run record stores any part of the password"
    sql "DELETE FROM runs"
done
run af-db --db "postgresql://ana:uri-S3CRET@[::1/music" status
expect_status 2 "a malformed URI is a usage error (exit 2)"
expect_err "connection string is not valid" "and is said to be one"
expect_no S3CRET "$err" "libpq's message about it is shown without the URI"
run af-db --db "$base password=S3CRET" conninfo
expect_status 0 "af-db conninfo prints the connection string"
expect_out "password=\*\*\*" "af-db conninfo masks the password"
expect_no S3CRET "$out" "af-db conninfo never prints the password"

# ---- log lines cannot be forged --------------------------------------------------------------
forged="$test_tmp/music
2026-01-01T00:00:00Z ERROR af-db: forged"
mkdir -p "$forged"
run "$pipeline" --sources dir --dir "$forged"
expect_status 0 "a directory name with a newline is ingested"
expect_no '^2026-01-01T00:00:00Z' "$err" "its name forges no log line (pipeline and stages)"
expect_err 'music\\n2026-01-01T00:00:00Z ERROR af-db: forged' "the name is logged with its newline escaped"

# ---- quiet runs for cron ---------------------------------------------------------------------
run "$pipeline" --sources dir --dir "$empty" -q
expect_status 0 "a quiet dir-only run exits 0"
expect_eq "" "$err$out" "a quiet dir-only run prints nothing"
run "$pipeline" --sources dir --dir "$empty"
expect_no "[Ss]potify" "$err" "a dir-only run says nothing about Spotify keys"
expect_err "stage fetch: skipped" "a dir-only run skips the fetch stage and says so"
