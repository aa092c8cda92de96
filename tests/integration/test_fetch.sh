#!/usr/bin/env bash
# test_fetch.sh — af-fetch against the fake Spotify, Deezer, iTunes and preview hosts
# (tests/fakeapi), one fresh database per scenario. Every fault scenario checks that the
# run finishes, that nothing is stored twice, that nothing is lost (every labelled track
# has audio or an outcome, no claim is left) and that the outcome is recorded.
. "$AF_PROJECT/tests/lib.sh"

world=$test_tmp/world
python3 "$AF_PROJECT/tests/integration/fetch_world.py" "$world" --extra 4 >/dev/null ||
    { echo "not ok - generate the test world"; exit 1; }
cp "$world/world.json" "$world/world.base.json"
start_fakeapi "$world/world.json"
export SPOTIFY_CLIENT_ID=test-id SPOTIFY_CLIENT_SECRET=test-secret

conf=$test_tmp/fetch.conf
write_conf() { # extra lines appended to [fetch]
    { fakeapi_conf; cat <<CONF; } >"$conf"
[http]
; the fake server is on 127.0.0.1, refused by default (ALLOW_PRIVATE=false)
allow_private_addresses = ${ALLOW_PRIVATE:-true}
[spotify]
requests_per_second = ${SPOTIFY_RPS:-0}
[fetch]
retry_base_seconds = 0.05
retry_max_seconds = 0.2
throttle_pause_seconds = 0.2
concurrency = 4
$(printf "%s\n" "$@")
CONF
}

scenario() { # NAME: fresh database with the seeded tracks, faults cleared
    use_fresh_database "fetch_$1"
    af-db migrate >/dev/null 2>&1 || { echo "not ok - migrate ($1)"; exit 1; }
    psql -Xq -v ON_ERROR_STOP=1 -f "$world/seed.sql" >/dev/null
    fakeapi_reset
    write_conf
}

fetch() { run af-fetch --config "$conf" "$@"; }

# The invariants every run must leave behind.
check_invariants() { # NAME
    expect_eq 0 "$(sql "SELECT count(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM track_audio a WHERE a.track_id = t.track_id)
        AND NOT EXISTS (SELECT 1 FROM fetch_outcomes o WHERE o.track_id = t.track_id)")" "$1: nothing lost (audio or an outcome for every track)"
    expect_eq 0 "$(sql "SELECT count(*) FROM fetch_claims")" "$1: no claim left behind"
    expect_eq "$(sql "SELECT count(*) FROM track_audio")" "$(sql "SELECT count(*) FROM fetch_outcomes WHERE outcome = 'stored'")" \
        "$1: one stored outcome per stored track"
    expect_eq 0 "$(sql "SELECT count(*) FROM (SELECT sha256 FROM audio GROUP BY sha256 HAVING count(*) > 1) d")" "$1: no audio stored twice"
    expect_eq 0 "$(sql "SELECT count(*) FROM (SELECT track_id FROM fetch_attempts WHERE outcome = 'stored' GROUP BY track_id HAVING count(*) > 1) d")" \
        "$1: no track stored twice"
}
outcome_of() { sql "SELECT outcome FROM fetch_outcomes WHERE track_id = $1 AND provider = '$2'"; }
origin_of() { sql "SELECT origin FROM track_audio WHERE track_id = $1"; }

