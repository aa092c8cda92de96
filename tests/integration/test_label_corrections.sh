#!/usr/bin/env bash
# af-label: set / clear / list corrections (who, when, why), errors naming the track or
# genre; `af-ingest label` applies an active correction over every tag source (source
# 'correction', selected even past --max-per-genre), ignores a withdrawn one, and counts
# a correction whose genre the taxonomy lacks.
source "$AF_PROJECT/tests/lib.sh"

use_migrated_database label_corrections
cat >"$test_tmp/genres.conf" <<'CONF'
[rock]
rock = 1
[jazz]
jazz = 1
[blues]
blues = 1
CONF
sql "INSERT INTO tracks (track_id, msd_track_id, artist, title) VALUES
       (1, 'TRAAAAA128F00001', 'A', 'rock one'), (2, NULL, 'B', 'rock two'),
       (3, NULL, 'C', 'untagged'), (4, NULL, 'D', 'jazz one');
     INSERT INTO raw_tags (track_id, source, tag, weight) VALUES
       (1, 'msd_lastfm', 'rock', 100), (2, 'msd_lastfm', 'rock', 100), (4, 'lastfm_api', 'jazz', 100)" >/dev/null
run af-ingest label --genres "$test_tmp/genres.conf"
expect_status 0 "af-ingest label before any correction"

run af-label --help
expect_status 0 "af-label --help"
expect_out "af-label set TRACK GENRE" "--help shows the commands"
run af-label
expect_status 2 "af-label without a command exits 2"
run af-label set 1
expect_status 2 "set without a genre exits 2"
run af-label list --note x
expect_status 2 "--note outside set exits 2"

run af-label set 99 jazz
expect_status 1 "an unknown track exits 1"
expect_err "track '99': no such track" "the unknown track is named"
run af-label set 1 polka
expect_status 1 "an unknown genre exits 1"
expect_err "genre 'polka': not a genre of the taxonomy \(known: blues, jazz, rock\)" \
    "the unknown genre is named with the known ones"
expect_eq 0 "$(sql "SELECT count(*) FROM label_corrections")" "failed corrections store nothing"

run af-label set TRAAAAA128F00001 jazz --by alice --note "it is a jazz standard"
expect_status 0 "af-label set by MSD id"
expect_out "track 1: corrected to jazz by alice" "set says what was recorded"
run af-label set 3 blues --by bob
expect_status 0 "af-label set on an untagged track"
run af-label set 2 jazz --by carol
expect_status 0 "af-label set on track 2"
run af-label set 2 Blues --by carol --note "second thoughts"
expect_status 0 "a second correction of track 2 replaces the first"
expect_eq "1|jazz|alice|it is a jazz standard|cli" \
    "$(sql "SELECT c.track_id, g.name, corrected_by, note, origin FROM label_corrections c JOIN genres g USING (genre_id) WHERE track_id = 1")" \
    "who and why are stored"
expect_eq "2|blues|second thoughts" "$(sql "SELECT track_id, genre, coalesce(note, '') FROM label_corrections_active WHERE track_id = 2")" \
    "the newer correction of track 2 is the active one"
expect_eq "1" "$(sql "SELECT count(*) FROM label_corrections WHERE track_id = 2 AND cleared_at IS NOT NULL AND cleared_by = 'carol'")" \
    "the replaced correction stays as history"
expect_eq "1" "$(sql "SELECT count(*) FROM label_corrections WHERE created_at > now() - interval '1 hour' AND run_id IS NOT NULL AND track_id = 1")" \
    "when and which run are stored"

# An argument that is not UTF-8 (a Latin-1 name) is stored escaped in the run record;
# a correction's --by and --note must be text.
run af-label list --by $'caf\xe9'
expect_status 0 "a program whose argument is not UTF-8 still runs"
expect_eq '{af-label,--by,"caf\\xE9",list}' \
    "$(sql "SELECT arguments::text FROM runs WHERE program = 'af-label' ORDER BY run_id DESC LIMIT 1" | sed 's|^{[^,]*/af-label|{af-label|')" \
    "and its run record shows the byte as \\xE9"
