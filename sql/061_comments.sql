-- 061_comments.sql — COMMENT ON the tables, views and columns, so that \d+ in psql
-- explains the schema to an analyst (README "For analysts").  The views of each
-- feature set get theirs from create_feature_views(), redefined here to add them.

COMMENT ON TABLE runs IS 'One row per invocation of any AudioFiler program: what ran, where, how it ended.';
COMMENT ON COLUMN runs.run_id IS 'Identifies the run; other tables'' run_id say which run wrote a row.';
COMMENT ON COLUMN runs.program IS 'The program: af-ingest, af-fetch, af-extract, af-train, af-db, ...';
COMMENT ON COLUMN runs.version IS 'The program''s AudioFiler version.';
COMMENT ON COLUMN runs.arguments IS 'The command line, with passwords masked (a connection string as libpq parses it, password=***).';
COMMENT ON COLUMN runs.host IS 'Host name of the machine the program ran on.';
COMMENT ON COLUMN runs.pid IS 'Process id on that host.';
COMMENT ON COLUMN runs.started_at IS 'When the run started.';
COMMENT ON COLUMN runs.finished_at IS 'When it ended; NULL while running (or when the process died).';
COMMENT ON COLUMN runs.status IS 'running, succeeded, failed or interrupted (stopped by SIGINT/SIGTERM after committing its work).';
COMMENT ON COLUMN runs.counters IS 'What the run did, e.g. {"tracks": 120, "failed": 2}; updated while long runs go on.';
COMMENT ON COLUMN runs.error IS 'Why the run failed, when it did.';

COMMENT ON TABLE tracks IS 'One row per recording, whatever source found it first (sources are merged by MSD id, else by match_key).';
COMMENT ON COLUMN tracks.track_id IS 'Identifies the track everywhere.';
COMMENT ON COLUMN tracks.msd_track_id IS 'Million Song Dataset id (e.g. TRAAAAK128F9318786), when known.';
COMMENT ON COLUMN tracks.artist IS 'Artist name as the first source gave it.';
COMMENT ON COLUMN tracks.title IS 'Title as the first source gave it.';
COMMENT ON COLUMN tracks.match_key IS 'Normalised artist<TAB>title (lower case, no punctuation): how sources are merged without an MSD id.';
COMMENT ON COLUMN tracks.duration_seconds IS 'Duration of the recording in seconds, when a source said.';
COMMENT ON COLUMN tracks.isrc IS 'International Standard Recording Code, when known.';
COMMENT ON COLUMN tracks.musicbrainz_id IS 'MusicBrainz recording id, when known.';
COMMENT ON COLUMN tracks.spotify_id IS 'Spotify track id, once af-fetch matched the track there.';
COMMENT ON COLUMN tracks.deezer_id IS 'Deezer track id, once matched.';
COMMENT ON COLUMN tracks.itunes_id IS 'iTunes track id, once matched.';
COMMENT ON COLUMN tracks.created_at IS 'When the track was first seen.';
COMMENT ON COLUMN tracks.updated_at IS 'When a source last changed the row.';

COMMENT ON TABLE track_sources IS 'Where a track was seen: one row per source and key in that source.';
COMMENT ON COLUMN track_sources.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN track_sources.source IS 'msd, lastfm_api or folder.';
COMMENT ON COLUMN track_sources.source_key IS 'The key in that source: MSD id, Last.fm URL or file path.';
COMMENT ON COLUMN track_sources.first_seen IS 'When this source first named the track.';
COMMENT ON COLUMN track_sources.run_id IS 'The run that recorded it (runs.run_id).';

COMMENT ON TABLE raw_tags IS 'Tags exactly as each source gave them, before the taxonomy maps them to genres.';
COMMENT ON COLUMN raw_tags.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN raw_tags.source IS 'msd_lastfm, lastfm_api, tagtraum_cd1, tagtraum_cd2, tagtraum_cd2c, magd or folder.';
COMMENT ON COLUMN raw_tags.tag IS 'The tag as given (e.g. Hip-Hop).';
COMMENT ON COLUMN raw_tags.weight IS 'The source''s weight or count for the tag (Last.fm: 0-100).';
COMMENT ON COLUMN raw_tags.run_id IS 'The run that stored it (runs.run_id).';

