#!/usr/bin/env bash
# af-serve: the JSON API (status, search, predict by search / Deezer id / upload,
# preview, similar, correct) with its documented status codes, the page and nothing
# but its assets, request size and rate limits, the token off loopback; then the page
# in Debian's headless Chromium (tests/browser/serve.test.js, puppeteer-core): load,
# search against the fake providers, play, bars, per-window chart, nearest tracks, a
# correction that lands in the database.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/use_model.sh"
use_fresh_database serve
af-db migrate 2>/dev/null
tone_model "$test_tmp/audio" 32,8
expect_status 0 "af-train on the tone tracks"
world=$test_tmp/world
preview_world "$world"
unset SPOTIFY_CLIENT_ID SPOTIFY_CLIENT_SECRET AF_SERVE_TOKEN
printf '[serve]\nmax_upload_bytes = 1000000\nrequests_per_minute = 0\n' >>"$conf"

serve_pids=()
stop_servers() { for p in "${serve_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
cluster="" # a private PostgreSQL cluster, to restart under a running af-serve
stop_cluster() { [ -z "$cluster" ] || { "$AF_PROJECT/scripts/db" --dir "$cluster" stop >/dev/null 2>&1; rm -rf "$cluster"; }; }
trap 'stop_servers; stop_cluster; kill $fakeapi_pid 2>/dev/null; cleanup_lib' EXIT
# start_serve NAME [ARGS...]: starts af-serve on a free port; sets $url.
start_serve() {
    local name=$1
    shift
    rm -f "$test_tmp/$name.port"
    af-serve --port 0 --port-file "$test_tmp/$name.port" "$@" >"$test_tmp/$name.log" 2>&1 &
    serve_pids+=($!)
    for _ in $(seq 200); do [ -s "$test_tmp/$name.port" ] && break; sleep 0.05; done
    [ -s "$test_tmp/$name.port" ] || { echo "not ok - af-serve $name did not start"; cat "$test_tmp/$name.log"; return 1; }
    url="http://127.0.0.1:$(cat "$test_tmp/$name.port")"
}
# req METHOD PATH [curl args...]: sets $code and $body.
req() {
    local method=$1 path=$2
    shift 2
    code=$(curl -s --path-as-is -o "$test_tmp/body" -w '%{http_code}' -X "$method" "$@" "$url$path")
    body=$(tr -d '\0' <"$test_tmp/body")
}
json() { printf '%s' "$body" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

start_serve main || exit 1
main_url=$url
expect_eq "t" "$(grep -q 'listening on http://127.0.0.1:' "$test_tmp/main.log" && echo t)" "af-serve listens on 127.0.0.1 by default"

req GET /api/status
expect_eq "200 1 high,low,noise True" "$code $(json 'd["model"], ",".join(d["genres"]), d["similar"]')" "GET /api/status: model, genres, similar"
req GET /
expect_eq "200" "$code" "GET / serves the page"
expect_eq "t" "$(printf '%s' "$body" | grep -q '<script src="/assets/app.js">' && echo t)" "the page loads its script from af-serve itself"
expect_no 'https?://' "$(cat "$AF_PROJECT/serve/assets/index.html" "$AF_PROJECT/serve/assets/app.js" "$AF_PROJECT/serve/assets/style.css" | grep -v 'http://www.w3.org/2000/svg')" \
    "the assets load nothing from elsewhere (no CDN)"
req GET /assets/app.js
expect_eq "200" "$code" "GET /assets/app.js"
for path in /../Makefile /assets/../../Makefile /assets/%2e%2e/%2e%2e/Makefile /etc/passwd /assets/; do
    req GET "$path"
    expect_eq "404" "$code" "GET $path is refused (only the page's own files)"
done

# Predictions in parallel: three whose previews the fake providers send 4 s late each
# take about 4 s, not 8 or 12 (one thread per connection, one engine per request; a
# thread pool serialised two of three on one thread, often).
fakeapi_fault '{"prefix": "/previews/", "count": 3, "delay": 4}'
par_pids=()
for q in "deezer_id=701" "deezer_id=702" "q=Low%20Band%20-%20Deep%20Tone&pick=2"; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$url/api/predict?$q" >"$test_tmp/par.${#par_pids[@]}" &
    par_pids+=($!)
done
wait "${par_pids[@]}"
par=$(cat "$test_tmp"/par.*)
expect_eq "200 200 200" "$(printf '%s\n' "$par" | awk '{printf "%s%s", (NR > 1 ? " " : ""), $1}')" "three slow predictions at once answer"
expect_eq "t" "$(printf '%s\n' "$par" | awk '{ if ($2 < 4 || $2 > 7) bad = 1 } END { print (bad ? "f" : "t") }')" \
    "each took the provider's 4 s, none waited for another ($(printf '%s' "$par" | awk '{printf "%s ", $2}')s)"
fakeapi_reset

req GET "/api/search?q=Low%20Band%20-%20Deep%20Tone"
expect_eq "200 3 deezer 701 True" "$code $(json 'len(d["candidates"]), d["candidates"][0]["provider"], d["candidates"][0]["id"], d["candidates"][0]["preview"]')" \
    "GET /api/search lists the providers' candidates, best first"
req GET /api/search
expect_eq "400" "$code" "GET /api/search without q: 400"

req GET "/api/predict?q=Low%20Band%20-%20Deep%20Tone"
expect_eq "200" "$code" "GET /api/predict?q= classifies the found preview"
expect_eq "deezer 701 10 3 8 /api/preview?key=deezer:701" \
    "$(json 'd["track"]["provider"], d["track"]["id"], len(d["windows"]), len(d["windows"][0]["probabilities"]), len(d["similar"]), d["preview"]["url"]')" \
    "the answer has the track, 10 windows of 3 genres, 8 nearest tracks and the preview's URL"
expect_eq "True" "$(json 'abs(sum(d["probabilities"].values()) - 1) < 0.01')" "the probabilities sum to 1"
expect_eq "https://e-cdns-images.dzcdn.net/images/cover/48ae26b1d898c9825d1c0ef9b9e9e49a/250x250-000000-80-0-0.jpg" \
    "$(json 'd["track"]["cover"]')" "the album cover comes from Deezer's md5_image"
req GET "/api/preview?key=deezer:701"
expect_eq "200 481533" "$code $(stat -c %s "$test_tmp/body")" "GET /api/preview serves the cached preview"
before=$(fakeapi_count /previews/)
req GET "/api/predict?q=Low%20Band%20-%20Deep%20Tone"
expect_eq "$before" "$(fakeapi_count /previews/)" "a second prediction reuses the cached preview"
req GET "/api/preview?key=deezer:999"
expect_eq "404" "$code" "an uncached preview: 404"
req GET "/api/predict?deezer_id=702"
expect_eq "200 High Band" "$code $(json 'd["track"]["artist"]')" "GET /api/predict?deezer_id="
req GET "/api/predict?q=Low%20Band%20-%20Deep%20Tone&pick=2"
expect_eq "200 itunes https://is1-ssl.mzstatic.com/image/thumb/Music/v4/801/source/100x100bb.jpg" \
    "$code $(json 'd["track"]["provider"], d["track"]["cover"]')" "pick=2 takes the second candidate, with iTunes' artwork"

# Concurrency: a prediction whose preview the fake iTunes sends only after 3 s holds one
# connection and one engine; meanwhile the page, /api/similar and /api/status answer at once.
fakeapi_fault '{"prefix": "/previews/", "count": 1, "delay": 3}'
curl -s -o "$test_tmp/slow.json" -w '%{http_code} %{time_total}' \
    "$url/api/predict?q=High%20Band%20-%20Bright%20Tone&pick=2" >"$test_tmp/slow.out" &
slow_pid=$!
sleep 0.5
fast=$(for path in / "/api/similar?track=1&k=3" /api/status /assets/app.js; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$url$path"; done)
expect_eq "200 200 200 200" "$(printf '%s\n' "$fast" | awk '{printf "%s%s", (NR > 1 ? " " : ""), $1}')" \
    "the page, similar, status and an asset answer during a slow prediction"
expect_eq "t" "$(printf '%s\n' "$fast" | awk '{ if ($2 > 1.0) slow = 1 } END { print slow ? "f" : "t" }')" \
    "each of them within 1 s, not after the slow prediction ($(printf '%s' "$fast" | awk '{printf "%s ", $2}')s)"
expect_eq "t" "$(kill -0 $slow_pid 2>/dev/null && echo t)" "the slow prediction was still running then"
wait $slow_pid
expect_eq "200 itunes 802" "$(cut -d' ' -f1 "$test_tmp/slow.out") $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["track"]["provider"], d["track"]["id"])' "$test_tmp/slow.json")" \
    "the slow prediction answers too"
expect_eq "t" "$(awk '{ print (($2 >= 3) ? "t" : "f") }' "$test_tmp/slow.out")" "it took the provider's 3 s"
req GET "/api/predict?q=Nobody%20-%20Nothing"
expect_eq "404" "$code" "no match: 404"
req GET "/api/predict?q=Short%20One%20-%20Tiny"
expect_eq "422" "$code" "an unusable preview: 422"
expect_eq "True" "$(json '"too_short" in d["error"]')" "the error says why"
req GET "/api/predict?deezer_id=abc"
expect_eq "400" "$code" "a malformed deezer_id: 400"
# pick: a candidate's number, as the CLI's --pick (was: 0, abc and 2x taken as the best match or 2).
for pick in 0 abc 2x -1 9; do
    req GET "/api/predict?q=Low%20Band%20-%20Deep%20Tone&pick=$pick"
    expect_eq "400 True" "$code $(json '"pick" in d["error"]')" "pick=$pick: 400 saying why"
done
req GET "/api/similar?track=1&k=3x"
expect_eq "400" "$code" "k=3x: 400"

req POST /api/predict --data-binary "@$test_tmp/audio/low1.wav" -H 'Content-Type: application/octet-stream'
expect_eq "200 3" "$code $(json 'len(d["windows"])')" "POST /api/predict classifies an uploaded file"
req POST /api/predict --data-binary "@$AF_PROJECT/Makefile"
expect_eq "422" "$code" "an upload that is not audio: 422"
req POST /api/predict
expect_eq "400" "$code" "an empty upload: 400"
head -c 1500000 /dev/zero >"$test_tmp/big.bin"
req POST /api/predict --data-binary "@$test_tmp/big.bin"
expect_eq "413" "$code" "an upload above max_upload_bytes: 413"

req GET "/api/similar?track=1&k=3"
expect_eq "200 3 low" "$code $(json 'len(d["similar"]), d["similar"][0]["label"]')" "GET /api/similar lists the nearest tracks"
req GET "/api/similar?track=999"
expect_eq "404" "$code" "an unknown track: 404"
req GET "/api/similar?track=abc"
expect_eq "400" "$code" "a malformed track: 400"

req POST /api/correct -H 'Content-Type: application/json' -d '{"track_id": 2, "genre": "noise", "by": "api test", "note": "hiss"}'
expect_eq "201 2 noise" "$code $(json 'd["track_id"], d["genre"]')" "POST /api/correct records a correction: 201"
expect_eq "noise|api test|hiss|web" "$(sql "SELECT g.name, corrected_by, note, origin FROM label_corrections JOIN genres g USING (genre_id) WHERE track_id = 2")" \
    "the correction is in the database (origin web)"
req POST /api/correct -H 'Content-Type: application/json' \
    -d '{"track": {"provider": "deezer", "id": "702", "artist": "High Band", "title": "Bright Tone"}, "genre": "high", "by": "api test"}'
new=$(json 'd["track_id"]')
expect_eq "201" "$code" "a correction of a song outside the collection: 201"
expect_eq "High Band|Bright Tone|702|web|deezer:702|high" \
    "$(sql "SELECT t.artist, t.title, t.deezer_id, s.source, s.source_key, g.name FROM tracks t JOIN track_sources s USING (track_id) JOIN label_corrections c USING (track_id) JOIN genres g ON g.genre_id = c.genre_id WHERE t.track_id = $new")" \
    "the song joins the collection (source web) with its correction"
req POST /api/correct -H 'Content-Type: application/json' \
    -d '{"track": {"provider": "deezer", "id": "702", "artist": "High Band", "title": "Bright Tone"}, "genre": "noise", "by": "api test"}'
expect_eq "201 $new" "$code $(json 'd["track_id"]')" "a second correction finds the added track again"
json_type=(-H 'Content-Type: application/json')
req POST /api/correct "${json_type[@]}" -d '{"track_id": 2, "genre": "polka", "by": "x"}'
expect_eq "400" "$code" "an unknown genre: 400"
req POST /api/correct "${json_type[@]}" -d '{"track_id": 2, "genre": "low"}'
expect_eq "400" "$code" "a correction without a name: 400"
req POST /api/correct "${json_type[@]}" -d '{"track_id": 424242, "genre": "low", "by": "x"}'
expect_eq "404" "$code" "a correction of an unknown track: 404"
req POST /api/correct "${json_type[@]}" -d 'not json'
expect_eq "400" "$code" "a body that is not JSON: 400"

# A song outside the collection is checked before it becomes a track (was: 201 with an
# empty artist and title, source_key 'deezer:'; a Deezer id 'abc' stored as NULL).
web_tracks=$(sql "SELECT count(*) FROM track_sources WHERE source = 'web'")
bad_track() { # bad_track TRACK_JSON FIELD NAME
    req POST /api/correct "${json_type[@]}" -d "{\"track\": $1, \"genre\": \"low\", \"by\": \"api test\"}"
    expect_eq "400 t" "$code $(json '"t" if d["error"].startswith("track.'"$2"':") else d["error"]')" "$3: 400 naming track.$2"
}
bad_track '{"provider": "deezer", "id": "", "artist": "", "title": ""}' id "an empty id"
bad_track '{"provider": "deezer", "id": "abc", "artist": "High Band", "title": "Bright Tone"}' id "a Deezer id that is not a number"
bad_track '{"provider": "itunes", "id": "80 2", "artist": "High Band", "title": "Bright Tone"}' id "an iTunes id that is not a number"
bad_track '{"provider": "spotify", "id": "sp-4", "artist": "Spot Only", "title": "Green Tone"}' id "a Spotify id that is not base 62"
bad_track '{"provider": "deezer", "id": "1234567890123456789", "artist": "High Band", "title": "Bright Tone"}' id "a Deezer id beyond bigint"
bad_track '{"provider": "deezer", "id": "702", "artist": "  ", "title": "Bright Tone"}' artist "an artist of blanks"
bad_track '{"provider": "deezer", "id": "702", "artist": "High Band"}' title "no title"
bad_track '{"provider": "deezer", "id": "702", "artist": "High Band", "title": "Bright\nTone"}' title "a control character in the title"
bad_track "{\"provider\": \"deezer\", \"id\": \"702\", \"artist\": \"$(printf 'x%.0s' $(seq 301))\", \"title\": \"T\"}" artist "an artist of 301 characters"
bad_track '{"provider": "napster", "id": "702", "artist": "High Band", "title": "Bright Tone"}' provider "an unknown provider"
bad_track '{"id": "702", "artist": "High Band", "title": "Bright Tone"}' provider "no provider"
bad_track '{"provider": "deezer", "id": "702", "artist": "High Band", "title": "Bright Tone", "isrc": "US-1"}' isrc "a malformed ISRC"
expect_eq "$web_tracks" "$(sql "SELECT count(*) FROM track_sources WHERE source = 'web'")" "no track was added by them"
req POST /api/correct "${json_type[@]}" \
    -d '{"track": {"provider": "spotify", "id": "sp4", "artist": " Spot Only ", "title": "Green Tone\t"}, "genre": "low", "by": "api test"}'
expect_eq "201 Spot Only|Green Tone|sp4|spotify:sp4" \
    "$code $(sql "SELECT t.artist, t.title, t.spotify_id, s.source_key FROM tracks t JOIN track_sources s USING (track_id) WHERE s.source_key = 'spotify:sp4'")" \
    "a valid song is added with its artist and title trimmed"

# CSRF: a page elsewhere must not have the browser record corrections here (was: 201).
req POST /api/correct -H 'Origin: https://evil.example' -H 'Content-Type: text/plain' -d '{"track_id": 5, "genre": "noise", "by": "evil"}'
expect_eq "403" "$code" "a correction from another site's page (Origin): 403"
req POST /api/correct -H 'Origin: https://evil.example' "${json_type[@]}" -d '{"track_id": 5, "genre": "noise", "by": "evil"}'
expect_eq "403" "$code" "even as JSON: 403"
req POST /api/predict -H 'Origin: https://evil.example' --data-binary "@$test_tmp/audio/low1.wav"
expect_eq "403" "$code" "an upload from another site's page: 403"
req POST /api/correct -H 'Content-Type: text/plain' -d '{"track_id": 5, "genre": "noise", "by": "evil"}'
expect_eq "415 True" "$code $(json '"application/json" in d["error"]')" "a correction not sent as JSON: 415, saying what to send"
req POST /api/correct -d '{"track_id": 5, "genre": "noise", "by": "evil"}'
expect_eq "415" "$code" "a form-encoded one (curl's default): 415"
expect_eq 0 "$(sql "SELECT count(*) FROM label_corrections WHERE corrected_by = 'evil'")" "none of them was recorded"
req POST /api/correct -H "Origin: $url" -H 'Content-Type: application/json; charset=utf-8' -d '{"track_id": 5, "genre": "noise", "by": "same origin"}'
expect_eq "201" "$code" "from the page's own origin, as JSON with a charset: 201"
port=${url##*:}
req POST /api/correct -H "Origin: http://localhost:$port" -H "Host: localhost:$port" "${json_type[@]}" -d '{"track_id": 5, "genre": "low", "by": "same origin"}'
expect_eq "201" "$code" "from the origin of the Host asked for (localhost): 201"
req POST /api/correct -H "Origin: http://localhost:$port" "${json_type[@]}" -d '{"track_id": 5, "genre": "low", "by": "evil"}'
expect_eq "403" "$code" "from another port or host than asked for: 403"
expect_eq "t" "$(grep -q '"Content-Type": "application/json"' "$AF_PROJECT/serve/assets/app.js" && echo t)" \
    "the page sends its corrections as JSON"

# DNS rebinding: a page on a name its owner points at 127.0.0.1 reaches the loopback
# server as its own origin; its requests name that name in Host and are refused.
req GET /api/status -H "Host: rebind.example:$port"
expect_eq "403 True" "$code $(json '"loopback" in d["error"]')" "a loopback server refuses a request for another Host name"
req POST /api/correct -H "Origin: http://rebind.example:$port" -H "Host: rebind.example:$port" "${json_type[@]}" \
    -d '{"track_id": 5, "genre": "noise", "by": "rebind"}'
expect_eq "403" "$code" "also a correction that looks same-origin"
for host in "localhost:$port" "127.0.0.1:$port" "127.0.0.1" "[::1]:$port" "LOCALHOST"; do
    req GET /api/status -H "Host: $host"
    expect_eq "200" "$code" "Host $host is answered"
done
for host in "127.0.0.1.rebind.example" "localhost.rebind.example:$port" "[::1" "127.0.0.1:80x"; do
    req GET /api/status -H "Host: $host"
    expect_eq "403" "$code" "Host $host is refused"
done

# 405 says what is allowed.
allow() { req "$1" "$2" -D "$test_tmp/headers"; allowed=$(tr -d '\r' <"$test_tmp/headers" | sed -n 's/^Allow: //Ip'); }
allow GET /api/correct
expect_eq "405 POST" "$code $allowed" "GET /api/correct: 405 with Allow: POST"
allow DELETE /api/predict
expect_eq "405 GET, HEAD, POST" "$code $allowed" "DELETE /api/predict: 405 with Allow"
allow POST /api/status
expect_eq "405 GET, HEAD" "$code $allowed" "POST /api/status: 405 with Allow"
allow PUT /index.html
expect_eq "405 GET, HEAD" "$code $allowed" "PUT on the page: 405 with Allow"
req GET /api/nothing
expect_eq "404" "$code" "an unknown API route: 404"

# Rate limit per client.
sed 's/^requests_per_minute = 0$/requests_per_minute = 3/' "$conf" >"$test_tmp/slow_all.conf"
AUDIOFILER_CONFIG="$test_tmp/slow_all.conf" start_serve slow
codes=""
for i in 1 2 3 4; do req GET /api/status; codes="$codes$code "; done
expect_eq "200 200 200 429 " "$codes" "beyond requests_per_minute: 429"

# Off loopback: a token is required to start, and for corrections.
run af-serve --listen 0.0.0.0 --port 0
expect_status 2 "listening beyond loopback without AF_SERVE_TOKEN exits 2"
expect_err "needs AF_SERVE_TOKEN" "the missing token is explained"
AF_SERVE_TOKEN=0123456789abcdef-secret start_serve open --listen 0.0.0.0
req POST /api/correct "${json_type[@]}" -d '{"track_id": 3, "genre": "noise", "by": "x"}'
expect_eq "401" "$code" "off loopback, a correction without the token: 401"
req POST /api/correct -H 'Authorization: Bearer wrong-token-wrong-token' "${json_type[@]}" -d '{"track_id": 3, "genre": "noise", "by": "x"}'
expect_eq "401" "$code" "a wrong token: 401"
req POST /api/correct -H 'Authorization: Bearer 0123456789abcdef-secret' "${json_type[@]}" -d '{"track_id": 3, "genre": "noise", "by": "x"}'
expect_eq "201" "$code" "the right token: 201"
expect_no "0123456789abcdef-secret" "$(cat "$test_tmp/open.log"; sql "SELECT arguments::text FROM runs")" "the token is never logged"

# Starting: a port file that cannot be written, or a port in use, is an error that
# says so (was: the first ignored, the server running while a script waited for the
# file forever; the second "Failed to bind to port 0" and "...: Success").
for bad in /nonexistent/af-serve.port "$test_tmp"; do
    run timeout 60 af-serve --port 0 --port-file "$bad"
    expect_status 1 "--port-file $bad that cannot be written: exit 1"
    expect_err "port-file $bad: cannot create" "the error names the file"
done
used=${main_url##*:}
run timeout 60 af-serve --port "$used"
expect_status 1 "a port in use: exit 1"
expect_eq "1 t" "$(printf '%s\n' "$err" | grep -c .) $(printf '%s' "$err" | grep -q "cannot listen on 127.0.0.1:$used: Address already in use" && echo t)" \
    "one line names the address, the port and the reason"

# The help says what --model default does when no model is marked default.
run af-serve --help
expect_no "first finished one" "$out" "the help does not promise a fallback model"
expect_out "with none marked" "the help says af-serve does not start without a default model"
sql "UPDATE models SET is_default = false" >/dev/null
run timeout 60 af-serve --port 0
sql "UPDATE models SET is_default = true WHERE model_id = 1" >/dev/null
expect_eq "1 t" "$status $(printf '%s' "$err" | grep -q 'no default model' && echo t)" "as it does: no default model, exit 1"

# The database restarts under a running af-serve: the next request reconnects (was: 503
# "no connection to the server" for every request until af-serve restarted, while
# /api/status said all was well).  On a private cluster with a copy of this database,
# so that it can be restarted even when tests/run uses an external server.
cluster=$(mktemp -d /tmp/af-serve-pg.XXXXXX)
chmod 755 "$cluster" # run as root, the cluster belongs to the audiofiler user
restart_db() { "$AF_PROJECT/scripts/db" --dir "$cluster" stop >/dev/null && "$AF_PROJECT/scripts/db" --dir "$cluster" start >/dev/null; }
"$AF_PROJECT/scripts/db" --dir "$cluster" start >/dev/null || { echo "not ok - start a private cluster"; exit 1; }
private="host=$cluster/run port=5432 dbname=audiofiler user=audiofiler"
pg_dump -Fc --no-owner --no-privileges >"$test_tmp/serve.dump" &&
    pg_restore --no-owner --no-privileges -d "$private" "$test_tmp/serve.dump" 2>"$test_tmp/restore.err" ||
    { echo "not ok - copy the database to the private cluster"; cat "$test_tmp/restore.err"; exit 1; }
start_serve restart --db "$private" || exit 1
restart_pid=${serve_pids[-1]}
req GET "/api/similar?track=1&k=3"
expect_eq "200" "$code" "af-serve on the private cluster answers"
restart_db
req GET "/api/similar?track=1&k=3"
expect_eq "200 3" "$code $(json 'len(d["similar"])')" "the database restarted: the next request reconnects and answers"
par_pids=()
for i in 1 2 3 4; do
    curl -s -o /dev/null -w '%{http_code}\n' "$url/api/similar?track=1&k=3" >"$test_tmp/engine.$i" &
    par_pids+=($!)
done
wait "${par_pids[@]}"
expect_eq "200 200 200 200" "$(cat "$test_tmp"/engine.* | xargs)" "so do four requests at once (every engine reconnects)"
req POST /api/correct "${json_type[@]}" -d '{"track_id": 6, "genre": "low", "by": "after restart"}'
expect_eq "201" "$code" "a correction after the restart: 201"
expect_eq "t" "$(grep -q 'the database connection was lost; re-established it' "$test_tmp/restart.log" && echo t)" \
    "the log says the connection was lost and re-established"
"$AF_PROJECT/scripts/db" --dir "$cluster" stop >/dev/null
req GET /api/status
expect_eq "503 False False" "$code $(json 'd["database"], d["similar"]')" "with the database down, /api/status says so: 503"
req GET "/api/similar?track=1&k=3"
expect_eq "503" "$code" "and a request that needs it: 503"
expect_eq "t" "$(grep -q 'lost the database connection' "$test_tmp/restart.log" && echo t)" "the log says the connection is lost"
"$AF_PROJECT/scripts/db" --dir "$cluster" start >/dev/null
req GET /api/status
expect_eq "200 True True" "$code $(json 'd["database"], d["similar"]')" "back up: /api/status 200, database and similar true"
restart_db
kill "$restart_pid"
wait "$restart_pid"
expect_eq "interrupted" "$(psql -XAtq -d "$private" -c "SELECT status FROM runs WHERE program = 'af-serve' AND pid = $restart_pid")" \
    "stopped after another restart, af-serve still records the end of its run"

# The page in a real browser.
if [ ! -d "$AF_PROJECT/tests/browser/node_modules/puppeteer-core" ]; then
    (cd "$AF_PROJECT/tests/browser" && npm ci --no-audit --no-fund >"$test_tmp/npm.log" 2>&1) ||
        { echo "not ok - npm ci in tests/browser"; cat "$test_tmp/npm.log"; exit 1; }
fi
run node "$AF_PROJECT/tests/browser/serve.test.js" "$main_url" "$test_tmp/page.png"
expect_status 0 "the browser test ran"
printf '%s\n' "$out" | grep -E '^(ok|not ok|#)'
expect_eq "browser test|Low Band|Deep Tone" \
    "$(sql "SELECT c.corrected_by, t.artist, t.title FROM label_corrections c JOIN tracks t USING (track_id) WHERE c.corrected_by = 'browser test' AND c.cleared_at IS NULL")" \
    "the correction made on the page is in the database"
[ -n "${AF_SCREENSHOT:-}" ] && cp "$test_tmp/page.png" "$AF_SCREENSHOT"
true
