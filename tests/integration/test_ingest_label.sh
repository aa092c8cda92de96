#!/usr/bin/env bash
# af-ingest label: the taxonomy file (errors name file, line and key), tag matching
# regardless of case/spaces/punctuation, per-source normalised scores, labelled /
# conflict / below_threshold / no_genre_tags with reasons, --max-per-genre balance,
# sources and taxonomy versions.
source "$AF_PROJECT/tests/lib.sh"

use_fresh_database ingest_label
run af-db migrate
expect_status 0 "af-db migrate"

# Taxonomy errors: exit 2, file, line and key named.
bad() { # bad NAME CONTENT PATTERN
    printf "$2" >"$test_tmp/$1.conf"
    run af-ingest label --genres "$test_tmp/$1.conf"
    expect_status 2 "taxonomy error ($1) exits 2"
    expect_err "$3" "taxonomy error ($1) is named: $3"
}
bad weight '[rock]\nrock = 1\nhard rock = heavy\n' "weight.conf:3: tag 'hard rock': weight 'heavy' is not a number"
bad negative '[rock]\nrock = -1\n' "negative.conf:2: tag 'rock': weight '-1'"
bad duplicate '[hiphop]\nhip hop = 1\nrap = 1\nHip-Hop = 0.5\n' "duplicate.conf:4: tag 'Hip-Hop' repeats 'hip hop'"
bad genre '[Hip Hop]\nrap = 1\n' "genre.conf:2: genre name \[Hip Hop\]"
bad outside 'rock = 1\n' "outside.conf:1: key 'rock' outside a \[genre\] section"
bad punct '[rock]\n--- = 1\n' "punct.conf:2: tag '---' in \[rock\] has no letters or digits"
bad syntax '[rock]\nrock 1\n' "syntax.conf:2: cannot parse"
bad empty '; nothing\n' "empty.conf: no genres defined"
run af-ingest label --genres "$test_tmp/missing.conf"
expect_status 2 "a missing taxonomy file exits 2"
expect_err "missing.conf: cannot open" "a missing taxonomy file is named"
expect_eq 0 "$(sql "SELECT count(*) FROM taxonomy_versions")" "a bad taxonomy registers nothing"

cat >"$test_tmp/genres.conf" <<'CONF'
[hiphop]
hip hop = 1
rap = 1
[rock]
rock = 1
hard rock = 0.8
[metal]
metal = 1
hard rock = 0.2
[jazz]
jazz = 1
CONF
# tracks: name, then source:tag:weight entries
sql "
CREATE TEMP TABLE spec (name text, source text, tag text, weight real);
INSERT INTO spec VALUES
  ('hh1', 'msd_lastfm', 'Hip Hop', 100), ('hh2', 'msd_lastfm', 'hip-hop', 100), ('hh3', 'msd_lastfm', 'HIPHOP', 100),
  ('hh4', 'lastfm_api', 'Hip_Hop!', 100), ('hh5', 'msd_lastfm', 'rap', 50),
  ('rock1', 'msd_lastfm', 'rock', 100), ('rock1', 'msd_lastfm', 'hard rock', 50), ('rock1', 'msd_lastfm', 'seen live', 100),
  ('rock2', 'msd_lastfm', 'rock', 100), ('rock3', 'msd_lastfm', 'rock', 90), ('rock4', 'folder', 'Rock', 100),
  ('mixed', 'msd_lastfm', 'rock', 100), ('mixed', 'msd_lastfm', 'metal', 90),
  ('persource', 'msd_lastfm', 'jazz', 100), ('persource', 'msd_lastfm', 'rock', 100), ('persource', 'msd_lastfm', 'metal', 100),
  ('persource', 'msd_lastfm', 'hip hop', 100), ('persource', 'magd', 'jazz', 100),
  ('weak', 'msd_lastfm', 'jazz', 5), ('weak', 'msd_lastfm', 'indie', 100),
  ('notgenre', 'msd_lastfm', 'indie', 100), ('notgenre', 'msd_lastfm', 'female vocalists', 80);