run af-label set 3 jazz --by $'caf\xe9'
expect_status 2 "af-label set --by with a name that is not UTF-8"
expect_err "--by and --note must be UTF-8 text" "is a usage error"

# Corrections of one track at the same time all succeed (the track's row is locked
# first); the track keeps one active correction, the others are history.
for i in 1 2 3 4 5 6 7 8; do
    af-label set 3 jazz --by "racer$i" >/dev/null 2>"$test_tmp/race$i.err" &
done
wait
expect_eq "" "$(cat "$test_tmp"/race*.err)" "eight simultaneous corrections of one track: no error"
expect_eq "8|1" "$(sql "SELECT count(*), count(*) FILTER (WHERE cleared_at IS NULL) FROM label_corrections
                        WHERE track_id = 3 AND corrected_by LIKE 'racer%'")" \
    "all eight recorded, one of them active"
af-label set 3 blues --by bob >/dev/null 2>&1

run af-label list
expect_status 0 "af-label list"
expect_out "1 +A +rock one +jazz +rock +alice .*it is a jazz standard +active" "list shows the correction next to the current label"
expect_out "3 correction\(s\) active" "list counts the active corrections"

# Corrections are not labels until af-ingest label runs.
expect_eq "rock" "$(sql "SELECT g.name FROM track_labels JOIN genres g USING (genre_id) WHERE track_id = 1")" \
    "a correction does not change track_labels by itself"

run af-ingest label --genres "$test_tmp/genres.conf" --max-per-genre 1
expect_status 0 "af-ingest label with corrections"
expect_eq "1|jazz|{correction}|t
2|blues|{correction}|t
3|blues|{correction}|t
4|jazz|{lastfm_api}|t" \
    "$(sql "SELECT track_id, g.name, sources, selected FROM track_labels l JOIN genres g USING (genre_id) WHERE taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions) ORDER BY track_id")" \
    "corrections take precedence over the tags and are always selected"
expect_eq "t" "$(sql "SELECT reason LIKE 'corrected by alice on % UTC: it is a jazz standard' FROM track_labels WHERE track_id = 1")" \
    "the label says who corrected it and why"
expect_eq "3" "$(sql "SELECT counters->>'corrected' FROM runs WHERE program = 'af-ingest' ORDER BY run_id DESC LIMIT 1")" \
    "the run counts the corrected labels"

run af-label clear 3 --by dave
expect_status 0 "af-label clear"
run af-label clear 3
expect_status 1 "clearing twice exits 1"
expect_err "track 3 has no active correction" "nothing to clear is said"
run af-label list --all
expect_out "withdrawn by dave" "list --all shows the withdrawn correction"
run af-ingest label --genres "$test_tmp/genres.conf"
expect_eq "no_genre_tags" "$(sql "SELECT status FROM track_labels WHERE track_id = 3 AND taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions)")" \
    "a withdrawn correction no longer applies"

# A taxonomy without the corrected genre: the correction waits, counted.
printf '[rock]\nrock = 1\n[jazz]\njazz = 1\n' >"$test_tmp/small.conf"
run af-ingest label --genres "$test_tmp/small.conf"
expect_status 0 "af-ingest label under a taxonomy without blues"
expect_eq "labelled|rock" "$(sql "SELECT status, g.name FROM track_labels JOIN genres g USING (genre_id) WHERE track_id = 2 AND taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions)")" \
    "a correction outside the taxonomy leaves the tag label"
expect_eq "1" "$(sql "SELECT counters->>'correction_genre_not_in_taxonomy' FROM runs WHERE program = 'af-ingest' ORDER BY run_id DESC LIMIT 1")" \
    "the correction outside the taxonomy is counted"
