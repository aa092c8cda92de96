#!/usr/bin/env bash
# af-ingest lastfm against the fake Last.fm server (tests/fakeapi/lastfm.py): paging
# with a stored cursor, the JSON quirks, every error code, 429 and 5xx, slow,
# truncated and malformed responses, the response cache, idempotent re-runs, a
# resumed interrupted crawl, the rate limit, and the key never showing.
source "$AF_PROJECT/tests/lib.sh"

key="k3y-$$-never-shown"
python3 - "$test_tmp/world.json" "$key" <<'PY'
import json, sys
path, key = sys.argv[1], sys.argv[2]
tracks = []
# 120 blues tracks: pages of 50, 50, 20. Counts as numbers and as strings.
for i in range(120):
    tags = [{"name": "Blues", "count": 100}, {"name": "blues rock", "count": str(30 + i % 5)}]
    if i % 10 == 0:
        tags = [{"name": "blues", "count": "100"}]          # one tag: a bare object
    if i % 10 == 1:
        tags.append({"name": "Delta-Blues", "count": 0})
    t = {"artist": "Blues Artist %d" % (i // 3), "title": "Blues Song %d" % i,
         "duration": 180 + i, "listeners": 1000 - i, "tags": tags}
    if i % 2 == 0:
        t["mbid"] = "00000000-0000-0000-0000-%012d" % i   # odd ones: no mbid ("")
    tracks.append(t)
# 51 rock tracks: the second page has one track, sent as a bare object.
for i in range(51):
    tracks.append({"artist": "Rock Band %d" % i, "title": "Rock Song \u00e9 %d" % i, "duration": 200,
                   "listeners": 500 - i, "tags": [{"name": "rock", "count": 100}, {"name": "Hard Rock", "count": 40}]})
# A tag with 10 pages, for the interrupted crawl.
for i in range(500):
    tracks.append({"artist": "Jazz Cat %d" % i, "title": "Tune %d" % i, "duration": 300,
                   "listeners": 10000 - i, "tags": [{"name": "jazz", "count": 100}]})
# A known artist whose other track is unknown to Last.fm (empty tag list, HTTP 200).
tracks.append({"artist": "Known Artist", "title": "Known Song", "tags": []})
# Real-data cases (issues 17, 18), found by the "punk" tag or looked up directly: counts
# "NaN" and "Infinity"; a name only autocorrect=1 finds; the same MusicBrainz recording
# spelled differently; Last.fm's "[unknown]" placeholder artist.
tracks.append({"artist": "Nan Band", "title": "Not A Number", "tags": [
    {"name": "ska", "count": "NaN"}, {"name": "reggae", "count": "Infinity"}, {"name": "funk", "count": 100}]})
tracks.append({"artist": "Guns N' Roses", "title": "Sweet Child O' Mine", "tags": [{"name": "hard rock", "count": 100}],
               "misspellings": [{"artist": "guns and roses", "title": "sweet child of mine"}]})
tracks.append({"artist": "Beyonc\u00e9", "title": "Halo", "mbid": "11111111-2222-3333-4444-555555555555",
               "duration": 261, "tags": [{"name": "punk", "count": 100}]})
tracks.append({"artist": "[unknown]", "title": "Intro", "tags": [{"name": "punk", "count": 90}]})
json.dump({"lastfm": {"api_key": key, "suspended_keys": ["suspended-key"]}, "tracks": tracks},
          open(path, "w"))
PY
start_fakeapi "$test_tmp/world.json"
export LASTFM_API_KEY="$key"

cat >"$test_tmp/genres.conf" <<'CONF'
[blues]
seeds = blues
blues = 1
delta blues = 1
blues rock = 0.5
[rock]
seeds = rock
rock = 1
hard rock = 0.7
blues rock = 0.5
CONF
write_config() { # write_config [extra lines...]
    {
        echo "[lastfm]"
        echo "api_url = $fakeapi_url/2.0/"
        echo "requests_per_second = 0"
        echo "timeout_seconds = 1"
        echo "max_retries = 3"
        echo "backoff_seconds = 0.01"
        echo "rate_limit_pause_seconds = 0.05"
        echo "pages_per_tag = 100"
        for line in "$@"; do echo "$line"; done
        echo "[labels]"
        echo "genres_file = $test_tmp/genres.conf"
        echo "[http]"
        echo "allow_private_addresses = true"
    } >"$test_tmp/af.conf"
}
write_config
export AUDIOFILER_CONFIG="$test_tmp/af.conf"

use_fresh_database ingest_lastfm
run af-db migrate
expect_status 0 "af-db migrate"

counter() { sql "SELECT coalesce((counters->>'$1')::bigint, 0) FROM runs WHERE program = 'af-ingest' ORDER BY run_id DESC LIMIT 1"; }
requests() { fakeapi_count /2.0/; }
reset_crawl() { sql "DELETE FROM lastfm_crawl_cursors; DELETE FROM lastfm_responses" >/dev/null; fakeapi_reset; }

# --- a full crawl: paging, quirks, top tags ---
run af-ingest lastfm
expect_status 0 "the crawl succeeds"
expect_eq 171 "$(sql "SELECT count(*) FROM tracks")" "every track of both seed tags is stored (120 + 51)"
expect_eq "blues|4|3|120
rock|3|2|51" "$(sql "SELECT tag, next_page, total_pages, tracks_seen FROM lastfm_crawl_cursors ORDER BY tag")" \
    "the cursors record pages and totals"
expect_eq 5 "$(sql "SELECT count(*) FROM lastfm_responses WHERE method = 'tag.gettoptracks'")" \
    "five pages were asked for and cached"
expect_eq 171 "$(sql "SELECT count(*) FROM lastfm_tag_lookups WHERE outcome = 'tagged'")" \
    "track.getTopTags was asked for every new track"
expect_eq "Rock Band 50|Rock Song é 50" "$(sql "SELECT artist, title FROM tracks WHERE title = 'Rock Song é 50'")" \
    "a one-track page (a bare object, not a list) is parsed, UTF-8 intact"
expect_eq 1 "$(sql "SELECT count(*) FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.title = 'Blues Song 0'")" \
    "a one-tag answer (a bare object) gives one tag"
expect_eq 100 "$(sql "SELECT weight FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.title = 'Blues Song 0' AND tag = 'blues'")" \
    "a count sent as a string is read as a number"
expect_eq 0 "$(sql "SELECT weight FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.title = 'Blues Song 1' AND tag = 'Delta-Blues'")" \
    "a count of 0 is kept"
expect_eq "60|60" "$(sql "SELECT count(*) FILTER (WHERE musicbrainz_id IS NOT NULL), count(*) FILTER (WHERE musicbrainz_id IS NULL) FROM tracks WHERE title LIKE 'Blues Song%'")" \
    "an empty mbid is stored as none"
expect_eq 200 "$(sql "SELECT duration_seconds FROM tracks WHERE title = 'Rock Song é 0'")" \
    "duration (a string, in seconds) is stored"
expect_eq 171 "$(sql "SELECT count(*) FROM track_sources WHERE source = 'lastfm_api' AND source_key LIKE 'https://www.last.fm/music/%'")" \
    "each track's Last.fm URL is its source key"
expect_eq 176 "$(requests)" "176 requests: 5 pages and 171 track lookups"
expect_no "$key" "$err$out" "the API key never appears in the log"
expect_eq 0 "$(sql "SELECT count(*) FROM runs WHERE array_to_string(arguments, ' ') LIKE '%$key%'")" \
    "the API key is not in the run record"
expect_eq 0 "$(sql "SELECT count(*) FROM lastfm_responses WHERE request_key LIKE '%$key%'")" \
    "the API key is not in the response cache"

# --- idempotent re-run: nothing asked, nothing changed ---
before=$(sql "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM raw_tags), (SELECT count(*) FROM track_sources)")
fakeapi_reset
run af-ingest lastfm
expect_status 0 "a second run succeeds"
expect_eq 0 "$(requests)" "a second run asks the API nothing"
expect_eq "$before" "$(sql "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM raw_tags), (SELECT count(*) FROM track_sources)")" \
    "a second run changes no count"