INSERT INTO tracks (artist, title) SELECT DISTINCT 'artist', name FROM spec;
INSERT INTO tracks (artist, title) VALUES ('artist', 'untagged');
INSERT INTO raw_tags (track_id, source, tag, weight) SELECT t.track_id, s.source, s.tag, s.weight FROM spec s JOIN tracks t ON t.title = s.name;
" >/dev/null
label_of() { sql "SELECT l.status || ':' || coalesce(g.name, '-') FROM track_labels l JOIN tracks t USING (track_id) LEFT JOIN genres g USING (genre_id) WHERE t.title = '$1' AND l.taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions)"; }

run af-ingest label --genres "$test_tmp/genres.conf"
expect_status 0 "af-ingest label succeeds"
expect_out "hiphop +5 +5" "the summary counts labelled tracks per genre"
for t in hh1 hh2 hh3 hh4 hh5; do
    expect_eq "labelled:hiphop" "$(label_of $t)" "$t is hiphop (case, spaces, hyphens, punctuation do not matter)"
done
expect_eq "labelled:rock" "$(label_of rock1)" "rock + hard rock: rock (0.92 of the score)"
expect_eq "labelled:rock" "$(label_of rock4)" "a folder label counts like a tag"
expect_eq "conflict:-" "$(label_of mixed)" "rock 100 vs metal 90: competing genres"
expect_eq 1 "$(sql "SELECT count(*) FROM track_labels l JOIN tracks t USING (track_id) WHERE t.title = 'mixed' AND l.reason LIKE 'competing genres: rock 0.53, metal 0.47%' AND l.scores ? 'metal'")" \
    "a conflict keeps its scores and the reason in words"
expect_eq "labelled:jazz" "$(label_of persource)" "per-source normalisation: one source's single genre outweighs another's four"
expect_eq "0.63|{magd,msd_lastfm}" "$(sql "SELECT round(top_share::numeric, 2), sources FROM track_labels l JOIN tracks t USING (track_id) WHERE t.title = 'persource'")" \
    "the share is the mean of the sources' shares, and the sources are recorded"
expect_eq "below_threshold:-" "$(label_of weak)" "genre tags below min_tag_weight are not evidence"
expect_eq 1 "$(sql "SELECT count(*) FROM track_labels l JOIN tracks t USING (track_id) WHERE t.title = 'weak' AND reason LIKE '%\"jazz\", has weight 5%'")" \
    "below_threshold says which tag was too weak"
expect_eq "no_genre_tags:-" "$(label_of notgenre)" "tags outside the taxonomy: no genre tags"
expect_eq "no tags" "$(sql "SELECT reason FROM track_labels l JOIN tracks t USING (track_id) WHERE t.title = 'untagged'")" \
    "a track without tags is recorded too"
expect_eq 1 "$(sql "SELECT count(DISTINCT taxonomy_version) FROM track_labels")" "labels record the taxonomy version"

# Thresholds from the command line, and a balanced selection.
run af-ingest label --genres "$test_tmp/genres.conf" --min-share 0.5
expect_eq "labelled:rock" "$(label_of mixed)" "--min-share 0.5 lets rock 0.53 win"
run af-ingest label --genres "$test_tmp/genres.conf" --max-per-genre 2
expect_status 0 "af-ingest label --max-per-genre 2"
expect_eq "hiphop|5|2
jazz|1|1
rock|4|2" "$(sql "SELECT g.name, count(*), count(*) FILTER (WHERE selected) FROM track_labels l JOIN genres g USING (genre_id) WHERE status = 'labelled' GROUP BY 1 ORDER BY 1")" \
    "at most 2 selected per genre, all kept"
expect_eq 0 "$(sql "SELECT count(*) FROM track_labels WHERE selected AND status <> 'labelled'")" "only labelled tracks are selected"
expect_eq 1 "$(sql "SELECT count(*) FROM taxonomy_versions")" "an unchanged taxonomy keeps its version"
first=$(sql "SELECT count(*) FROM track_labels")
run af-ingest label --genres "$test_tmp/genres.conf" --max-per-genre 2
expect_eq "$first" "$(sql "SELECT count(*) FROM track_labels")" "labelling again changes no count"