# ---- the normal case -------------------------------------------------------------------------
scenario basic
fetch -v
expect_status 0 "basic: exits 0"
expect_eq spotify "$(origin_of 1)" "basic: track with a Spotify preview stored from Spotify"
expect_eq no_preview "$(outcome_of 2 spotify)" "basic: null preview_url recorded as no_preview"
expect_eq deezer "$(origin_of 2)" "basic: null preview_url -> next provider (Deezer)"
expect_eq deezer "$(origin_of 3)" "basic: Deezer track found"
[ "$(fakeapi_count /deezer/track/isrc:)" -ge 1 ] && pass "basic: Deezer asked by ISRC" || fail "basic: Deezer asked by ISRC"
expect_eq "itunes|aac" "$(sql "SELECT origin, codec FROM track_audio JOIN audio USING (sha256) WHERE track_id = 4")" "basic: iTunes M4A stored as AAC"
expect_eq "not_found not_found not_found" "$(echo $(sql "SELECT outcome FROM fetch_outcomes WHERE track_id = 5 ORDER BY provider"))" "basic: unknown track not_found everywhere"
expect_eq "no_preview no_preview no_preview" "$(echo $(sql "SELECT outcome FROM fetch_outcomes WHERE track_id = 6 ORDER BY provider"))" "basic: no preview anywhere"
expect_eq "$(sql "SELECT sha256 FROM track_audio WHERE track_id = 1")" "$(sql "SELECT sha256 FROM track_audio WHERE track_id = 7")" "basic: same preview, same audio row"
expect_eq bad_audio "$(outcome_of 8 deezer)" "basic: 3 s preview refused as bad_audio"
expect_eq 8 "$(sql "SELECT count(*) FROM audio")" "basic: 8 distinct previews stored"
expect_eq 1 "$(sql "SELECT count(*) FROM tracks WHERE track_id = 1 AND spotify_id = 'sp1' AND deezer_id IS NULL")" "basic: provider id stored on the track"
expect_eq 1 "$(sql "SELECT match_score FROM fetch_outcomes WHERE track_id = 2 AND provider = 'deezer'")" "basic: match score stored"
expect_eq succeeded "$(sql "SELECT status FROM runs WHERE program = 'af-fetch' ORDER BY run_id DESC LIMIT 1")" "basic: run succeeded"
expect_eq 9 "$(sql "SELECT (counters->>'stored')::int FROM runs WHERE program = 'af-fetch' ORDER BY run_id DESC LIMIT 1")" "basic: stored counter"
expect_no "test-secret|dGVzdC1pZDp0ZXN0LXNlY3JldA" "$err" "basic: the client secret is never logged"
check_invariants basic
before=$(fakeapi_count /)
fetch
expect_status 0 "basic rerun: exits 0"
expect_eq "$before" "$(fakeapi_count /)" "basic rerun: nothing due, no request made"
expect_eq 8 "$(sql "SELECT count(*) FROM audio")" "basic rerun: nothing stored twice"
run af-db status
expect_out "deezer: no_preview" "af-db status shows why tracks lack audio"

# ---- 429 with a short Retry-After --------------------------------------------------------------
scenario retry_after
fakeapi_fault '{"prefix": "/spotify/v1/search", "count": 2, "status": 429, "body": "{}", "headers": {"Retry-After": "1"}}'
start=$(date +%s.%N)
fetch
expect_status 0 "429: exits 0"
expect_eq spotify "$(origin_of 1)" "429: Spotify asked again after Retry-After"
[ "$(sql "SELECT count(*) FROM fetch_attempts WHERE outcome = 'rate_limited' AND http_status = 429")" -ge 2 ] && pass "429: attempts recorded" || fail "429: attempts recorded"
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { exit !(e - s >= 1) }' && pass "429: waited for Retry-After" || fail "429: waited for Retry-After"
check_invariants retry_after

# ---- 429 with a Retry-After of hours: Spotify stops for the run, and the next run ------------
scenario retry_after_hours
fakeapi_fault '{"prefix": "/spotify/v1/search", "count": 1, "status": 429, "body": "{}", "headers": {"Retry-After": "13749"}}'
fetch --concurrency 1
expect_status 0 "429 hours: exits 0"
expect_err "spotify: HTTP 429 with Retry-After 13749" "429 hours: provider stopped with a warning"
expect_eq 1 "$(fakeapi_count /spotify/v1/search)" "429 hours: no more Spotify requests in the run"
expect_eq deezer "$(origin_of 1)" "429 hours: next provider used instead"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_provider_pauses WHERE provider = 'spotify' AND paused_until > now() + interval '3 hours'")" "429 hours: resume time recorded"
expect_eq rate_limited "$(sql "SELECT outcome FROM fetch_outcomes WHERE provider = 'spotify' AND outcome = 'rate_limited' LIMIT 1")" "429 hours: outcome recorded"
check_invariants retry_after_hours
fetch
expect_eq 1 "$(fakeapi_count /spotify/v1/search)" "429 hours: the next run does not ask Spotify either"

