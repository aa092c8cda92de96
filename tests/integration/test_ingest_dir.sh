#!/usr/bin/env bash
# af-ingest dir: a GTZAN-layout folder and a --label-map layout; audio stored once per
# sha256; artist/title from the files' tags (merging with a track another source
# found); files that are not audio skipped, counted and named (audio files that do not
# decode: exit 1); idempotent re-runs.
source "$AF_PROJECT/tests/lib.sh"

gtzan="$test_tmp/genres"
mkdir -p "$gtzan/blues" "$gtzan/rock" "$gtzan/jazz" "$gtzan/hiphop" "$gtzan/.hidden"
make_sine "$gtzan/blues/blues.00000.wav" 220 2
make_sine "$gtzan/blues/blues.00001.mp3" 330 2 -metadata artist="Muddy Waters" -metadata title="Hoochie Coochie Man"
make_sine "$gtzan/rock/rock.00000.flac" 440 2 -metadata artist="Queen" -metadata title="Stone Cold Crazy"
make_sine "$gtzan/jazz/jazz.00000.ogg" 550 2
cp "$gtzan/blues/blues.00000.wav" "$gtzan/hiphop/same-bytes.wav"   # same audio in two folders
echo "these are liner notes, not audio" >"$gtzan/jazz/notes.txt"
head -c 40000 /dev/urandom >"$gtzan/rock/garbage.mp3"
: >"$gtzan/rock/empty.wav"
echo "ignored" >"$gtzan/.hidden/secret.wav"

use_fresh_database ingest_dir
run af-db migrate
expect_status 0 "af-db migrate"
# A track another source found first: the tagged MP3 must merge into it.
sql "INSERT INTO tracks (msd_track_id, artist, title, match_key) VALUES ('TRAAAAA128F0000001', 'Muddy Waters', 'Hoochie Coochie Man', 'muddywaters' || chr(9) || 'hoochiecoochieman')" >/dev/null

run af-ingest dir "$gtzan"
expect_status 1 "af-ingest dir exits 1: two audio files (garbage.mp3, empty.wav) do not decode"
expect_err "2 file\(s\) could not be stored" "the exit message counts the failed files"
expect_eq 5 "$(sql "SELECT count(*) FROM track_sources WHERE source = 'folder'")" "five audio files are stored"
expect_eq 4 "$(sql "SELECT count(*) FROM audio")" "identical bytes are stored once (sha256)"
expect_eq 4 "$(sql "SELECT count(*) FROM track_audio")" "four distinct recordings have audio"
expect_eq 3 "$(sql "SELECT (counters->>'skipped')::int FROM runs ORDER BY run_id DESC LIMIT 1")" "three unusable files are counted as skipped"
expect_err "notes.txt: not_audio" "a text file is named in the log"
expect_err "garbage.mp3: bad_audio" "random bytes named .mp3 are bad audio, named in the log"
expect_err "empty.wav: bad_audio.*empty" "an empty file is named in the log with the reason"
expect_eq 3 "$(sql "SELECT count(*) FROM ingest_problems WHERE source = 'folder'")" "the skipped files are in ingest_problems"
expect_no "secret.wav" "$err" "hidden folders are not walked"
expect_eq "$(find "$gtzan" -not -path '*/.*' -type f | wc -l)" "$(sql "SELECT (SELECT count(*) FROM folder_files WHERE run_id = r.run_id) + (SELECT count(*) FROM ingest_problems WHERE run_id = r.run_id) FROM runs r ORDER BY run_id DESC LIMIT 1")" \
    "nothing lost: every file is a stored file or a recorded problem"
expect_eq "TRAAAAA128F0000001|blues" "$(sql "SELECT t.msd_track_id, r.tag FROM tracks t JOIN track_audio a USING (track_id) JOIN raw_tags r USING (track_id) WHERE t.artist = 'Muddy Waters'")" \
    "artist/title tags merge the file with the track another source found"
expect_eq "Queen|Stone Cold Crazy|rock" "$(sql "SELECT t.artist, t.title, r.tag FROM tracks t JOIN raw_tags r USING (track_id) WHERE r.source = 'folder' AND t.artist = 'Queen'")" \
    "artist and title come from the file's tags, the label from its folder"
expect_eq "flac|22050|1" "$(sql "SELECT codec, sample_rate, channels FROM audio a JOIN track_audio t USING (sha256) JOIN tracks USING (track_id) WHERE artist = 'Queen'")" \
    "codec, sample rate and channels are stored"