COMMENT ON TABLE taxonomy_versions IS 'Versions of the genre taxonomy (config/genres.conf): each load that changes it is a new version.';
COMMENT ON COLUMN taxonomy_versions.taxonomy_version IS 'The version number; the highest is current (see current_labels).';
COMMENT ON COLUMN taxonomy_versions.checksum IS 'sha256 of the canonical taxonomy text.';
COMMENT ON COLUMN taxonomy_versions.source_file IS 'The file it was loaded from.';
COMMENT ON COLUMN taxonomy_versions.loaded_at IS 'When it was loaded.';

COMMENT ON TABLE genres IS 'The genre names any taxonomy version used.';
COMMENT ON COLUMN genres.genre_id IS 'Identifies the genre.';
COMMENT ON COLUMN genres.name IS 'Genre name, e.g. blues, hiphop.';

COMMENT ON TABLE genre_tags IS 'Which normalised tags count towards which genre, per taxonomy version.';
COMMENT ON COLUMN genre_tags.taxonomy_version IS 'The taxonomy version (taxonomy_versions).';
COMMENT ON COLUMN genre_tags.genre_id IS 'The genre (genres.genre_id).';
COMMENT ON COLUMN genre_tags.tag_key IS 'Normalised tag: lower case, letters and digits only.';
COMMENT ON COLUMN genre_tags.weight IS 'How much the tag counts towards the genre.';

COMMENT ON TABLE track_labels IS 'The labelling decision per track and taxonomy version (af-ingest label). For the current label use the view current_labels.';
COMMENT ON COLUMN track_labels.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN track_labels.taxonomy_version IS 'The taxonomy version the decision was made under.';
COMMENT ON COLUMN track_labels.status IS 'labelled, conflict, below_threshold or no_genre_tags.';
COMMENT ON COLUMN track_labels.genre_id IS 'The genre, when status = labelled (genres.genre_id).';
COMMENT ON COLUMN track_labels.top_share IS 'The winning genre''s share of the tag score (0-1).';
COMMENT ON COLUMN track_labels.scores IS 'Score per genre, e.g. {"rock": 0.7, "metal": 0.3}.';
COMMENT ON COLUMN track_labels.sources IS 'The tag sources that contributed.';
COMMENT ON COLUMN track_labels.reason IS 'Why the track was not labelled, in words.';
COMMENT ON COLUMN track_labels.selected IS 'Whether the track is in the balanced set (--max-per-genre).';
COMMENT ON COLUMN track_labels.labelled_at IS 'When the decision was made.';
COMMENT ON COLUMN track_labels.run_id IS 'The run that made it (runs.run_id).';

COMMENT ON VIEW current_labels IS 'The label each track has under the newest taxonomy version (labelled tracks only).';
COMMENT ON COLUMN current_labels.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN current_labels.label IS 'Genre name (genres.name).';
COMMENT ON COLUMN current_labels.top_share IS 'The winning genre''s share of the tag score (0-1).';
COMMENT ON COLUMN current_labels.taxonomy_version IS 'The taxonomy version (the newest).';

COMMENT ON TABLE audio IS 'Audio files (previews or local files), stored once per distinct content.';
COMMENT ON COLUMN audio.sha256 IS 'sha256 of the bytes: the content''s identity.';
COMMENT ON COLUMN audio.bytes IS 'The encoded file as fetched or read (mp3, m4a, ...).';
COMMENT ON COLUMN audio.size_bytes IS 'Size of the file in bytes.';
COMMENT ON COLUMN audio.codec IS 'Codec as FFmpeg names it: mp3, aac, ...';
COMMENT ON COLUMN audio.sample_rate IS 'Sample rate in Hz.';
COMMENT ON COLUMN audio.channels IS 'Number of channels.';
COMMENT ON COLUMN audio.duration_seconds IS 'Duration in seconds.';
COMMENT ON COLUMN audio.created_at IS 'When it was stored.';

COMMENT ON TABLE track_audio IS 'Which audio a track has and where it came from (one per track).';
COMMENT ON COLUMN track_audio.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN track_audio.sha256 IS 'The audio (audio.sha256).';
COMMENT ON COLUMN track_audio.origin IS 'folder, spotify, deezer or itunes.';
COMMENT ON COLUMN track_audio.origin_ref IS 'File path or the provider''s track id.';
COMMENT ON COLUMN track_audio.stored_at IS 'When the track got this audio.';
COMMENT ON COLUMN track_audio.run_id IS 'The run that stored it (runs.run_id).';