# ---- HTTP 500 --------------------------------------------------------------------------------
scenario http500
fakeapi_fault '{"prefix": "/deezer/", "count": 3, "status": 500, "body": "oops"}'
fetch
expect_status 0 "500: exits 0"
expect_eq deezer "$(origin_of 2)" "500: retried and stored"
[ "$(sql "SELECT count(*) FROM fetch_attempts WHERE http_status = 500")" -eq 3 ] && pass "500: three failed attempts recorded" || fail "500: three failed attempts recorded"
check_invariants http500
scenario http500_forever
fakeapi_fault '{"prefix": "/itunes/", "count": 1000, "status": 503, "body": ""}'
fetch
expect_status 1 "500 forever: exits 1 (tracks failed, README's rule)"
expect_eq failed "$(sql "SELECT status FROM runs WHERE program = 'af-fetch' ORDER BY run_id DESC LIMIT 1")" "500 forever: run recorded as failed"
expect_eq http_error "$(outcome_of 4 itunes)" "500 forever: http_error recorded"
check_invariants http500_forever
fakeapi_reset
fetch
expect_eq itunes "$(origin_of 4)" "500 forever: the next run gets it (outcome was due at once)"
check_invariants http500_forever_rerun

# ---- timeouts ----------------------------------------------------------------------------------
scenario timeout
fakeapi_fault '{"prefix": "/previews/spotify/", "count": 1, "delay": 3}'
fakeapi_fault '{"prefix": "/deezer/search", "count": 1, "delay": 3}'
fetch --timeout 1
expect_status 0 "timeout: exits 0"
expect_eq spotify "$(origin_of 1)" "timeout: preview retried after a timeout"
[ "$(sql "SELECT count(*) FROM fetch_attempts WHERE detail ILIKE '%timed out%'")" -ge 2 ] && pass "timeout: timeouts recorded" || fail "timeout: timeouts recorded"
check_invariants timeout

# ---- truncated bodies --------------------------------------------------------------------------
scenario truncated
fakeapi_fault '{"prefix": "/previews/", "count": 3, "truncate": true}'
fakeapi_fault '{"prefix": "/deezer/search", "count": 1, "truncate": true}'
fetch
expect_status 0 "truncated: exits 0"
expect_eq 8 "$(sql "SELECT count(*) FROM audio")" "truncated: every preview stored once, whole"
[ "$(sql "SELECT count(*) FROM fetch_attempts WHERE outcome = 'http_error' AND http_status IS NULL")" -ge 4 ] && pass "truncated: failures recorded" || fail "truncated: failures recorded"
expect_eq 0 "$(sql "SELECT count(*) FROM audio WHERE size_bytes < 100000")" "truncated: no partial file stored"
check_invariants truncated

# ---- HTML instead of audio ---------------------------------------------------------------------
scenario html
fakeapi_fault '{"prefix": "/previews/spotify/", "count": 1, "status": 200, "body": "<html><body>Sorry</body></html>", "content_type": "text/html"}'
fakeapi_fault '{"prefix": "/previews/deezer/x/00000", "count": 1, "status": 200, "body": "<!DOCTYPE html><html></html>", "content_type": "application/octet-stream"}'
fetch
expect_status 0 "html: exits 0"
expect_eq bad_audio "$(outcome_of 1 spotify)" "html: HTML preview is bad_audio"
expect_eq deezer "$(origin_of 1)" "html: next provider used"
expect_eq bad_audio "$(outcome_of 101 deezer)" "html: HTML with an audio content type is bad_audio too"
expect_eq itunes "$(origin_of 101)" "html: ... and iTunes used"
check_invariants html

