-- 052_clusters.sql — af-cluster's runs: k-means over a model's track embeddings
-- (track_embeddings) or over the standardised track feature vectors (track_features),
-- each track's cluster stored per run, so that unsupervised clusters can be set
-- against the labels in SQL (cluster_label_counts).

CREATE TABLE cluster_runs (
    cluster_run_id  bigserial PRIMARY KEY,
    source          text    NOT NULL CHECK (source IN ('embeddings', 'features')),
    model_id        bigint  REFERENCES models ON DELETE CASCADE,          -- source embeddings
    feature_set_id  integer REFERENCES feature_sets ON DELETE CASCADE,    -- source features
    k               integer NOT NULL CHECK (k >= 1),
    k_chosen_by     text    NOT NULL CHECK (k_chosen_by IN ('given', 'silhouette')),
    silhouette      real,                -- mean silhouette of the kept clustering
    inertia         double precision NOT NULL,  -- sum of squared distances to the centres
    n_tracks        integer NOT NULL,
    parameters      jsonb   NOT NULL,    -- seed, restarts, k range, silhouette per k ...
    created_at      timestamptz NOT NULL DEFAULT now(),
    run_id          bigint REFERENCES runs,
    CHECK ((source = 'embeddings') = (model_id IS NOT NULL)),
    CHECK ((source = 'features') = (feature_set_id IS NOT NULL))
);

CREATE TABLE track_clusters (
    cluster_run_id bigint  NOT NULL REFERENCES cluster_runs ON DELETE CASCADE,
    track_id       bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    cluster        integer NOT NULL,     -- 0 .. k-1, largest cluster first
    distance       real    NOT NULL,     -- to the cluster's centre, in the clustered space
    PRIMARY KEY (cluster_run_id, track_id)
);
CREATE INDEX track_clusters_cluster ON track_clusters (cluster_run_id, cluster);
CREATE INDEX track_clusters_track ON track_clusters (track_id);  -- ON DELETE CASCADE from tracks

-- Each track's cluster with its current label (NULL: unlabelled), per run.
CREATE VIEW track_clusters_labelled AS
SELECT c.cluster_run_id, c.track_id, t.artist, t.title, c.cluster, c.distance, lab.name AS label
  FROM track_clusters c
  JOIN tracks t USING (track_id)
  LEFT JOIN LATERAL (SELECT g.name FROM track_labels l JOIN genres g USING (genre_id)
                      WHERE l.track_id = c.track_id AND l.status = 'labelled'
                      ORDER BY l.taxonomy_version DESC LIMIT 1) lab ON true;

-- Clusters against labels: tracks per (run, cluster, label), with the label's share of
-- the cluster ("unlabelled" counted as its own label).
CREATE VIEW cluster_label_counts AS
SELECT cluster_run_id, cluster, coalesce(label, '(unlabelled)') AS label, count(*) AS tracks,
       round(count(*)::numeric / sum(count(*)) OVER (PARTITION BY cluster_run_id, cluster), 3)
           AS share_of_cluster
  FROM track_clusters_labelled
 GROUP BY cluster_run_id, cluster, coalesce(label, '(unlabelled)');