COMMENT ON TABLE fetch_attempts IS 'Every request af-fetch made for a track''s preview, successful or not.';
COMMENT ON COLUMN fetch_attempts.attempt_id IS 'Identifies the attempt.';
COMMENT ON COLUMN fetch_attempts.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN fetch_attempts.provider IS 'spotify, deezer or itunes.';
COMMENT ON COLUMN fetch_attempts.attempted_at IS 'When.';
COMMENT ON COLUMN fetch_attempts.outcome IS 'stored, no_preview, not_found, bad_audio, http_error, ...';
COMMENT ON COLUMN fetch_attempts.http_status IS 'The HTTP status of the answer, when there was one.';
COMMENT ON COLUMN fetch_attempts.detail IS 'What happened, in words.';
COMMENT ON COLUMN fetch_attempts.run_id IS 'The run (runs.run_id).';

COMMENT ON TABLE fetch_outcomes IS 'The last word per track and provider, and when to ask again.';
COMMENT ON COLUMN fetch_outcomes.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN fetch_outcomes.provider IS 'spotify, deezer or itunes.';
COMMENT ON COLUMN fetch_outcomes.outcome IS 'As in fetch_attempts.outcome.';
COMMENT ON COLUMN fetch_outcomes.match_score IS 'Similarity (0-1) of the search result chosen as the same recording.';
COMMENT ON COLUMN fetch_outcomes.provider_ref IS 'The provider''s track id.';
COMMENT ON COLUMN fetch_outcomes.detail IS 'What happened, in words.';
COMMENT ON COLUMN fetch_outcomes.decided_at IS 'When.';
COMMENT ON COLUMN fetch_outcomes.recheck_after IS 'When to ask this provider again; NULL: final.';

COMMENT ON TABLE feature_sets IS 'A feature set: a fixed list of named values computed with fixed parameters; each has views features_<name>_windows and features_<name>_tracks.';
COMMENT ON COLUMN feature_sets.feature_set_id IS 'Identifies the set.';
COMMENT ON COLUMN feature_sets.name IS 'Set name, e.g. v1 (the views are named after it).';
COMMENT ON COLUMN feature_sets.parameters IS 'Window length, hop, excerpt, sample rate, ... the values were computed with.';
COMMENT ON COLUMN feature_sets.feature_names IS 'Names of the values, in the order of feature_values.';
COMMENT ON COLUMN feature_sets.created_at IS 'When the set was registered.';

COMMENT ON TABLE extraction_jobs IS 'af-extract''s work state per track and feature set; a lease lets workers on many hosts share the work.';
COMMENT ON COLUMN extraction_jobs.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN extraction_jobs.feature_set_id IS 'The feature set (feature_sets.feature_set_id).';
COMMENT ON COLUMN extraction_jobs.status IS 'running, done or failed.';
COMMENT ON COLUMN extraction_jobs.worker IS 'host:pid of the worker that holds or held the job.';
COMMENT ON COLUMN extraction_jobs.lease_expires_at IS 'When a running job may be taken over by another worker.';
COMMENT ON COLUMN extraction_jobs.attempts IS 'How many times extraction was tried.';
COMMENT ON COLUMN extraction_jobs.error IS 'Why it failed (FFmpeg''s text and the reason).';
COMMENT ON COLUMN extraction_jobs.updated_at IS 'When the job last changed.';
COMMENT ON COLUMN extraction_jobs.run_id IS 'The run that last changed it (runs.run_id).';

COMMENT ON TABLE window_features IS 'Feature values per analysis window of a track''s excerpt; the view features_<set>_windows names each value.';
COMMENT ON COLUMN window_features.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN window_features.feature_set_id IS 'The feature set (feature_sets.feature_set_id).';
COMMENT ON COLUMN window_features.window_index IS '0-based index of the window within the excerpt.';
COMMENT ON COLUMN window_features.start_seconds IS 'Start of the window within the analysed excerpt, in seconds.';
COMMENT ON COLUMN window_features.feature_values IS 'The values, in the order of feature_sets.feature_names.';

COMMENT ON TABLE track_features IS 'Feature values per track (statistics over its windows); the view features_<set>_tracks names each value.';
COMMENT ON COLUMN track_features.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN track_features.feature_set_id IS 'The feature set (feature_sets.feature_set_id).';
COMMENT ON COLUMN track_features.excerpt_start IS 'Seconds into the file where the analysed excerpt starts.';
COMMENT ON COLUMN track_features.excerpt_seconds IS 'Length of the analysed excerpt in seconds.';
COMMENT ON COLUMN track_features.n_windows IS 'Number of windows (rows in window_features).';
COMMENT ON COLUMN track_features.feature_values IS 'The values, in the order of feature_sets.feature_names.';
COMMENT ON COLUMN track_features.computed_at IS 'When they were computed.';
COMMENT ON COLUMN track_features.run_id IS 'The run that computed them (runs.run_id).';

