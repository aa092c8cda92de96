#!/usr/bin/env bash
# af-ingest msd: the Last.fm dataset tree, unique_tracks.txt, tagtraum and MAGD files;
# bad input (malformed JSON, invalid UTF-8, missing fields, bad lines) skipped, counted
# and named; merging with a track found by another source; idempotent re-runs.
source "$AF_PROJECT/tests/lib.sh"
examples=/work/shared/reference/api/examples

d="$test_tmp/msd"
mkdir -p "$d/lastfm_train/A/A/A" "$d/lastfm_train/B/G/W" "$d/lastfm_test/C/C/C"
python3 - "$d" <<'PY'
import json, os, sys
d = sys.argv[1]
def put(rel, obj=None, raw=None):
    path = os.path.join(d, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode("utf-8"))
# Tags with characters COPY must escape, unicode, numbers as numbers, an empty list.
put("lastfm_test/C/C/C/TRCCCCC128F0000001.json", {"artist": "Tab\tArtist", "title": "Back\\slash\nNewline",
    "timestamp": "2011-08-15 09:59:32.436152", "similars": [["TRAAAAK128F9318786", 0.97458800000000001]],
    "tags": [["Hip Hop", "100"], ["hip-hop", 90], ["HIPHOP", "80"], ["m\u00fcsic \u266b", "5"], ["tab\there", "1"]],
    "track_id": "TRCCCCC128F0000001"})
put("lastfm_test/C/C/C/TRCCCCC128F0000002.json", {"artist": "Nobody Tags", "title": "Silence", "similars": [],
    "tags": [], "track_id": "TRCCCCC128F0000002"})
# Missing fields: no artist/title (unique_tracks.txt supplies them), no track_id (the file
# name does), neither (skipped), bad tag entries (skipped, the rest loaded).
put("lastfm_test/C/C/C/TRCCCCC128F0000003.json", {"tags": [["jazz", "100"]], "track_id": "TRCCCCC128F0000003"})
put("lastfm_test/C/C/C/TRCCCCC128F0000004.json", {"artist": "No Id", "title": "From Name", "tags": [["reggae", "100"]]})
put("lastfm_test/C/C/C/no-id-anywhere.json", {"artist": "Lost", "title": "Lost", "tags": [["pop", "100"]]})
put("lastfm_test/C/C/C/TRCCCCC128F0000005.json", {"artist": "Bad Tags", "title": "Mixed", "track_id": "TRCCCCC128F0000005",
    "tags": [["rock", "100"], ["only-a-name"], [42, "10"], ["metal", "lots"], "not a pair", ["country", None], ["blues", "30"]]})
# Malformed: truncated JSON, not an object, invalid UTF-8.
put("lastfm_test/C/C/C/TRCCCCC128F0000006.json", raw=b'{"artist": "Cut", "tags": [["rock", "10')
put("lastfm_test/C/C/C/TRCCCCC128F0000007.json", raw=b'["TRCCCCC128F0000007"]')
put("lastfm_test/C/C/C/TRCCCCC128F0000008.json", raw=b'{"artist": "Bad \xff\xfe bytes", "title": "x", "tags": [], "track_id": "TRCCCCC128F0000008"}')
# Same artist and title as a track another source found first: merged into it.
put("lastfm_test/C/C/C/TRCCCCC128F0000009.json", {"artist": "Merge Me", "title": "Please!", "tags": [["disco", "100"]],
    "track_id": "TRCCCCC128F0000009"})
