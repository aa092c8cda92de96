-- af-ingest dir: every audio file seen in a folder, with its file name kept byte for
-- byte (names need not be UTF-8: a Latin-1 "café.mp3" is 0x63 0x61 0x66 0xE9), the
-- sha256 of its bytes (unchanged on a re-run = nothing to do) and the identity of its
-- audio (ingest/audio_id.h: the demuxed audio packets, so a tag edit or a rename keeps
-- it), and the track it is.  Several files can be one track (the same audio re-tagged,
-- or two files of one recording by their artist and title tags): the track keeps the
-- bytes of one of them (track_audio), the first stored, marked `kept`.
CREATE TABLE folder_files (
    path_bytes  bytea   PRIMARY KEY,          -- the absolute path exactly as the file system has it
    path        text    NOT NULL,             -- display form: valid UTF-8, other bytes as \xNN
    file_sha256 bytea   NOT NULL CHECK (length(file_sha256) = 32),
    audio_id    bytea   NOT NULL CHECK (length(audio_id) = 32),
    track_id    bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    kept        boolean NOT NULL,             -- this file's audio is the track's (track_audio)
    run_id      bigint  REFERENCES runs,
    seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX folder_files_audio_id ON folder_files (audio_id);
CREATE INDEX folder_files_track ON folder_files (track_id);

-- A problem with a file whose name is not valid UTF-8: `item` has the display form,
-- item_bytes the name itself.
ALTER TABLE ingest_problems ADD COLUMN item_bytes bytea;
