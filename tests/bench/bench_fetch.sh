#!/usr/bin/env bash
# bench_fetch.sh — af-fetch against the local fake APIs (tests/fakeapi):
#   1. previews per second with rate limits off and 32 transfers at once (target >= 100/s),
#      with and without decoding each preview, next to what the Python fake server alone
#      can serve (a plain HTTP client fetching the same previews), to tell our limit from
#      the server's;
#   2. adherence to a configured rate (Deezer at RATE req/s; within 5 %, no 429s).
# BENCH_TRACKS (default 1500) previews of 120 kB each, all distinct.
. "$AF_PROJECT/tests/lib.sh"
n=${BENCH_TRACKS:-1500}
rate=${BENCH_RATE:-20}
world=${BENCH_WORLD:-/tmp/af-bench-fetch-world}
python3 "$AF_PROJECT/tests/integration/fetch_world.py" "$world" --only-extra --extra "$n" --small >/dev/null
start_fakeapi "$world/world.json"
conf=$test_tmp/fetch.conf
write_conf() {
    cat >"$conf" <<CONF
[http]
allow_private_addresses = true
[deezer]
api_url = $fakeapi_url/deezer
requests_per_second = $1
[itunes]
api_url = $fakeapi_url/itunes
[fetch]
providers = deezer
retry_base_seconds = 0.05
throttle_pause_seconds = 1
CONF
    [ -n "${2:-}" ] && echo "$2" >>"$conf"
}
fresh() {
    use_fresh_database "bench_fetch_$1"
    af-db migrate >/dev/null 2>&1
    psql -Xq -v ON_ERROR_STOP=1 -f "$world/seed.sql" >/dev/null
    fakeapi_reset
}
timed_fetch() { # prints seconds
    local s e
    s=$(date +%s.%N)
    af-fetch --config "$conf" -q "$@" || echo "af-fetch failed" >&2
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'
}
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$1/stat"; }

echo "machine: $(nproc) cores; $n tracks, previews of $(stat -c %s "$world/small.mp3") bytes"

# Ceiling of the fake server: a bare libcurl client (curl --parallel) fetching the same
# previews, 32 at once, nothing else done with them.
urls=$test_tmp/urls
python3 -c 'import json,sys; w=json.load(open(sys.argv[1])); [print("url = \"%s/previews/deezer/%s\"\noutput = \"/dev/null\"" % (sys.argv[2], t["audio"])) for t in w["tracks"]]' \
    "$world/world.json" "$fakeapi_url" >"$urls"
s=$(date +%s.%N)
curl -s --parallel --parallel-max 32 --config "$urls"
e=$(date +%s.%N)
awk -v s="$s" -v e="$e" -v n="$n" 'BEGIN { printf "fake server alone (curl --parallel 32, downloads only): %.0f previews/s\n", n / (e - s) }'

for verify in false true; do
    fresh "t_$verify"
    write_conf 0 "verify_audio = $verify"
    cpu0=$(cpu_of "$fakeapi_pid")
    secs=$(timed_fetch --concurrency 32)
    cpu1=$(cpu_of "$fakeapi_pid")
    stored=$(sql "SELECT count(*) FROM track_audio")
    awk -v n="$stored" -v s="$secs" -v v="$verify" -v c="$cpu0" -v d="$cpu1" 'BEGIN {
        printf "af-fetch --concurrency 32, rate limits off, verify_audio=%s: %d stored in %.2f s = %.0f previews/s (search + download + %sstore); fake server used %.0f %% of a core\n",
            v, n, s, n / s, v == "true" ? "decode + " : "", 100 * (d - c) / s }'
done

# Rate adherence: Deezer configured at $rate req/s, the fake server refusing (error 4) above it.
m=$(( rate * 10 ))
fresh rate
python3 - "$world/world.json" "$test_tmp/world_rate.json" "$rate" <<'PY'
import json, sys
w = json.load(open(sys.argv[1])); w["rate_limits"] = {"deezer": float(sys.argv[3])}
json.dump(w, open(sys.argv[2], "w"))
PY
cp "$test_tmp/world_rate.json" "$world/world_rate.json"
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$world/world_rate.json"
write_conf "$rate"
secs=$(timed_fetch --concurrency 32 --limit $m)
curl -sf "$fakeapi_url/_control/requests" | python3 -c '
import json, sys
rate = float(sys.argv[1])
t = sorted(r["time"] for r in json.load(sys.stdin) if r["path"].startswith("/deezer/search"))
measured = (len(t) - 1) / (t[-1] - t[0])
print("rate adherence: configured %.1f req/s, measured %.2f req/s over %d searches (%.1f %% off)" % (rate, measured, len(t), 100 * (measured - rate) / rate))
' "$rate"
limited=$(sql "SELECT count(*) FROM fetch_attempts WHERE outcome = 'rate_limited'")
echo "throttled answers (429 / Deezer error 4): $limited"
