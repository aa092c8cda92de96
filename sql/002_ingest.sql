-- 002_ingest.sql — af-ingest's own state: the Last.fm response cache, the crawl
-- cursors, per-track tag lookups, problems met while ingesting, and labelling
-- (af_norm_key, af_label_tracks) as SQL functions that `af-ingest label` calls.

-- Raw Last.fm API responses, reused while younger than [lastfm] cache_max_age_days.
CREATE TABLE lastfm_responses (
    request_key  text PRIMARY KEY,      -- "method?name=value&..." sorted, without api_key
    method       text NOT NULL,         -- lower case: tag.gettoptracks, track.gettoptags
    http_status  integer NOT NULL,
    lastfm_error integer,               -- the error code in the body (6: not found), if any
    body         text NOT NULL,         -- the response exactly as received
    fetched_at   timestamptz NOT NULL DEFAULT now(),
    run_id       bigint REFERENCES runs
);

-- Where the tag.getTopTracks crawl of each seed tag has got to: a run resumes here.
CREATE TABLE lastfm_crawl_cursors (
    tag         text PRIMARY KEY,       -- the seed tag as sent
    next_page   integer NOT NULL DEFAULT 1,
    total_pages integer,                -- from the last page's @attr; NULL until known
    tracks_seen integer NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    run_id      bigint REFERENCES runs
);

-- The last track.getTopTags answer per track, so that a re-run does not ask again.
CREATE TABLE lastfm_tag_lookups (
    track_id     bigint PRIMARY KEY REFERENCES tracks ON DELETE CASCADE,
    outcome      text NOT NULL CHECK (outcome IN ('tagged', 'no_tags', 'not_found')),
    n_tags       integer NOT NULL DEFAULT 0,
    detail       text,                  -- Last.fm's message for not_found
    looked_up_at timestamptz NOT NULL DEFAULT now(),
    run_id       bigint REFERENCES runs
);

