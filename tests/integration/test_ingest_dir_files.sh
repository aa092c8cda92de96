#!/usr/bin/env bash
# af-ingest dir against the files real music folders hold (issues 16, 17, 18): names that
# are not UTF-8 or hold a newline, re-tagged, renamed and replaced files, placeholder
# tags, two files of one recording, symbolic links (followed, broken, looping, fanning
# out to one folder), FIFOs, folder names the taxonomy lacks, folders without artist
# tags (--artist-from-path: its matching, its artists withdrawn), --no-labels, a signal
# during the walk, the ingest-dir lock; exit codes, `af-db status`, and nothing lost.
source "$AF_PROJECT/tests/lib.sh"

retag() { # retag FILE ARTIST TITLE: new tags, same audio (stream copy), in place
    local file=$1 ext=${1##*.}
    ffmpeg -nostdin -loglevel error -y -i "$file" -map 0 -c copy -map_metadata -1 \
        -metadata artist="$2" -metadata title="$3" "$test_tmp/retag.$ext" &&
        mv "$test_tmp/retag.$ext" "$file" || { echo "not ok - ffmpeg cannot retag $file"; exit 1; }
}
last_run() { sql "SELECT $1 FROM runs ORDER BY run_id DESC LIMIT 1"; }
counts="SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM audio), (SELECT count(*) FROM track_audio), (SELECT count(*) FROM raw_tags), (SELECT count(*) FROM track_sources), (SELECT count(*) FROM folder_files)"

use_fresh_database ingest_dir_files
run af-db migrate
expect_status 0 "af-db migrate"

# --- 1. A file name that is not UTF-8 (Latin-1 "café.mp3") ----------------------------
latin="$test_tmp/latin"
mkdir -p "$latin/rock"
make_sine "$latin/rock/"$'caf\xe9.mp3' 300 2 -metadata artist="Cafe Band" -metadata title="Cafe"
make_sine "$latin/rock/zz-after.wav" 310 2 -metadata artist="Zed" -metadata title="After"
mkdir "$latin/"$'m\xfcsik'
make_sine "$latin/"$'m\xfcsik/garbage.mp3' 320 1
head -c 3000 /dev/urandom >>"$latin/"$'m\xfcsik/garbage.mp3'
truncate -s 2000 "$latin/"$'m\xfcsik/garbage.mp3'
run af-ingest dir "$latin"
expect_eq "2" "$(sql "SELECT count(*) FROM folder_files")" "the files on both sides of a Latin-1 name are stored"
expect_eq "1" "$(sql "SELECT count(*) FROM folder_files WHERE position('\\x636166e92e6d7033'::bytea IN path_bytes) > 0 AND path LIKE '%/rock/caf_xE9.mp3'")" \
    "the Latin-1 name is kept byte for byte, shown escaped"
expect_eq "Cafe Band|rock" "$(sql "SELECT t.artist, r.tag FROM folder_files f JOIN tracks t USING (track_id) JOIN raw_tags r USING (track_id) WHERE f.path LIKE '%caf%'")" \
    "the file with the Latin-1 name is a labelled track"
expect_err 'caf\\xE9.mp3: the file name is not valid UTF-8' "the log names the file, escaped"
expect_eq "1|m\\xFCsik/garbage.mp3" "$(sql "SELECT count(*) FILTER (WHERE position('\\x6dfc73696b'::bytea IN item_bytes) > 0), string_agg(regexp_replace(item, '.*/latin/', ''), ',') FROM ingest_problems")" \
    "a problem with a Latin-1 folder keeps its bytes"
expect_eq "failed" "$(last_run status)" "the run record ends (failed: a corrupt file), not 'running'"
expect_status 1 "a corrupt audio file makes the exit status 1"

# --- 2. Audio identity: tag edits and renames; placeholder tags -----------------------
lib="$test_tmp/lib"
mkdir -p "$lib/blues" "$lib/jazz"
make_sine "$lib/blues/a.mp3" 400 2 -metadata artist="Artist A" -metadata title="Song A"
make_sine "$lib/blues/b.flac" 410 2 -metadata artist="Artist B" -metadata title="Song B"
make_sine "$lib/jazz/c.ogg" 420 2 -metadata artist="Artist C" -metadata title="Song C"
make_sine "$lib/jazz/d.m4a" 430 2 -c:a aac -metadata artist="Artist D" -metadata title="Song D"
for album in 1 2 3; do for n in 1 2 3; do # 9 recordings, 3 "Track 0N" names
    make_sine "$lib/jazz/album$album-$n.mp3" $((500 + 40 * album + 7 * n)) 2 -metadata artist="Unknown Artist" -metadata title="Track 0$n"
done; done
make_sine "$lib/jazz/untagged1.wav" 700 2
make_sine "$lib/jazz/untagged2.wav" 710 2
run af-ingest dir "$lib"
expect_status 0 "af-ingest dir of a clean library exits 0"
expect_eq "15" "$(sql "SELECT count(DISTINCT track_id) FROM track_sources WHERE source = 'folder' AND source_key LIKE '$lib/%'")" \
    "15 recordings, 15 tracks: 'Unknown Artist / Track 0N' and missing tags are no identity"
expect_eq "0" "$(sql "SELECT count(*) FROM tracks WHERE artist = 'Unknown Artist'")" "a placeholder artist is no artist"
ids_before=$(sql "SELECT string_agg(track_id::text, ',' ORDER BY track_id) FROM tracks")
before=$(sql "$counts")
retag "$lib/blues/a.mp3" "Artist A (remaster tag)" "Song A!"
retag "$lib/blues/b.flac" "Someone Else" "Other Title"
retag "$lib/jazz/c.ogg" "Artist C" "Song C (edit)"
retag "$lib/jazz/d.m4a" "Artist D" "Song D (edit)"
mv "$lib/jazz/untagged1.wav" "$lib/jazz/renamed.wav"
mv "$lib/blues/a.mp3" "$lib/blues/a-renamed.mp3"
mv "$lib/jazz/untagged2.wav" "$lib/blues/untagged2.wav" # moved to another genre folder
run af-ingest dir "$lib"
expect_status 0 "re-ingesting re-tagged and renamed files exits 0"
expect_eq "$ids_before" "$(sql "SELECT string_agg(track_id::text, ',' ORDER BY track_id) FROM tracks")" \
    "re-tagged (mp3, flac, ogg, m4a) and renamed files make no new track"
expect_eq "0" "$(sql "SELECT count(*) FROM (SELECT audio_id FROM folder_files GROUP BY 1 HAVING count(DISTINCT track_id) > 1) s")" \
    "the same audio is never two tracks (so never in two splits)"
expect_eq "Artist A" "$(sql "SELECT t.artist FROM folder_files f JOIN tracks t USING (track_id) WHERE f.path LIKE '%a-renamed.mp3'")" \
    "a renamed, re-tagged file is the track it was"
expect_eq "blues" "$(sql "SELECT string_agg(r.tag, ',') FROM folder_files f JOIN raw_tags r USING (track_id) WHERE r.source = 'folder' AND f.path LIKE '%/blues/untagged2.wav'")" \
    "a file moved to another genre folder takes its label along (the old one goes)"
expect_eq "15|15" "$(sql "SELECT (SELECT count(*) FROM track_sources WHERE source_key LIKE '$lib/%'), (SELECT count(*) FROM folder_files WHERE path LIKE '$lib/%')")" \
    "renamed and moved files are not counted twice: the old names are forgotten"
expect_err "lib: 3 file\(s\) recorded before are gone" "the log says how many files are gone"

# --- 3. Two files of one recording; an unchanged re-run changes nothing -----------------
two="$test_tmp/two"
mkdir -p "$two/rock"
make_sine "$two/rock/song.flac" 800 2 -metadata artist="The Band" -metadata title="The Song"
make_sine "$two/rock/song.mp3" 800 2 -metadata artist="The Band" -metadata title="The Song"
make_sine "$two/rock/other.wav" 810 2 -metadata artist="The Band" -metadata title="Other Song"
run af-ingest dir "$two"
expect_eq "1" "$(sql "SELECT count(DISTINCT track_id) FROM folder_files WHERE path LIKE '$two/rock/song.%'")" \
    "two files of one recording (same artist and title) are one track"
expect_eq "song.flac|t
song.mp3|f" "$(sql "SELECT regexp_replace(path, '.*/', ''), kept FROM folder_files WHERE path LIKE '$two/rock/song.%' ORDER BY 1")" \
    "the track keeps the first file's audio, and says so"
expect_err "song.mp3: the same recording as track [0-9]+, which keeps the audio of .*song.flac" "the log says which file the track keeps"
kept_before=$(sql "SELECT encode(a.sha256, 'hex') FROM track_audio a JOIN folder_files f USING (track_id) WHERE f.path LIKE '%song.mp3'")
before=$(sql "$counts")
run af-ingest dir "$two"
expect_status 0 "a re-run of an unchanged folder exits 0"
expect_eq "$before" "$(sql "$counts")" "a re-run of an unchanged folder changes no count"
expect_eq "0|3|" "$(last_run "coalesce(counters->>'files_stored', '0') || '|' || (counters->>'unchanged') || '|' || coalesce(counters->>'audio_stored', '')")" \
    "a re-run stores nothing: every file unchanged, no audio stored again"
expect_eq "$kept_before" "$(sql "SELECT encode(a.sha256, 'hex') FROM track_audio a JOIN folder_files f USING (track_id) WHERE f.path LIKE '%song.mp3'")" \
    "which file a merged track keeps is stable across runs"

# --- 4. Symbolic links, broken links, loops, FIFOs ------------------------------------
store="$test_tmp/store"
links="$test_tmp/links"
mkdir -p "$store" "$links/blues" "$links/jazz"
make_sine "$store/one.wav" 900 2 -metadata artist="Link One" -metadata title="One"
make_sine "$store/two.wav" 910 2 -metadata artist="Link Two" -metadata title="Two"
ln -s "$store/one.wav" "$links/blues/one.wav"
ln -s "$store/two.wav" "$links/jazz/two.wav"
ln -s "$store/gone.wav" "$links/jazz/gone.wav"
ln -s .. "$links/jazz/loop"
mkfifo "$links/blues/pipe.wav"
run timeout 120 af-ingest dir "$links"
expect_eq "Link One|blues
Link Two|jazz" "$(sql "SELECT t.artist, r.tag FROM folder_files f JOIN tracks t USING (track_id) JOIN raw_tags r USING (track_id) WHERE f.path LIKE '$links/%' ORDER BY 1")" \
    "symbolically linked files are followed, labelled by the link's folder"
expect_err "jazz/gone.wav: broken_link: a broken symbolic link: its target .*gone.wav does not exist" "a broken link is named with its target"
expect_err "jazz/loop: symlink_loop" "a symbolic link loop is named, not followed"
expect_err "blues/pipe.wav: not_regular: a FIFO" "a FIFO is named and skipped without blocking"
expect_eq "broken_link|1
not_regular|1
symlink_loop|1" "$(sql "SELECT problem, count(*) FROM ingest_problems WHERE item LIKE '$links/%' GROUP BY 1 ORDER BY 1")" \
    "every skipped entry is counted in ingest_problems"
expect_status 1 "a broken link is a failed item: exit 1"
expect_eq "5" "$(sql "SELECT (SELECT count(*) FROM folder_files WHERE run_id = r.run_id) + (SELECT count(*) FROM ingest_problems WHERE run_id = r.run_id) FROM runs r ORDER BY run_id DESC LIMIT 1")" \
    "nothing lost: 5 entries = 2 files + 3 problems"
expect_err "nothing lost: 5 entries" "the run checks that nothing was lost"

# --- 5. Folder names the taxonomy lacks -----------------------------------------------
elec="$test_tmp/elec"
mkdir -p "$elec/electronic" "$elec/Dark Ambient" "$elec/rock"
make_sine "$elec/electronic/e1.wav" 1000 2 -metadata artist="E One" -metadata title="E1"
make_sine "$elec/electronic/e2.wav" 1010 2 -metadata artist="E Two" -metadata title="E2"
make_sine "$elec/Dark Ambient/d1.wav" 1020 2 -metadata artist="D One" -metadata title="D1"
make_sine "$elec/rock/r1.wav" 1030 2 -metadata artist="R One" -metadata title="R1"
run af-ingest dir "$elec"
expect_err "2 folder name\(s\) are no genre of the taxonomy .*genres.conf: (Dark Ambient \(1 file\), electronic \(2 files\)|electronic \(2 files\), Dark Ambient \(1 file\))" \
    "folder names the taxonomy lacks are named with their file counts"
expect_err "--add-folder-genres" "the warning says how to take them as genres"
cp "$AF_PROJECT/config/genres.conf" "$test_tmp/genres.conf"
run af-ingest dir --add-folder-genres --genres "$test_tmp/genres.conf" "$elec"
expect_status 0 "af-ingest dir --add-folder-genres"
expect_eq "[dark_ambient]
Dark Ambient = 1
[electronic]
electronic = 1" "$(grep -A1 -E '^\[(electronic|dark_ambient)\]' "$test_tmp/genres.conf" | grep -v -- '--')" \
    "the folder names become genres of the taxonomy file"
run af-ingest label --genres "$test_tmp/genres.conf"
expect_status 0 "af-ingest label with the extended taxonomy"
expect_eq "dark_ambient|1
electronic|2
rock|1" "$(sql "SELECT g.name, count(*) FROM track_labels l JOIN genres g USING (genre_id) JOIN folder_files f USING (track_id) WHERE f.path LIKE '$elec/%' AND l.status = 'labelled' AND l.taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions) GROUP BY 1 ORDER BY 1")" \
    "files in those folders are labelled with the new genres"

# --- 6. Probe, not decode, at ingest ----------------------------------------------------
long="$test_tmp/long"
mkdir -p "$long/classical"
make_sine "$long/classical/long.mp3" 440 120 -metadata artist="Long" -metadata title="Long"
run af-ingest dir "$long"
expect_status 0 "a two-minute file is ingested"
decoded=$(last_run "(counters->>'audio_ms_decoded')::int")
expect_eq "yes" "$([ -n "$decoded" ] && [ "$decoded" -lt 10000 ] && echo yes || echo "no: ${decoded:-none} ms decoded")" \
    "ingest probes 120 s of audio, decoding less than 10 s of it"
expect_eq "120" "$(sql "SELECT round(duration_seconds) FROM tracks WHERE artist = 'Long'")" "the probe still gives the duration"

# --- 7. Exit codes, af-db status --------------------------------------------------------
notes="$test_tmp/notes"
mkdir -p "$notes/pop"
make_sine "$notes/pop/p.wav" 1100 2 -metadata artist="P" -metadata title="P"
echo "liner notes" >"$notes/pop/notes.txt"
printf '\0\5\26\7\0\2\0\0Mac OS X        ' >"$notes/pop/._p.wav" # AppleDouble metadata
run af-ingest dir "$notes"
expect_status 0 "a text file and macOS metadata beside the music are no failure: exit 0"
expect_err "notes.txt: not_audio" "the text file is named"
expect_err "/\._p.wav: not_audio" "macOS metadata ('._p.wav') is not audio, not a corrupt audio file"
run af-db status
expect_status 0 "af-db status"
expect_out "ingest +folder: bad_audio +1" "af-db status shows ingest problems by reason"
expect_out "ingest +folder: broken_link +1" "af-db status shows broken links"

# --- 8. Folders without artist tags ---------------------------------------------------
gtz="$test_tmp/gtz"
mkdir -p "$gtz/blues/Ann Artist" "$gtz/blues/Bob Artist" "$gtz/jazz/Ann Artist"
make_sine "$gtz/blues/Ann Artist/t1.wav" 1200 2
make_sine "$gtz/blues/Ann Artist/t2.wav" 1210 2
make_sine "$gtz/blues/Bob Artist/t3.wav" 1220 2
make_sine "$gtz/jazz/Ann Artist/t4.wav" 1230 2 -metadata artist="Tagged Ann"
run af-ingest dir "$gtz"
expect_err "3 of 4 tracks under .*gtz have no artist: af-train cannot keep an artist's tracks out of the test set" \
    "most tracks without an artist: a loud warning with counts"
expect_err "--artist-from-path" "the warning names the way out"
run af-ingest dir --artist-from-path '*/{artist}/*' "$gtz"
expect_status 0 "af-ingest dir --artist-from-path"
expect_eq "Ann Artist|3
Bob Artist|1" "$(sql "SELECT t.artist, count(*) FROM folder_files f JOIN tracks t USING (track_id) WHERE f.path LIKE '$gtz/%' GROUP BY 1 ORDER BY 1")" \
    "the artist comes from the path, also for files stored before"
expect_no "have no artist" "$err" "no warning once every track has an artist"
run af-ingest dir --artist-from-path '*/artist/*' "$gtz"
expect_status 2 "a pattern without {artist} is a usage error"
expect_err "needs '\{artist\}' exactly once" "the bad pattern is explained"

# --- 9. Folders reached again through links; a signal during the walk ------------------
# d0/a and d0/b lead to d1, d1/a and d1/b to d2, ...: 2^24 paths to d24's one file.
fan="$test_tmp/fan"
for i in $(seq 0 24); do mkdir -p "$fan/rock/d$i"; done
for i in $(seq 0 23); do
    ln -s "../d$((i + 1))" "$fan/rock/d$i/a"
    ln -s "../d$((i + 1))" "$fan/rock/d$i/b"
done
make_sine "$fan/rock/d24/s.mp3" 1300 2 -metadata artist="Fan" -metadata title="Fan"
run timeout 60 af-ingest -v dir "$fan"
expect_status 0 "a fan of links to the same folders (2^24 paths) is walked at once, each folder once"
expect_eq "1" "$(sql "SELECT count(*) FROM folder_files WHERE path LIKE '$fan/%'")" \
    "a folder reached through many links is walked once: its file is stored once"
expect_eq "48" "$(last_run "(counters->>'dirs_seen_again')::int")" \
    "the folders reached again (24 'b' links, 24 folders met first through 'a') are counted"
expect_err "rock/d0/b: a folder already walked through another path; not walked again" \
    "a folder reached again is named at verbose level"

# SIGINT while af-ingest waits for its run record (the runs table locked here): the walk
# that follows sees the request at once and stops; nothing is stored or forgotten.
PGAPPNAME=af_test_runs_lock psql -XAtq -c "BEGIN" -c "LOCK TABLE runs IN SHARE MODE" \
    -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
runs_locked="SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'runs' AND l.mode = 'ShareLock' AND l.granted"
for _ in $(seq 500); do [ "$(sql "$runs_locked")" -gt 0 ] && break; sleep 0.02; done
af-ingest dir "$fan" >"$test_tmp/sig.out" 2>"$test_tmp/sig.err" &
ingest=$!
waiting="SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
for _ in $(seq 1500); do [ "$(sql "$waiting")" -gt 0 ] && break; sleep 0.02; done
kill -INT $ingest
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'af_test_runs_lock'" >/dev/null
wait $holder 2>/dev/null || true
wait $ingest
status=$?
err=$(cat "$test_tmp/sig.err")
expect_status 0 "SIGINT during the walk: exit 0"
expect_err "stopped on request while walking the folders" "SIGINT: the walk itself stops"
expect_eq "interrupted" "$(last_run status)" "SIGINT: the run record is finished, as interrupted"
expect_eq "1" "$(sql "SELECT count(*) FROM folder_files WHERE path LIKE '$fan/%'")" \
    "SIGINT: a walk cut short forgets no file"

# --- 10. New contents at the same path; --no-labels ------------------------------------
folder_tags() { # the 'folder' raw tags of the tracks with these artists: "artist|tag" lines
    sql "SELECT t.artist, r.tag FROM tracks t JOIN raw_tags r USING (track_id) WHERE r.source = 'folder' AND t.artist IN ($1) ORDER BY 1, 2"
}
repl="$test_tmp/replace"
mkdir -p "$repl/rock"
make_sine "$repl/rock/a.mp3" 1400 2 -metadata artist="Old Contents" -metadata title="Old"
run af-ingest dir "$repl"
make_sine "$repl/rock/a.mp3" 1410 2 -metadata artist="New Contents" -metadata title="New"
run af-ingest dir "$repl"
expect_status 0 "new contents at the same path: exit 0"
expect_eq "New Contents|rock" "$(folder_tags "'Old Contents', 'New Contents'")" \
    "new contents at the same path: the old track loses the folder's label, the new one has it"
expect_eq "1|1" "$(sql "SELECT count(*) FROM tracks WHERE artist = 'Old Contents'")|$(last_run "(counters->>'files_replaced')::int")" \
    "the old track stays; the replaced file is counted"
expect_err "rock/a.mp3: new audio at this path" "the log says the file was replaced"

run af-ingest dir --no-labels "$repl"
expect_status 0 "af-ingest dir --no-labels"
expect_eq "" "$(folder_tags "'New Contents'")" "--no-labels withdraws the labels earlier runs took from the folders"
run af-ingest label
expect_eq "no_genre_tags" "$(sql "SELECT l.status FROM track_labels l JOIN tracks t USING (track_id) WHERE t.artist = 'New Contents' AND l.taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions)")" \
    "after --no-labels, af-ingest label no longer labels the track from its folder"
