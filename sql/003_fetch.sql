-- 003_fetch.sql — af-fetch's work state (the results live in 001's audio, track_audio,
-- fetch_attempts and fetch_outcomes).

-- Which af-fetch process works on a track and until when: several processes share the
-- work (claimed with FOR UPDATE SKIP LOCKED), and the tracks of a process that died
-- are taken over once its lease has expired.  A row disappears when its track is done.
CREATE TABLE fetch_claims (
    track_id         bigint      NOT NULL PRIMARY KEY REFERENCES tracks ON DELETE CASCADE,
    worker           text        NOT NULL,   -- host:pid of the claiming process
    lease_expires_at timestamptz NOT NULL,
    run_id           bigint REFERENCES runs
);
CREATE INDEX fetch_claims_lease ON fetch_claims (lease_expires_at);

-- A provider that asked us to stay away for longer than one run should wait
-- (HTTP 429 with a Retry-After of hours): no request to it before paused_until.
CREATE TABLE fetch_provider_pauses (
    provider     text        NOT NULL PRIMARY KEY,   -- 'spotify', 'deezer', 'itunes'
    paused_until timestamptz NOT NULL,
    reason       text,
    run_id       bigint REFERENCES runs,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Finding the tracks whose outcomes are due for a re-check.
CREATE INDEX fetch_outcomes_recheck ON fetch_outcomes (track_id, recheck_after);
