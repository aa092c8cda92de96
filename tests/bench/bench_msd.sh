#!/usr/bin/env bash
# bench_msd.sh — `af-ingest msd` on a generated Last.fm dataset of the real one's shape
# (tests/bench/gen_msd_lastfm.py): tracks/s and tag rows/s for a first load into an
# empty database, and the time of an idempotent re-run.
#   BENCH_MSD_SCALE   share of the full dataset (default 0.1 = 94,334 tracks, 0.86 M tags);
#   AF_BENCH_FULL=1   full scale: 943,347 tracks, 8.6 M track-tag pairs
#   BENCH_MSD_DIR     where the generated tree is kept between runs
. "$AF_PROJECT/tests/lib.sh"
scale=${BENCH_MSD_SCALE:-0.1}
[ "${AF_BENCH_FULL:-0}" = 1 ] && scale=1
dir=${BENCH_MSD_DIR:-/tmp/af-bench-msd-$scale}
if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    echo "generating the dataset (scale $scale) in $dir ..."
    python3 "$AF_PROJECT/tests/bench/gen_msd_lastfm.py" "$dir/lastfm_train" --scale "$scale" || exit 1
    touch "$dir/.complete"
fi
files=$(find "$dir/lastfm_train" -name '*.json' | wc -l)
use_fresh_database bench_msd
af-db migrate >/dev/null 2>&1 || { echo "af-db migrate failed"; exit 1; }
sync
load() {
    local s e
    s=$(date +%s.%N)
    af-ingest -q msd --lastfm "$dir/lastfm_train" || echo "af-ingest msd failed" >&2
    e=$(date +%s.%N)
    awk "BEGIN { print $e - $s }"
}
first=$(load)
tracks=$(sql "SELECT count(*) FROM tracks")
tags=$(sql "SELECT count(*) FROM raw_tags")
second=$(load)
printf 'af-ingest msd, %d files (scale %s), %d parser threads:\n' "$files" "$scale" "$(nproc)"
printf '  first load   %7.1f s  %9.0f tracks/s  %9.0f tag rows/s  (%d tracks, %d tag rows)\n' \
    "$first" "$(awk "BEGIN { print $tracks / $first }")" "$(awk "BEGIN { print $tags / $first }")" "$tracks" "$tags"
printf '  re-run       %7.1f s  (idempotent: %s)\n' "$second" \
    "$([ "$(sql "SELECT count(*) FROM tracks"):$(sql "SELECT count(*) FROM raw_tags")" = "$tracks:$tags" ] && echo "counts unchanged" || echo "COUNTS CHANGED")"
s=$(date +%s.%N)
af-ingest -q label >/dev/null || echo "af-ingest label failed" >&2
e=$(date +%s.%N)
printf '  label        %7.1f s  (%s)\n' "$(awk "BEGIN { print $e - $s }")" \
    "$(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM track_labels GROUP BY 1 ORDER BY 1) x")"
