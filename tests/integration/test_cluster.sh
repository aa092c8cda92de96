#!/usr/bin/env bash
# af-cluster: k-means over a model's embeddings or the standardised track features; k
# chosen by silhouette finds the 3 synthetic genres, each cluster one genre; -k given;
# runs and every track's cluster stored with the views; the same seed gives the same
# clusters; errors for nothing to cluster and bad options.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database cluster
af-db migrate 2>/dev/null
synthetic_set syn 9
synthetic_tracks 1 3 6 2 4 9
# Track vectors: the mean of each track's windows.
sql "UPDATE track_features f SET feature_values = m.v FROM (
       SELECT track_id, array_agg(v ORDER BY j) AS v FROM (
         SELECT w.track_id, j, avg(w.feature_values[j])::real AS v
           FROM window_features w, generate_series(1, 9) j GROUP BY 1, 2) x GROUP BY 1) m
     WHERE m.track_id = f.track_id" >/dev/null

run af-cluster
expect_status 1 "af-cluster before any model exits 1"
run af-cluster --features --feature-set nope
expect_status 2 "an unknown feature set exits 2"
expect_err "feature set 'nope': no such feature set" "the unknown feature set is named"
run af-cluster --k-range 5-2
expect_status 2 "a reversed --k-range is a usage error"
run af-cluster --features -m 1
expect_status 2 "--model and --features exclude each other"

run af-cluster --features --feature-set syn --k-range 2-6
expect_status 0 "af-cluster --features chooses k by silhouette"
expect_out "^k = 3 \(best mean silhouette\)" "k = 3 for three genres"
expect_out "Clustering 36 tracks \(standardised features, 9 dimensions\)" "36 tracks of 9 features"
expect_eq "3|3|36|features|silhouette" "$(sql "SELECT k, count(DISTINCT c.cluster), count(*), source, k_chosen_by FROM cluster_runs r JOIN track_clusters c USING (cluster_run_id) GROUP BY r.cluster_run_id")" \
    "the run and every track's cluster are stored"
expect_eq "3" "$(sql "SELECT count(*) FROM cluster_label_counts WHERE share_of_cluster = 1")" \
    "each cluster holds one genre only (cluster_label_counts)"
expect_eq "t" "$(sql "SELECT silhouette > 0.5 AND parameters->'silhouette_per_k' ? '6' FROM cluster_runs")" \
    "the silhouette of the kept k and of every k tried are stored"
expect_out "^ +0 +12 +g[123] 12$" "the summary shows each cluster's labels"

run af-train --feature-set syn --hidden 16,4 --epochs 60 --patience 10
expect_status 0 "af-train"
run af-cluster -k 3 --seed 7
expect_status 0 "af-cluster -k 3 on the embeddings"
expect_out "^k = 3 \(given\)" "k given"
first=$(sql "SELECT string_agg(cluster::text, '' ORDER BY track_id) FROM track_clusters WHERE cluster_run_id = 2")
expect_eq "embeddings|1|given|36" "$(sql "SELECT source, model_id, k_chosen_by, n_tracks FROM cluster_runs WHERE cluster_run_id = 2")" \
    "the embedding run names its model"
run af-cluster -k 3 --seed 7 --model latest
expect_eq "$first" "$(sql "SELECT string_agg(cluster::text, '' ORDER BY track_id) FROM track_clusters WHERE cluster_run_id = 3")" \
    "the same seed gives the same clusters"
expect_eq "36" "$(sql "SELECT count(*) FROM track_clusters_labelled WHERE cluster_run_id = 3 AND label IS NOT NULL")" \
    "track_clusters_labelled joins the labels"
run af-cluster -k 99
expect_status 1 "k above the number of tracks exits 1"
expect_err "36 track\(s\) to cluster: too few for k = 99" "the reason is given"

# Without --model: the default model (as af-predict), not the newest; the output says which.
run af-train --feature-set syn --hidden 16,4 --epochs 20 --patience 10
expect_status 0 "a second model (not the default)"
run af-cluster -k 3 --seed 7
expect_status 0 "af-cluster after a newer model"
expect_out "^Embeddings of model 1 \(the default model\)$" "the default model is used and named"
expect_eq "1" "$(sql "SELECT model_id FROM cluster_runs ORDER BY cluster_run_id DESC LIMIT 1")" \
    "the run is of the default model, not the newest"
run af-cluster -k 3 --seed 7 --model latest
expect_out "^Embeddings of model 2$" "--model latest names the newest model"
