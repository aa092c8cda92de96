#!/usr/bin/env bash
# [audio] store (lib/audio_store.h, 062_audio_store.sql): database, a content-addressed
# directory, or none (dropped once features are stored); af-ingest dir and af-fetch store
# through it, af-extract reads from it; af-db move-audio and prune-audio change it later.
source "$AF_PROJECT/tests/lib.sh"
music="$test_tmp/music"
mkdir -p "$music/jazz" "$music/metal"
make_tone "$music/jazz/a.mp3" 6 440
make_tone "$music/metal/b.mp3" 6 220
store="$test_tmp/store"
mkdir -p "$store"
conf() { # conf NAME STORE: a configuration with [audio] store = STORE
    printf '[audio]\nstore = %s\ndirectory = %s\n' "$2" "$store" >"$test_tmp/$1.conf"
    echo "$test_tmp/$1.conf"
}
files_in_store() { find "$store" -type f | wc -l; }

# ---- configuration errors ----------------------------------------------------------------------
printf '[audio]\nstore = tape\n' >"$test_tmp/bad.conf"
run af-ingest --config "$test_tmp/bad.conf" dir "$music"
expect_status 2 "an unknown [audio] store exits 2"
expect_err "\[audio\] store: 'tape' is not one of database, directory, none" "and names the key and the choices"
printf '[audio]\nstore = directory\n' >"$test_tmp/nodir.conf"
run af-ingest --config "$test_tmp/nodir.conf" dir "$music"
expect_status 2 "store = directory without a directory exits 2"

# ---- directory ---------------------------------------------------------------------------------
use_migrated_database audio_directory
c=$(conf directory directory)
run af-ingest --config "$c" dir "$music"
expect_status 0 "directory: af-ingest dir stores the files"
expect_eq "2|0|2" "$(sql "SELECT count(*), count(bytes), count(*) FILTER (WHERE stored = 'directory') FROM audio")" \
    "directory: the database keeps no bytes, only where they are"
expect_eq 2 "$(files_in_store)" "directory: two files in the store"
hex=$(sha256sum "$music/jazz/a.mp3" | cut -c1-64)
[ -f "$store/${hex:0:2}/${hex:2:2}/$hex" ] && pass "directory: content-addressed as DIR/ab/cd/<sha256>" ||
    fail "directory: content-addressed path"
cmp -s "$music/jazz/a.mp3" "$store/${hex:0:2}/${hex:2:2}/$hex" && pass "directory: the bytes are the file's" ||
    fail "directory: the bytes are the file's"
run af-extract --config "$c"
expect_status 0 "directory: af-extract reads the audio from the directory"
expect_eq 2 "$(sql "SELECT count(*) FROM track_features")" "directory: both tracks have features"

# ---- none --------------------------------------------------------------------------------------
use_migrated_database audio_none
c=$(conf none none)
run af-ingest --config "$c" dir "$music"
expect_eq "2|2" "$(sql "SELECT count(*), count(bytes) FROM audio")" "none: the bytes are kept until extracted"
run af-extract --config "$c"
expect_status 0 "none: af-extract"
expect_eq "2|0|2" "$(sql "SELECT (SELECT count(*) FROM track_features), count(bytes), count(*) FILTER (WHERE stored = 'none') FROM audio")" \
    "none: once the features are stored, the audio is dropped"
run af-extract --config "$c" --feature-set w2 --window 2 --hop 2
expect_status 0 "none: a later feature set finds nothing to do (and fails nothing)"
expect_eq 0 "$(sql "SELECT count(*) FROM extraction_jobs WHERE feature_set_id <> 1")" "none: no job is claimed for dropped audio"

# ---- move-audio and prune-audio ----------------------------------------------------------------
use_migrated_database audio_move
rm -rf "$store" && mkdir -p "$store"
run af-ingest --config "$(conf db database)" dir "$music"
expect_eq "2|2" "$(sql "SELECT count(*), count(bytes) FROM audio")" "database: the bytes are in the database"
run af-db --config "$(conf db database)" move-audio --to directory
expect_status 0 "af-db move-audio --to directory"
expect_eq "0|2" "$(sql "SELECT count(bytes), count(*) FILTER (WHERE stored = 'directory') FROM audio")" \
    "move-audio: the database keeps no bytes"
expect_eq 2 "$(files_in_store)" "move-audio: the files are in the directory"
run af-extract --config "$(conf db database)"
expect_status 0 "after move-audio, af-extract (store = database) still reads the moved audio"
expect_eq 2 "$(sql "SELECT count(*) FROM track_features")" "after move-audio: both tracks have features"
run af-db --config "$(conf db database)" move-audio --to database
expect_status 0 "af-db move-audio --to database"
expect_eq "2|0" "$(sql "SELECT count(bytes), count(*) FILTER (WHERE stored <> 'database') FROM audio")" \
    "move-audio back: the bytes are in the database again"
expect_eq 0 "$(files_in_store)" "move-audio back: the directory is emptied"
run af-db --config "$(conf db database)" prune-audio --feature-set nosuchset
expect_status 2 "prune-audio with an unknown feature set exits 2"
run af-db --config "$(conf db database)" prune-audio
expect_status 0 "af-db prune-audio"
expect_eq "0|2" "$(sql "SELECT count(bytes), count(*) FILTER (WHERE stored = 'none') FROM audio")" \
    "prune-audio drops the audio of tracks with features"

# ---- af-fetch's previews into the directory store ----------------------------------------------
use_migrated_database audio_fetch
rm -rf "$store" && mkdir -p "$store"
world="$test_tmp/world"
start_demo_fakeapi "$world" 3 6 store
{ fakeapi_conf; cat <<CONF; } >"$test_tmp/fetch.conf"
[audio]
store = directory
directory = $store
CONF
run "$AF_PROJECT/scripts/af-pipeline" --config "$test_tmp/fetch.conf"
expect_status 0 "fetch: the pipeline with store = directory exits 0"
fetched=$(sql "SELECT count(*) FROM audio")
[ "$fetched" -gt 0 ] && pass "fetch: previews were fetched ($fetched)" || fail "fetch: previews were fetched"
expect_eq "$fetched|0" "$(sql "SELECT count(*) FILTER (WHERE stored = 'directory'), count(bytes) FROM audio")" \
    "fetch: every preview went to the directory, none into the database"
expect_eq "$fetched" "$(files_in_store)" "fetch: one file per preview in the store"
expect_eq "$fetched" "$(sql "SELECT count(DISTINCT ta.sha256) FROM track_features f JOIN track_audio ta USING (track_id)")" \
    "fetch: af-extract computed features from the directory"
