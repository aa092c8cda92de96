-- 087_correction_lock.sql — two corrections of one track at the same time.
--
-- af_correct_label (050) cleared the track's active correction and inserted the
-- new one.  Two concurrent calls both found the same active row (or none), both
-- inserted, and the second failed on label_corrections_one_active with a raw
-- unique-violation error (seen with ten simultaneous POST /api/correct).  Locking
-- the track's row first serialises the corrections of one track: the second call
-- waits, then (its next statement taking a new snapshot) clears the first's
-- correction and records its own, so the last one wins and both succeed.

CREATE OR REPLACE FUNCTION af_correct_label(p_track bigint, p_genre integer, p_by text,
                                            p_note text, p_origin text, p_run_id bigint)
RETURNS bigint
LANGUAGE sql AS $$
    SELECT 1 FROM tracks WHERE track_id = p_track FOR UPDATE;
    UPDATE label_corrections SET cleared_at = now(), cleared_by = p_by
     WHERE track_id = p_track AND cleared_at IS NULL;
    INSERT INTO label_corrections (track_id, genre_id, corrected_by, note, origin, run_id)
    VALUES (p_track, p_genre, p_by, p_note, p_origin, p_run_id)
    RETURNING correction_id;
$$;
