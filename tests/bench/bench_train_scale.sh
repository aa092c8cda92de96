#!/usr/bin/env bash
# bench_train_scale.sh — af-train's peak memory per million windows (issue 19, "A million
# tracks": it must train on 2 M windows of 326 features within 8 GB).  Generates
# BENCH_WINDOWS windows (default 2,000,000; 50 per track, 10 genres, 326 features) in the
# database with generate_series — each window a copy of one of 1,000 random class-shifted
# vectors, so generating is a bulk copy, not 650 M random() calls — then runs af-train for
# BENCH_EPOCHS (default 1) epochs under /usr/bin/time -v, once with --no-baselines and once
# with the baselines (capped at [train] baseline_max_rows), and prints the peak RSS, per
# million windows, and the limit's verdict.  Needs ~3 GB of disk per million windows.
# BENCH_TRAIN_BASELINES=0 skips the run with baselines; BENCH_TRAIN_FOLDS=K adds a
# cross-validation run (--folds K --no-baselines: K x (K-1) inner-fold members, long);
# BENCH_AF_TRAIN=PATH measures another af-train binary (an older build, for a before/after).
set -u
export AF_BIN="$AF_PROJECT/build/bin" PATH="$AF_PROJECT/build/bin:$PATH"
windows=${BENCH_WINDOWS:-2000000}
epochs=${BENCH_EPOCHS:-1}
per_track=50
tracks=$(((windows + per_track - 1) / per_track))
windows=$((tracks * per_track))
limit_kb=$((8 * 1024 * 1024))
db="af_bench_scale_$$"
work=$(mktemp -d /tmp/af-bench-scale.XXXXXX)
createdb "$db" && export PGDATABASE="$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"' EXIT
af-db migrate >/dev/null 2>&1 || { echo "bench_train_scale: af-db migrate failed" >&2; exit 1; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
t0=$(date +%s.%N)
psql -XAtq -v ON_ERROR_STOP=1 -v tracks="$tracks" <<'SQL' || exit 1
-- A bench database: nothing here needs to survive a crash.
ALTER TABLE window_features SET UNLOGGED;
INSERT INTO taxonomy_versions (checksum, source_file) VALUES ('bench', 'bench');
INSERT INTO genres (name) SELECT 'genre' || g FROM generate_series(1, 10) g;
INSERT INTO feature_sets (name, parameters, feature_names)
SELECT 'bench', '{}', array_agg('f' || j ORDER BY j) FROM generate_series(0, 325) j;
INSERT INTO tracks (track_id, artist, title)
SELECT t, 'artist ' || (t % 4000), 't' FROM generate_series(1, :tracks) t;
INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id)
SELECT t, 1, 'labelled', 1 + t % 10 FROM generate_series(1, :tracks) t;
INSERT INTO track_features (track_id, feature_set_id, excerpt_start, excerpt_seconds, n_windows, feature_values)
SELECT t, 1, 0, 150, 50, '{}' FROM generate_series(1, :tracks) t;
SQL
# Windows copied from 1,000 vectors (100 per class, each feature random in [0, 1) plus 1 on
# the class's features), in statements of 10,000 tracks: the statement-level parent check keeps its
# transition table small.
for ((lo = 1; lo <= tracks; lo += 10000)); do
    hi=$((lo + 9999 < tracks ? lo + 9999 : tracks))
    printf 'INSERT INTO window_features (track_id, feature_set_id, window_index, start_seconds, feature_values)
SELECT t, 1, w, 3 * w, p.x FROM generate_series(%d, %d) t, generate_series(0, %d) w
JOIN LATERAL (SELECT x FROM pool WHERE v = (t %% 10) + 10 * ((t * 7 + w * 13) %% 100)) p ON true;\n' \
        "$lo" "$hi" $((per_track - 1))
done | psql -XAtq -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE pool AS SELECT v, ARRAY(SELECT (random() + (j % 10 = v % 10)::int)::real FROM generate_series(0, 325) j WHERE v >= 0) AS x FROM generate_series(0, 999) v" -c "CREATE INDEX ON pool (v)" -f - || exit 1
psql -XAtq -c "VACUUM ANALYZE window_features" >/dev/null
t1=$(date +%s.%N)
echo "generated $windows windows ($tracks tracks) in $(awk "BEGIN { printf \"%.0f\", $t1 - $t0 }") s;" \
    "window_features: $(psql -XAtc "SELECT pg_size_pretty(pg_total_relation_size('window_features'))")"

# run LABEL ARGS...: af-train under /usr/bin/time -v; prints wall time, peak RSS, per million.
run() {
    local label=$1
    shift
    /usr/bin/time -v -o "$work/time" "${BENCH_AF_TRAIN:-af-train}" --feature-set bench --epochs "$epochs" --patience "$epochs" \
        "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    local rss wall
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/time")
    printf '%-34s exit %d, %s wall, peak RSS %.2f GiB = %.2f GiB per million windows (%s 8 GiB)\n' \
        "$label" "$rc" "$wall" "$(awk "BEGIN { print $rss / 1048576 }")" \
        "$(awk "BEGIN { print $rss / 1048576 / ($windows / 1e6) }")" \
        "$([ "$rss" -le "$limit_kb" ] && echo within || echo OVER)"
    grep -E 'loaded|baseline|training, |fold 0 of' "$work/err" | sed 's/^/    /'
    [ "$rc" -eq 0 ] || { tail -n 5 "$work/err" >&2; return 1; }
    [ "$rss" -le "$limit_kb" ]
}
status=0
run "af-train --no-baselines" --no-baselines || status=1
if [ "${BENCH_TRAIN_BASELINES:-1}" != 0 ]; then
    run "af-train (baselines capped)" || status=1
fi
if [ "${BENCH_TRAIN_FOLDS:-0}" -gt 1 ]; then
    run "af-train --folds ${BENCH_TRAIN_FOLDS} --no-baselines" --folds "$BENCH_TRAIN_FOLDS" --no-baselines || status=1
fi
echo "(x alone: $windows x 326 float = $(awk "BEGIN { printf \"%.2f\", $windows * 326 * 4 / 2^30 }") GiB)"
exit $status