# ---- expired signed URLs -----------------------------------------------------------------------
scenario expired
fakeapi_fault '{"prefix": "/previews/deezer/b.mp3", "count": 1, "status": 403, "body": "<Error>Expired</Error>"}'
fetch
expect_status 0 "expired URL: exits 0"
expect_eq deezer "$(origin_of 2)" "expired URL: searched again and stored"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_attempts WHERE track_id = 2 AND outcome = 'expired_url'")" "expired URL: attempt recorded"
check_invariants expired
python3 - "$world/world.base.json" "$world/world.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1])); w["deezer_url_seconds"] = -5
json.dump(w, open(sys.argv[2], "w"))
PY
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$world/world.json"; write_conf
scenario expired_always
fetch
expect_status 1 "always expired: exits 1 (a track failed)"
expect_eq http_error "$(outcome_of 3 deezer)" "always expired: http_error recorded"
expect_eq "" "$(origin_of 3)" "always expired: nothing stored"
check_invariants expired_always
cp "$world/world.base.json" "$world/world.json"

# ---- token expiring mid-run --------------------------------------------------------------------
python3 - "$world/world.base.json" "$world/world.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1])); w["spotify_token_seconds"] = 1
json.dump(w, open(sys.argv[2], "w"))
PY
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$world/world.json"
SPOTIFY_RPS=4 scenario token
SPOTIFY_RPS=4 write_conf
fakeapi_fault '{"prefix": "/spotify/v1/search", "count": 1, "match": "Seventh", "status": 401, "body": "{\"error\": {\"status\": 401, \"message\": \"The access token expired\"}}"}'
fetch
expect_status 0 "token: exits 0"
[ "$(fakeapi_count /spotify/accounts/api/token)" -ge 3 ] && pass "token: renewed when it expired and on 401" || fail "token: renewed when it expired and on 401" "tokens: $(fakeapi_count /spotify/accounts/api/token)"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_attempts WHERE track_id = 7 AND provider = 'spotify' AND http_status = 401")" "token: 401 recorded once"
expect_eq not_found "$(outcome_of 7 spotify)" "token: the request was repeated with a new token"
expect_eq spotify "$(origin_of 1)" "token: Spotify previews still stored"
check_invariants token
cp "$world/world.base.json" "$world/world.json"
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$world/world.json"

# ---- rejected credentials ----------------------------------------------------------------------
scenario credentials
SPOTIFY_CLIENT_SECRET=wrong fetch
expect_status 6 "bad credentials: exit 6"
expect_eq deezer "$(origin_of 1)" "bad credentials: the other providers still ran"
check_invariants credentials

# ---- interrupting and resuming -----------------------------------------------------------------
scenario sigint
fakeapi_fault '{"prefix": "/previews/", "count": 1000, "delay": 0.4}'
af-fetch --config "$conf" --concurrency 2 >"$test_tmp/int.out" 2>"$test_tmp/int.err" &
pid=$!
sleep 1.2
kill -INT $pid
wait $pid
status=$?
err=$(cat "$test_tmp/int.err")
expect_status 0 "SIGINT: exits 0"
expect_eq interrupted "$(sql "SELECT status FROM runs WHERE program = 'af-fetch' ORDER BY run_id DESC LIMIT 1")" "SIGINT: run recorded as interrupted"
stored_first=$(sql "SELECT count(*) FROM track_audio")
[ "$stored_first" -lt 9 ] && pass "SIGINT: stopped early ($stored_first stored)" || fail "SIGINT: stopped early"
expect_eq 0 "$(sql "SELECT count(*) FROM fetch_claims")" "SIGINT: claims released"
fakeapi_reset
fetch
expect_status 0 "SIGINT rerun: exits 0"
expect_eq 9 "$(sql "SELECT count(*) FROM track_audio")" "SIGINT rerun: everything stored"
check_invariants sigint

# ---- two processes at once ---------------------------------------------------------------------
scenario parallel
fakeapi_fault '{"prefix": "/previews/", "count": 1000, "delay": 0.05}'
af-fetch --config "$conf" --concurrency 2 2>"$test_tmp/p1.err" & p1=$!
af-fetch --config "$conf" --concurrency 2 2>"$test_tmp/p2.err" & p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
expect_eq "0 0" "$s1 $s2" "parallel: both exit 0"
expect_eq 9 "$(sql "SELECT count(*) FROM track_audio")" "parallel: everything stored"
expect_eq 0 "$(sql "SELECT count(*) FROM (SELECT track_id FROM fetch_attempts WHERE outcome = 'found' GROUP BY track_id, provider HAVING count(*) > 1) d")" "parallel: no track searched twice"
check_invariants parallel