expect_eq 2 "$(sql "SELECT round(duration_seconds) FROM tracks WHERE artist = 'Queen'")" "the duration is stored"
expect_eq "blues,hiphop" "$(sql "SELECT string_agg(r.tag, ',' ORDER BY r.tag) FROM raw_tags r JOIN track_audio a USING (track_id) JOIN track_sources s USING (track_id) WHERE s.source_key LIKE '%same-bytes.wav'")" \
    "the same audio in two genre folders carries both labels"
expect_eq "4|0" "$(sql "SELECT count(*), count(*) FILTER (WHERE sha256 <> sha256(bytes)) FROM audio")" "the stored key is the sha256 of the bytes"

# Idempotent: a second run changes nothing.
counts="SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM audio), (SELECT count(*) FROM track_audio), (SELECT count(*) FROM raw_tags), (SELECT count(*) FROM track_sources)"
before=$(sql "$counts")
run af-ingest dir "$gtzan"
expect_status 1 "a second af-ingest dir still exits 1 (the corrupt files are still there)"
expect_eq "$before" "$(sql "$counts")" "a second run changes no count"
expect_eq 5 "$(sql "SELECT (counters->>'unchanged')::int FROM runs ORDER BY run_id DESC LIMIT 1")" "a second run finds every file unchanged"
expect_eq 8 "$(sql "SELECT (SELECT count(*) FROM folder_files WHERE run_id = r.run_id) + (SELECT count(*) FROM ingest_problems WHERE run_id = r.run_id) FROM runs r ORDER BY run_id DESC LIMIT 1")" \
    "nothing lost on a re-run either: 5 unchanged files + 3 problems"

# Labels: the folder names go through the taxonomy.
run af-ingest label
expect_status 0 "af-ingest label after af-ingest dir"
expect_eq "blues|labelled
jazz|labelled
rock|labelled" "$(sql "SELECT g.name, l.status FROM track_labels l JOIN genres g USING (genre_id) JOIN tracks t USING (track_id) WHERE l.track_id IN (SELECT track_id FROM track_sources WHERE source = 'folder' GROUP BY 1 HAVING count(*) = 1) ORDER BY 1")" \
    "GTZAN folders become labels"
expect_eq "conflict" "$(sql "SELECT l.status FROM track_labels l JOIN track_sources s USING (track_id) WHERE s.source_key LIKE '%same-bytes.wav'")" \
    "audio found in two genre folders is a conflict"

# Another layout with a label map; a changed label replaces the old one.
flat="$test_tmp/library"
mkdir -p "$flat/Some Artist"
make_sine "$flat/Some Artist/track one.wav" 660 2
make_sine "$flat/rock_song.wav" 770 2
make_sine "$flat/other.wav" 880 2
printf '# my layout\n*rock_* rock\nSome Artist/* Jazz\n*.wav -\n' >"$test_tmp/map.txt"
run af-ingest dir --label-map "$test_tmp/map.txt" "$flat"
expect_status 0 "af-ingest dir --label-map"
expect_eq "other.wav|
rock_song.wav|rock
track one.wav|Jazz" "$(sql "SELECT regexp_replace(s.source_key, '.*/', ''), coalesce(r.tag, '') FROM track_sources s LEFT JOIN raw_tags r ON r.track_id = s.track_id AND r.source = 'folder' WHERE s.source_key LIKE '$flat/%' ORDER BY 1")" \
    "the first matching rule gives the label; '-' gives none"
printf '*rock_* metal\n' >"$test_tmp/map2.txt"
run af-ingest dir --label-map "$test_tmp/map2.txt" "$flat"
expect_eq "metal" "$(sql "SELECT r.tag FROM track_sources s JOIN raw_tags r USING (track_id) WHERE r.source = 'folder' AND s.source_key LIKE '%rock_song.wav'")" \
    "a changed label replaces the old one"
printf 'lonely-pattern-without-label\n' >"$test_tmp/bad-map.txt"
run af-ingest dir --label-map "$test_tmp/bad-map.txt" "$flat"
expect_status 2 "a bad label map is a usage error"
expect_err "bad-map.txt:1: expected 'PATTERN LABEL'" "the bad line is named"
run af-ingest dir "$test_tmp/no-such-dir"
expect_status 2 "a missing folder is a usage error"
run af-ingest dir
expect_status 2 "dir without PATH is a usage error"
