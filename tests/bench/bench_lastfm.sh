#!/usr/bin/env bash
# bench_lastfm.sh — `af-ingest lastfm` against the fake Last.fm server: requests/s
# reached with the rate limit off (tag.getTopTracks pages, then track.getTopTags per
# track, each stored in the database), and adherence to a configured limit.
#   BENCH_LASTFM_TRACKS (default 2000) tracks under one tag; BENCH_LASTFM_RATE (default 5)
. "$AF_PROJECT/tests/lib.sh"
n=${BENCH_LASTFM_TRACKS:-2000}
rate=${BENCH_LASTFM_RATE:-5}
python3 - "$test_tmp/world.json" "$n" <<'PY'
import json, sys
n = int(sys.argv[2])
tracks = [{"artist": "Artist %d" % (i // 5), "title": "Song %d" % i, "duration": 200, "listeners": n - i,
           "tags": [{"name": "bench", "count": 100}, {"name": "rock", "count": 50 + i % 50}, {"name": "pop", "count": i % 40}]}
          for i in range(n)]
json.dump({"lastfm": {"api_key": "bench-key"}, "tracks": tracks}, open(sys.argv[1], "w"))
PY
start_fakeapi "$test_tmp/world.json"
export LASTFM_API_KEY=bench-key
conf=$test_tmp/lastfm.conf
printf '[http]\nallow_private_addresses = true\n[lastfm]\napi_url = %s/2.0/\npages_per_tag = 10000\nmax_retries = 2\nbackoff_seconds = 0.05\n' "$fakeapi_url" >"$conf"
use_fresh_database bench_lastfm
af-db migrate >/dev/null 2>&1 || { echo "af-db migrate failed"; exit 1; }
s=$(date +%s.%N)
af-ingest --config "$conf" -q lastfm --tag bench --rate 0 || echo "af-ingest lastfm failed" >&2
e=$(date +%s.%N)
requests=$(fakeapi_count /2.0/)
secs=$(awk "BEGIN { print $e - $s }")
printf 'af-ingest lastfm, rate limit off: %d requests in %.2f s = %.0f requests/s (pages and lookups, each stored)\n' \
    "$requests" "$secs" "$(awk "BEGIN { print $requests / $secs }")"
# The server alone: the same requests from one keep-alive client, for comparison.
python3 - "$fakeapi_url" "$n" <<'PY'
import http.client, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1]); n = min(int(sys.argv[2]), 1000)
c = http.client.HTTPConnection(url.hostname, url.port)
s = time.time()
for i in range(n):
    c.request("GET", "/2.0/?method=track.getTopTags&artist=Artist%%20%d&track=Song%%20%d&api_key=bench-key&format=json" % (i // 5, i))
    c.getresponse().read()
print("  the fake server alone (Python, one client): %.0f requests/s" % (n / (time.time() - s)))
PY
# Adherence: a fresh crawl at the configured rate.
sql "DELETE FROM lastfm_crawl_cursors; DELETE FROM lastfm_responses" >/dev/null
fakeapi_reset
af-ingest --config "$conf" -q lastfm --tag bench --no-toptags --pages-per-tag 21 --rate "$rate" || echo "af-ingest lastfm failed" >&2
curl -sf "$fakeapi_url/_control/requests" | python3 -c '
import json, sys
rate = float(sys.argv[1])
t = sorted(r["time"] for r in json.load(sys.stdin))
gaps = [b - a for a, b in zip(t, t[1:])]
achieved = (len(t) - 1) / (t[-1] - t[0])
print("at --rate %g: %d requests, %.2f requests/s achieved (%.1f %% of the limit), smallest gap %.3f s (limit %.3f s)"
      % (rate, len(t), achieved, 100 * achieved / rate, min(gaps), 1 / rate))' "$rate"