# --- the response cache: a forgotten crawl is replayed from the database ---
sql "DELETE FROM lastfm_crawl_cursors; DELETE FROM lastfm_tag_lookups; DELETE FROM raw_tags" >/dev/null
fakeapi_reset
run af-ingest lastfm
expect_status 0 "a crawl replayed from the cache succeeds"
expect_eq 0 "$(requests)" "cached responses younger than cache_max_age_days are reused"
expect_eq 176 "$(counter cache_hits)" "every answer came from the cache"
expect_eq "$before" "$(sql "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM raw_tags), (SELECT count(*) FROM track_sources)")" \
    "the replay gives the same data"
sql "DELETE FROM lastfm_crawl_cursors" >/dev/null
write_config "cache_max_age_days = 0"
run af-ingest lastfm --tag rock --no-toptags
write_config
expect_eq 2 "$(requests)" "with cache_max_age_days = 0 the API is asked again"

# --- track.getTopTags: not found (error 6) and no tags ([]) ---
sql "INSERT INTO tracks (artist, title) VALUES ('Nobody At All', 'Nothing'), ('Known Artist', 'Unknown Song')" >/dev/null
fakeapi_reset
run af-ingest lastfm --no-crawl --all-untagged
expect_status 0 "lookups of unknown tracks succeed"
expect_eq "not_found" "$(sql "SELECT outcome FROM lastfm_tag_lookups l JOIN tracks t USING (track_id) WHERE t.artist = 'Nobody At All'")" \
    "error 6 is recorded as not found"
