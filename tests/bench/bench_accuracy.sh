#!/usr/bin/env bash
# bench_accuracy.sh — how well the classifier generalises to artists it never saw, against
# the baselines (BENCH=accuracy): the 200 real excerpts of ../shared/reference/audio/emotify-dev
# (4 genres, 68 artists) go through the whole pipeline (af-ingest dir with the folder names as
# genres, af-ingest label with an [electronic] section added to the taxonomy, af-extract),
# then `af-train --folds 5` (artist-grouped) runs 3 times with the configured defaults, run S
# with seed S on its own partition of the artists into folds (split scheme bench-S): on 200
# tracks, which artists share a fold moves the margin more than the seed does (one partition
# showed -1.6 points where seven showed -3.7), so every run draws both anew.
# Prints, per classifier, window and track accuracy as mean +- sd over the held-out folds
# (5 folds x 3 runs) and the range of the runs' means, then the network's margin over the
# best baseline, with its paired standard error over the folds.  EMOTIFY_DEV=DIR names
# another copy of the set; TRAIN_ARGS adds af-train options (e.g. TRAIN_ARGS="--members 3");
# ACCURACY_RUNS=N runs N partitions instead of 3.  Skipped (exit 0, said) when the set is
# absent.
set -u
export AF_BIN="$AF_PROJECT/build/bin" PATH="$AF_PROJECT/build/bin:$PATH"
dev=${EMOTIFY_DEV:-$AF_PROJECT/../shared/reference/audio/emotify-dev}
if [ ! -f "$dev/manifest.csv" ]; then
    echo "bench_accuracy: no dev set at $dev (set EMOTIFY_DEV): skipped"
    exit 0
fi
runs=${ACCURACY_RUNS:-3}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "bench_accuracy: ACCURACY_RUNS='$runs': expected a positive number of runs" >&2
    exit 2
fi
db="af_bench_accuracy_$$"
tmp=$(mktemp -d /tmp/af-bench-accuracy.XXXXXX)
createdb "$db" && export PGDATABASE="$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
# The default taxonomy has GTZAN's ten genres; the dev set adds electronic (its README).
cp "$AF_PROJECT/config/genres.conf" "$tmp/genres.conf"
printf '\n[electronic]\nseeds = electronic\nelectronic = 1\n' >>"$tmp/genres.conf"
t0=$(date +%s.%N)
af-db migrate -q || exit 1
af-ingest dir "$dev" -q || exit 1
af-ingest label --genres "$tmp/genres.conf" -q >/dev/null || exit 1
af-extract -q || exit 1
t1=$(date +%s.%N)
psql -XAtq -c "SELECT count(*) || ' tracks, ' || count(DISTINCT artist) || ' artists, '
                      || (SELECT count(*) FROM window_features) || ' windows'
                 FROM tracks JOIN track_labels USING (track_id) WHERE status = 'labelled'" |
    sed "s/^/pipeline: /; s/\$/ in $(awk "BEGIN { printf \"%.0f\", $t1 - $t0 }") s/"
for seed in $(seq 1 "$runs"); do
    s=$(date +%s.%N)
    # shellcheck disable=SC2086
    af-train --folds 5 --seed "$seed" --split-scheme "bench-$seed" -q ${TRAIN_ARGS:-} \
        >"$tmp/train$seed.out" 2>&1 || {
        cat "$tmp/train$seed.out"
        exit 1
    }
    e=$(date +%s.%N)
    echo "run $seed (seed $seed, split scheme bench-$seed): af-train --folds 5 in $(awk "BEGIN { printf \"%.1f\", $e - $s }") s"
done
psql -XAq -P footer=off <<'SQL'
\pset format aligned
WITH f AS (
    SELECT e.classifier, e.level, (m.hyperparameters->>'seed')::int AS seed, e.accuracy
      FROM evaluations e JOIN models m USING (model_id)),
seeds AS (SELECT classifier, level, seed, avg(accuracy) AS acc FROM f GROUP BY 1, 2, 3),
s AS (SELECT classifier, level, min(acc) AS lo, max(acc) AS hi FROM seeds GROUP BY 1, 2),
a AS (SELECT classifier, level, avg(accuracy) AS mean, stddev_samp(accuracy) AS sd, count(*) AS n
        FROM f GROUP BY 1, 2)
SELECT a.classifier,
       to_char(w.mean, 'FM0.000') || ' +- ' || to_char(w.sd, 'FM0.000') AS "window acc (all folds)",
       to_char(a.mean, 'FM0.000') || ' +- ' || to_char(a.sd, 'FM0.000') AS "track acc (all folds)",
       to_char(s.lo, 'FM0.000') || '..' || to_char(s.hi, 'FM0.000') AS "track acc, run means"
  FROM a JOIN a w ON w.classifier = a.classifier AND w.level = 'window'
  JOIN s ON s.classifier = a.classifier AND s.level = 'track'
 WHERE a.level = 'track'
 ORDER BY array_position(ARRAY['network', 'logreg', 'svm'], a.classifier);
SQL
psql -XAtq <<'SQL'
WITH t AS (SELECT classifier, avg(accuracy) AS acc FROM evaluations WHERE level = 'track' GROUP BY 1),
b AS (SELECT classifier, acc FROM t WHERE classifier <> 'network' ORDER BY acc DESC LIMIT 1)
SELECT 'margin: network ' || to_char((n.acc - b.acc) * 100, 'FMS990.0')
       || ' points of track accuracy over the best baseline (' || b.classifier || ')'
  FROM t n, b WHERE n.classifier = 'network';
SQL
# How sure the margin is: the paired difference per held-out fold (network minus the best
# baseline, same rows) over every run's folds, and its standard error sd / sqrt(folds).
# Folds of one partition share training artists, so this errs on the sure side; a margin
# within about two of those is noise.
psql -XAtq <<'SQL'
WITH t AS (SELECT classifier, avg(accuracy) AS acc FROM evaluations WHERE level = 'track' GROUP BY 1),
b AS (SELECT classifier FROM t WHERE classifier <> 'network' ORDER BY acc DESC LIMIT 1),
d AS (SELECT n.model_id, n.fold, n.accuracy - x.accuracy AS diff
        FROM evaluations n
        JOIN evaluations x ON x.model_id = n.model_id AND x.fold = n.fold AND x.level = 'track'
                          AND x.classifier = (SELECT classifier FROM b)
       WHERE n.level = 'track' AND n.classifier = 'network')
SELECT 'paired by fold: network - ' || (SELECT classifier FROM b) || ' = '
       || to_char(avg(diff) * 100, 'FMS990.0') || ' +- '
       || to_char(stddev_samp(diff) * 100 / sqrt(count(*)), 'FM990.0')
       || ' points (standard error over ' || count(*) || ' folds); per fold: '
       || string_agg(to_char(diff * 100, 'FMS990.0'), ' ' ORDER BY model_id, fold)
  FROM d;
SQL
psql -XAtq -c "SELECT 'network: ' || (hyperparameters - 'feature_params' - 'comparison' - 'class_weight_values')::text
                 FROM models ORDER BY model_id LIMIT 1" | cut -c1-400