COMMENT ON TABLE split_schemes IS 'A split scheme assigns each labelled track to train/val/test, or to a fold.';
COMMENT ON COLUMN split_schemes.split_scheme_id IS 'Identifies the scheme.';
COMMENT ON COLUMN split_schemes.name IS 'Scheme name.';
COMMENT ON COLUMN split_schemes.parameters IS 'Ratios or number of folds, and the hash salt.';
COMMENT ON COLUMN split_schemes.created_at IS 'When it was made.';

COMMENT ON TABLE track_splits IS 'Which split (and fold) each track is in, per scheme.';
COMMENT ON COLUMN track_splits.split_scheme_id IS 'The scheme (split_schemes).';
COMMENT ON COLUMN track_splits.track_id IS 'The track (tracks.track_id).';
COMMENT ON COLUMN track_splits.split IS 'train, val or test.';
COMMENT ON COLUMN track_splits.fold IS 'The fold, for K-fold schemes.';
COMMENT ON COLUMN track_splits.assigned_at IS 'When.';

COMMENT ON TABLE models IS 'Trained classifiers (af-train).';
COMMENT ON COLUMN models.model_id IS 'Identifies the model (af-predict --model, af-report --model).';
COMMENT ON COLUMN models.feature_set_id IS 'The feature set it was trained on.';
COMMENT ON COLUMN models.split_scheme_id IS 'The split scheme used.';
COMMENT ON COLUMN models.taxonomy_version IS 'The taxonomy version of its labels.';
COMMENT ON COLUMN models.genres IS 'Output classes, in order.';
COMMENT ON COLUMN models.hyperparameters IS 'Layers, learning rate, epochs, ...';
COMMENT ON COLUMN models.format_version IS 'Version of the weights'' serialisation.';
COMMENT ON COLUMN models.weights IS 'The network and its standardiser, serialised.';
COMMENT ON COLUMN models.created_at IS 'When it was trained.';
COMMENT ON COLUMN models.run_id IS 'The run that trained it (runs.run_id).';

COMMENT ON TABLE training_epochs IS 'Loss and accuracy per training epoch (and fold) of a model.';
COMMENT ON COLUMN training_epochs.model_id IS 'The model (models.model_id).';
COMMENT ON COLUMN training_epochs.fold IS 'The cross-validation fold; 0 for the final training.';
COMMENT ON COLUMN training_epochs.epoch IS 'Epoch number.';
COMMENT ON COLUMN training_epochs.train_loss IS 'Mean loss on the training windows.';
COMMENT ON COLUMN training_epochs.train_accuracy IS 'Accuracy on the training windows.';
COMMENT ON COLUMN training_epochs.val_loss IS 'Loss on the validation windows.';
COMMENT ON COLUMN training_epochs.val_accuracy IS 'Accuracy on the validation windows.';
COMMENT ON COLUMN training_epochs.seconds IS 'Time the epoch took.';

COMMENT ON TABLE evaluations IS 'How well a model does, per fold or on the test split, per window and per track.';
COMMENT ON COLUMN evaluations.evaluation_id IS 'Identifies the evaluation.';
COMMENT ON COLUMN evaluations.model_id IS 'The model (models.model_id).';
COMMENT ON COLUMN evaluations.fold IS 'The fold; NULL: the test split.';
COMMENT ON COLUMN evaluations.level IS 'window or track.';
COMMENT ON COLUMN evaluations.n_examples IS 'Number of windows or tracks evaluated.';
COMMENT ON COLUMN evaluations.accuracy IS 'Share predicted right.';
COMMENT ON COLUMN evaluations.balanced_accuracy IS 'Mean recall over genres.';
COMMENT ON COLUMN evaluations.macro_f1 IS 'Mean F1 over genres.';
COMMENT ON COLUMN evaluations.per_class IS 'Precision, recall, F1 and support per genre.';
COMMENT ON COLUMN evaluations.confusion_matrix IS '[true][predicted] counts, in models.genres order.';
COMMENT ON COLUMN evaluations.created_at IS 'When.';

