#!/usr/bin/env bash
# bench_extract_workers.sh — af-extract throughput with 1 and with 4 worker processes
# (issue 19, "A million tracks"): N distinct 30-second 128 kbit/s MP3 previews (ffmpeg
# lavfi, as bench_audio_store.sh) ingested once with af-ingest dir; then, on a fresh copy
# of that database for each run, P af-extract processes (one thread each: -j 1) started at
# once, claiming batches of the same queue until it is empty.  Prints tracks/s and the
# ratio against the 1-process run of the same invocation, and checks that nothing was
# done twice or lost: every track has exactly one track_features row, its n_windows
# window rows, and the processes' tracks_done counters add up to N.
# BENCH_TRACKS=N (default 96), BENCH_BATCH=B tracks per claim (default 4).
set -u
export AF_BIN="$AF_PROJECT/build/bin" PATH="$AF_PROJECT/build/bin:$PATH"
n=${BENCH_TRACKS:-96}
batch=${BENCH_BATCH:-4}
work=$(mktemp -d /tmp/af-bench-workers.XXXXXX)
base="af_bench_workers_$$"
db="af_bench_workers_run_$$"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; dropdb --if-exists "$base" >/dev/null 2>&1; rm -rf "$work"' EXIT
mkdir -p "$work/music/jazz"
for i in $(seq "$n"); do
    ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=$((200 + 17 * i)):duration=30:sample_rate=44100" \
        -f lavfi -i "anoisesrc=d=30:c=pink:a=0.05:r=44100:seed=$i" -filter_complex amix=inputs=2:duration=shortest \
        -ac 2 -b:a 128k "$work/music/jazz/t$i.mp3" || exit 1
done
createdb "$base" || exit 1
PGDATABASE=$base af-db migrate >/dev/null 2>&1 || { echo "bench_extract_workers: af-db migrate failed" >&2; exit 1; }
PGDATABASE=$base af-ingest -q dir "$work/music" 2>"$work/ingest.err" || { cat "$work/ingest.err" >&2; exit 1; }
cores=$(nproc)
echo "$n previews of 30 s; $cores cores on this machine (with more processes than cores," \
    "the processes share them: expect at most ${cores}x); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %10s %10s %9s %s\n' processes seconds tracks/s ratio checks
status=0
one=""
for procs in 1 4; do
    dropdb --if-exists "$db" >/dev/null 2>&1
    createdb -T "$base" "$db" || exit 1
    export PGDATABASE=$db
    s=$(date +%s.%N)
    pids=()
    for p in $(seq "$procs"); do
        af-extract -q -j 1 --batch "$batch" 2>"$work/err.$p" &
        pids+=($!)
    done
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    e=$(date +%s.%N)
    secs=$(awk "BEGIN { printf \"%.2f\", $e - $s }")
    rate=$(awk "BEGIN { printf \"%.3f\", $n / ($e - $s) }")
    [ -z "$one" ] && one=$rate
    # Each track once: one track_features row with all its windows, and the runs'
    # counters adding up to N (a track extracted twice would count twice).
    read -r feats windows_ok done_sum runs < <(psql -XAt -F ' ' -c "
        SELECT (SELECT count(*) FROM track_features),
               (SELECT count(*) FROM track_features f WHERE n_windows > 0 AND n_windows =
                   (SELECT count(*) FROM window_features w
                    WHERE w.track_id = f.track_id AND w.feature_set_id = f.feature_set_id)),
               (SELECT coalesce(sum((counters->>'tracks_done')::int), 0) FROM runs WHERE program = 'af-extract'),
               (SELECT count(*) FROM runs WHERE program = 'af-extract' AND status = 'succeeded')")
    check="features $feats/$n, windows complete $windows_ok/$n, tracks_done sum $done_sum, runs ok $runs/$procs"
    if [ "$failed" -ne 0 ] || [ "$feats" -ne "$n" ] || [ "$windows_ok" -ne "$n" ] ||
        [ "$done_sum" -ne "$n" ] || [ "$runs" -ne "$procs" ]; then
        check="FAILED: $check"
        status=1
        cat "$work"/err.* >&2
    fi
    printf '%-10d %10s %10s %8.2fx %s\n' "$procs" "$secs" "$rate" "$(awk "BEGIN { print $rate / $one }")" "$check"
done
exit $status
