#!/usr/bin/env bash
# bench_msd_cd1.sh — labelling a tagtraum CD1-shaped file (tests/bench/gen_msd_cd1.py:
# 7-line '#' header, the coarse class Pop_Rock on 63 % of the tracks, minority votes)
# with the shipped taxonomy: the label status counts and the conflict share, before
# (af_label_tracks as in sql/002_ingest.sql, Pop_Rock split 0.5/0.5) and now (a coarse
# class is 'ambiguous', not a conflict).  Target: under 5 % conflicts.
#   BENCH_CD1_TRACKS   tracks in the file (default 133,676, the real CD1's count)
. "$AF_PROJECT/tests/lib.sh"
tracks=${BENCH_CD1_TRACKS:-133676}
file=/tmp/af-bench-msd_tagtraum_cd1-$tracks.cls
[ -f "$file" ] || python3 "$AF_PROJECT/tests/bench/gen_msd_cd1.py" "$file" --tracks "$tracks" || exit 1
use_fresh_database bench_msd_cd1
af-db migrate >/dev/null 2>&1 || { echo "af-db migrate failed"; exit 1; }
s=$(date +%s.%N)
af-ingest -q msd --tagtraum "$file" || { echo "af-ingest msd failed"; exit 1; }
e=$(date +%s.%N)
load=$(awk "BEGIN { print $e - $s }")
s=$(date +%s.%N)
af-ingest -q label >/dev/null || { echo "af-ingest label failed"; exit 1; }
e=$(date +%s.%N)
label=$(awk "BEGIN { print $e - $s }")
counts() {
    sql "SELECT string_agg(status || ' ' || n || ' (' || round(100.0 * n / total, 1) || ' %)', ', ' ORDER BY status)
           FROM (SELECT status, count(*) n, sum(count(*)) OVER () AS total FROM track_labels GROUP BY 1) x"
}
conflict_share() {
    sql "SELECT round(100.0 * count(*) FILTER (WHERE status = 'conflict') / count(*), 2) FROM track_labels"
}
after=$(counts)
after_share=$(conflict_share)
# The labelling as it was: 002_ingest.sql's function under another name, same version.
sed -n '/^CREATE FUNCTION af_label_tracks(/,/^\$\$;/p' "$AF_PROJECT/sql/002_ingest.sql" |
    sed 's/^CREATE FUNCTION af_label_tracks(/CREATE FUNCTION af_label_tracks_before(/' |
    psql -XAtq -v ON_ERROR_STOP=1 >/dev/null || { echo "cannot create the old labelling"; exit 1; }
sql "SELECT af_label_tracks_before((SELECT max(taxonomy_version) FROM taxonomy_versions), 0.6, 10, 0, NULL)" >/dev/null
before=$(counts)
before_share=$(conflict_share)
printf 'af-ingest msd --tagtraum, CD1-shaped file of %d tracks: load %.1f s, label %.1f s\n' "$tracks" "$load" "$label"
printf '  before: %s\n' "$before"
printf '  now:    %s\n' "$after"
printf '  conflict share: %s %% before, %s %% now (target < 5 %%)\n' "$before_share" "$after_share"
awk "BEGIN { exit !($after_share < 5) }" || { echo "  conflict share not under 5 %"; exit 1; }
