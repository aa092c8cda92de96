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
    cat >"$conf" <<CONF
[spotify]
accounts_url = $fakeapi_url/spotify/accounts/api/token
api_url = $fakeapi_url/spotify/v1
requests_per_second = ${SPOTIFY_RPS:-0}
[deezer]
api_url = $fakeapi_url/deezer
requests_per_second = 0
[itunes]
api_url = $fakeapi_url/itunes
requests_per_second = 0
[fetch]
retry_base_seconds = 0.05
retry_max_seconds = 0.2
throttle_pause_seconds = 0.2
concurrency = 4
$*
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
expect_status 0 "500 forever: exits 0"
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
expect_status 0 "always expired: exits 0"
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