expect_eq 1 "$(sql "SELECT count(*) FROM ingest_problems WHERE problem = 'not_found' AND item LIKE '%Nobody At All - Nothing%' AND detail LIKE '%Track not found%'")" \
    "the not-found track is named in ingest_problems"
expect_err "Nobody At All - Nothing: not_found" "the not-found track is named in the log"
expect_eq "no_tags" "$(sql "SELECT outcome FROM lastfm_tag_lookups l JOIN tracks t USING (track_id) WHERE t.title = 'Unknown Song'")" \
    "an empty tag list ([]) is recorded as no tags"
fakeapi_reset
run af-ingest lastfm --no-crawl --all-untagged
expect_eq 0 "$(requests)" "not-found and tagless tracks are not asked again within the cache age"

# --- transient errors are retried ---
for code in 8 11 16; do
    reset_crawl
    fakeapi_fault "{\"prefix\": \"/2.0/\", \"count\": 2, \"status\": 200, \"body\": \"{\\\"error\\\": $code, \\\"message\\\": \\\"Temporary trouble\\\"}\"}"
    run af-ingest lastfm --tag rock --no-toptags
    expect_status 0 "error $code in an HTTP 200 body is retried"
    expect_eq 2 "$(counter retries)" "error $code: two retries counted"
    expect_eq 4 "$(requests)" "error $code: 2 failures + 2 pages"
done
for status in 500 502 503; do
    reset_crawl
    fakeapi_fault "{\"prefix\": \"/2.0/\", \"count\": 2, \"status\": $status, \"body\": \"<html>oops</html>\", \"content_type\": \"text/html\"}"
    run af-ingest lastfm --tag rock --no-toptags
    expect_status 0 "HTTP $status is retried"
    expect_eq 2 "$(sql "SELECT next_page - 1 FROM lastfm_crawl_cursors WHERE tag = 'rock'")" "HTTP $status: both pages fetched"
done
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 1, "status": 503, "body": "{\"error\": 16, \"message\": \"There was a temporary error processing your request\"}"}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 0 "an error body with HTTP 503 is retried"

# --- rate limiting: error 29 and HTTP 429 pause, then go on ---
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 2, "status": 200, "body": "{\"message\":\"Rate Limit Exceeded - This application has made too many requests in a short period.\",\"error\":29}"}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 0 "error 29 pauses and retries"
expect_eq 2 "$(counter rate_limited)" "error 29 is counted as rate limiting"
expect_err "asking too fast" "error 29 is reported"
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 1, "status": 429, "body": "{\"error\":29,\"message\":\"Rate Limit Exceeded\"}", "headers": {"Retry-After": "1"}}'
start=$(date +%s.%N)
run af-ingest lastfm --tag rock --no-toptags
elapsed=$(awk "BEGIN { print $(date +%s.%N) - $start }")
expect_status 0 "HTTP 429 pauses and retries"
if awk "BEGIN { exit !($elapsed >= 0.95) }"; then pass "HTTP 429 honours Retry-After (waited ${elapsed}s)"; else fail "HTTP 429 honours Retry-After" "waited only ${elapsed}s"; fi

