#!/usr/bin/env bash
# bench_train_load.sh — af-train's database loading: 100,000 windows x 326 features
# (10 genres, 2,000 tracks of 50 windows) streamed through the binary cursor into memory,
# timed with --export-csv /dev/null (load + split assignment, no training), and one
# 3-epoch training run on the same data for the end-to-end figure.
set -u
export AF_BIN="$AF_PROJECT/build/bin" PATH="$AF_PROJECT/build/bin:$PATH"
db="af_bench_train_$$"
createdb "$db" && export PGDATABASE="$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1' EXIT
af-db migrate >/dev/null 2>&1
t0=$(date +%s.%N)
psql -XAtq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO taxonomy_versions (checksum, source_file) VALUES ('bench', 'bench');
INSERT INTO genres (name) SELECT 'genre' || g FROM generate_series(1, 10) g;
INSERT INTO feature_sets (name, parameters, feature_names)
SELECT 'bench', '{}', array_agg('f' || j ORDER BY j) FROM generate_series(0, 325) j;
INSERT INTO tracks (track_id, artist, title) SELECT t, 'artist ' || (t % 400), 't' FROM generate_series(1, 2000) t;
INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id) SELECT t, 1, 'labelled', 1 + t % 10 FROM generate_series(1, 2000) t;
INSERT INTO track_features (track_id, feature_set_id, excerpt_start, excerpt_seconds, n_windows, feature_values)
SELECT t, 1, 0, 150, 50, '{}' FROM generate_series(1, 2000) t;
INSERT INTO window_features (track_id, feature_set_id, window_index, start_seconds, feature_values)
SELECT t, 1, w, 3 * w, ARRAY(SELECT (random() + (j % 10 = t % 10)::int)::real FROM generate_series(0, 325) j WHERE w >= 0)
FROM generate_series(1, 2000) t, generate_series(0, 49) w;
SQL
t1=$(date +%s.%N)
echo "generated 100000 windows in $(awk "BEGIN { print $t1 - $t0 }") s"
s=$(date +%s.%N)
af-train --feature-set bench --export-csv /dev/null -q || exit 1
e=$(date +%s.%N)
echo "--export-csv of 100000 windows (load + CSV formatting): $(awk "BEGIN { print $e - $s }") s"
for i in 1 2 3; do
    /usr/bin/time -f "run $i: 3 epochs end to end %e s wall, %M KB max RSS" \
        af-train --feature-set bench --epochs 3 --patience 3 2>&1 >/dev/null |
        grep -oE 'loaded .* in [0-9.]+ s|run [0-9].*'
done
