#!/usr/bin/env bash
# af-extract: features of stored audio, failures recorded with reasons, idempotent
# re-runs, versioned feature sets, analyst views, and concurrent workers.
source "$AF_PROJECT/tests/lib.sh"
use_migrated_database extract

audio="$test_tmp/audio"
mkdir -p "$audio"
make_tone "$audio/a440.mp3" 12 440
make_tone "$audio/a880.wav" 12 880
make_tone "$audio/long.flac" 35 330
make_tone "$audio/short.m4a" 7.7 550 -c:a aac
head -c 40000 /dev/urandom >"$audio/random.mp3"
head -c 3000 "$audio/a440.mp3" >"$audio/truncated.mp3"
ffmpeg -nostdin -v error -y -f lavfi -i "anullsrc=r=22050:cl=mono" -t 5 "$audio/silent.wav"
make_tone "$audio/tiny.wav" 0.05 440
i=1
for f in a440.mp3 a880.wav long.flac short.m4a random.mp3 truncated.mp3 silent.wav tiny.wav; do
    add_track_with_audio $i "$audio/$f"
    i=$((i + 1))
done
# Where the audio came from, as af-ingest dir and af-fetch record it.
sql "UPDATE track_audio SET origin_ref = '$audio/silent.wav' WHERE track_id = 7;
     UPDATE track_audio SET origin = 'deezer', origin_ref = '3135556' WHERE track_id = 5" >/dev/null

run af-extract --jobs 2
expect_status 1 "af-extract exits 1 when some tracks failed"
expect_err "track 7 \\($audio/silent.wav\\) failed: silent: " "a failure's log line names the file it read (was the track id only)"
expect_err "track 5 \\(deezer 3135556\\) failed: unreadable: " "or the provider and its id for fetched audio"
expect_err "track 6 \\(folder\\) failed: " "or the origin alone when no path is known"
expect_eq "4" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'done'")" "the four good tracks are done"
expect_eq "4" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'failed'")" "the four bad tracks failed"
expect_eq "unreadable" "$(sql "SELECT split_part(error, ':', 1) FROM extraction_jobs WHERE track_id = 5")" "random bytes fail as unreadable"
expect_eq "silent" "$(sql "SELECT split_part(error, ':', 1) FROM extraction_jobs WHERE track_id = 7")" "silence fails as silent"
expect_eq "silent: every sample is below 1e-06 (peak 0)" "$(sql "SELECT error FROM extraction_jobs WHERE track_id = 7")" "the reason is not repeated (was 'silent: silent: ...')"
expect_eq "too_short" "$(sql "SELECT split_part(error, ':', 1) FROM extraction_jobs WHERE track_id = 8")" "a 50 ms file fails as too short"
expect_eq "4|4|10|3" "$(sql "SELECT (SELECT n_windows FROM track_features WHERE track_id = 1), (SELECT n_windows FROM track_features WHERE track_id = 2), (SELECT n_windows FROM track_features WHERE track_id = 3), (SELECT n_windows FROM track_features WHERE track_id = 4)")" \
    "12 s gives 4 windows, the 30 s excerpt of 35 s gives 10, 7.7 s gives 3 (a final partial window of 1.7 s is kept)"
expect_eq "2.5" "$(sql "SELECT round(excerpt_start::numeric, 1) FROM track_features WHERE track_id = 3")" "a 35 s file is analysed from 2.5 s (the central 30 s)"
expect_eq "0" "$(sql "SELECT count(*) FROM window_features, unnest(feature_values) v WHERE v = 'NaN' OR v IN ('Infinity', '-Infinity')")" "no NaN or infinity is stored"
expect_eq "326" "$(sql "SELECT array_length(feature_values, 1) FROM window_features LIMIT 1")" "window vectors have 326 values"
expect_eq "tracks_done=4 tracks_failed=4" "$(sql "SELECT 'tracks_done=' || (counters->>'tracks_done') || ' tracks_failed=' || (counters->>'tracks_failed') FROM runs WHERE program = 'af-extract' ORDER BY run_id DESC LIMIT 1")" "the run record counts tracks"

run af-db status
expect_out 'extract v1 +4 +0 +4' "af-db status shows 4 done, 0 waiting, 4 failed for v1"
expect_out 'silent' "af-db status lists failure reasons"