# --- slow, truncated and malformed responses ---
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 1, "delay": 2.5}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 0 "a response slower than timeout_seconds is abandoned and retried"
expect_eq 1 "$(counter retries)" "the timeout counts one retry"
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 1, "truncate": true}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 0 "a truncated response is retried"
expect_eq 2 "$(sql "SELECT next_page - 1 FROM lastfm_crawl_cursors WHERE tag = 'rock'")" "after a truncated response both pages are stored"
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 1, "status": 200, "body": "{\"tracks\": {\"track\": [{\"name\": \"x\""}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 0 "a malformed JSON body is retried"
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 10, "status": 200, "body": "not json at all"}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 1 "a page that stays malformed fails the run (exit 1) ..."
expect_eq 1 "$(sql "SELECT count(*) FROM ingest_problems WHERE problem = 'request_failed' AND item = 'tag.getTopTracks tag=rock page=1' AND detail LIKE '%malformed%'")" \
    "... and is recorded with the reason"
expect_eq 0 "$(sql "SELECT count(*) FROM lastfm_crawl_cursors WHERE tag = 'rock'")" "... and the cursor does not move past it"
fakeapi_reset
run af-ingest lastfm --tag rock --no-toptags
expect_status 0 "the next run picks the failed page up again"
reset_crawl
fakeapi_fault '{"prefix": "/2.0/", "count": 10, "status": 500, "body": ""}'
run af-ingest lastfm --tag rock --no-toptags
expect_status 1 "persistent HTTP 500 gives up after max_retries (exit 1)"
expect_eq 4 "$(requests)" "max_retries = 3: four attempts"
expect_err "gave up after 4 attempts" "the give-up is logged"

# --- the key: invalid (10), suspended (26), missing ---
reset_crawl
LASTFM_API_KEY=wrong-key run af-ingest lastfm --tag rock
expect_status 6 "error 10 (invalid key) stops with exit 6"
expect_err "key in LASTFM_API_KEY is invalid" "error 10 says the key is invalid"
expect_no "wrong-key" "$err$out" "the rejected key is not printed"
LASTFM_API_KEY=suspended-key run af-ingest lastfm --tag rock
expect_status 6 "error 26 (suspended key) stops with exit 6"
expect_err "suspended" "error 26 says the key is suspended"
fakeapi_fault '{"prefix": "/2.0/", "count": 1, "status": 200, "body": "{\"error\":10,\"message\":\"Invalid API key - You must be granted a valid key by last.fm\",\"links\":[]}"}'
run af-ingest lastfm --tag rock
expect_status 6 "error 10 in an HTTP 200 body also stops with exit 6"
expect_eq failed "$(sql "SELECT status FROM runs ORDER BY run_id DESC LIMIT 1")" "the run is recorded as failed"
LASTFM_API_KEY= run af-ingest lastfm --tag rock
expect_status 2 "a missing LASTFM_API_KEY is a usage error"
expect_err "LASTFM_API_KEY is not set" "and says so"

# --- an interrupted crawl resumes from its cursor ---
reset_crawl
write_config "timeout_seconds = 10"
fakeapi_fault '{"prefix": "/2.0/", "match": "page=4&", "count": 1, "delay": 1.5}'
af-ingest lastfm --tag jazz --no-toptags >"$test_tmp/bg.out" 2>"$test_tmp/bg.err" &
bg=$!
for _ in $(seq 100); do
    curl -sf "$fakeapi_url/_control/requests" | grep -q 'page": "4"' && break
    sleep 0.05
done
kill -TERM $bg
wait $bg
status=$?
err=$(cat "$test_tmp/bg.err")
write_config
expect_status 0 "SIGTERM during the crawl: the page in flight is finished, exit 0"
expect_eq "5|10" "$(sql "SELECT next_page, total_pages FROM lastfm_crawl_cursors WHERE tag = 'jazz'")" \
    "the cursor points after the last committed page"