-- Input that ingest skipped or could not use, with the reason (also logged).
CREATE TABLE ingest_problems (
    problem_id bigserial PRIMARY KEY,
    run_id     bigint REFERENCES runs,
    source     text NOT NULL,           -- 'msd', 'tagtraum_cd2', 'folder', 'lastfm_api', ...
    item       text NOT NULL,           -- file (and :line), or what was asked of the API
    problem    text NOT NULL,           -- 'malformed_json', 'invalid_utf8', 'missing_field',
                                        -- 'bad_line', 'not_audio', 'not_found', 'request_failed'
    detail     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_problems_run ON ingest_problems (run_id);

-- Merging a new MSD track into a track another source found first (same artist and title).
CREATE INDEX tracks_match_key_without_msd ON tracks (match_key) WHERE msd_track_id IS NULL;

-- The tag key of ingest/normalise.c: ASCII letters lower-cased, ASCII digits and every
-- non-ASCII character kept, everything else dropped ("Hip-Hop" -> "hiphop").
CREATE FUNCTION af_norm_key(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
                          '[\x01-\x2F\x3A-\x40\x5B-\x60\x7B-\x7F]', '', 'g')
$$;

-- Labels every track under one taxonomy version (replacing that version's labels):
--   * a raw tag counts when its key is a genre tag and its weight >= p_min_tag_weight;
--   * each source's evidence (tag weight x genre-tag weight) is normalised to shares
--     summing to 1, and the track's score per genre is the mean over its sources;
--   * labelled when the top score >= p_min_share and beats the runner-up; otherwise
--     'conflict' (competing genres), 'below_threshold' (genre tags too weak) or
--     'no_genre_tags', each with the reason in words;
--   * p_max_per_genre > 0 selects at most that many labelled tracks per genre (the
--     most confident first, ties broken by a hash of the track id): a balanced set.
-- Returns the number of tracks per status.
CREATE FUNCTION af_label_tracks(p_version integer, p_min_share real, p_min_tag_weight real,
                                p_max_per_genre integer, p_run_id bigint)
RETURNS TABLE (status text, tracks bigint)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM track_labels l WHERE l.taxonomy_version = p_version;

    CREATE TEMP TABLE af_hits ON COMMIT DROP AS
    SELECT r.track_id, r.source, r.tag, r.weight AS tag_weight, gt.genre_id,
           r.weight * gt.weight AS evidence
      FROM raw_tags r
      JOIN genre_tags gt ON gt.taxonomy_version = p_version AND gt.tag_key = af_norm_key(r.tag);

    CREATE TEMP TABLE af_scores ON COMMIT DROP AS
    WITH per_source AS (
        SELECT h.track_id, h.source, h.genre_id, sum(h.evidence) AS evidence
          FROM af_hits h
         WHERE h.tag_weight >= p_min_tag_weight AND h.evidence > 0
         GROUP BY 1, 2, 3),
    shares AS (
        SELECT p.track_id, p.source, p.genre_id,
               p.evidence / sum(p.evidence) OVER (PARTITION BY p.track_id, p.source) AS share
          FROM per_source p),
    n_sources AS (
        SELECT s.track_id, count(DISTINCT s.source) AS n,
               array_agg(DISTINCT s.source ORDER BY s.source) AS sources
          FROM shares s GROUP BY 1)
    SELECT s.track_id, s.genre_id, g.name, sum(s.share) / n.n AS score, n.sources,
           row_number() OVER (PARTITION BY s.track_id ORDER BY sum(s.share) DESC, g.name) AS rank
      FROM shares s JOIN n_sources n USING (track_id) JOIN genres g USING (genre_id)
     GROUP BY s.track_id, s.genre_id, g.name, n.n, n.sources;

    ANALYZE af_hits;
    ANALYZE af_scores;

    -- Tracks with usable genre evidence: labelled or conflict.
    INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id, top_share, scores,
                              sources, reason, selected, run_id)
    SELECT x.track_id, p_version,
           CASE WHEN x.ok THEN 'labelled' ELSE 'conflict' END,
           CASE WHEN x.ok THEN x.genre_id END,
           x.score, x.scores, x.sources,
           CASE WHEN x.ok THEN NULL
                ELSE format('competing genres: %s (the top share %s is below %s)', x.top4,
                            round(x.score::numeric, 2), round(p_min_share::numeric, 2)) END,
           false, p_run_id
      FROM (SELECT a.track_id,
                   max(a.score) FILTER (WHERE a.rank = 1) AS score,
                   max(a.genre_id) FILTER (WHERE a.rank = 1) AS genre_id,
                   (max(a.score) FILTER (WHERE a.rank = 1) >= p_min_share AND
                    max(a.score) FILTER (WHERE a.rank = 1)
                        > coalesce(max(a.score) FILTER (WHERE a.rank = 2), 0)) AS ok,
                   jsonb_object_agg(a.name, round(a.score::numeric, 3)) AS scores,
                   min(a.sources) AS sources,
                   string_agg(a.name || ' ' || round(a.score::numeric, 2), ', ' ORDER BY a.rank)
                       FILTER (WHERE a.rank <= 4) AS top4
              FROM af_scores a GROUP BY a.track_id) x;

    -- Tracks whose genre tags are all weaker than p_min_tag_weight.
    INSERT INTO track_labels (track_id, taxonomy_version, status, sources, reason, selected, run_id)
    SELECT h.track_id, p_version, 'below_threshold', array_agg(DISTINCT h.source ORDER BY h.source),
           format('genre tags too weak: the strongest, "%s", has weight %s (at least %s needed)',
                  (array_agg(h.tag ORDER BY h.tag_weight DESC, h.tag))[1],
                  max(h.tag_weight), p_min_tag_weight),
           false, p_run_id
      FROM af_hits h
     WHERE NOT EXISTS (SELECT 1 FROM af_scores a WHERE a.track_id = h.track_id)
     GROUP BY h.track_id;

    -- Every other track.
    INSERT INTO track_labels (track_id, taxonomy_version, status, sources, reason, selected, run_id)
    SELECT t.track_id, p_version, 'no_genre_tags',
           r.sources,
           CASE WHEN r.sources IS NOT NULL
                THEN 'none of its tags belongs to a genre of the taxonomy'
                ELSE 'no tags' END,
           false, p_run_id
      FROM tracks t
      LEFT JOIN LATERAL (SELECT array_agg(DISTINCT r.source ORDER BY r.source) AS sources
                           FROM raw_tags r WHERE r.track_id = t.track_id) r ON true
     WHERE NOT EXISTS (SELECT 1 FROM af_hits h WHERE h.track_id = t.track_id);

    -- The balanced selection.
    UPDATE track_labels l SET selected = true
      FROM (SELECT x.track_id,
                   row_number() OVER (PARTITION BY x.genre_id
                                      ORDER BY x.top_share DESC, md5(x.track_id::text)) AS n
              FROM track_labels x
             WHERE x.taxonomy_version = p_version AND x.status = 'labelled') ranked
     WHERE l.taxonomy_version = p_version AND l.track_id = ranked.track_id
       AND (p_max_per_genre <= 0 OR ranked.n <= p_max_per_genre);

    DROP TABLE af_hits;
    DROP TABLE af_scores;
    RETURN QUERY SELECT l.status, count(*) FROM track_labels l
                  WHERE l.taxonomy_version = p_version GROUP BY l.status ORDER BY l.status;
END
$$;
