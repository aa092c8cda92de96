-- 051_track_embeddings.sql — per model, every track's embedding: the mean over the
-- track's windows of the network's last hidden layer (train/embeddings.c, written by
-- af-train right after it stores a model).  Nearest neighbours are answered by the
-- contrib cube extension's GiST index (<-> is Euclidean distance, ORDER BY ... LIMIT k
-- walks the index instead of scanning); btree_gist lets one index lead with model_id.
-- cube holds at most 100 dimensions: a wider last hidden layer gets no embeddings
-- (af-train says so).

CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE track_embeddings (
    model_id  bigint NOT NULL REFERENCES models ON DELETE CASCADE,
    track_id  bigint NOT NULL REFERENCES tracks ON DELETE CASCADE,
    n_windows integer NOT NULL,
    embedding cube   NOT NULL CHECK (cube_dim(embedding) <= 100),
    PRIMARY KEY (model_id, track_id)
);
CREATE INDEX track_embeddings_knn ON track_embeddings USING gist (model_id, embedding);
-- Deleting a track (ON DELETE CASCADE) finds its embeddings without a scan.
CREATE INDEX track_embeddings_track ON track_embeddings (track_id);

-- The k nearest tracks of a model to a point (p_point: a cube, e.g. cube(ARRAY[...]) or
-- another track's embedding), with artist, title, current label and distance.
-- p_exclude: a track to leave out (the query track itself), or NULL.
CREATE FUNCTION af_similar_to(p_model bigint, p_point cube, p_k integer, p_exclude bigint)
RETURNS TABLE (track_id bigint, artist text, title text, label text, distance double precision)
LANGUAGE sql STABLE AS $$
    SELECT n.track_id, t.artist, t.title, lab.name, n.distance
      FROM (SELECT e.track_id, e.embedding <-> p_point AS distance
              FROM track_embeddings e
             WHERE e.model_id = p_model AND e.track_id IS DISTINCT FROM p_exclude
             ORDER BY e.embedding <-> p_point
             LIMIT p_k) n
      JOIN tracks t ON t.track_id = n.track_id
      LEFT JOIN LATERAL (SELECT g.name FROM track_labels l JOIN genres g USING (genre_id)
                          WHERE l.track_id = n.track_id AND l.status = 'labelled'
                          ORDER BY l.taxonomy_version DESC LIMIT 1) lab ON true
     ORDER BY n.distance, n.track_id
$$;

-- The k nearest tracks to a track under a model (the track itself left out).
CREATE FUNCTION af_similar_tracks(p_model bigint, p_track bigint, p_k integer DEFAULT 10)
RETURNS TABLE (track_id bigint, artist text, title text, label text, distance double precision)
LANGUAGE sql STABLE AS $$
    SELECT s.* FROM track_embeddings q,
                    LATERAL af_similar_to(p_model, q.embedding, p_k, p_track) s
     WHERE q.model_id = p_model AND q.track_id = p_track
$$;

-- Embeddings of the newest model, with the track and its label: a starting point for
-- analysts (cube_dim, cube_ll_coord(embedding, i) give the coordinates).
CREATE VIEW track_embeddings_latest AS
SELECT e.model_id, e.track_id, t.artist, t.title, lab.name AS label, e.n_windows, e.embedding
  FROM track_embeddings e
  JOIN tracks t USING (track_id)
  LEFT JOIN LATERAL (SELECT g.name FROM track_labels l JOIN genres g USING (genre_id)
                      WHERE l.track_id = e.track_id AND l.status = 'labelled'
                      ORDER BY l.taxonomy_version DESC LIMIT 1) lab ON true
 WHERE e.model_id = (SELECT max(model_id) FROM track_embeddings);
