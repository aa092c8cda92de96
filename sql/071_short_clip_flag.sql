-- Clips shorter than one analysis window are stored as one window over what there
-- is (fewer frames than any other track's windows); flag them, so that training and
-- analysts can tell them apart.  Set by a trigger from the feature set's own
-- window length, whoever writes the row.
ALTER TABLE track_features ADD COLUMN shorter_than_window boolean NOT NULL DEFAULT false;

CREATE FUNCTION track_features_flag_short() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.shorter_than_window := NEW.excerpt_seconds < (
        SELECT (parameters->>'window_seconds')::real FROM feature_sets
        WHERE feature_set_id = NEW.feature_set_id);
    NEW.shorter_than_window := coalesce(NEW.shorter_than_window, false);
    RETURN NEW;
END $$;

CREATE TRIGGER track_features_flag_short BEFORE INSERT OR UPDATE OF excerpt_seconds
    ON track_features FOR EACH ROW EXECUTE FUNCTION track_features_flag_short();

UPDATE track_features f SET shorter_than_window = true
FROM feature_sets s
WHERE s.feature_set_id = f.feature_set_id
  AND f.excerpt_seconds < (s.parameters->>'window_seconds')::real;