# ---- --limit -----------------------------------------------------------------------------------
scenario limit
fetch --limit 3
expect_eq 3 "$(sql "SELECT count(DISTINCT track_id) FROM fetch_attempts")" "--limit 3: three tracks"
check_invariants_partial() { expect_eq 0 "$(sql "SELECT count(*) FROM fetch_claims")" "$1: no claim left"; }
check_invariants_partial limit
run af-fetch --config "$conf" --provider nosuch
expect_status 2 "unknown provider: usage error"

# ---- runs that end (issue 18): a provider failing for good ---------------------------------------
# Before: every track's http_error was due again at once and re-claimed by the same run,
# for ever ("progress 1586/30"). Now a run takes each track once, a provider failing
# provider_failure_limit times in a row is not asked again, and the run ends with exit 1.
# It takes more tracks than the window of claimed ones (--concurrency 2: 8) and retries
# slower than the 0.5 s between saves, as in production, for the old loop to show.
scenario never_ending
write_conf "providers = deezer" "max_retries = 2" "provider_failure_limit = 4"
sed -i 's/^retry_base_seconds = .*/retry_base_seconds = 0.3/; s/^retry_max_seconds = .*/retry_max_seconds = 0.6/' "$conf"
fakeapi_fault '{"prefix": "/deezer/", "count": 100000, "status": 503, "body": ""}'
run timeout 60 af-fetch --config "$conf" --concurrency 2
expect_status 1 "503 forever: the run ends, exit 1"
expect_err "deezer: 4 transient failures in a row" "503 forever: the provider is stopped for the run, with a warning"
[ "$(fakeapi_count /deezer/)" -le 12 ] && pass "503 forever: few requests ($(fakeapi_count /deezer/))" || fail "503 forever: few requests" "$(fakeapi_count /deezer/) requests"
expect_eq 0 "$(sql "SELECT count(*) FROM (SELECT track_id FROM fetch_attempts GROUP BY track_id HAVING count(*) > 3) d")" "503 forever: at most max_retries + 1 attempts per track"
expect_eq 0 "$(sql "SELECT count(*) FROM fetch_claims")" "503 forever: no claim left"
expect_eq "$(sql "SELECT count(*) FROM tracks")" "$(sql "SELECT count(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM fetch_outcomes o WHERE o.track_id = t.track_id AND o.recheck_after > now())")" \
    "503 forever: every track due again at the next run"
run af-db status
expect_out "Fetch errors by reason" "503 forever: af-db status has fetch errors by reason"
expect_out "deezer +http_error +HTTP 503" "503 forever: ... with the provider, outcome and reason"
fakeapi_reset
run af-fetch --config "$conf"
expect_status 0 "503 forever: the next run gets everything, exit 0"

# ---- Retry-After without bound: a date in 2099 (issue 18) ---------------------------------------
scenario retry_after_2099
write_conf "max_provider_pause_seconds = 7200"
fakeapi_fault '{"prefix": "/spotify/v1/search", "count": 1, "status": 429, "body": "{}", "headers": {"Retry-After": "Thu, 01 Jan 2099 00:00:00 GMT"}}'
fetch --concurrency 1
expect_err "spotify: asked to pause for [0-9]+ s; capped to 7200 s \(\[fetch\] max_provider_pause_seconds\)" "Retry-After 2099: the cap is logged"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_provider_pauses WHERE provider = 'spotify' AND paused_until BETWEEN now() + interval '1 hour' AND now() + interval '2 hours 1 minute'")" \
    "Retry-After 2099: the pause stored is capped to 2 h"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_outcomes WHERE provider = 'spotify' AND recheck_after < now() + interval '2 hours 1 minute'")" \
    "Retry-After 2099: the track is due again when the capped pause ends"
