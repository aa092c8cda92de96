#!/usr/bin/env bash
# -q on the stage programs themselves (issue 19: "quiet enough for cron mail"): each stage
# run with -q prints nothing when all goes well — no INFO lines, no progress, no report
# tables on stdout — and still prints its warnings and errors when something is wrong.
# Also: a pipeline with dir sources only says nothing about missing Spotify keys.
source "$AF_PROJECT/tests/lib.sh"
pipeline="$AF_PROJECT/scripts/af-pipeline"

world="$test_tmp/world"
start_demo_fakeapi "$world" 7 6 quiet
conf="$test_tmp/quiet.conf"
cat >"$conf" <<CONF
[http]
; the fake server is on 127.0.0.1
allow_private_addresses = true
[lastfm]
api_url = $fakeapi_url/2.0/
requests_per_second = 0
[spotify]
accounts_url = $fakeapi_url/spotify/accounts/api/token
api_url = $fakeapi_url/spotify/v1
requests_per_second = 0
[deezer]
api_url = $fakeapi_url/deezer
requests_per_second = 0
[itunes]
api_url = $fakeapi_url/itunes
requests_per_second = 0
[train]
hidden_layers = 16
max_epochs = 4
CONF

# quiet NAME PROGRAM ARGS...: runs one stage with -q; it must exit 0 and print nothing.
quiet() {
    local name=$1
    shift
    run timeout -k 5 300 "$@"
    expect_status 0 "$name -q exits 0"
    expect_eq "" "$out$err" "$name -q prints nothing when all goes well"
}

use_fresh_database quiet
quiet "af-db migrate" af-db -q --config "$conf" migrate
quiet "af-ingest lastfm" af-ingest -q --config "$conf" lastfm
quiet "af-ingest label" af-ingest -q --config "$conf" label
run af-ingest --config "$conf" label
expect_out "labelled" "af-ingest label without -q still prints its table (the -q test is not vacuous)"
quiet "af-fetch" af-fetch -q --config "$conf"
quiet "af-extract" af-extract -q --config "$conf"
quiet "af-train" af-train -q --config "$conf"
run af-train --config "$conf"
expect_out "Model [0-9]+" "af-train without -q still prints its report"
expect_eq "$(sql "SELECT count(*) FROM track_audio")" "$(sql "SELECT count(*) FROM track_features")" \
    "the quiet stages did their work (every fetched track has features)"

# Warnings and errors still come through -q: a corrupt file in a dir source.
mkdir -p "$test_tmp/dir/jazz"
ffmpeg -nostdin -loglevel error -y -i "$(find "$world/audio" -name '*.mp3' | head -n 1)" -codec copy \
    -metadata artist="Quiet Artist" -metadata title="Quiet Title" "$test_tmp/dir/jazz/good.mp3"
head -c 3000 /dev/urandom >"$test_tmp/dir/jazz/corrupt.mp3"
use_fresh_database quiet_dir
af-db -q migrate
run timeout -k 5 120 af-ingest -q --config "$conf" dir "$test_tmp/dir"
expect_status 1 "af-ingest dir -q with a corrupt file exits 1"
expect_err "corrupt.mp3" "af-ingest dir -q still names the corrupt file"
expect_no " INFO " "$err" "af-ingest dir -q: no INFO line"
expect_eq "" "$out" "af-ingest dir -q: nothing on stdout"

# A pipeline of dir sources only: nothing about Spotify keys, quiet or not.
rm "$test_tmp/dir/jazz/corrupt.mp3"
use_fresh_database quiet_pipeline
run timeout -k 5 300 env -u SPOTIFY_CLIENT_ID -u SPOTIFY_CLIENT_SECRET "$pipeline" --config "$conf" --dir "$test_tmp/dir"
expect_status 0 "af-pipeline with a dir source and no Spotify keys exits 0"
expect_no "SPOTIFY|Spotify|spotify" "$out$err" "dir sources only: nothing about Spotify keys"
run timeout -k 5 300 env -u SPOTIFY_CLIENT_ID -u SPOTIFY_CLIENT_SECRET "$pipeline" -q --config "$conf" --dir "$test_tmp/dir"
expect_status 0 "af-pipeline -q with a dir source exits 0"
expect_eq "" "$out$err" "af-pipeline -q with a dir source prints nothing"
