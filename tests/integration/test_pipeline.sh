#!/usr/bin/env bash
# scripts/af-pipeline and many workers: three concurrent af-extract over 200 tracks,
# overlapping runs (stage locks, exit 5), SIGTERM mid-stage, the failure policy, and
# the whole pipeline end to end against the fake APIs on a small synthetic world.
# (The database restarted during a run: test_pipeline_db_restart.sh.)
source "$AF_PROJECT/tests/lib.sh"
pipeline="$AF_PROJECT/scripts/af-pipeline"
audio="$test_tmp/audio"
empty="$test_tmp/empty"
mkdir -p "$audio" "$empty"
make_tone "$audio/short.mp3" 3.5 440
make_tone "$audio/long.mp3" 12 330

# wait_for SQL [TRIES]: polls until the query returns a number > 0 (every 20 ms).
wait_for() {
    local tries=${2:-1500} n
    for _ in $(seq "$tries"); do
        n=$(sql "$1" 2>/dev/null)
        [ "${n:-0}" -gt 0 ] 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}
stage_lock_held() { # PROGRAM: true while some session holds the program's stage lock
    [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
              AND objid::bigint = (hashtext('audiofiler:$1')::bigint & 4294967295)")" -gt 0 ]
}

# ---- usage ---------------------------------------------------------------------------------
run "$pipeline" --help
expect_status 0 "--help exits 0"
expect_out "Exit codes" "--help documents the exit codes"
expect_out "5  another run holds a stage's lock" "--help documents exit 5"
run "$pipeline" --bogus
expect_status 2 "an unknown option exits 2"
expect_err "unknown option '--bogus'" "and names it"
run "$pipeline" --sources dir
expect_status 2 "--sources dir without --dir exits 2"
run "$pipeline" --dir "$test_tmp/nowhere"
expect_status 2 "a missing --dir exits 2"
expect_err "$test_tmp/nowhere: no such directory" "and names the path"
run "$pipeline" --sources lastfm,cd
expect_status 2 "an unknown source exits 2"
run "$pipeline" --limit 0
expect_status 2 "--limit 0 exits 2"

# ---- three concurrent af-extract over 200 tracks (sharing one audio file) -------------------
use_migrated_database pipeline_concurrent
add_tracks_sharing_audio 1 200 "$audio/short.mp3"
pids=()
for w in 1 2 3; do
    af-extract --jobs 1 --batch 4 -q >"$test_tmp/c$w.log" 2>&1 &
    pids+=($!)
done
failed_workers=0
for pid in "${pids[@]}"; do wait "$pid" || failed_workers=$((failed_workers + 1)); done
expect_eq 0 "$failed_workers" "three concurrent af-extract processes all exit 0"
expect_eq "200|200|1" "$(sql "SELECT count(*), count(DISTINCT track_id), max(attempts) FROM extraction_jobs WHERE status = 'done'")" \
    "every one of 200 tracks is done, exactly once (one attempt each)"
expect_eq "200|200" "$(sql "SELECT count(*), count(DISTINCT track_id) FROM track_features")" "200 feature rows, one per track"
expect_eq "0" "$(sql "SELECT count(*) FROM (SELECT track_id, window_index FROM window_features GROUP BY 1, 2 HAVING count(*) > 1) d")" \
    "no window is stored twice"
expect_eq "0" "$(sql "SELECT count(*) FROM track_features f WHERE n_windows <> (SELECT count(*) FROM window_features w WHERE w.track_id = f.track_id)")" \
    "no track is stored partially"
expect_eq "200" "$(sql "SELECT sum((counters->>'tracks_done')::int) FROM runs WHERE program = 'af-extract'")" \
    "the three run records add up to 200 tracks"

# ---- overlapping runs: the stage lock --------------------------------------------------------
use_migrated_database pipeline_lock
add_tracks_sharing_audio 1 150 "$audio/long.mp3"
af-extract --exclusive --jobs 1 --batch 2 -q >"$test_tmp/first.log" 2>&1 &
first=$!
wait_for "SELECT count(*) FROM track_features" || fail "the first af-extract makes progress"
stage_lock_held af-extract && pass "the first af-extract --exclusive holds its stage lock" ||
    fail "the first af-extract --exclusive holds its stage lock"
start=$(date +%s%N)
run af-extract --exclusive --jobs 1
took=$((($(date +%s%N) - start) / 1000000))
expect_status 5 "a second af-extract --exclusive exits 5"
expect_err "another af-extract run holds the stage lock" "with a clear message"
[ "$took" -lt 5000 ] && pass "at once (${took} ms)" || fail "at once" "took ${took} ms"
expect_eq "failed" "$(sql "SELECT status FROM runs WHERE program = 'af-extract' ORDER BY run_id DESC LIMIT 1")" \
    "the refused run is recorded"
