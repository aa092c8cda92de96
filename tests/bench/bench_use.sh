#!/usr/bin/env bash
# bench_use.sh — using the model, against the fake providers (tests/fakeapi) on this
# machine: af-predict --search end to end (search, 480 kB preview download and check,
# analysis, prediction; a process start included), and af-serve's requests per second
# for GET /api/predict on a cached preview and GET /api/similar, measured with curl
# keep-alive loops (N_REQUESTS each, one client: af-serve answers one request at a time).
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
rate() { # NAME PATH: n keep-alive requests from one curl process
    local args=() i
    for i in $(seq "$n"); do args+=("$url$2" -o /dev/null); done
    local t0 t1
    t0=$(now)
    curl -sf "${args[@]}" || { echo "$1: a request failed"; return 1; }
    t1=$(now)
    echo "RESULT af-serve $1: $(awk "BEGIN { printf \"%.1f requests/s (%.1f ms each)\", $n / ($t1 - $t0), 1000 * ($t1 - $t0) / $n }") over $n requests"
}
rate "GET /api/predict (cached preview)" "/api/predict?q=Low%20Band%20-%20Deep%20Tone"
rate "GET /api/similar?track=1&k=10" "/api/similar?track=1&k=10"
rate "GET /api/status" "/api/status"