open(os.path.join(d, "lastfm_test/README.txt"), "w").write("not a track")
PY
cp "$examples/msd_lastfm_TRAAAAK128F9318786.trimmed.json" "$d/lastfm_train/A/A/A/TRAAAAK128F9318786.json"
cp "$examples/msd_lastfm_TRBGWVI128E0788AE7.trimmed.json" "$d/lastfm_train/B/G/W/TRBGWVI128E0788AE7.json"
{
    cat "$examples/msd_unique_tracks.first3.txt"
    printf 'TRCCCCC128F0000003<SEP>SOAAA<SEP>Art <b> & <i>Co</i> / AC/DC<SEP>Title <-less> SEP\n'
    printf 'TRCCCCC128F0000011<SEP>SOAAA<SEP>Five<SEP>Fields<SEP>Here\n'
    printf 'TRCCCCC128F0000010<SEP>SOBBB<SEP>Invalid \xc3\x28 Bytes<SEP>Song\n'
    printf 'TRAAAAV128F421A322<SEP>SOCCC<SEP>Only In MAGD<SEP>Named Later\n'
    printf 'this line has no separators\n'
} >"$d/unique_tracks.txt"
cp "$examples/msd-MAGD-genreAssignment.first8.cls" "$d/msd-MAGD-genreAssignment.cls"
printf '# tagtraum genre annotations, CD1\n# more header\nTRAAAAK128F9318786\tRock\tPop\nTRCCCCC128F0000002\tJazz\nnot-a-track-id\tRock\n' >"$d/msd_tagtraum_cd1.cls"
printf '#header\nTRCCCCC128F0000002\tJazz\nTRAAAAW128F429D538\tRap\n' >"$d/msd_tagtraum_cd2c.cls"

use_fresh_database ingest_msd
run af-db migrate
expect_status 0 "af-db migrate"
sql "INSERT INTO tracks (artist, title, match_key) VALUES ('Merge Me', 'Please!', 'mergeme' || chr(9) || 'please');
     INSERT INTO track_sources (track_id, source, source_key) SELECT track_id, 'lastfm_api', 'x' FROM tracks" >/dev/null

msd() { af-ingest msd --lastfm "$d/lastfm_train" --lastfm "$d/lastfm_test" --unique-tracks "$d/unique_tracks.txt" \
    --tagtraum "$d/msd_tagtraum_cd1.cls" --tagtraum "$d/msd_tagtraum_cd2c.cls" --magd "$d/msd-MAGD-genreAssignment.cls" "$@"; }
run msd
expect_status 1 "af-ingest msd loads what it can despite bad files and lines, and exits 1 (some items failed)"
expect_err "10 file\\(s\\), line\\(s\\) or tag value\\(s\\) were not loaded \\(see ingest_problems\\)" "the exit is explained with the count of what was not loaded"
expect_eq 8 "$(sql "SELECT count(*) FROM tracks WHERE msd_track_id LIKE 'TRCCCCC%' OR msd_track_id IN ('TRAAAAK128F9318786', 'TRBGWVI128E0788AE7')")" \
    "every usable Last.fm file gives a track (6 of test, 2 of train)"
expect_eq 15 "$(sql "SELECT count(*) FROM tracks")" "MAGD and tagtraum add their tracks (15 in all)"
expect_eq "Adelitas Way|Scream|alternative rock:100,rock:60" \
    "$(sql "SELECT t.artist, t.title, string_agg(r.tag || ':' || r.weight, ',' ORDER BY r.tag) FROM tracks t JOIN raw_tags r USING (track_id) WHERE t.msd_track_id = 'TRAAAAK128F9318786' AND r.source = 'msd_lastfm' GROUP BY 1, 2")" \
    "a real dataset file: artist, title and tag counts (strings) are loaded"
expect_eq "Tab	Artist|Back\\slash
Newline" "$(sql "SELECT artist, title FROM tracks WHERE msd_track_id = 'TRCCCCC128F0000001'")" \
    "tabs, backslashes and newlines survive COPY"
expect_eq "HIPHOP:80,Hip Hop:100,hip-hop:90,müsic ♫:5,tab	here:1" \
    "$(sql "SELECT string_agg(r.tag || ':' || r.weight, ',' ORDER BY r.tag) FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.msd_track_id = 'TRCCCCC128F0000001'")" \
    "tags are kept as given (numbers or strings, unicode, escapes)"
expect_eq "Art <b> & <i>Co</i> / AC/DC|Title <-less> SEP" "$(sql "SELECT artist, title FROM tracks WHERE msd_track_id = 'TRCCCCC128F0000003'")" \
    "missing artist/title come from unique_tracks.txt, split on the literal <SEP>"
expect_eq "No Id|From Name" "$(sql "SELECT artist, title FROM tracks WHERE msd_track_id = 'TRCCCCC128F0000004'")" \
    "a file without track_id takes the id from its name"
