-- Run records that tell a live run from a dead one.
-- A running program updates heartbeat_at (and its counters) every few seconds from a
-- thread of its own (lib/run.c), so a crash loses at most those seconds of counters.
-- The next program to start, and af-db status, mark as 'crashed' the runs whose
-- process is gone (same host, pid no longer alive) or whose heartbeat stopped
-- (another host); extraction claims of a crashed run may be taken over at once.
ALTER TABLE runs ADD COLUMN heartbeat_at timestamptz;
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'crashed'));
CREATE INDEX runs_running ON runs (run_id) WHERE status = 'running';