run af-ingest dir "$repl"
expect_eq "New Contents|rock" "$(folder_tags "'New Contents'")" "a run without --no-labels gives the label back"

# --- 11. Artists from paths are withdrawn when no pattern gives them any more ----------
artists_of() { # the artists of the files under a folder, in path order
    sql "SELECT coalesce(t.artist, '(none)') FROM folder_files f JOIN tracks t USING (track_id) WHERE f.path LIKE '$1/%' ORDER BY f.path"
}
pa="$test_tmp/pathartist"
mkdir -p "$pa/rock/Bob"
make_sine "$pa/rock/Bob/e.mp3" 1500 2 -metadata artist="Tag Bob" -metadata title="E Song"
make_sine "$pa/rock/Bob/f.mp3" 1510 2 -metadata title="F Song"
run af-ingest dir "$pa"
run af-ingest dir --artist-from-path '{artist}/*/*' "$pa"
expect_eq "rock
rock" "$(artists_of "$pa")" "a pattern gives files stored before their artist"
run af-ingest dir "$pa"
expect_status 0 "a run without the pattern"
expect_eq "Tag Bob
(none)" "$(artists_of "$pa")" "without the pattern, the artists the path gave are withdrawn: the tag's (or none) is back"
expect_eq "2" "$(last_run "(counters->>'artists_from_path_withdrawn')::int")" "the withdrawn artists are counted"