COMMENT ON TABLE schema_migrations IS 'The migrations applied to this database (af-db migrate): version, name, checksum.';
COMMENT ON TABLE lastfm_responses IS 'Raw Last.fm API answers kept by af-ingest, so that a re-run asks nothing twice.';
COMMENT ON TABLE lastfm_crawl_cursors IS 'Where af-ingest lastfm''s crawl of each tag stands (next page).';
COMMENT ON TABLE lastfm_tag_lookups IS 'Which tracks af-ingest asked Last.fm for their tags, and the outcome.';
COMMENT ON TABLE ingest_problems IS 'Items af-ingest skipped or could not read, with the reason.';
COMMENT ON TABLE fetch_claims IS 'af-fetch''s leases: which worker is fetching which track until when.';
COMMENT ON TABLE fetch_provider_pauses IS 'Providers af-fetch stopped asking (rate limit, rejected keys) and until when.';

-- create_feature_views() as in 004_extract.sql and 060_roles.sql (SECURITY DEFINER: a
-- worker's af-extract registers sets, the owner's rights make the views), now also
-- commenting each view and its columns.
CREATE OR REPLACE FUNCTION create_feature_views(p_feature_set_id integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    set_name text;
    names text[];
    columns text := '';
    view_name text;
    per text;
BEGIN
    SELECT name, feature_names INTO set_name, names
    FROM feature_sets WHERE feature_set_id = p_feature_set_id;
    IF set_name IS NULL THEN
        RAISE EXCEPTION 'no feature set with id %', p_feature_set_id;
    END IF;
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        columns := columns || format(', f.feature_values[%s] AS %I', i, names[i]);
    END LOOP;
    EXECUTE format(
        'CREATE OR REPLACE VIEW %I AS'
        ' SELECT f.track_id, t.artist, t.title, l.label, f.window_index, f.start_seconds%s'
        ' FROM window_features f JOIN tracks t USING (track_id)'
        ' LEFT JOIN current_labels l USING (track_id)'
        ' WHERE f.feature_set_id = %s',
        'features_' || set_name || '_windows', columns, p_feature_set_id);
    EXECUTE format(
        'CREATE OR REPLACE VIEW %I AS'
        ' SELECT f.track_id, t.artist, t.title, l.label, f.n_windows%s'
        ' FROM track_features f JOIN tracks t USING (track_id)'
        ' LEFT JOIN current_labels l USING (track_id)'
        ' WHERE f.feature_set_id = %s',
        'features_' || set_name || '_tracks', columns, p_feature_set_id);

    FOREACH per IN ARRAY ARRAY['windows', 'tracks'] LOOP
        view_name := 'features_' || set_name || '_' || per;
        EXECUTE format('COMMENT ON VIEW %I IS %L', view_name,
            format('Feature set %s, one row per %s, every value a named column (from %s), '
                   'with artist, title and current label.', set_name,
                   CASE per WHEN 'windows' THEN 'analysis window' ELSE 'track' END,
                   CASE per WHEN 'windows' THEN 'window_features' ELSE 'track_features' END));
        EXECUTE format('COMMENT ON COLUMN %I.track_id IS %L', view_name, 'The track (tracks.track_id).');
        EXECUTE format('COMMENT ON COLUMN %I.artist IS %L', view_name, 'Artist (tracks.artist).');
        EXECUTE format('COMMENT ON COLUMN %I.title IS %L', view_name, 'Title (tracks.title).');
        EXECUTE format('COMMENT ON COLUMN %I.label IS %L', view_name,
                       'Genre under the newest taxonomy (current_labels.label); NULL: not labelled.');
        FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
            EXECUTE format('COMMENT ON COLUMN %I.%I IS %L', view_name, names[i],
                format('Value %s of feature set %s (feature_sets.feature_names[%s]): '
                       '<row>_<statistic> over the frames, see README "For analysts".',
                       i, set_name, i));
        END LOOP;
    END LOOP;
    view_name := 'features_' || set_name || '_windows';
    EXECUTE format('COMMENT ON COLUMN %I.window_index IS %L', view_name,
                   '0-based index of the window within the excerpt.');
    EXECUTE format('COMMENT ON COLUMN %I.start_seconds IS %L', view_name,
                   'Start of the window within the analysed excerpt, in seconds.');
    EXECUTE format('COMMENT ON COLUMN %I.n_windows IS %L', 'features_' || set_name || '_tracks',
                   'Number of windows the track''s values summarise.');
END
$$;
REVOKE ALL ON FUNCTION create_feature_views(integer) FROM PUBLIC;

-- The views of the sets that exist already get their comments too.
SELECT create_feature_views(feature_set_id) FROM feature_sets;