expect_eq interrupted "$(sql "SELECT status FROM runs ORDER BY run_id DESC LIMIT 1")" "the run is recorded as interrupted"
expect_eq 200 "$(sql "SELECT count(*) FROM tracks WHERE artist LIKE 'Jazz Cat %'")" "the four committed pages are stored"
fakeapi_reset
run af-ingest lastfm --tag jazz --no-toptags
expect_status 0 "the resumed crawl succeeds"
pages=$(curl -sf "$fakeapi_url/_control/requests" | python3 -c 'import json,sys; print(",".join(r["query"]["page"] for r in json.load(sys.stdin)))')
expect_eq "5,6,7,8,9,10" "$pages" "the resumed crawl starts at page 5"
expect_eq 500 "$(sql "SELECT count(*) FROM tracks WHERE artist LIKE 'Jazz Cat %'")" "all 500 tracks after resuming"

# --- the rate limit ---
reset_crawl
start=$(date +%s.%N)
run af-ingest lastfm --tag jazz --no-toptags --rate 5
elapsed=$(awk "BEGIN { print $(date +%s.%N) - $start }")
expect_status 0 "a crawl at 5 requests/s"
gaps=$(curl -sf "$fakeapi_url/_control/requests" | python3 -c '
import json, sys
t = [r["time"] for r in json.load(sys.stdin)]
print(min(b - a for a, b in zip(t, t[1:])))')
if awk "BEGIN { exit !($gaps >= 0.17) }"; then pass "requests are at least 0.2 s apart at 5/s (min gap ${gaps}s)"; else fail "requests are paced at 5/s" "min gap $gaps"; fi
if awk "BEGIN { exit !($elapsed >= 1.7) }"; then pass "10 requests at 5/s take about 2 s (${elapsed}s)"; else fail "10 requests at 5/s take about 2 s" "took $elapsed"; fi

# --- labelling what was crawled ---
run af-ingest label
expect_status 0 "the crawled tracks can be labelled"
expect_eq 120 "$(sql "SELECT count(*) FROM track_labels l JOIN genres g USING (genre_id) WHERE l.status = 'labelled' AND g.name = 'blues'")" \
    "the blues tracks are labelled blues"

# --- real-data cases (issues 17 and 18) ---
# A well-formed page of the wrong shape: not understood, so the cursor stays, the run
# fails (exit 1) and says why, and the next run asks for the page again.
for body in '{"tracks": {}}' '{"tracks": {"track": "Chop Suey!", "@attr": {"page": "1", "totalPages": "2"}}}' \
            '{"tracks": {"track": [{"title": "x", "by": "y"}], "@attr": {"page": "1", "totalPages": "2"}}}'; do
    reset_crawl
    fakeapi_fault "{\"prefix\": \"/2.0/\", \"count\": 1, \"status\": 200, \"body\": $(printf '%s' "$body" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}"
    run af-ingest lastfm --tag rock --no-toptags
    expect_status 1 "a page of the wrong shape fails the run: $body"
    expect_eq 0 "$(sql "SELECT count(*) FROM lastfm_crawl_cursors WHERE tag = 'rock'")" "... the cursor does not move"
    expect_err "tag.getTopTracks tag=rock page=1: malformed_response: .*wrong shape" "... and the log says why"
    expect_eq 1 "$(sql "SELECT count(*) FROM ingest_problems WHERE problem = 'malformed_response' AND item = 'tag.getTopTracks tag=rock page=1' AND detail LIKE '%wrong shape%' AND run_id = (SELECT max(run_id) FROM runs)")" \
        "... and records it"
    fakeapi_reset
    run af-ingest lastfm --tag rock --no-toptags
    expect_status 0 "... the next run succeeds"
    expect_eq "2|3|2" "$(requests)|$(sql "SELECT next_page, total_pages FROM lastfm_crawl_cursors WHERE tag = 'rock'")" \
        "... asking for the page again (the bad answer is not replayed from the cache)"
done

# Retry-After without an upper bound ("999999", a date in 2099) is capped and logged.
for retry in 999999 "Wed, 21 Oct 2099 07:28:00 GMT"; do
    reset_crawl
    write_config "max_pause_seconds = 1"
    fakeapi_fault "{\"prefix\": \"/2.0/\", \"count\": 1, \"status\": 429, \"body\": \"\", \"headers\": {\"Retry-After\": \"$retry\"}}"
    start=$(date +%s.%N)
    run timeout 60 af-ingest lastfm --tag rock --no-toptags
    elapsed=$(awk "BEGIN { print $(date +%s.%N) - $start }")
    write_config
    expect_status 0 "Retry-After: $retry is capped, the crawl goes on"
    if awk "BEGIN { exit !($elapsed >= 0.95 && $elapsed < 20) }"; then pass "Retry-After: $retry: paused max_pause_seconds (${elapsed}s)"
    else fail "Retry-After: $retry: paused max_pause_seconds" "took ${elapsed}s"; fi
    expect_err "capped at \[lastfm\] max_pause_seconds = 1 s" "Retry-After: $retry: the cap is logged"
    fakeapi_reset
done

# Counts "NaN" and "Infinity" are rejected when parsed (and recorded); the rest is stored.
sql "INSERT INTO tracks (artist, title) VALUES ('Nan Band', 'Not A Number')" >/dev/null
run af-ingest lastfm --no-crawl --all-untagged
expect_status 1 "a lookup with NaN and infinite counts stores the rest and exits 1 (values rejected)"
expect_err "1 request\\(s\\) failed for good or had values rejected" "the exit is explained"
expect_eq "funk:100" "$(sql "SELECT string_agg(tag || ':' || weight, ',') FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.artist = 'Nan Band'")" \
    "NaN and infinite counts are not stored, the valid tag is"
expect_eq 1 "$(sql "SELECT count(*) FROM ingest_problems WHERE problem = 'bad_tag_weight' AND item LIKE '%Nan Band - Not A Number%' AND detail LIKE '2 tag(s)%\"ska\": count NaN%'")" \
    "the rejected counts are an ingest problem naming the track"

# autocorrect=1: Last.fm's spelling is stored beside the original.
sql "INSERT INTO tracks (artist, title) VALUES ('guns and roses', 'sweet child of mine')" >/dev/null
fakeapi_reset
run af-ingest lastfm --no-crawl --all-untagged
expect_status 0 "a lookup by a misspelled name succeeds"
expect_eq "guns and roses|sweet child of mine|Guns N' Roses|Sweet Child O' Mine|hard rock" \
    "$(sql "SELECT t.artist, t.title, t.lastfm_artist, t.lastfm_title, r.tag FROM tracks t JOIN raw_tags r USING (track_id) WHERE t.artist = 'guns and roses'")" \
    "the corrected artist and title are kept beside the stored ones"
expect_eq 1 "$(curl -sf "$fakeapi_url/_control/requests" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["query"].get("autocorrect") == "1"))')" \
    "track.getTopTags is asked with autocorrect=1"
expect_eq "|" "$(sql "SELECT coalesce(lastfm_artist, '') || '|' || coalesce(lastfm_title, '') FROM tracks WHERE title = 'Blues Song 3'")" \
    "a track Last.fm knows by the same names has no correction"

# The mbid merges a track spelled differently; "[unknown]" is not an artist.
sql "INSERT INTO tracks (artist, title, musicbrainz_id) VALUES ('Beyonce Knowles', 'Halo', '11111111-2222-3333-4444-555555555555')" >/dev/null
run af-ingest lastfm --tag punk --no-toptags
expect_status 0 "a crawl with an mbid and an [unknown] artist succeeds"
expect_eq "1|Beyonce Knowles|lastfm_api" "$(sql "SELECT count(*) OVER (), t.artist, s.source FROM tracks t JOIN track_sources s USING (track_id) WHERE t.title = 'Halo'")" \
    "the Last.fm track with the same mbid is the stored track, not a new one"
expect_eq 0 "$(sql "SELECT count(*) FROM tracks WHERE artist = '[unknown]'")" "no track by \"[unknown]\" is stored"
expect_eq 1 "$(counter unknown_artist)" "the [unknown] item is counted"