done_before=$(sql "SELECT count(*) FROM extraction_jobs WHERE run_id = (SELECT max(run_id) FROM runs WHERE program = 'af-extract')")
expect_eq 0 "$done_before" "the refused run claimed nothing"

# A whole second pipeline: the stages nobody runs go ahead, the locked one stops it (exit 5).
run "$pipeline" --sources dir --dir "$empty" --train
expect_status 5 "a second pipeline exits 5 when it meets the held stage"
expect_err "stage extract is locked: another run of it is in progress" "with a clear message naming the stage"
expect_err "another af-extract run holds the stage lock" "and the stage's own message"
expect_no "stage train" "$err" "no later stage is started"
kill -0 $first 2>/dev/null && pass "the first run goes on undisturbed" || fail "the first run goes on undisturbed"

# A stage lock held by another session (another pipeline's af-ingest on another host, say):
# the pipeline stops there, before label, fetch and extract.
psql -XAtq -c "SELECT pg_advisory_lock(hashtext('audiofiler:af-ingest'))" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 500); do stage_lock_held af-ingest && break; sleep 0.02; done
run "$pipeline" --sources dir --dir "$empty"
expect_status 5 "a pipeline meeting a held af-ingest lock exits 5"
expect_err "stage ingest dir is locked" "the message names the ingest stage"
expect_no "stage label|stage fetch|stage extract" "$err" "nothing after the locked stage ran"
kill $holder 2>/dev/null
wait $holder 2>/dev/null
kill -TERM $first
wait $first
expect_eq 0 $? "the first af-extract, sent SIGTERM, finishes its batch and exits 0"

# ---- SIGTERM to af-pipeline mid-stage --------------------------------------------------------
use_migrated_database pipeline_sigterm
add_tracks_sharing_audio 1 60 "$audio/long.mp3"
cat >"$test_tmp/sigterm.conf" <<'CONF'
[extract]
jobs = 1
batch_tracks = 2
CONF
"$pipeline" --sources dir --dir "$empty" --config "$test_tmp/sigterm.conf" --train >"$test_tmp/sigterm.out" 2>"$test_tmp/sigterm.err" &
pipe=$!
wait_for "SELECT count(*) FROM track_features" || fail "the pipeline reaches the extract stage"
kill -TERM $pipe
wait $pipe
status=$?
err=$(cat "$test_tmp/sigterm.err")
expect_status 0 "SIGTERM: af-pipeline exits 0 after the stage stopped cleanly"
expect_err "SIGTERM: asking the running stage to finish its current item and commit" "SIGTERM: passed on to the stage"
expect_err "stopped by SIGTERM during extract" "SIGTERM: the pipeline says where it stopped"
expect_no "stage train" "$err" "SIGTERM: no further stage is started"
expect_eq "interrupted" "$(sql "SELECT status FROM runs WHERE program = 'af-extract' ORDER BY run_id DESC LIMIT 1")" \
    "SIGTERM: the stage's run is recorded as interrupted"
expect_eq "0" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'running'")" "SIGTERM: no claim is left behind"
expect_eq "0" "$(sql "SELECT count(*) FROM track_features f WHERE n_windows <> (SELECT count(*) FROM window_features w WHERE w.track_id = f.track_id)")" \
    "SIGTERM: nothing partial"
partway=$(sql "SELECT count(*) FROM track_features")
[ "$partway" -gt 0 ] && [ "$partway" -lt 60 ] && pass "SIGTERM: stopped part-way ($partway of 60)" ||
    fail "SIGTERM: stopped part-way" "$partway of 60 done"
run "$pipeline" --sources dir --dir "$empty" --config "$test_tmp/sigterm.conf"
expect_status 0 "SIGTERM: a re-run exits 0"
expect_eq "60|60|1" "$(sql "SELECT count(*), count(DISTINCT track_id), max(attempts) FROM extraction_jobs WHERE status = 'done'")" \
    "SIGTERM: the re-run completes every track, each once"

