-- af-ingest dir --artist-from-path: where a track's artist came from a path, so that it
-- is withdrawn when no pattern gives it any more (a run without the pattern, or with
-- one that no longer matches), while artists from tags or other sources stay.
--   folder_files.path_artist  what the pattern gave this file in the last run (NULL: none)
--   track_path_artists        a row while the track's artist is one a path gave; the
--                             artist it had before, to restore
-- Artists set from paths before this migration have no row and are kept.
ALTER TABLE folder_files ADD COLUMN path_artist text;
CREATE TABLE track_path_artists (
    track_id      bigint PRIMARY KEY REFERENCES tracks ON DELETE CASCADE,
    artist        text NOT NULL,
    artist_before text
);
COMMENT ON COLUMN folder_files.path_artist IS 'the artist --artist-from-path took from this file''s path in the last run; NULL: none';
COMMENT ON TABLE track_path_artists IS 'Tracks whose artist af-ingest dir --artist-from-path gave, with the artist they had before: withdrawn (restored) when no file''s path gives it any more.';
COMMENT ON COLUMN track_path_artists.track_id IS 'the track';
COMMENT ON COLUMN track_path_artists.artist IS 'the artist the path gave (tracks.artist while no one else changed it)';
COMMENT ON COLUMN track_path_artists.artist_before IS 'the track''s artist before a path gave one (its tag or another source''s); NULL: none';