pb="$test_tmp/pathartist2"
mkdir -p "$pb/jazz/Carol"
make_sine "$pb/jazz/Carol/g.mp3" 1520 2 -metadata artist="Tag Carol" -metadata title="G Song"
make_sine "$pb/jazz/Carol/h.mp3" 1530 2 -metadata artist="Tag Carol" -metadata title="H Song"
run af-ingest dir --artist-from-path '*/{artist}/*' "$pb"
expect_eq "Carol
Carol" "$(artists_of "$pb")" "a pattern given at the first run makes tracks with the path's artist"
sql "UPDATE tracks SET artist = 'Edited By Hand' WHERE track_id = (SELECT track_id FROM folder_files WHERE path LIKE '%/h.mp3')"
run af-ingest dir --artist-from-path '*/{artist}/none/*' "$pb"
expect_eq "Tag Carol
Edited By Hand" "$(artists_of "$pb")" \
    "a pattern that no longer matches withdraws the path's artist; an artist changed since is kept"

# --- 12. --artist-from-path: '{artist}' is the shortest match, '?' one character -------
pc="$test_tmp/pathartist3"
mkdir -p "$pc/jazz/Alice"
make_sine "$pc/jazz/Carol - Song - Live.mp3" 1540 2
make_sine "$pc/jazz/Alice/é.mp3" 1550 2
run af-ingest dir --artist-from-path '*/{artist} - *' "$pc"
expect_eq "Carol" "$(sql "SELECT t.artist FROM folder_files f JOIN tracks t USING (track_id) WHERE f.path LIKE '%/Carol - Song - Live.mp3'")" \
    "'*/{artist} - *' on 'Carol - Song - Live.mp3': the artist is the shortest match"