# ---- per-item failures: the pipeline goes on, exits 1 at the end ------------------------------
use_migrated_database pipeline_item_failure
add_track_with_audio 1 "$audio/short.mp3"
head -c 20000 /dev/urandom >"$test_tmp/corrupt.mp3"
add_track_with_audio 2 "$test_tmp/corrupt.mp3"
run "$pipeline" --sources dir --dir "$empty"
expect_status 1 "a corrupt file: af-pipeline exits 1"
expect_err "stage extract failed, or some of its items did \(exit 1" "and says which stage"
expect_err "exit 1: migrate ok; ingest dir ok; label ok; fetch skipped; extract: failed" "the summary lists every stage"
expect_eq "done failed" "$(echo $(sql "SELECT status FROM extraction_jobs ORDER BY track_id"))" "the good track is done, the corrupt one failed"

# ---- end to end against the fake APIs ---------------------------------------------------------
use_fresh_database pipeline_e2e
world="$test_tmp/world"
start_demo_fakeapi "$world" 7 6 it
{ fakeapi_conf; cat <<CONF; } >"$test_tmp/e2e.conf"
[train]
hidden_layers = 32
max_epochs = 15
CONF
expected=$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1])); print(sum(1 for t in w["tracks"] if "audio" in t or "audio_m4a" in t))' "$world/world.json")
run "$pipeline" --train --config "$test_tmp/e2e.conf"
expect_status 0 "end to end: af-pipeline --train exits 0"
expect_err "stage migrate: af-db migrate" "end to end: migrates"
expect_err "stage ingest lastfm: af-ingest --exclusive lastfm" "end to end: the default source is lastfm"
expect_err "exit 0: migrate ok; ingest lastfm ok; label ok; fetch ok; extract ok; train ok" "end to end: every stage ok"
expect_err "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z INFO af-pipeline: " "end to end: log lines in the common format"
expect_no "$LASTFM_API_KEY|$SPOTIFY_CLIENT_SECRET" "$out$err" "end to end: no key is logged"
expect_eq 16 "$(sql "SELECT count(*) FROM tracks")" "end to end: 16 tracks ingested through tag.getTopTracks"
[ "$(fakeapi_count /2.0/)" -ge 16 ] && pass "end to end: track.getTopTags asked" || fail "end to end: track.getTopTags asked"
expect_eq "14|2" "$(sql "SELECT count(*) FILTER (WHERE status = 'labelled'), count(*) FILTER (WHERE status <> 'labelled') FROM track_labels")" \
    "end to end: 14 labelled, the 2 contested ones not"
expect_eq "$expected" "$(sql "SELECT count(*) FROM track_audio")" "end to end: every track with a preview somewhere has audio"
expect_eq 14 "$(sql "SELECT count(*) FROM fetch_outcomes WHERE provider = 'spotify' AND outcome = 'no_preview'")" \
    "end to end: Spotify's null preview_url seen for every track"
[ "$(sql "SELECT count(*) FROM track_audio WHERE origin = 'deezer'")" -gt 0 ] && pass "end to end: previews from Deezer" ||
    fail "end to end: previews from Deezer"
expect_eq "$expected" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'done'")" "end to end: every fetched track has features"
expect_eq 1 "$(sql "SELECT count(*) FROM models")" "end to end: a model is stored"
run af-db status --config "$test_tmp/e2e.conf"
expect_status 0 "end to end: af-db status"
expect_out "label +14 +0 +2" "end to end: af-db status: label done / pending / failed"
expect_out "fetch +$expected +0 +$((14 - expected))" "end to end: af-db status: fetch done / pending / failed"
expect_out "extract v1 +$expected +0 +0" "end to end: af-db status: extract done / pending / failed"
expect_out "af-train +succeeded" "end to end: af-db status: the last training run"
run af-predict --config "$test_tmp/e2e.conf" "$world/unseen/jazz.mp3"
expect_status 0 "end to end: af-predict classifies a new file with the model"
run af-predict --config "$test_tmp/e2e.conf" -m 99999999999999999999 "$world/unseen/jazz.mp3"
expect_status 2 "af-predict -m with a model id beyond any integer is a usage error"
expect_err "model '99999999999999999999': expected a model id" "and says what is wrong"
run af-predict --db "host='unterminated" "$world/unseen/jazz.mp3"
expect_status 2 "a malformed --db is a usage error (2), not 'database unavailable' (3)"
expect_err "malformed database connection string" "and says so"

fakeapi_reset
run "$pipeline" --config "$test_tmp/e2e.conf" -q
expect_status 0 "end to end: a second run exits 0"
expect_eq "" "$err" "end to end: -q: a quiet second run prints nothing"
expect_eq 0 "$(fakeapi_count /)" "end to end: a second run asks the APIs nothing"
expect_eq "16|$expected|$expected" "$(sql "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM track_audio), (SELECT count(*) FROM track_features)")" \
    "end to end: a second run changes nothing"
