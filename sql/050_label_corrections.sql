-- 050_label_corrections.sql — labels corrected by people (af-label, af-serve).
--
-- A correction is a source of its own: who said which genre a track has, when and
-- why.  It is kept apart from the tag sources so that it survives every re-ingest,
-- and `af-ingest label` applies it after the tag-based labelling
-- (af_apply_corrections): a correction wins over every other source, so the next
-- af-train learns from it.  Clearing a correction keeps its row (history) with
-- cleared_at set; a track has at most one active correction.

CREATE TABLE label_corrections (
    correction_id bigserial PRIMARY KEY,
    track_id      bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    genre_id      integer NOT NULL REFERENCES genres,
    corrected_by  text    NOT NULL,              -- a person's name, as given
    note          text,                          -- why
    origin        text    NOT NULL DEFAULT 'cli' CHECK (origin IN ('cli', 'web')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    cleared_at    timestamptz,                   -- set by `af-label clear` or a newer correction
    cleared_by    text,
    run_id        bigint REFERENCES runs
);
CREATE UNIQUE INDEX label_corrections_one_active ON label_corrections (track_id) WHERE cleared_at IS NULL;
CREATE INDEX label_corrections_track ON label_corrections (track_id);  -- history; ON DELETE CASCADE

-- Records a correction, replacing the track's active one (kept as history).
CREATE FUNCTION af_correct_label(p_track bigint, p_genre integer, p_by text, p_note text,
                                 p_origin text, p_run_id bigint)
RETURNS bigint
LANGUAGE sql AS $$
    UPDATE label_corrections SET cleared_at = now(), cleared_by = p_by
     WHERE track_id = p_track AND cleared_at IS NULL;
    INSERT INTO label_corrections (track_id, genre_id, corrected_by, note, origin, run_id)
    VALUES (p_track, p_genre, p_by, p_note, p_origin, p_run_id)
    RETURNING correction_id;
$$;

-- The precedence rule of `af-ingest label`: after af_label_tracks, every active
-- correction whose genre belongs to the taxonomy version becomes the track's label
-- (status labelled, source 'correction', always selected), whatever its tags said.
-- A correction naming a genre the version does not have is left alone and counted.
CREATE FUNCTION af_apply_corrections(p_version integer, p_run_id bigint)
RETURNS TABLE (status text, tracks bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n_applied bigint;
    n_outside bigint;
BEGIN
    INSERT INTO track_labels AS l (track_id, taxonomy_version, status, genre_id, top_share, scores,
                                   sources, reason, selected, run_id)
    SELECT c.track_id, p_version, 'labelled', c.genre_id, 1, jsonb_build_object(g.name, 1),
           ARRAY['correction'],
           format('corrected by %s on %s%s', c.corrected_by,
                  to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                  ': ' || c.note),
           true, p_run_id
      FROM label_corrections c JOIN genres g USING (genre_id)
     WHERE c.cleared_at IS NULL
       AND EXISTS (SELECT 1 FROM genre_tags gt
                    WHERE gt.taxonomy_version = p_version AND gt.genre_id = c.genre_id)
    ON CONFLICT (track_id, taxonomy_version) DO UPDATE
       SET status = 'labelled', genre_id = EXCLUDED.genre_id, top_share = 1,
           scores = EXCLUDED.scores, sources = EXCLUDED.sources, reason = EXCLUDED.reason,
           selected = true, labelled_at = now(), run_id = EXCLUDED.run_id;
    GET DIAGNOSTICS n_applied = ROW_COUNT;
    SELECT count(*) INTO n_outside
      FROM label_corrections c
     WHERE c.cleared_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM genre_tags gt
                        WHERE gt.taxonomy_version = p_version AND gt.genre_id = c.genre_id);
    RETURN QUERY VALUES ('corrected'::text, n_applied),
                        ('correction_genre_not_in_taxonomy'::text, n_outside);
END
$$;

-- Analysts: every active correction with the track and what the tags said before.
CREATE VIEW label_corrections_active AS
SELECT c.correction_id, c.track_id, t.artist, t.title, g.name AS genre, c.corrected_by,
       c.note, c.origin, c.created_at
  FROM label_corrections c
  JOIN tracks t USING (track_id)
  JOIN genres g USING (genre_id)
 WHERE c.cleared_at IS NULL;