run af-ingest dir --artist-from-path '*/{artist}/?.mp3' "$pc"
expect_eq "Alice" "$(sql "SELECT t.artist FROM folder_files f JOIN tracks t USING (track_id) WHERE f.path LIKE '%/Alice/%'")" \
    "'?' matches one character, not one byte ('é.mp3')"

# --- 13. A newline in a file name is valid UTF-8: a control character ----------------
nl="$test_tmp/newline"
mkdir -p "$nl/rock"
make_sine "$nl/rock/"$'two\nlines.mp3' 1560 2 -metadata artist="Newline" -metadata title="Newline"
run af-ingest dir "$nl"
expect_status 0 "a file name with a newline is stored"
expect_err 'two\\x0Alines.mp3: the file name holds a control character' "the log gives the right reason, name escaped"
expect_no "not valid UTF-8" "$err" "a newline is not called invalid UTF-8"
expect_eq "|1" "$(last_run "coalesce(counters->>'names_not_utf8', '') || '|' || coalesce(counters->>'names_with_control_characters', '')")" \
    "it is counted as a control character, not as a name that is not UTF-8"

# --- 14. One af-ingest dir at a time per database, whatever the folder ------------------
run af-ingest --help
expect_out "always takes its own stage lock" "--help says af-ingest's commands always take their stage lock"
expect_out "exits 5 at once, for dir whatever its PATH" "--help says a dir run on another folder exits 5 too"
PGAPPNAME=af_test_dir_lock psql -XAtq -c "SELECT pg_advisory_lock(hashtext('audiofiler:ingest-dir'))" \
    -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
dir_locked="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid::bigint = (hashtext('audiofiler:ingest-dir')::bigint & 4294967295)"
for _ in $(seq 500); do [ "$(sql "$dir_locked")" -gt 0 ] && break; sleep 0.02; done
run af-ingest dir "$nl"
expect_status 5 "without --exclusive, a dir run meeting another dir run (other folder) exits 5, as documented"
expect_err "another ingest-dir run holds the stage lock" "and says why"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'af_test_dir_lock'" >/dev/null
wait $holder 2>/dev/null || true
