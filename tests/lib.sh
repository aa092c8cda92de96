# tests/lib.sh — helpers for integration tests (sourced). Each check prints
# "ok - NAME" or "not ok - NAME" with details; tests/run counts them.
#
#   run CMD...                     runs CMD; sets $status, $out (stdout), $err (stderr)
#   expect_status N NAME           the last run exited with N
#   expect_out PATTERN NAME        stdout matches the extended regex
#   expect_err PATTERN NAME        stderr matches the extended regex
#   expect_no PATTERN TEXT NAME    TEXT does not contain PATTERN
#   expect_eq EXPECTED ACTUAL NAME
#   use_fresh_database NAME        creates database af_test_NAME_<pid> and points PGDATABASE at it
#   sql QUERY                      prints the result of QUERY in the current database
set -u
: "${AF_BIN:?AF_BIN must name the directory of the programs}"
: "${AF_PROJECT:?AF_PROJECT must name the project}"
PATH="$AF_BIN:$PATH"
test_tmp=$(mktemp -d /tmp/af-it.XXXXXX)
created_databases=()
cleanup_lib() {
    for db in "${created_databases[@]}"; do dropdb --if-exists "$db" >/dev/null 2>&1; done
    rm -rf "$test_tmp"
}
trap cleanup_lib EXIT

run() {
    "$@" >"$test_tmp/out" 2>"$test_tmp/err"
    status=$?
    out=$(cat "$test_tmp/out")
    err=$(cat "$test_tmp/err")
}

pass() { echo "ok - $1"; }
fail() {
    echo "not ok - $1"
    shift
    for line in "$@"; do printf '#   %s\n' "$line"; done
    printf '#   stderr: %s\n' "$(printf '%s' "$err" | head -c 600)"
}

expect_status() {
    if [ "$status" -eq "$1" ]; then pass "$2"; else fail "$2" "expected exit $1, got $status"; fi
}
expect_out() {
    if printf '%s' "$out" | grep -Eq -- "$1"; then pass "$2"; else fail "$2" "stdout lacks /$1/: $(printf '%s' "$out" | head -c 400)"; fi
}
expect_err() {
    if printf '%s' "$err" | grep -Eq -- "$1"; then pass "$2"; else fail "$2" "stderr lacks /$1/"; fi
}
expect_no() {
    if printf '%s' "$2" | grep -Eq -- "$1"; then fail "$3" "found /$1/"; else pass "$3"; fi
}
expect_eq() {
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "expected '$1', got '$2'"; fi
}

use_fresh_database() {
    local name="af_test_${1}_$$"
    dropdb --if-exists "$name" >/dev/null 2>&1
    createdb "$name" || { echo "not ok - create database $name"; exit 1; }
    created_databases+=("$name")
    export PGDATABASE="$name"
}

# use_migrated_database NAME: a fresh database with the current schema.
use_migrated_database() {
    use_fresh_database "$1"
    af-db migrate 2>"$test_tmp/migrate.err" || { echo "not ok - af-db migrate"; cat "$test_tmp/migrate.err"; exit 1; }
}

sql() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# start_fakeapi WORLD_JSON: starts tests/fakeapi/server.py on a free port; sets
# $fakeapi_url (http://127.0.0.1:PORT) and stops the server when the test ends.
start_fakeapi() {
    local port_file="$test_tmp/fakeapi.port"
    rm -f "$port_file"
    python3 "$AF_PROJECT/tests/fakeapi/server.py" --world "$1" --port 0 --port-file "$port_file" \
        >"$test_tmp/fakeapi.log" 2>&1 &
    fakeapi_pid=$!
    for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
    [ -s "$port_file" ] || { echo "not ok - fake API server did not start"; cat "$test_tmp/fakeapi.log"; exit 1; }
    fakeapi_url="http://127.0.0.1:$(cat "$port_file")"
    trap 'kill $fakeapi_pid 2>/dev/null; cleanup_lib' EXIT
}

# start_demo_fakeapi DIR ARTISTS SECONDS NAME: a demo world (scripts/demo-world: jazz and
# metal, ARTISTS artists with one SECONDS-long track each) in DIR; exports the API keys
# its fake server then demands (LASTFM_API_KEY, SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET,
# made from NAME and the pid) and starts the server on it (start_fakeapi).
start_demo_fakeapi() {
    local dir=$1 artists=$2 seconds=$3 name=$4
    python3 "$AF_PROJECT/scripts/demo-world" -q --genres jazz,metal --artists "$artists" \
        --tracks-per-artist 1 --seconds "$seconds" --jobs 2 "$dir" ||
        { echo "not ok - generate the demo world"; exit 1; }
    export LASTFM_API_KEY="$name-key-$$" SPOTIFY_CLIENT_ID="$name-id" SPOTIFY_CLIENT_SECRET="$name-secret-$$"
    python3 - "$dir/world.json" <<'PY'
import json, os, sys
w = json.load(open(sys.argv[1]))
w["lastfm"] = {"api_key": os.environ["LASTFM_API_KEY"]}
w["spotify_credentials"] = {"id": os.environ["SPOTIFY_CLIENT_ID"], "secret": os.environ["SPOTIFY_CLIENT_SECRET"]}
json.dump(w, open(sys.argv[1], "w"))
PY
    start_fakeapi "$dir/world.json"
}