run af-db status
expect_out "Paused fetch providers" "af-db status: paused providers listed"
expect_out "spotify +20[0-9-]+ [0-9:]+ +0?[0-9]:[0-9]{2}:[0-9]{2} +HTTP 429" "af-db status: the provider, when it resumes and why"
# A pause stored before the cap (one header once disabled Deezer until 2099) is capped when read.
scenario old_pause_2099
sql "INSERT INTO fetch_provider_pauses (provider, paused_until, reason) VALUES ('deezer', '2099-01-01', 'old pause')" >/dev/null
write_conf "max_provider_pause_seconds = 0"
fetch --provider deezer
expect_err "deezer: an earlier run paused it for another [0-9]+ s; capped to 0 s" "old pause in 2099: capped when read, logged"
[ "$(fakeapi_count /deezer/)" -ge 1 ] && pass "old pause in 2099: Deezer asked again" || fail "old pause in 2099: Deezer asked again"

# ---- Deezer, iTunes and Spotify as they really answer (issue 17) ---------------------------------
qworld=$test_tmp/qworld
cp -r "$world" "$qworld"
python3 "$AF_PROJECT/tests/integration/fetch_world.py" "$qworld" --quirks spotify_null_items=true >/dev/null
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$qworld/world.json"
use_fresh_database fetch_quirks
af-db migrate >/dev/null 2>&1
psql -Xq -v ON_ERROR_STOP=1 -f "$qworld/seed.sql" >/dev/null
write_conf
fetch
expect_status 0 "quirks: exits 0"
expect_eq deezer "$(origin_of 11)" "Deezer 404 + error 800 on the ISRC route: searched by name and stored"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_attempts WHERE track_id = 11 AND provider = 'deezer' AND outcome = 'not_found' AND http_status = 404")" \
    "Deezer 404 + 800: recorded as ISRC unknown, not http_error"
expect_eq 0 "$(sql "SELECT count(*) FROM fetch_outcomes WHERE outcome = 'http_error'")" "quirks: no http_error outcome"
expect_eq deezer "$(origin_of 13)" "Spotify ISRC -> Deezer ISRC (404/800) -> Deezer name search: stored"
expect_eq USQQQ0000013 "$(sql "SELECT isrc FROM tracks WHERE track_id = 13")" "Spotify's ISRC kept on the track"
expect_eq no_preview "$(outcome_of 12 deezer)" "Deezer readable:false: its preview URL is skipped"
expect_eq itunes "$(origin_of 12)" "Deezer readable:false: iTunes used instead"
expect_eq 0 "$(curl -sf "$fakeapi_url/_control/requests" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if "/previews/deezer/g.mp3" in r["path"]))')" \
    "Deezer readable:false: the unreadable preview is never downloaded"
expect_eq spotify "$(origin_of 1)" "Spotify null items in the result array: skipped, real items used"
expect_eq "US" "$(curl -sf "$fakeapi_url/_control/requests" | python3 -c 'import json,sys; print(" ".join(sorted({r["query"].get("market", "-") for r in json.load(sys.stdin) if r["path"] == "/spotify/v1/search"})))')" \
    "Spotify searches send market=US"
expect_eq "US song" "$(curl -sf "$fakeapi_url/_control/requests" | python3 -c 'import json,sys; print(" ".join(sorted({r["query"].get("country", "-") + " " + r["query"].get("entity", "-") for r in json.load(sys.stdin) if r["path"] == "/itunes/search"})))')" \
    "iTunes searches send country=US and entity=song"
check_invariants quirks

scenario deezer_busy
fakeapi_fault '{"prefix": "/deezer/search", "match": "Second", "count": 2, "status": 200, "body": "{\"error\":{\"type\":\"Exception\",\"message\":\"Service busy\",\"code\":700}}"}'
fakeapi_fault '{"prefix": "/deezer/track/isrc:USCCC", "count": 2, "status": 200, "body": "{\"error\":{\"type\":\"Exception\",\"message\":\"Quota limit exceeded\",\"code\":4}}"}'
fetch
expect_status 0 "Deezer 700 and 4: exits 0"
expect_eq deezer "$(origin_of 2)" "Deezer 700 (busy): retried with backoff and stored"
expect_eq 2 "$(sql "SELECT count(*) FROM fetch_attempts WHERE track_id = 2 AND provider = 'deezer' AND outcome = 'http_error' AND detail LIKE '%700%'")" "Deezer 700: both attempts recorded"
expect_eq deezer "$(origin_of 3)" "Deezer 4 (quota): retried after a pause and stored"
expect_eq 2 "$(sql "SELECT count(*) FROM fetch_attempts WHERE track_id = 3 AND outcome = 'rate_limited'")" "Deezer 4: throttled attempts recorded"
check_invariants deezer_busy