expect_eq "blues,rock" "$(sql "SELECT string_agg(r.tag, ',' ORDER BY r.tag) FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.msd_track_id = 'TRCCCCC128F0000005'")" \
    "bad tag entries are skipped, the good ones loaded"
expect_eq 0 "$(sql "SELECT count(*) FROM tracks WHERE msd_track_id IN ('TRCCCCC128F0000006', 'TRCCCCC128F0000007', 'TRCCCCC128F0000008') OR artist = 'Lost'")" \
    "malformed, non-object, invalid-UTF-8 and id-less files are skipped"
expect_err "TRCCCCC128F0000006.json: malformed_json: line 1" "a truncated JSON file is named with the place of the error"
expect_err "TRCCCCC128F0000007.json: malformed_json: not a JSON object" "a JSON file that is not an object is named"
expect_err "TRCCCCC128F0000008.json: invalid_utf8" "a file with invalid UTF-8 is named"
expect_err "no-id-anywhere.json: missing_field" "a file without any track id is named"
expect_err "TRCCCCC128F0000005.json: bad_tag_entries: 5 malformed entries" "bad tag entries are counted and named"
expect_err "unique_tracks.txt:6: invalid_utf8" "an invalid UTF-8 line is named with its line number"
expect_err "unique_tracks.txt:5: bad_line" "a line with five fields is named"
expect_err "unique_tracks.txt:8: bad_line" "a line without <SEP> is named"
expect_err "msd_tagtraum_cd1.cls:5: bad_line" "a bad tagtraum line is named"
counters=$(sql "SELECT counters FROM runs ORDER BY run_id DESC LIMIT 1")
expect_eq "2|2|1|3|1|5" "$(sql "SELECT counters->>'malformed_json', counters->>'invalid_utf8', counters->>'bad_tag_entries', counters->>'bad_line', counters->>'tracks_merged', counters->>'unique_track_lines' FROM runs ORDER BY run_id DESC LIMIT 1")" \
    "problems are counted in the run record ($counters)"
expect_eq 10 "$(sql "SELECT count(*) FROM ingest_problems")" "every problem is in ingest_problems"
expect_eq "TRCCCCC128F0000009|lastfm_api,msd" "$(sql "SELECT t.msd_track_id, string_agg(s.source, ',' ORDER BY s.source) FROM tracks t JOIN track_sources s USING (track_id) WHERE t.artist = 'Merge Me' GROUP BY 1")" \
    "a track found by another source with the same artist and title gets the MSD id"
expect_eq "Pop:33.33|Rock:66.67" "$(sql "SELECT string_agg(r.tag || ':' || round(r.weight::numeric, 2), '|' ORDER BY r.tag) FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.msd_track_id = 'TRAAAAK128F9318786' AND r.source = 'tagtraum_cd1'")" \
    "tagtraum CD1 majority and minority labels weigh 2/3 and 1/3"
expect_eq "Only In MAGD|Named Later|Pop_Rock" "$(sql "SELECT t.artist, t.title, r.tag FROM tracks t JOIN raw_tags r USING (track_id) WHERE t.msd_track_id = 'TRAAAAV128F421A322' AND r.source = 'magd'")" \
    "MAGD tracks get their names from unique_tracks.txt"
expect_eq "tagtraum_cd1,tagtraum_cd2c" "$(sql "SELECT string_agg(DISTINCT source, ',') FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.msd_track_id = 'TRCCCCC128F0000002'")" \
    "each tagtraum file is its own source"

counts="SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM raw_tags), (SELECT count(*) FROM track_sources)"
before=$(sql "$counts")
run msd
expect_status 1 "a second af-ingest msd over the same bad files exits 1 again"
expect_eq "$before" "$(sql "$counts")" "a second run changes no count"
expect_eq "0|0" "$(sql "SELECT counters->>'tracks', counters->>'tags' FROM runs ORDER BY run_id DESC LIMIT 1")" \
    "a second run adds no track and no tag"
run msd --jobs 1
expect_eq "$before" "$(sql "$counts")" "one parser thread gives the same result"

run af-ingest label
expect_status 0 "af-ingest label after af-ingest msd"
expect_eq "hiphop" "$(sql "SELECT g.name FROM track_labels l JOIN genres g USING (genre_id) JOIN tracks t USING (track_id) WHERE t.msd_track_id = 'TRCCCCC128F0000001'")" \
    "Hip Hop, hip-hop and HIPHOP all count for hiphop"

