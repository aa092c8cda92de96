#!/usr/bin/env bash
# test_fetch_faults.sh — the fetch fault matrix (issue 18): each transient fault a
# provider can keep sending (HTTP 503, connection resets, answers that are not JSON,
# timeouts, throttling, a Retry-After in 2099) x each provider, sent for ever. For
# every cell: the run ends (before: it re-claimed the same tracks for ever), it exits 1
# (tracks failed), each track got a bounded number of attempts, every track asked got an
# outcome recorded and no claim is left. The matrix is printed as "# " lines (TAP
# comments) for the closing note.
. "$AF_PROJECT/tests/lib.sh"

world=$test_tmp/world
python3 "$AF_PROJECT/tests/integration/fetch_world.py" "$world" --extra 24 --small >/dev/null ||
    { echo "not ok - generate the test world"; exit 1; }
start_fakeapi "$world/world.json"
export SPOTIFY_CLIENT_ID=test-id SPOTIFY_CLIENT_SECRET=test-secret

max_retries=2
conf=$test_tmp/fetch.conf
{ fakeapi_conf; cat <<CONF; } >"$conf"
[fetch]
; Retries slower than the 0.5 s between saves, and more tracks (32) than claimed at
; once (12), as in production: the old loop re-claimed the failed tracks for ever.
retry_base_seconds = 0.3
retry_max_seconds = 0.6
throttle_pause_seconds = 0.05
max_retries = $max_retries
max_provider_pause_seconds = 3600
concurrency = 4
CONF

# fault_json FAULT PROVIDER: the fault as the fake server takes it (tests/fakeapi/server.py).
fault_json() {
    local prefix
    case $2 in
    spotify) prefix=/spotify/v1/search ;;
    deezer) prefix=/deezer/ ;;
    itunes) prefix=/itunes/ ;;
    esac
    case $1 in
    http503) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"status\": 503, \"body\": \"\"}" ;;
    reset) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"reset\": true}" ;;
    bad_json) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"status\": 200, \"body\": \"{\\\"data\\\": [\"}" ;;
    timeout) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"delay\": 2}" ;;
    throttled) # each service's own throttle signal
        case $2 in
        spotify) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"status\": 429, \"body\": \"{}\", \"headers\": {\"Retry-After\": \"1\"}}" ;;
        deezer) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"status\": 200, \"body\": \"{\\\"error\\\":{\\\"type\\\":\\\"Exception\\\",\\\"message\\\":\\\"Quota limit exceeded\\\",\\\"code\\\":4}}\"}" ;;
        itunes) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"status\": 403, \"body\": \"<html>Forbidden</html>\", \"content_type\": \"text/html\"}" ;;
        esac ;;
    retry_after_2099) echo "{\"prefix\": \"$prefix\", \"count\": 100000, \"status\": 429, \"body\": \"{}\", \"headers\": {\"Retry-After\": \"Thu, 01 Jan 2099 00:00:00 GMT\"}}" ;;
    esac
}

rows=()
# run_cell FAULT PROVIDER FAILURE_LIMIT
run_cell() {
        local fault=$1 provider=$2 limit=$3
        cell="$fault x $provider (failure limit $limit)"
        use_fresh_database "faults_${fault}_${provider}_$limit"
        af-db migrate >/dev/null 2>&1 || { echo "not ok - migrate ($cell)"; exit 1; }
        psql -Xq -v ON_ERROR_STOP=1 -f "$world/seed.sql" >/dev/null
        fakeapi_reset
        fakeapi_fault "$(fault_json "$fault" "$provider")"
        start=$(date +%s.%N)
        # --timeout 1 only where the fault is a delay: a short total timeout also cuts
        # transfers still queued for a connection.
        { cat "$conf"; echo "provider_failure_limit = $limit"; } >"$conf.$limit"
        run timeout 90 af-fetch --config "$conf.$limit" --provider "$provider" $([ "$fault" = timeout ] && echo --timeout 1)
        seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        requests=$(fakeapi_count "/$provider/$([ "$provider" = spotify ] && echo v1/)")
        max_attempts=$(sql "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM fetch_attempts WHERE provider = '$provider' GROUP BY track_id) a")
        asked=$(sql "SELECT count(DISTINCT track_id) FROM fetch_attempts WHERE provider = '$provider'")
        with_outcome=$(sql "SELECT count(*) FROM fetch_outcomes WHERE provider = '$provider'")
        outcomes=$(sql "SELECT string_agg(DISTINCT outcome, ',') FROM fetch_outcomes WHERE provider = '$provider'")
        [ "$status" -ne 124 ] && pass "$cell: the run ends (${seconds} s)" || fail "$cell: the run ends" "killed after 90 s"
        expect_status 1 "$cell: exit 1, tracks failed"
        [ "$max_attempts" -le $((max_retries + 3)) ] && pass "$cell: at most $((max_retries + 3)) attempts per track ($max_attempts)" ||
            fail "$cell: bounded attempts per track" "$max_attempts attempts"
        expect_eq "$asked" "$with_outcome" "$cell: every track asked has an outcome"
        [ "$with_outcome" -ge 1 ] && pass "$cell: outcome recorded ($outcomes)" || fail "$cell: outcome recorded"
        expect_eq 0 "$(sql "SELECT count(*) FROM fetch_claims")" "$cell: no claim left"
        expect_eq failed "$(sql "SELECT status FROM runs WHERE program = 'af-fetch' ORDER BY run_id DESC LIMIT 1")" "$cell: run recorded as failed"
        if [ "$fault" = retry_after_2099 ]; then
            expect_eq 1 "$(sql "SELECT count(*) FROM fetch_provider_pauses WHERE provider = '$provider' AND paused_until <= now() + interval '1 hour'")" \
                "$cell: the pause is capped at max_provider_pause_seconds"
        fi
        rows+=("$(printf '%-16s %-8s %5s %-5s %4s %6s %8s %8s %6s/%-6s %s' "$fault" "$provider" "$limit" \
            "$([ "$status" -ne 124 ] && echo yes || echo NO)" "$status" "$seconds" "$requests" "$max_attempts" \
            "$with_outcome" "$asked" "$outcomes")")
}
# A provider failing 4 times in a row is stopped for the run ...
for fault in http503 reset bad_json timeout throttled retry_after_2099; do
    for provider in spotify deezer itunes; do run_cell $fault $provider 4; done
done
# ... and without that stop (limit 1000) the run still ends: each track is taken once
# and tried max_retries + 1 times per provider.
for fault in http503 reset bad_json; do
    for provider in spotify deezer itunes; do run_cell $fault $provider 1000; done
done
echo "# fetch fault matrix (max_retries $max_retries, 32 tracks, 4 transfers at once; limit = provider_failure_limit)"
printf '# %-16s %-8s %5s %-5s %4s %6s %8s %8s %13s %s\n' fault provider limit ends exit secs requests "max/track" "outcome/asked" outcomes
for r in "${rows[@]}"; do echo "# $r"; done
