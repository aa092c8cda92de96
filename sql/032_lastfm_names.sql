-- 032_lastfm_names.sql — Last.fm's own spelling of a track, kept beside the original.
-- track.getTopTags is asked with autocorrect=1; its @attr names the artist and track
-- Last.fm corrected the request to ("guns and roses" -> "Guns N' Roses").  The stored
-- artist and title stay as the source gave them; these say what Last.fm calls the
-- track (NULL when it answered with the same names).
ALTER TABLE tracks ADD COLUMN lastfm_artist text, ADD COLUMN lastfm_title text;

-- Tracks are merged by MusicBrainz recording id when a source gives one (Last.fm's
-- mbid), before artist and title are compared.
CREATE INDEX tracks_musicbrainz_id ON tracks (musicbrainz_id) WHERE musicbrainz_id IS NOT NULL;