scenario deezer_unknown_route
write_conf "providers = deezer"
sed -i "s|^api_url = $fakeapi_url/deezer\$|api_url = $fakeapi_url/deezer/v9|" "$conf"
fetch --limit 2
expect_eq "http_error" "$(outcome_of 1 deezer)" "Deezer {\"error\":\"Not Found\"} (unknown route): http_error"
expect_eq 1 "$(sql "SELECT count(*) FROM fetch_outcomes WHERE track_id = 1 AND detail = 'Deezer error: Not Found'")" "Deezer unknown route: its message stored"

scenario itunes_error
write_conf "providers = itunes"
printf '[itunes]\ncountry = XX\n' >>"$conf"
fetch --limit 1
expect_status 1 "iTunes HTTP 400: the track failed, exit 1"
expect_eq "HTTP 400: Invalid value(s) for key(s): [country]" "$(sql "SELECT detail FROM fetch_outcomes WHERE provider = 'itunes'")" "iTunes HTTP 400: errorMessage stored"
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$world/world.json"

# ---- URLs a provider's JSON names (issue 19) ---------------------------------------------------
# A listener stands for an internal service (Redis on a local port): it must receive nothing.
listener_port_file=$test_tmp/listener.port
python3 - "$listener_port_file" "$test_tmp/listener.bytes" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
total = 0
open(sys.argv[2], "w").write("0")
s.settimeout(120)
try:
    while True:
        c, _ = s.accept(); c.settimeout(2)
        try:
            while True:
                d = c.recv(4096)
                if not d: break
                total += len(d); open(sys.argv[2], "w").write(str(total))
        except Exception: pass
        c.close()
except Exception: pass
PY
listener_pid=$!
for _ in $(seq 100); do [ -s "$listener_port_file" ] && break; sleep 0.05; done
hworld=$test_tmp/hworld
cp -r "$world" "$hworld"
python3 "$AF_PROJECT/tests/integration/fetch_world.py" "$hworld" --hostile "$(cat "$listener_port_file")" >/dev/null
kill $fakeapi_pid; wait $fakeapi_pid 2>/dev/null
start_fakeapi "$hworld/world.json"
use_fresh_database fetch_hostile
af-db migrate >/dev/null 2>&1
psql -Xq -v ON_ERROR_STOP=1 -f "$hworld/seed.sql" >/dev/null
write_conf
fetch
expect_status 1 "hostile URLs: exit 1 (those tracks failed)"
expect_eq "refused_url refused_url refused_url refused_url" "$(echo $(sql "SELECT outcome FROM fetch_outcomes WHERE track_id BETWEEN 21 AND 24 AND provider = 'deezer' ORDER BY track_id"))" \
    "gopher://, file://, dict:// and a redirect to gopher:// are refused"
expect_err "only http and https URLs are fetched" "hostile URLs: the refusal says why"
expect_eq 0 "$(cat "$test_tmp/listener.bytes")" "hostile URLs: the local service received nothing"
expect_eq 0 "$(sql "SELECT count(*) FROM track_audio WHERE track_id BETWEEN 21 AND 24")" "hostile URLs: nothing stored"
expect_eq spotify "$(origin_of 1)" "hostile URLs: the other tracks still fetched"
kill $listener_pid 2>/dev/null
# Without allow_private_addresses the fake server itself (127.0.0.1) is refused.
scenario private_refused
ALLOW_PRIVATE=false write_conf "providers = deezer"
fetch --limit 2
expect_status 1 "private address: refused, exit 1"
expect_err "refused to connect to 127.0.0.1, a loopback address \(\[http\] allow_private_addresses\)" "private address: the message names the address, its kind and the key"
expect_eq 0 "$(fakeapi_count /deezer/)" "private address: no request reached the server"
expect_eq refused_url "$(outcome_of 1 deezer)" "private address: outcome refused_url"
