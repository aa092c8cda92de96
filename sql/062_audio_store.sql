-- 062_audio_store.sql — where each audio row's bytes are ([audio] store, lib/audio_store.h):
--   database   in audio.bytes
--   directory  in the content-addressed directory ([audio] directory)/ab/cd/<sha256 hex>
--   none       not kept: dropped once the features were stored (or by af-db prune-audio)
ALTER TABLE audio ALTER COLUMN bytes DROP NOT NULL;
ALTER TABLE audio ADD COLUMN stored text NOT NULL DEFAULT 'database'
    CHECK (stored IN ('database', 'directory', 'none'));
ALTER TABLE audio ADD CONSTRAINT audio_bytes_where_stored
    CHECK ((stored = 'database') = (bytes IS NOT NULL));
COMMENT ON COLUMN audio.stored IS
    'Where the bytes are: database (audio.bytes), directory ([audio] directory/ab/cd/<sha256 hex>) or none (dropped after feature extraction).';
COMMENT ON COLUMN audio.bytes IS
    'The encoded file as fetched or read (mp3, m4a, ...) when stored = database; NULL otherwise.';