# Same numbers as af-features on the same file (one analysis code path).
run af-features --track --format csv "$audio/a440.mp3"
db_centroid=$(sql "SELECT round(centroid_mean::numeric, 2) FROM features_v1_tracks WHERE track_id = 1")
col=$(printf '%s' "$out" | head -1 | tr ',' '\n' | grep -nx 'centroid_mean' | cut -d: -f1)
file_centroid=$(printf '%s' "$out" | sed -n 2p | cut -d, -f"$col" | xargs printf '%.2f')
expect_eq "$db_centroid" "$file_centroid" "stored features equal af-features output for the same file"

run af-extract --jobs 2
expect_status 0 "a second run exits 0"
expect_err "0 track\(s\) processed" "a second run finds nothing to do"
expect_eq "4" "$(sql "SELECT count(*) FROM track_features")" "a second run stores nothing twice"

run af-extract --retry-failed
expect_status 1 "--retry-failed retries the failed tracks (which fail again)"
expect_eq "4|1" "$(sql "SELECT count(*), max(attempts) FROM extraction_jobs WHERE status = 'failed'")" "retried tracks are still failed, attempt count restarted"

# Analyst views.
sql "INSERT INTO taxonomy_versions (checksum, source_file) VALUES ('t', 'test'); INSERT INTO genres (name) VALUES ('rock'), ('jazz');
     INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id) SELECT t, 1, 'labelled', 1 + t % 2 FROM generate_series(1, 4) t" >/dev/null
run sql "SELECT label, count(*), avg(mfcc01_mean) < 0 FROM features_v1_tracks GROUP BY label ORDER BY label"
expect_out '^jazz\|2\|t' "SELECT label, avg(mfcc01_mean) FROM features_v1_tracks GROUP BY label works"
expect_eq "14" "$(sql "SELECT count(*) FROM features_v1_windows WHERE label = 'jazz'")" "the window view has one row per window (4 + 10 for tracks 1 and 3)"

# Feature sets are versioned: other parameters need another name.
run af-extract --window 2
expect_status 2 "changing a parameter of an existing set is refused"
expect_err "'v1' is the default set: 3-s windows every 3 s .*--window 2 differs: pass --feature-set NAME" "and the message says why"
sql "INSERT INTO feature_sets (name, parameters, feature_names) SELECT 'w3', parameters, feature_names FROM feature_sets WHERE name = 'v1'" >/dev/null
run af-extract --feature-set w3 --window 2
expect_status 2 "another name's parameters cannot change either"
expect_err "feature set 'w3' exists with other parameters" "and the message says so"
sql "DELETE FROM feature_sets WHERE name = 'w3'" >/dev/null
run af-extract --feature-set w2 --window 2 --hop 1
expect_eq "2" "$(sql "SELECT count(*) FROM feature_sets")" "a new set name with new parameters makes a new feature set"
expect_eq "12" "$(sql "SELECT n_windows FROM features_w2_tracks WHERE track_id = 2")" "12 s with 2 s windows and 1 s hop gives 12 windows (the last one half long)"
expect_eq "4" "$(sql "SELECT count(*) FROM features_v1_tracks")" "the old set stays queryable"

# Window rows belong to their track_features row (migration 005): orphans are
# refused, and deleting the parent (or its track) deletes the windows.
run sql "INSERT INTO window_features (track_id, feature_set_id, window_index, start_seconds, feature_values)
         VALUES (5, 1, 0, 0, '{1}')"
expect_err "track 5 in feature set 1 have no track_features row" "a window row without its track_features row is refused"
run sql "UPDATE window_features SET track_id = 6 WHERE track_id = 1 AND feature_set_id = 1"
expect_err "track 6 in feature set 1 have no track_features row" "re-keying window rows to a track without features is refused"
run sql "UPDATE track_features SET track_id = 6 WHERE track_id = 1 AND feature_set_id = 1"
expect_err "have windows; delete them first" "re-keying track features that have windows is refused"
expect_eq "4" "$(sql "SELECT count(*) FROM window_features WHERE track_id = 1 AND feature_set_id = 1")" "the refused statements changed nothing"
sql "DELETE FROM track_features WHERE track_id = 1 AND feature_set_id = 1" >/dev/null
expect_eq "0|4" "$(sql "SELECT count(*) FILTER (WHERE track_id = 1), count(*) FILTER (WHERE track_id = 2) FROM window_features WHERE feature_set_id = 1")" \
    "deleting a track's features deletes its windows, and only those"