run af-ingest msd --tagtraum "$d/msd-MAGD-genreAssignment.cls"
expect_status 2 "a tagtraum file whose name does not say cd1/cd2/cd2c is refused"
run af-ingest msd
expect_status 2 "msd without any input is a usage error"
run af-ingest msd --lastfm "$test_tmp/nowhere"
expect_status 1 "a missing dataset directory fails"
expect_err "nowhere" "and is named"

# Real-data damage (issues 17 and 18): a count of 1e39 or "NaN" in one file must not lose
# the batch; cp1252 damage in unique_tracks.txt is repaired; a CD1-shaped file with its
# 7-line header and the coarse Pop_Rock class labels without conflicts.
use_migrated_database ingest_msd_damage
e="$test_tmp/damage"
python3 - "$e" <<'PY'
import json, os, sys
d = sys.argv[1]
def put(tid, tags, raw=None):
    path = os.path.join(d, "lastfm_train", tid[2], tid[3], tid[4], tid + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(raw if raw else json.dumps({"artist": "A " + tid, "title": "T", "tags": tags, "track_id": tid}))
put("TRDDDDD128F0000001", [["rock", "1e39"], ["jazz", "NaN"], ["pop", "inf"], ["metal", "-5"], ["blues", "50"]])
put("TRDDDDD128F0000002", [["rock", "100"]])
# A tag too long for any index (skipped when parsed), and one the database refuses
# (a trigger below stands for any row no check foresaw): that file alone is lost.
put("TRDDDDD128F0000007", [["x" * 3000, "10"], ["reggae", "100"]])
put("TRDDDDD128F0000008", [["poison", "10"], ["disco", "100"]])
# A JSON number too large for a real, and one too small for it (underflow).
put("TRDDDDD128F0000003", None, raw='{"artist": "Big", "title": "Number", "track_id": "TRDDDDD128F0000003",'
                                    ' "tags": [["rock", 1e39], ["pop", 1e-50], ["jazz", 75]]}')
PY
printf 'TRDDDDD128F0000004<SEP>SODDD<SEP>Gigi D\x19Agostino<SEP>I\x19m Mad As Hell \x13 Remix\n' >"$e/unique_tracks.txt"
printf 'TRDDDDD128F0000005<SEP>SODDD<SEP>Bell\x01 End<SEP>Fine\n' >>"$e/unique_tracks.txt"
printf 'TRDDDDD128F0000006<SEP>SODDD<SEP>Clean<SEP>Line\n' >>"$e/unique_tracks.txt"
printf 'TRDDDDD128F0000004\tPop_Rock\nTRDDDDD128F0000005\tJazz\nTRDDDDD128F0000006\tRock\n' >"$e/msd-MAGD-genreAssignment.cls"
sql "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS
     \$\$ BEGIN IF NEW.tag = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END \$\$;
     CREATE TRIGGER refuse_poison BEFORE INSERT ON raw_tags FOR EACH ROW EXECUTE FUNCTION refuse_poison()" >/dev/null
run af-ingest msd --lastfm "$e/lastfm_train" --unique-tracks "$e/unique_tracks.txt" --magd "$e/msd-MAGD-genreAssignment.cls"
expect_status 1 "a count of 1e39, NaN, inf or -5 does not fail the batch; the rejected values make the exit 1"
expect_eq 1 "$(sql "SELECT count(*) FROM ingest_problems WHERE problem = 'load_failed' AND item LIKE '%/TRDDDDD128F0000008.json' AND detail LIKE '%poisoned row%'")" \
    "a file whose rows the database refuses is an ingest problem naming it"
expect_eq "TRDDDDD128F0000007:reggae" "$(sql "SELECT string_agg(t.msd_track_id || ':' || r.tag, '|') FROM raw_tags r JOIN tracks t USING (track_id) WHERE t.msd_track_id IN ('TRDDDDD128F0000007', 'TRDDDDD128F0000008')")" \
    "a 3000-byte tag is skipped, the file's other tags load; the refused file loads nothing"
sql "DROP TRIGGER refuse_poison ON raw_tags" >/dev/null
expect_eq "TRDDDDD128F0000001:blues:50|TRDDDDD128F0000002:rock:100|TRDDDDD128F0000003:jazz:75|TRDDDDD128F0000003:pop:0" \
    "$(sql "SELECT string_agg(t.msd_track_id || ':' || r.tag || ':' || r.weight, '|' ORDER BY t.msd_track_id, r.tag) FROM raw_tags r JOIN tracks t USING (track_id) WHERE r.source = 'msd_lastfm' AND t.msd_track_id < 'TRDDDDD128F0000007'")" \
    "the valid tags of the batch are loaded, the bad ones are not"
expect_eq 0 "$(sql "SELECT count(*) FROM raw_tags WHERE weight = 'NaN' OR weight IN ('Infinity', '-Infinity') OR weight < 0")" \
    "no NaN, infinite or negative weight is stored"
expect_eq 5 "$(sql "SELECT count(*) FROM ingest_problems WHERE problem = 'bad_tag_weight' AND item LIKE '%/TRDDDDD128F000000_.json'")" \
    "each bad count is an ingest problem naming its file"
expect_err "TRDDDDD128F0000001.json: bad_tag_weight: tag \"rock\": count 1e39 is not a number in \[0, 100\]" \
    "the message names the file, the tag and the value"
expect_eq "Gigi D’Agostino|I’m Mad As Hell – Remix" "$(sql "SELECT artist, title FROM tracks WHERE msd_track_id = 'TRDDDDD128F0000004'")" \
    "cp1252 damage: U+0019 is read as ’ and U+0013 as –"
expect_eq "Bell End" "$(sql "SELECT artist FROM tracks WHERE msd_track_id = 'TRDDDDD128F0000005'")" \
    "other control characters are removed"
expect_eq "unique_tracks.txt:1|unique_tracks.txt:2" \
    "$(sql "SELECT string_agg(regexp_replace(item, '.*/', ''), '|' ORDER BY item) FROM ingest_problems WHERE problem = 'repaired_text'")" \
    "one ingest problem per repaired line, named with its line"
printf 'TRDDDDD128F0000009<SEP>SODDD<SEP>Only\x01 Repaired<SEP>Line\n' >"$e/repaired_only.txt"
run af-ingest msd --unique-tracks "$e/repaired_only.txt"
expect_status 0 "a repaired line is loaded: no item failed, exit 0"

python3 "$AF_PROJECT/tests/bench/gen_msd_cd1.py" "$e/msd_tagtraum_cd1.cls" --tracks 2000 --seed 7
expect_eq 7 "$(grep -c '^#' "$e/msd_tagtraum_cd1.cls")" "the CD1-shaped file has the real 7-line # header"
run af-ingest msd --tagtraum "$e/msd_tagtraum_cd1.cls"
expect_status 0 "af-ingest msd loads the CD1-shaped file"
expect_eq 0 "$(sql "SELECT count(*) FROM ingest_problems WHERE item LIKE '%msd_tagtraum_cd1.cls%'")" \
    "the 7 header lines are no problem"
run af-ingest label
expect_status 0 "af-ingest label on the CD1-shaped file"
expect_eq "t" "$(sql "SELECT count(*) FILTER (WHERE status = 'conflict') < 0.05 * count(*) AND count(*) FILTER (WHERE status = 'ambiguous') > 0.5 * count(*) FROM track_labels l JOIN tracks t USING (track_id) JOIN raw_tags r ON r.track_id = t.track_id AND r.source = 'tagtraum_cd1' WHERE r.tag = 'Pop_Rock'")" \
    "CD1 Pop_Rock tracks: under 5 % conflicts, most of them ambiguous"
expect_eq "ambiguous: pop or rock" "$(sql "SELECT reason FROM track_labels l JOIN tracks t USING (track_id) WHERE t.msd_track_id = 'TRDDDDD128F0000004'")" \
    "MAGD Pop_Rock alone: ambiguous: pop or rock"
expect_eq "labelled:rock" "$(sql "SELECT l.status || ':' || g.name FROM track_labels l JOIN tracks t USING (track_id) JOIN genres g USING (genre_id) WHERE t.msd_track_id = 'TRDDDDD128F0000006'")" \
    "MAGD Rock: rock"