# fakeapi_conf [URL [REQUESTS_PER_SECOND]]: prints the configuration sections that point
# Last.fm, Spotify, Deezer and iTunes at the fake server (default $fakeapi_url), with
# [http] allowing its private address; the three preview providers take
# REQUESTS_PER_SECOND (default 0: unthrottled).  A test appends its own sections (a key
# given again later in the file wins).
fakeapi_conf() {
    local url=${1:-$fakeapi_url} rps=${2:-0}
    cat <<CONF
[http]
; the fake APIs are on loopback / the test hosts' private addresses
allow_private_addresses = true
[lastfm]
api_url = $url/2.0/
requests_per_second = 0
[spotify]
accounts_url = $url/spotify/accounts/api/token
api_url = $url/spotify/v1
requests_per_second = $rps
[deezer]
api_url = $url/deezer
requests_per_second = $rps
[itunes]
api_url = $url/itunes
requests_per_second = $rps
CONF
}

# fakeapi_fault JSON: injects a fault (see tests/fakeapi/server.py).
fakeapi_fault() { curl -sf -X POST -d "$1" "$fakeapi_url/_control/fault" >/dev/null; }
fakeapi_reset() { curl -sf -X POST "$fakeapi_url/_control/reset" >/dev/null; }
# fakeapi_count PATH_PREFIX: how many requests the server saw under that path.
fakeapi_count() {
    curl -sf "$fakeapi_url/_control/requests" |
        python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["path"].startswith(sys.argv[1])))' "$1"
}

# add_track_with_audio TRACK_ID FILE [ARTIST TITLE]: a track whose stored audio is FILE
# (as af-ingest dir or af-fetch would leave it), written with client-side \copy so it
# works against any server.
add_track_with_audio() {
    local id=$1 file=$2 artist=${3:-Artist $1} title=${4:-Title $1}
    local sha hex
    sha=$(sha256sum "$file" | cut -c1-64)
    hex=$(od -An -v -tx1 "$file" | tr -d ' \n')
    printf '\\\\x%s\t\\\\x%s\t%s\n' "$sha" "$hex" "$(stat -c %s "$file")" >"$test_tmp/audio.copy"
    psql -XAtq -v ON_ERROR_STOP=1 \
        -c "CREATE TEMP TABLE audio_in (sha256 bytea, bytes bytea, size_bytes int)" \
        -c "\\copy audio_in FROM '$test_tmp/audio.copy'" \
        -c "INSERT INTO audio (sha256, bytes, size_bytes) SELECT * FROM audio_in ON CONFLICT DO NOTHING" \
        -c "INSERT INTO tracks (track_id, artist, title) VALUES ($id, '$artist', '$title')" \
        -c "INSERT INTO track_audio (track_id, sha256, origin) SELECT $id, sha256, 'folder' FROM audio_in"
}

# add_tracks_sharing_audio FIRST LAST FILE: tracks FIRST..LAST, all with FILE as audio.
add_tracks_sharing_audio() {
    add_track_with_audio "$1" "$3"
    psql -XAtq -v ON_ERROR_STOP=1 \
        -c "INSERT INTO tracks (track_id, artist, title) SELECT t, 'Artist ' || t, 'Title ' || t FROM generate_series($(($1 + 1)), $2) t" \
        -c "INSERT INTO track_audio (track_id, sha256, origin) SELECT t, (SELECT sha256 FROM track_audio WHERE track_id = $1), 'folder' FROM generate_series($(($1 + 1)), $2) t"
}

# make_sine FILE FREQ SECONDS [ffmpeg output options...]: a pure sine tone at 22050 Hz
# (the output options choose the codec; the file's extension the container).
make_sine() {
    local file=$1 freq=$2 seconds=$3
    shift 3
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "sine=frequency=$freq:duration=$seconds:sample_rate=22050" \
        "$@" "$file" || { echo "not ok - ffmpeg cannot make $file"; exit 1; }
}

# make_tone FILE SECONDS FREQ [extra ffmpeg output args]: a synthetic test signal.
make_tone() {
    local file=$1 seconds=$2 freq=$3
    shift 3
    ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=$freq:duration=$seconds:sample_rate=22050" \
        -f lavfi -i "anoisesrc=d=$seconds:c=pink:a=0.05:r=22050" \
        -filter_complex amix=inputs=2:duration=shortest "$@" "$file"
}