sql "DELETE FROM tracks WHERE track_id = 2" >/dev/null
expect_eq "0|0" "$(sql "SELECT (SELECT count(*) FROM window_features WHERE track_id = 2), (SELECT count(*) FROM track_features WHERE track_id = 2)")" \
    "deleting a track deletes its features and windows"
sql "TRUNCATE track_features" >/dev/null
expect_eq "0" "$(sql "SELECT count(*) FROM window_features")" "truncating track_features empties window_features"

# Several workers at once: every track processed exactly once.
use_migrated_database extract_concurrent
for t in $(seq 1 30); do
    make_tone "$audio/c$t.mp3" 4 $((200 + 20 * t))
    add_track_with_audio "$t" "$audio/c$t.mp3"
done
pids=()
for w in 1 2 3; do
    af-extract --jobs 1 --batch 2 -q >"$test_tmp/w$w.log" 2>&1 &
    pids+=($!)
done
failed_workers=0
for pid in "${pids[@]}"; do wait "$pid" || failed_workers=$((failed_workers + 1)); done
expect_eq 0 "$failed_workers" "three concurrent workers all succeed"
expect_eq "30|30|1" "$(sql "SELECT count(*), count(DISTINCT track_id), max(attempts) FROM extraction_jobs WHERE status = 'done'")" \
    "every track is done exactly once (one attempt each)"
expect_eq "3|30" "$(sql "SELECT count(*), sum((counters->>'tracks_done')::int) FROM runs WHERE program = 'af-extract'")" \
    "the three workers' run records add up to each track once"

# A worker killed mid-run: its claims expire and another worker finishes them.
use_migrated_database extract_kill
add_tracks_sharing_audio 1 80 "$audio/long.flac"
af-extract --jobs 1 --batch 10 --lease 60 -q >"$test_tmp/killed.log" 2>&1 &
victim=$!
held=0
for _ in $(seq 400); do
    held=$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'running'")
    [ "$held" -gt 0 ] && break
    sleep 0.01
done
kill -9 $victim
wait $victim 2>/dev/null
expect_eq "10" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'running'")" "the killed worker leaves its claimed batch behind"
# As if it had run on another host: nobody here can tell that it is dead, and its
# heartbeat is recent (a dead run on this host is taken over at once: see the end).
sql "UPDATE runs SET host = 'another-host' WHERE program = 'af-extract'" >/dev/null
run af-extract --jobs 2
expect_status 0 "while the claims are leased, another worker skips them"
expect_eq "10" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'running'")" "the leased claims are untouched"
sql "UPDATE extraction_jobs SET lease_expires_at = now() - interval '1 second' WHERE status = 'running'" # time passes
run af-extract --jobs 2
expect_status 0 "after the lease expires, the next worker finishes"
expect_eq "80|80" "$(sql "SELECT count(*), count(DISTINCT track_id) FROM track_features")" "all tracks done once, none twice, nothing partial"
expect_eq "0" "$(sql "SELECT count(*) FROM extraction_jobs WHERE status <> 'done'")" "no claim is left behind"
expect_eq "10" "$(sql "SELECT count(*) FROM extraction_jobs WHERE attempts = 2")" "the killed worker's claims were taken over (second attempt)"

# A COPY that fails mid-batch: rolled back whole, and the batch is retried.
use_migrated_database extract_copy_failure
add_tracks_sharing_audio 1 6 "$audio/a440.mp3"
sql "CREATE SEQUENCE copy_failures;
     CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         IF NEW.track_id = 3 AND nextval('copy_failures') = 1 THEN
             RAISE EXCEPTION 'injected COPY failure';
         END IF;
         RETURN NEW;
     END \$\$;
     CREATE TRIGGER fail_once BEFORE INSERT ON window_features FOR EACH ROW EXECUTE FUNCTION fail_once()" >/dev/null
