-- 001_core.sql — the tables every stage shares.
--
-- Stages talk to each other only through these tables:
--   ingest  → tracks, track_sources, raw_tags, taxonomy, track_labels
--   fetch   → audio, track_audio, fetch_attempts, fetch_outcomes
--   extract → feature_sets, extraction_jobs, window_features, track_features
--   train   → split_schemes, track_splits, models, training_epochs, evaluations
-- and every program invocation leaves a row in runs.

CREATE TABLE runs (
    run_id      bigserial PRIMARY KEY,
    program     text        NOT NULL,           -- af-ingest, af-extract, ...
    version     text        NOT NULL,           -- the program's version
    arguments   text[]      NOT NULL,           -- argv, secrets removed
    host        text        NOT NULL,
    pid         integer     NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text        NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    counters    jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- e.g. {"tracks": 120, "failed": 2}
    error       text                                       -- why the run failed, if it did
);
CREATE INDEX runs_program_started ON runs (program, started_at DESC);

-- One row per recording, whatever source found it first.
CREATE TABLE tracks (
    track_id         bigserial PRIMARY KEY,
    msd_track_id     text UNIQUE,        -- Million Song Dataset id, e.g. TRAAAAK128F9318786
    artist           text,
    title            text,
    -- normalised "artist<TAB>title" (lower case, no punctuation): how sources are merged
    -- when there is no MSD id.
    match_key        text,
    duration_seconds real,
    isrc             text,
    musicbrainz_id   text,
    spotify_id       text,
    deezer_id        bigint,
    itunes_id        bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracks_match_key ON tracks (match_key);
CREATE INDEX tracks_isrc ON tracks (isrc) WHERE isrc IS NOT NULL;

-- Where a track was seen: one row per (source, key in that source).
CREATE TABLE track_sources (
    track_id    bigint NOT NULL REFERENCES tracks ON DELETE CASCADE,
    source      text   NOT NULL,     -- 'msd', 'lastfm_api', 'folder'
    source_key  text   NOT NULL,     -- MSD id, Last.fm URL, file path
    first_seen  timestamptz NOT NULL DEFAULT now(),
    run_id      bigint REFERENCES runs,
    PRIMARY KEY (source, source_key)
);
CREATE INDEX track_sources_track ON track_sources (track_id);

-- Tags exactly as the source gave them.
CREATE TABLE raw_tags (
    track_id  bigint NOT NULL REFERENCES tracks ON DELETE CASCADE,
    source    text   NOT NULL,  -- 'msd_lastfm', 'lastfm_api', 'tagtraum_cd1', 'tagtraum_cd2',
                                -- 'tagtraum_cd2c', 'magd', 'folder'
    tag       text   NOT NULL,  -- as given ("Hip-Hop")
    weight    real   NOT NULL DEFAULT 100,  -- the source's count/weight (Last.fm: 0-100)
    run_id    bigint REFERENCES runs,
    PRIMARY KEY (track_id, source, tag)
);
CREATE INDEX raw_tags_tag ON raw_tags (lower(tag));

-- The genre taxonomy (config/genres.conf), versioned: each load that changes it is a new version.
CREATE TABLE taxonomy_versions (
    taxonomy_version serial PRIMARY KEY,
    checksum         text NOT NULL UNIQUE,   -- sha256 of the canonical taxonomy
    source_file      text NOT NULL,
    loaded_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE genres (
    genre_id serial PRIMARY KEY,
    name     text NOT NULL UNIQUE            -- 'blues', 'hiphop', ...
);

CREATE TABLE genre_tags (
    taxonomy_version integer NOT NULL REFERENCES taxonomy_versions,
    genre_id         integer NOT NULL REFERENCES genres,
    tag_key          text    NOT NULL,  -- normalised tag: lower case, letters and digits only
    weight           real    NOT NULL DEFAULT 1,
    PRIMARY KEY (taxonomy_version, tag_key, genre_id)
);

-- The labelling decision for each track (one row per track and taxonomy version).
CREATE TABLE track_labels (
    track_id         bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    taxonomy_version integer NOT NULL REFERENCES taxonomy_versions,
    status           text    NOT NULL
                     CHECK (status IN ('labelled', 'conflict', 'below_threshold', 'no_genre_tags')),
    genre_id         integer REFERENCES genres,   -- set when status = 'labelled'
    top_share        real,                        -- the winning genre's share of the score
    scores           jsonb,                       -- {"rock": 0.7, "metal": 0.3}
    sources          text[],                      -- the tag sources that contributed
    reason           text,                        -- why not labelled, in words
    selected         boolean NOT NULL DEFAULT true,  -- in the balanced set (--max-per-genre)
    labelled_at      timestamptz NOT NULL DEFAULT now(),
    run_id           bigint REFERENCES runs,
    PRIMARY KEY (track_id, taxonomy_version),
    CHECK ((status = 'labelled') = (genre_id IS NOT NULL))
);
CREATE INDEX track_labels_genre ON track_labels (taxonomy_version, genre_id) WHERE status = 'labelled';

-- Audio bytes, stored once per distinct content.
CREATE TABLE audio (
    sha256           bytea   PRIMARY KEY CHECK (length(sha256) = 32),
    bytes            bytea   NOT NULL,
    size_bytes       integer NOT NULL,
    codec            text,               -- as FFmpeg names it: mp3, aac, ...
    sample_rate      integer,
    channels         integer,
    duration_seconds real,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Which audio a track has, and where it came from.
CREATE TABLE track_audio (
    track_id   bigint NOT NULL PRIMARY KEY REFERENCES tracks ON DELETE CASCADE,
    sha256     bytea  NOT NULL REFERENCES audio,
    origin     text   NOT NULL,   -- 'folder', 'spotify', 'deezer', 'itunes'
    origin_ref text,              -- file path or provider track id
    stored_at  timestamptz NOT NULL DEFAULT now(),
    run_id     bigint REFERENCES runs
);
CREATE INDEX track_audio_sha256 ON track_audio (sha256);

-- Every request af-fetch made for a track, successful or not.
CREATE TABLE fetch_attempts (
    attempt_id   bigserial PRIMARY KEY,
    track_id     bigint NOT NULL REFERENCES tracks ON DELETE CASCADE,
    provider     text   NOT NULL,    -- 'spotify', 'deezer', 'itunes'
    attempted_at timestamptz NOT NULL DEFAULT now(),
    outcome      text   NOT NULL,    -- 'stored', 'no_preview', 'not_found', 'bad_audio', 'http_error', ...
    http_status  integer,
    detail       text,
    run_id       bigint REFERENCES runs
);
CREATE INDEX fetch_attempts_track ON fetch_attempts (track_id);

-- The last word per track and provider, with when to ask again.
CREATE TABLE fetch_outcomes (
    track_id     bigint NOT NULL REFERENCES tracks ON DELETE CASCADE,
    provider     text   NOT NULL,
    outcome      text   NOT NULL,
    match_score  real,              -- similarity of the chosen search result
    provider_ref text,              -- provider's track id
    detail       text,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    recheck_after timestamptz,      -- NULL: final
    PRIMARY KEY (track_id, provider)
);

-- A feature set is a fixed list of named values computed with fixed parameters.
CREATE TABLE feature_sets (
    feature_set_id serial  PRIMARY KEY,
    name           text    NOT NULL UNIQUE,  -- 'v1'
    parameters     jsonb   NOT NULL,         -- window length, hop, excerpt, sample rate, ...
    feature_names  text[]  NOT NULL,         -- names of the values, in order
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Work state of af-extract per track and feature set; a lease lets several workers
-- share the work and a dead worker's tracks be retried.
CREATE TABLE extraction_jobs (
    track_id         bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    feature_set_id   integer NOT NULL REFERENCES feature_sets,
    status           text    NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    worker           text,                  -- host:pid that holds or held it
    lease_expires_at timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    error            text,                  -- why it failed (FFmpeg's text and the reason)
    updated_at       timestamptz NOT NULL DEFAULT now(),
    run_id           bigint REFERENCES runs,
    PRIMARY KEY (track_id, feature_set_id)
);
CREATE INDEX extraction_jobs_lease ON extraction_jobs (lease_expires_at) WHERE status = 'running';

CREATE TABLE window_features (
    track_id       bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    feature_set_id integer NOT NULL REFERENCES feature_sets,
    window_index   integer NOT NULL,
    start_seconds  real    NOT NULL,   -- within the analysed excerpt
    feature_values real[]  NOT NULL,   -- in the order of feature_sets.feature_names
    PRIMARY KEY (feature_set_id, track_id, window_index)
);

CREATE TABLE track_features (
    track_id         bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    feature_set_id   integer NOT NULL REFERENCES feature_sets,
    excerpt_start    real    NOT NULL,  -- seconds into the file where the excerpt starts
    excerpt_seconds  real    NOT NULL,
    n_windows        integer NOT NULL,
    feature_values   real[]  NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    run_id           bigint REFERENCES runs,
    PRIMARY KEY (feature_set_id, track_id)
);

-- A split scheme assigns each labelled track to train/val/test (or a fold).
CREATE TABLE split_schemes (
    split_scheme_id serial PRIMARY KEY,
    name            text   NOT NULL UNIQUE,
    parameters      jsonb  NOT NULL,   -- ratios or number of folds, hash salt
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE track_splits (
    split_scheme_id integer NOT NULL REFERENCES split_schemes,
    track_id        bigint  NOT NULL REFERENCES tracks ON DELETE CASCADE,
    split           text    NOT NULL CHECK (split IN ('train', 'val', 'test')),
    fold            integer,           -- for K-fold schemes
    assigned_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (split_scheme_id, track_id)
);

CREATE TABLE models (
    model_id        bigserial PRIMARY KEY,
    feature_set_id  integer NOT NULL REFERENCES feature_sets,
    split_scheme_id integer REFERENCES split_schemes,
    taxonomy_version integer REFERENCES taxonomy_versions,
    genres          text[]  NOT NULL,   -- output classes, in order
    hyperparameters jsonb   NOT NULL,
    format_version  integer NOT NULL,   -- of the serialised weights
    weights         bytea   NOT NULL,   -- network and standardiser
    created_at      timestamptz NOT NULL DEFAULT now(),
    run_id          bigint REFERENCES runs
);

CREATE TABLE training_epochs (
    model_id       bigint  NOT NULL REFERENCES models ON DELETE CASCADE,
    fold           integer NOT NULL DEFAULT 0,
    epoch          integer NOT NULL,
    train_loss     real    NOT NULL,
    train_accuracy real    NOT NULL,
    val_loss       real,
    val_accuracy   real,
    seconds        real    NOT NULL,
    PRIMARY KEY (model_id, fold, epoch)
);

CREATE TABLE evaluations (
    evaluation_id     bigserial PRIMARY KEY,
    model_id          bigint  NOT NULL REFERENCES models ON DELETE CASCADE,
    fold              integer,            -- NULL: the test split
    level             text    NOT NULL CHECK (level IN ('window', 'track')),
    n_examples        integer NOT NULL,
    accuracy          real    NOT NULL,
    balanced_accuracy real    NOT NULL,
    macro_f1          real    NOT NULL,
    per_class         jsonb   NOT NULL,   -- {"rock": {"precision":..,"recall":..,"f1":..,"support":..}}
    confusion_matrix  integer[][] NOT NULL,  -- [true][predicted], in models.genres order
    created_at        timestamptz NOT NULL DEFAULT now()
);