# A changed taxonomy is a new version; the old labels stay.
printf '[indie]\nindie = 1\n' >>"$test_tmp/genres.conf"
run af-ingest label --genres "$test_tmp/genres.conf"
expect_eq 2 "$(sql "SELECT count(*) FROM taxonomy_versions")" "a changed taxonomy is a new version"
expect_eq "labelled:indie" "$(label_of notgenre)" "the new genre labels its tracks"
expect_eq 2 "$(sql "SELECT count(DISTINCT taxonomy_version) FROM track_labels")" "labels of the old version are kept"
run af-db status
expect_out "label +[0-9]+" "af-db status reports the labels"

# The shipped taxonomy loads.
run af-ingest label
expect_status 0 "the shipped config/genres.conf loads"
expect_eq 10 "$(sql "SELECT count(DISTINCT genre_id) FROM genre_tags WHERE taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions)")" \
    "the shipped taxonomy has GTZAN's ten genres"

# A coarse class is not a conflict (tagtraum CD1 / MAGD "Pop_Rock" = pop or rock); a tag
# spelled three ways counts once; a non-ASCII tag in capitals finds its genre.
cat >"$test_tmp/coarse.conf" <<'CONF'
[pop]
pop = 1
pop rock = 0.5
[rock]
rock = 1
pop rock = 0.5
[hiphop]
hip hop = 1
[jazz]
jazz = 1
[metal]
métal = 1
CONF
sql "
CREATE TEMP TABLE spec (name text, source text, tag text, weight real);
INSERT INTO spec VALUES
  ('cd1only', 'tagtraum_cd1', 'Pop_Rock', 100),
  ('cd1cd2', 'tagtraum_cd1', 'Pop_Rock', 100), ('cd1cd2', 'tagtraum_cd2', 'Rock', 100),
  ('cd1lfm', 'tagtraum_cd1', 'Pop_Rock', 100), ('cd1lfm', 'lastfm_api', 'pop', 100), ('cd1lfm', 'lastfm_api', 'dance', 50),
  ('cd1minor', 'tagtraum_cd1', 'Pop_Rock', 66.67), ('cd1minor', 'tagtraum_cd1', 'Jazz', 33.33),
  ('cd1jazz', 'tagtraum_cd1', 'Pop_Rock', 100), ('cd1jazz', 'lastfm_api', 'jazz', 100),
  ('variants', 'lastfm_api', 'hip hop', 50), ('variants', 'lastfm_api', 'Hip-Hop', 50),
  ('variants', 'lastfm_api', 'hiphop', 50), ('variants', 'lastfm_api', 'rock', 100),
  ('caps', 'lastfm_api', 'MÉTAL', 100);
INSERT INTO tracks (artist, title) SELECT DISTINCT 'artist', name FROM spec;
INSERT INTO raw_tags (track_id, source, tag, weight) SELECT t.track_id, s.source, s.tag, s.weight FROM spec s JOIN tracks t ON t.title = s.name;
" >/dev/null
run af-ingest label --genres "$test_tmp/coarse.conf"
expect_status 0 "af-ingest label with a coarse tag"
expect_eq "ambiguous:-" "$(label_of cd1only)" "only Pop_Rock: ambiguous, not a conflict"
expect_eq "ambiguous: pop or rock" "$(sql "SELECT reason FROM track_labels l JOIN tracks t USING (track_id) WHERE t.title = 'cd1only' AND l.taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions)")" \
    "an ambiguous track says which genres it could be"
expect_eq "labelled:rock" "$(label_of cd1cd2)" "CD1 Pop_Rock + CD2 Rock: CD2 decides (rock)"
expect_eq "labelled:pop" "$(label_of cd1lfm)" "CD1 Pop_Rock + Last.fm pop: Last.fm decides (pop)"
expect_eq "ambiguous:-" "$(label_of cd1minor)" "CD1 Pop_Rock 2/3 + Jazz 1/3: still pop or rock"
expect_eq "conflict:-" "$(label_of cd1jazz)" "CD1 Pop_Rock against Last.fm jazz: a real conflict"
expect_eq "labelled:rock" "$(label_of variants)" "hip hop / Hip-Hop / hiphop 50 count once: rock 100 wins"
expect_eq "labelled:metal" "$(label_of caps)" "MÉTAL finds the taxonomy's métal"
expect_out "ambiguous +[0-9]+" "the summary counts ambiguous tracks"