run af-extract --jobs 2 --batch 4
expect_status 0 "af-extract recovers from a failed COPY"
expect_err "writing a batch of 4 track\(s\) failed, will retry: .*injected COPY failure" "the failed write is logged with the server's message"
expect_eq "6|24|6" "$(sql "SELECT (SELECT count(*) FROM track_features), (SELECT count(*) FROM window_features), (SELECT count(DISTINCT track_id) FROM window_features)")" \
    "every track is stored once, with all its windows"
expect_eq "4" "$(sql "SELECT count(*) FROM extraction_jobs WHERE attempts = 2")" "the failed batch was retried (second attempt)"
expect_eq "1" "$(sql "SELECT counters->>'batch_retries' FROM runs WHERE program = 'af-extract' ORDER BY run_id DESC LIMIT 1")" "the run record counts the retry"

# A claim whose worker stopped max_attempts times is given up: a failure of the run that
# gives up on it (exit 1, a warning naming it), not a silent exit 0.
use_migrated_database extract_give_up
add_tracks_sharing_audio 1 2 "$audio/a440.mp3"
run af-extract --jobs 1 --limit 1
expect_status 0 "give-up: one track extracted"
sql "INSERT INTO extraction_jobs (track_id, feature_set_id, status, worker, lease_expires_at, attempts)
     SELECT 2, feature_set_id, 'running', 'gone:1', now() - interval '1 minute', 3 FROM feature_sets" >/dev/null
run af-extract --jobs 1
expect_status 1 "give-up: a run that gives a track up (3 attempts) exits 1"
expect_err "gave up on 1 track\\(s\\) after 3 attempts each .*first: track 2" "give-up: the warning names the track"
expect_eq "failed" "$(sql "SELECT status FROM extraction_jobs WHERE track_id = 2")" "give-up: the track is marked failed"

# The database going away mid-run: exit 3, nothing partial; the next run resumes.
use_migrated_database extract_db_gone
add_tracks_sharing_audio 1 40 "$audio/long.flac"
af-extract --jobs 1 --batch 5 >"$test_tmp/gone.log" 2>&1 &
worker=$!
for _ in $(seq 400); do
    [ "$(sql "SELECT count(*) FROM track_features")" -gt 0 ] && break
    sleep 0.01
done
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '' AND pid <> pg_backend_pid()" >/dev/null
wait $worker
expect_eq 3 $? "a worker whose database connection dies exits 3"
partial=$(sql "SELECT count(*) FROM track_features f WHERE (SELECT count(*) FROM window_features w WHERE w.track_id = f.track_id) <> 10")
expect_eq 0 "$partial" "no track is stored partially"
sql "UPDATE extraction_jobs SET lease_expires_at = now() - interval '1 second' WHERE status = 'running'" >/dev/null # time passes
run af-extract --jobs 2
expect_status 0 "the next run resumes"
expect_eq "40|400" "$(sql "SELECT (SELECT count(*) FROM track_features), (SELECT count(*) FROM window_features)")" "and finishes every track once"

# A batch is bounded by its audio bytes too (--batch-mb / [extract] batch_megabytes):
# three 529 kB WAVs with a 1 MB bound go one per transaction (now() differs per
# transaction), however many tracks --batch allows.
use_migrated_database extract_batch_bytes
for i in 1 2 3; do
    make_tone "$audio/bytes$i.wav" 12 $((300 + 100 * i)) -c:a pcm_s16le
    add_track_with_audio $i "$audio/bytes$i.wav"
done
run af-extract --jobs 2 --batch 16 --batch-mb 1
expect_status 0 "af-extract with a byte bound per batch"
expect_eq "3|3" "$(sql "SELECT count(*), count(DISTINCT updated_at) FROM extraction_jobs WHERE status = 'done'")" \
    "three tracks of 529 kB with a 1 MB bound are stored in three batches"
sql "DELETE FROM window_features; DELETE FROM track_features; DELETE FROM extraction_jobs" >/dev/null
run af-extract --jobs 2 --batch 16 --batch-mb 2
expect_eq "3|1" "$(sql "SELECT count(*), count(DISTINCT updated_at) FROM extraction_jobs WHERE status = 'done'")" \
    "with a 2 MB bound, the three (1.6 MB) go together"

