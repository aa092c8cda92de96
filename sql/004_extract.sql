-- 004_extract.sql — analyst views over the feature tables.
--
-- Each feature set gets two views with one named column per value, joined to the
-- track's artist, title and current label (newest taxonomy version):
--   features_<set>_windows  one row per window:  track_id, artist, title, label,
--                           window_index, start_seconds, mfcc01_mean, ...
--   features_<set>_tracks   one row per track:   track_id, artist, title, label,
--                           n_windows, mfcc01_mean, ...
-- so that  SELECT label, avg(mfcc01_mean) FROM features_v1_tracks GROUP BY label
-- just works. af-extract calls create_feature_views() when it registers a set.

ALTER TABLE feature_sets ADD CONSTRAINT feature_sets_name_is_identifier
    CHECK (name ~ '^[a-z][a-z0-9_]{0,30}$');

-- The label each track currently has (or NULL), under the newest taxonomy.
CREATE VIEW current_labels AS
SELECT l.track_id, g.name AS label, l.top_share, l.taxonomy_version
FROM track_labels l
JOIN genres g ON g.genre_id = l.genre_id
WHERE l.status = 'labelled'
  AND l.taxonomy_version = (SELECT max(taxonomy_version) FROM taxonomy_versions);

CREATE FUNCTION create_feature_views(p_feature_set_id integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    set_name text;
    names text[];
    columns text := '';
BEGIN
    SELECT name, feature_names INTO set_name, names
    FROM feature_sets WHERE feature_set_id = p_feature_set_id;
    IF set_name IS NULL THEN
        RAISE EXCEPTION 'no feature set with id %', p_feature_set_id;
    END IF;
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        columns := columns || format(', f.feature_values[%s] AS %I', i, names[i]);
    END LOOP;
    EXECUTE format(
        'CREATE OR REPLACE VIEW %I AS'
        ' SELECT f.track_id, t.artist, t.title, l.label, f.window_index, f.start_seconds%s'
        ' FROM window_features f JOIN tracks t USING (track_id)'
        ' LEFT JOIN current_labels l USING (track_id)'
        ' WHERE f.feature_set_id = %s',
        'features_' || set_name || '_windows', columns, p_feature_set_id);
    EXECUTE format(
        'CREATE OR REPLACE VIEW %I AS'
        ' SELECT f.track_id, t.artist, t.title, l.label, f.n_windows%s'
        ' FROM track_features f JOIN tracks t USING (track_id)'
        ' LEFT JOIN current_labels l USING (track_id)'
        ' WHERE f.feature_set_id = %s',
        'features_' || set_name || '_tracks', columns, p_feature_set_id);
END
$$;
