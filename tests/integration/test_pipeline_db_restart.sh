#!/usr/bin/env bash
# The database restarted while af-pipeline runs: the stage fails cleanly (exit 3, nothing
# partial), the pipeline stops with exit 3, and the next run resumes and finishes. Uses a
# private cluster this test starts itself (scripts/db --dir), so that it can restart it
# even when tests/run uses an external server.
source "$AF_PROJECT/tests/lib.sh"
pipeline="$AF_PROJECT/scripts/af-pipeline"
cluster=$(mktemp -d /tmp/af-pg-restart.XXXXXX)
chmod 755 "$cluster" # run as root, the cluster belongs to the audiofiler user
trap '"$AF_PROJECT/scripts/db" --dir "$cluster" stop >/dev/null 2>&1; rm -rf "$cluster"; cleanup_lib' EXIT
"$AF_PROJECT/scripts/db" --dir "$cluster" start >/dev/null || { echo "not ok - start a private cluster"; exit 1; }
unset PGSERVICE PGPORT PGPASSWORD
export PGHOST="$cluster/run" PGDATABASE=audiofiler PGUSER=audiofiler
af-db migrate >/dev/null 2>&1 || { echo "not ok - af-db migrate"; exit 1; }

empty="$test_tmp/empty"
mkdir -p "$empty"
make_tone "$test_tmp/long.mp3" 12 330
add_tracks_sharing_audio 1 40 "$test_tmp/long.mp3"
cat >"$test_tmp/restart.conf" <<'CONF'
[extract]
jobs = 1
batch_tracks = 2
lease_seconds = 2
CONF

"$pipeline" --sources dir --dir "$empty" --config "$test_tmp/restart.conf" >"$test_tmp/p.out" 2>"$test_tmp/p.err" &
pipe=$!
for _ in $(seq 1500); do
    [ "$(sql "SELECT count(*) FROM track_features" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
    sleep 0.02
done
"$AF_PROJECT/scripts/db" --dir "$cluster" stop >/dev/null
"$AF_PROJECT/scripts/db" --dir "$cluster" start >/dev/null
wait $pipe
status=$?
err=$(cat "$test_tmp/p.err")
expect_status 3 "the database restarted mid-extract: af-pipeline exits 3"
expect_err "stage extract: exit 3" "the extract stage failed with exit 3"
expect_err "stage extract failed: the database is unavailable; stopping here, exit 3" "the pipeline says why it stopped"
done_first=$(sql "SELECT count(*) FROM track_features")
[ "$done_first" -lt 40 ] && pass "the run was cut short ($done_first of 40 done)" || fail "the run was cut short" "all 40 done"
expect_eq 0 "$(sql "SELECT count(*) FROM track_features f WHERE n_windows <> (SELECT count(*) FROM window_features w WHERE w.track_id = f.track_id)")" \
    "no track is stored partially"

# While the server is down, the pipeline stops at once at migrate with exit 3.
"$AF_PROJECT/scripts/db" --dir "$cluster" stop >/dev/null
run "$pipeline" --sources dir --dir "$empty" --config "$test_tmp/restart.conf"
expect_status 3 "with the database down, af-pipeline exits 3"
expect_err "af-db: cannot connect" "the stage names the problem"
expect_no "stage ingest" "$err" "and nothing else is started"
"$AF_PROJECT/scripts/db" --dir "$cluster" start >/dev/null

sleep 2.1 # the claims of the interrupted run expire (lease_seconds = 2)
run "$pipeline" --sources dir --dir "$empty" --config "$test_tmp/restart.conf"
expect_status 0 "the next run exits 0"
expect_eq "40|40|160" "$(sql "SELECT count(*), count(DISTINCT track_id), sum(n_windows) FROM track_features")" \
    "the next run resumes and finishes every track, each once"
expect_eq 0 "$(sql "SELECT count(*) FROM extraction_jobs WHERE status <> 'done'")" "no claim or failure is left"
expect_eq 160 "$(sql "SELECT count(*) FROM window_features")" "no window is stored twice"
