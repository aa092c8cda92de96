#!/usr/bin/env bash
# bench_knn.sh — k nearest neighbours (k = 10) over generated track embeddings in
# track_embeddings, as af-similar asks PostgreSQL for them (af_similar_to's inner query:
# ORDER BY embedding <-> point LIMIT k for one model): with the GiST index of sql/051
# and without it (sequential scan + top-k sort), plans and median times of 20 queries
# from other tracks' points.  The embeddings are clustered as real ones are (KNN_CLUSTERS
# Gaussian blobs, ReLU-clipped).  KNN_ROWS (default 1000000) and KNN_DIMS (default
# "16 64": 64 is af-train's default last hidden layer) set the size.
set -u
export PATH="$AF_PROJECT/build/bin:$PATH"
rows=${KNN_ROWS:-1000000}
clusters=${KNN_CLUSTERS:-20}
db="af_bench_knn_$$"
createdb "$db" && export PGDATABASE="$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1' EXIT
af-db migrate >/dev/null 2>&1 || { echo "af-db migrate failed"; exit 1; }
q() { psql -XAtq -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
q -c "INSERT INTO feature_sets (name, parameters, feature_names) VALUES ('bench', '{}', '{f}');
      INSERT INTO tracks (track_id, artist, title)
      SELECT t, 'artist ' || (t % 5000), 'title ' || t FROM generate_series(1, $rows) t;" || exit 1

# 20 queries from the points of tracks spread over the table: the first one's plan
# (EXPLAIN ANALYZE) and the median of the server's execution times.
knn_times() { # MODEL LABEL INDEX(with|without)
    local model=$1 label=$2 index=$3 times=() plan tid
    for i in $(seq 0 19); do
        tid=$((7 + i * (rows / 20)))
        plan=$(q -c "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM af_similar_tracks($model, $tid, 10)")
        [ "$i" -eq 0 ] && { echo "--- plan, $label, $index the GiST index:"; printf '%s\n' "$plan"; }
        times+=("$(printf '%s\n' "$plan" | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p')")
    done
    echo "RESULT $label $index index: median $(printf '%s\n' "${times[@]}" | sort -g | sed -n '10p') ms (20 queries, k = 10)"
}

model=0
for dim in ${KNN_DIMS:-16 64}; do
    model=$((model + 1))
    q -c "INSERT INTO models (model_id, feature_set_id, genres, hyperparameters, format_version, weights)
          VALUES ($model, 1, '{a,b}', '{}', 1, '\\x00')" || exit 1
    q -c "DROP INDEX IF EXISTS track_embeddings_knn; DELETE FROM track_embeddings" || exit 1
    t0=$(now)
    # Clustered points: blob centre c (uniform in [0, 4)^dim) + N(0, 0.5) noise, clipped at 0.
    q -c "CREATE TEMP TABLE centres AS
            SELECT c, array_agg(4 * random() ORDER BY j) AS v
              FROM generate_series(0, $clusters - 1) c, generate_series(1, $dim) j GROUP BY c;
          INSERT INTO track_embeddings (model_id, track_id, n_windows, embedding)
          SELECT $model, t, 10, cube(ARRAY(SELECT greatest(0, c.v[j] + 0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
                                            FROM generate_series(1, $dim) j WHERE t > 0))
            FROM generate_series(1, $rows) t JOIN centres c ON c.c = t % $clusters;" || exit 1
    t1=$(now)
    echo "generated $rows embeddings of $dim dimensions in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
    q -c "VACUUM ANALYZE track_embeddings" || exit 1
    knn_times $model "${rows}x${dim}" without
    t1=$(now)
    q -c "CREATE INDEX track_embeddings_knn ON track_embeddings USING gist (model_id, embedding)" || exit 1
    t2=$(now)
    echo "GiST index built in $(awk "BEGIN { printf \"%.1f\", $t2 - $t1 }") s"
    q -c "VACUUM ANALYZE track_embeddings" || exit 1
    size=$(q -c "SELECT pg_size_pretty(pg_relation_size('track_embeddings_knn'))")
    echo "GiST index track_embeddings_knn: $size"
    knn_times $model "${rows}x${dim}" with
done
