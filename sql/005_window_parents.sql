-- 005_window_parents.sql — a window row belongs to its track's feature vector.
--
-- window_features had two row-level foreign keys (tracks, feature_sets): two index
-- probes and two row locks for every window row, most of the server's time in
-- af-extract's COPY (45k rows/s with them, 70k without, BENCH=extract).  A window
-- row's parent is the track_features row of the same (feature_set_id, track_id),
-- which af-extract writes in the same transaction and which has foreign keys to
-- tracks and feature_sets itself.  So the windows are tied to that row instead,
-- checked once per statement over all of its rows:
--   * inserting or re-keying window rows without a track_features row fails with
--     foreign_key_violation.  The parents are first locked FOR KEY SHARE, as a
--     foreign key does, so a concurrent delete waits for this transaction;
--   * deleting track_features rows (directly, or by deleting their track or
--     truncating the table) deletes their windows, as ON DELETE CASCADE did;
--   * changing a track_features row's key while it has windows is refused.

ALTER TABLE window_features
    DROP CONSTRAINT window_features_track_id_fkey,
    DROP CONSTRAINT window_features_feature_set_id_fkey;

CREATE FUNCTION window_features_check_parents() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n_keys bigint;
    n_parents bigint;
    orphan record;
BEGIN
    -- One pass over the statement's rows: their distinct keys, and how many of those
    -- have a parent (locked, as a foreign key would).
    WITH keys AS MATERIALIZED (SELECT DISTINCT feature_set_id, track_id FROM new_rows),
         parents AS (SELECT 1 FROM track_features t
                     JOIN keys k ON k.feature_set_id = t.feature_set_id AND k.track_id = t.track_id
                     FOR KEY SHARE OF t)
    SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM parents) INTO n_keys, n_parents;
    IF n_parents = n_keys THEN
        RETURN NULL;
    END IF;
    SELECT n.feature_set_id, n.track_id INTO orphan
    FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM track_features t
                      WHERE t.feature_set_id = n.feature_set_id AND t.track_id = n.track_id)
    LIMIT 1;
    RAISE EXCEPTION 'window_features of track % in feature set % have no track_features row',
        orphan.track_id, orphan.feature_set_id
        USING ERRCODE = 'foreign_key_violation', TABLE = 'window_features',
              HINT = 'Insert the track''s track_features row first, in the same transaction (as af-extract does).';
END
$$;

-- Transition tables allow one event per trigger, hence two.
CREATE TRIGGER window_features_parents_insert AFTER INSERT ON window_features
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION window_features_check_parents();
CREATE TRIGGER window_features_parents_update AFTER UPDATE ON window_features
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION window_features_check_parents();

CREATE FUNCTION track_features_delete_windows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM window_features w
    USING old_rows o
    WHERE w.feature_set_id = o.feature_set_id AND w.track_id = o.track_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER track_features_delete_windows AFTER DELETE ON track_features
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION track_features_delete_windows();

CREATE FUNCTION track_features_truncate_windows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE window_features;
    RETURN NULL;
END
$$;

CREATE TRIGGER track_features_truncate_windows AFTER TRUNCATE ON track_features
    FOR EACH STATEMENT EXECUTE FUNCTION track_features_truncate_windows();

CREATE FUNCTION track_features_keep_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM window_features w
               WHERE w.feature_set_id = OLD.feature_set_id AND w.track_id = OLD.track_id) THEN
        RAISE EXCEPTION 'track_features of track % in feature set % have windows; delete them first',
            OLD.track_id, OLD.feature_set_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'track_features',
                  HINT = 'Delete the track_features row (its windows go with it) and insert it under the new key.';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER track_features_keep_key AFTER UPDATE OF track_id, feature_set_id ON track_features
    FOR EACH ROW
    WHEN (OLD.track_id IS DISTINCT FROM NEW.track_id OR OLD.feature_set_id IS DISTINCT FROM NEW.feature_set_id)
    EXECUTE FUNCTION track_features_keep_key();