# A long file with a stated duration: only the excerpt's span is held, so it is not
# refused as too long (the limit bounds memory, which the span does not grow).
use_migrated_database extract_long_file
make_tone "$audio/long22min.flac" 1300 440
add_track_with_audio 1 "$audio/long22min.flac"
run af-extract --jobs 1
expect_status 0 "a 21.7-minute file (over the 20-minute maximum) is analysed: its central 30 s"
expect_eq "635.0|10" "$(sql "SELECT round(excerpt_start::numeric, 1), n_windows FROM track_features WHERE track_id = 1")" \
    "from the middle of the file"

# A FIFO given to af-features is refused at once (it blocked for ever in the open).
mkfifo "$test_tmp/pipe.wav"
run timeout 20 af-features --track --format csv "$test_tmp/pipe.wav" "$audio/a440.mp3"
expect_status 1 "af-features exits 1 when one input is a FIFO, without blocking"
expect_err "pipe.wav.*not a regular file \(a FIFO\)" "the FIFO is named and said to be one"
expect_eq "2" "$(printf '%s\n' "$out" | wc -l)" "the other file is still analysed (header and one row)"

# A track that decodes but whose analysis fails is filed under "analysis", not "ok"
# (it was "ok: frame features: ..."): a float WAV with samples of 3e30.
use_migrated_database extract_analysis_failure
python3 -c "
import struct
n = 22050 * 5
data = b''.join(struct.pack('<f', 3e30 if i % 100 == 0 else 0.1) for i in range(n))
fmt = struct.pack('<IHHIIHH', 16, 3, 1, 22050, 22050 * 4, 4, 32)
open('$audio/huge.wav', 'wb').write(b'RIFF' + struct.pack('<I', 36 + len(data)) + b'WAVEfmt ' + fmt + b'data' + struct.pack('<I', len(data)) + data)"
add_track_with_audio 1 "$audio/huge.wav"
run af-extract --jobs 1
expect_status 1 "a track whose analysis fails: exit 1"
expect_eq "analysis" "$(sql "SELECT split_part(error, ':', 1) FROM extraction_jobs WHERE track_id = 1")" "its reason is analysis, not ok"
expect_err "track 1 \\(folder\\) failed: analysis: frame features: sample 0 is 3e\+30" "the log line says what failed"

# A worker killed mid-run (SIGKILL): its run record keeps the counters of its last
# heartbeat and is marked crashed by the next run, which takes over its claims at
# once instead of skipping them for the whole lease and exiting 0 with work left.
use_migrated_database extract_killed
add_tracks_sharing_audio 1 300 "$audio/long.flac"
AF_RUN_HEARTBEAT_SECONDS=1 af-extract --jobs 1 --batch 5 >"$test_tmp/killed.log" 2>&1 &
worker=$!
for _ in $(seq 1000); do # until a heartbeat has written counters of stored batches
    # max(): one row even before the run row exists
    [ "$(sql "SELECT coalesce(max((counters->>'tracks_done')::int), 0) FROM runs WHERE program = 'af-extract'")" -ge 5 ] && break
    sleep 0.02
done
kill -9 $worker
wait $worker 2>/dev/null
held=$(sql "SELECT count(*) FROM extraction_jobs WHERE status = 'running'")
run af-extract --jobs 2
expect_status 0 "the run after a killed worker exits 0"
expect_err "1 earlier run\(s\) had ended without recording it: marked crashed" "and says it marked the dead run"
expect_eq "300|3000" "$(sql "SELECT (SELECT count(*) FROM track_features), (SELECT count(*) FROM window_features)")" \
    "every track is done, including the $held the killed worker held (no waiting for its lease)"
expect_eq "crashed|t" "$(sql "SELECT status, (counters->>'tracks_done')::int >= 5 FROM runs WHERE program = 'af-extract' ORDER BY run_id LIMIT 1")" \
    "the killed run is marked crashed and kept the counters of its last heartbeat"

