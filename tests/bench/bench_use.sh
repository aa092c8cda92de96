#!/usr/bin/env bash
# bench_use.sh — using the model, against the fake providers (tests/fakeapi) on this
# machine: af-predict --search end to end (search, 480 kB preview download and check,
# analysis, prediction; a process start included), and af-serve's requests per second
# for GET /api/predict on a cached preview and GET /api/similar, measured with curl
# keep-alive loops (N_REQUESTS per client) from 1 and from 4 concurrent clients
# (af-serve's [serve] workers answer at once; the machine's cores bound it).
set -u
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/use_model.sh"
use_fresh_database bench_use
af-db migrate >/dev/null 2>&1
n=${N_REQUESTS:-50}
tone_model "$test_tmp/audio" 32,8 >/dev/null 2>&1
[ "$status" -eq 0 ] || { echo "af-train failed: $err"; exit 1; }
preview_world "$test_tmp/world" >/dev/null
printf '[serve]\nrequests_per_minute = 0\n' >>"$conf"
unset SPOTIFY_CLIENT_ID SPOTIFY_CLIENT_SECRET

now() { date +%s.%N; }
times=()
for i in 1 2 3 4 5; do
    t0=$(now)
    af-predict -q --search "Low Band - Deep Tone" >/dev/null || { echo "af-predict --search failed"; exit 1; }
    times+=("$(awk "BEGIN { printf \"%.3f\", $(now) - $t0 }")")
done
echo "RESULT af-predict --search end to end: median $(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p) s (5 runs: ${times[*]})"
t0=$(now)
af-predict -q "$test_tmp/world/low.mp3" >/dev/null
echo "  for comparison, af-predict on the same preview as a local file: $(awk "BEGIN { printf \"%.3f\", $(now) - $t0 }") s"

af-serve --port 0 --port-file "$test_tmp/serve.port" >"$test_tmp/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; kill $fakeapi_pid 2>/dev/null; cleanup_lib' EXIT
for _ in $(seq 200); do [ -s "$test_tmp/serve.port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$test_tmp/serve.port")"
curl -sf "$url/api/predict?q=Low%20Band%20-%20Deep%20Tone" >/dev/null || { echo "af-serve predict failed"; cat "$test_tmp/serve.log"; exit 1; }
rate() { # NAME PATH CLIENTS: CLIENTS curl processes, n keep-alive requests each
    local args=() i pids=() failed=0
    for i in $(seq "$n"); do args+=("$url$2" -o /dev/null); done
    local t0 t1 total=$((n * $3))
    t0=$(now)
    for i in $(seq "$3"); do curl -sf "${args[@]}" & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    t1=$(now)
    [ "$failed" -eq 0 ] || { echo "$1: a request failed"; return 1; }
    echo "RESULT af-serve $1, $3 client(s): $(awk "BEGIN { printf \"%.1f requests/s (%.1f ms per request per client)\", $total / ($t1 - $t0), 1000 * ($t1 - $t0) / $n }") over $total requests"
}
echo "  af-serve: $(grep -o 'with [0-9]* worker(s)' "$test_tmp/serve.log"), $(nproc) core(s)"
for clients in 1 4; do
    rate "GET /api/predict (cached preview)" "/api/predict?q=Low%20Band%20-%20Deep%20Tone" $clients
    rate "GET /api/similar?track=1&k=10" "/api/similar?track=1&k=10" $clients
    rate "GET /api/status" "/api/status" $clients
done
