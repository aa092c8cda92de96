-- 010_train_models.sql — af-train's evaluations compare the network with baselines,
-- every evaluated track keeps its prediction, and models can be named, pinned as the
-- default for af-predict, and deleted.
--
-- evaluations.classifier: which model a row scores ('network' = the stored model;
-- 'logreg', 'svm' = the baselines trained on the same rows, see train/baselines.h).
ALTER TABLE evaluations ADD COLUMN classifier text NOT NULL DEFAULT 'network'
    CHECK (classifier IN ('network', 'logreg', 'svm'));

-- name: chosen by the user (af-train --name), unique among live models.
-- interrupted: training was stopped by a signal; such a model is never the default.
-- is_default: the model af-predict uses unless told otherwise (af-train --promote);
--   at most one.  deleted_at: af-train --delete (the row and its evaluations stay for
--   the record; the weights are dropped).
ALTER TABLE models ADD COLUMN name text;
ALTER TABLE models ADD COLUMN interrupted boolean NOT NULL DEFAULT false;
ALTER TABLE models ADD COLUMN is_default boolean NOT NULL DEFAULT false;
ALTER TABLE models ADD COLUMN deleted_at timestamptz;
UPDATE models SET interrupted = coalesce((hyperparameters->>'interrupted')::boolean, false);
ALTER TABLE models ADD CONSTRAINT models_default_usable
    CHECK (NOT is_default OR (deleted_at IS NULL AND NOT interrupted));
CREATE UNIQUE INDEX models_one_default ON models ((true)) WHERE is_default;
CREATE UNIQUE INDEX models_live_name ON models (name) WHERE deleted_at IS NULL;
-- Before this migration af-predict used the newest model: the newest finished one
-- stays what it uses.
UPDATE models SET is_default = true
 WHERE model_id = (SELECT max(model_id) FROM models WHERE NOT interrupted);

-- One row per evaluated track (the test split, or its held-out fold) and classifier:
-- what the classifier predicted and with which probabilities.  track_id has no
-- foreign key: a model trained from a CSV file names tracks of another database.
CREATE TABLE predictions (
    model_id        bigint  NOT NULL REFERENCES models ON DELETE CASCADE,
    classifier      text    NOT NULL CHECK (classifier IN ('network', 'logreg', 'svm')),
    fold            integer,          -- NULL: the test split
    track_id        bigint  NOT NULL,
    true_genre      text    NOT NULL,
    predicted_genre text    NOT NULL,
    probabilities   real[]  NOT NULL, -- in models.genres order
    PRIMARY KEY (model_id, classifier, track_id)
);

-- "Which tracks were wrong, and what did the model think?"
--   SELECT * FROM prediction_details WHERE model_id = 7 AND classifier = 'network' AND NOT correct;
CREATE VIEW prediction_details AS
SELECT p.model_id, m.name AS model_name, p.classifier, p.fold, p.track_id, t.artist, t.title,
       p.true_genre, p.predicted_genre, p.true_genre = p.predicted_genre AS correct,
       p.probabilities[array_position(m.genres, p.predicted_genre)] AS confidence,
       p.probabilities[array_position(m.genres, p.true_genre)] AS true_genre_probability,
       (SELECT jsonb_object_agg(u.g, u.pr) FROM unnest(m.genres, p.probabilities) AS u(g, pr))
           AS probabilities
  FROM predictions p
  JOIN models m USING (model_id)
  LEFT JOIN tracks t USING (track_id);
