-- 063_comments_lastfm_names.sql — COMMENTs (as 061_comments.sql) on the columns
-- 032_lastfm_names.sql added to tracks.
COMMENT ON COLUMN tracks.lastfm_artist IS
    'The artist as Last.fm calls the track (its autocorrection of the request); NULL when Last.fm used the same name.';
COMMENT ON COLUMN tracks.lastfm_title IS
    'The title as Last.fm calls the track; NULL when Last.fm used the same title.';
