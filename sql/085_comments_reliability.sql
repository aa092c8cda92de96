-- Comments for the columns migrations 070 and 071 added (061 commented the schema
-- before they existed), so that \d+ explains them to analysts; runs.status also
-- names the status 'crashed' that 070 added.
COMMENT ON COLUMN runs.heartbeat_at IS
    'when the running program last reported it is alive (every AF_RUN_HEARTBEAT_SECONDS, default 30 s, with its counters); a running run without a heartbeat for ten intervals, or whose process is gone from its host, is marked crashed';
COMMENT ON COLUMN runs.status IS
    'running, succeeded, failed, interrupted (stopped by SIGINT/SIGTERM after committing its work) or crashed (ended without recording it: killed, crashed or lost its database; counters as of its last heartbeat)';
COMMENT ON COLUMN track_features.shorter_than_window IS
    'true when the clip is shorter than one analysis window of its feature set: its features are one window over what there is (fewer frames than other tracks'' windows)';