# Clips shorter than one window (3 s) are stored as one window over what there is,
# flagged shorter_than_window.
use_migrated_database extract_short_clip
make_tone "$audio/clip2s.wav" 2 440
add_track_with_audio 1 "$audio/clip2s.wav"
add_track_with_audio 2 "$audio/a440.mp3"
run af-extract --jobs 1
expect_status 0 "a 2 s clip is analysed"
expect_eq "1|1|true 2|4|false" "$(echo $(sql "SELECT track_id || '|' || n_windows || '|' || shorter_than_window FROM track_features ORDER BY track_id"))" \
    "the 2 s clip is one window, flagged shorter than a window; the 12 s track is not"

# A cut WAV (its data chunk declares 12 s, 4.8 s are there) is truncated like any other
# format, for af-features, af-extract and af-ingest dir's probe; FFmpeg alone took it
# for a whole 4.8 s file.  The same cut of a WAV written to a pipe (data size
# 0xFFFFFFFF: unknown length) is just a shorter file.
use_migrated_database extract_truncated_wav
make_tone "$audio/whole.wav" 12 440 -c:a pcm_s16le
head -c 211000 "$audio/whole.wav" >"$audio/cut.wav"
make_tone - 12 440 -c:a pcm_s16le -f wav | head -c 211000 >"$audio/piped_cut.wav"
run af-features --track --format csv "$audio/cut.wav"
expect_status 1 "af-features refuses a cut WAV"
expect_err "cut.wav: truncated: decoded 4\.[0-9]+ s of the 12\.[0-9]+ s its header declares" "as truncated, naming both durations"
run af-features --track --format csv "$audio/piped_cut.wav"
expect_status 0 "a cut WAV of unknown length (data size 0xFFFFFFFF) is analysed"
add_track_with_audio 1 "$audio/cut.wav"
add_track_with_audio 2 "$audio/piped_cut.wav"
run af-extract --jobs 1
expect_status 1 "af-extract: the cut WAV fails"
expect_eq "1|truncated 2|done" "$(echo $(sql "SELECT track_id || '|' || coalesce(split_part(error, ':', 1), status) FROM extraction_jobs ORDER BY track_id"))" \
    "the cut WAV fails as truncated, the one of unknown length is done"
mkdir -p "$test_tmp/cut_dir/blues"
cp "$audio/cut.wav" "$test_tmp/cut_dir/blues/"
run af-ingest dir "$test_tmp/cut_dir"
expect_status 1 "af-ingest dir refuses a cut WAV"
expect_err "truncated" "as truncated"

# On a fresh database, other durations under the default name v1 are refused before
# anything is registered (they were stored as v1, and every plain run then failed
# with "exists with other parameters"); from options and from [extract] keys alike.
use_migrated_database extract_default_set
add_track_with_audio 1 "$audio/a440.mp3"
run af-extract --window 2
expect_status 2 "--window 2 under the default set name is a usage error"
expect_err "--window 2 differs: pass --feature-set NAME" "the message names the option and says to name a set"
expect_eq "0|0" "$(sql "SELECT (SELECT count(*) FROM feature_sets), (SELECT count(*) FROM extraction_jobs)")" "nothing is registered or claimed"
printf '[extract]\nwindow_seconds = 2\nhop_seconds = 1\n' >"$test_tmp/durations.conf"
run af-extract --config "$test_tmp/durations.conf"
expect_status 2 "[extract] window_seconds and hop_seconds under feature_set v1 are refused too"
expect_err "\\[extract\\] window_seconds = 2, \\[extract\\] hop_seconds = 1 differ: pass --feature-set NAME" "the message names the keys"
expect_eq "0" "$(sql "SELECT count(*) FROM feature_sets")" "still nothing registered"
run af-extract --config "$test_tmp/durations.conf" --feature-set w2h1 --hop 1.5
expect_status 0 "the same durations under their own name are extracted"
expect_eq "w2h1|2|1.5" "$(sql "SELECT name, (parameters->>'window_seconds')::float, (parameters->>'hop_seconds')::float FROM feature_sets")" "as set w2h1 (the option over the key)"
run af-extract
expect_status 0 "a plain af-extract afterwards works"
expect_eq "v1|3" "$(sql "SELECT name, (parameters->>'window_seconds')::float FROM feature_sets WHERE name = 'v1'")" "and registers v1 with its own durations"
