-- 031_label_ambiguous.sql — labelling that tells a coarse source from a disagreement,
-- and counts a tag spelled several ways once.
--
-- * A coarse tag: one whose strongest weight in the taxonomy is shared by two or more
--   genres ("pop rock" = 0.5 pop + 0.5 rock; tagtraum CD1's and MAGD's only class
--   "Pop_Rock").  Its evidence is not split between the genres (which made 63 % of the
--   real CD1 "conflict: pop 0.50, rock 0.50"): it supports each of them fully, as "one
--   of these".  Another source's evidence (CD2's separate Pop and Rock, Last.fm tags)
--   then decides; a track whose best genres tie only through coarse tags is
--   'ambiguous' (reason "ambiguous: pop or rock"), not 'conflict'.  'conflict' stays
--   for genres that sources really put forward against each other.
-- * Spelling variants: per track and source, a tag key ("dance pop" / "dance-pop",
--   "hip hop" / "Hip-Hop" / "hiphop") counts once, with its strongest weight.
ALTER TABLE track_labels DROP CONSTRAINT track_labels_status_check;
ALTER TABLE track_labels ADD CONSTRAINT track_labels_status_check
    CHECK (status IN ('labelled', 'conflict', 'ambiguous', 'below_threshold', 'no_genre_tags'));

-- Same signature and result as in 002_ingest.sql; see there for the parameters.
CREATE OR REPLACE FUNCTION af_label_tracks(p_version integer, p_min_share real, p_min_tag_weight real,
                                           p_max_per_genre integer, p_run_id bigint)
RETURNS TABLE (status text, tracks bigint)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM track_labels l WHERE l.taxonomy_version = p_version;

    -- The taxonomy's tags; "members" is set for a coarse tag (its top weight shared).
    CREATE TEMP TABLE af_gt ON COMMIT DROP AS
    WITH gt AS (
        SELECT g.tag_key, g.genre_id, g.weight, max(g.weight) OVER (PARTITION BY g.tag_key) AS top
          FROM genre_tags g WHERE g.taxonomy_version = p_version),
    coarse AS (
        SELECT gt.tag_key, array_agg(gt.genre_id ORDER BY gt.genre_id) AS members
          FROM gt WHERE gt.weight = gt.top GROUP BY gt.tag_key HAVING count(*) >= 2)
    SELECT gt.tag_key, gt.genre_id, gt.weight,
           CASE WHEN gt.weight = gt.top THEN c.members END AS members
      FROM gt LEFT JOIN coarse c USING (tag_key);

    -- Keys once per distinct tag (far fewer than tag rows), then one row per track,
    -- source and key: the strongest of its spellings.
    CREATE TEMP TABLE af_tags ON COMMIT DROP AS
    SELECT DISTINCT ON (r.track_id, r.source, k.tag_key)
           r.track_id, r.source, r.tag, k.tag_key, r.weight
      FROM raw_tags r
      JOIN (SELECT d.tag, af_norm_key(d.tag) AS tag_key
              FROM (SELECT DISTINCT t.tag FROM raw_tags t) d) k USING (tag)
     WHERE EXISTS (SELECT 1 FROM af_gt g WHERE g.tag_key = k.tag_key)
     ORDER BY r.track_id, r.source, k.tag_key, r.weight DESC, r.tag;

    -- Evidence items: one genre, or the genres of a coarse tag together.
    CREATE TEMP TABLE af_hits ON COMMIT DROP AS
    SELECT t.track_id, t.source, t.tag, t.weight AS tag_weight,
           coalesce(g.members, ARRAY[g.genre_id]) AS item,
           t.weight * g.weight AS evidence
      FROM af_tags t JOIN af_gt g USING (tag_key);

    CREATE TEMP TABLE af_scores ON COMMIT DROP AS
    WITH per_source AS (
        SELECT h.track_id, h.source, h.item, sum(h.evidence) AS evidence
          FROM af_hits h
         WHERE h.tag_weight >= p_min_tag_weight AND h.evidence > 0
         GROUP BY 1, 2, 3),
    shares AS (
        SELECT p.track_id, p.source, p.item,
               p.evidence / sum(p.evidence) OVER (PARTITION BY p.track_id, p.source) AS share
          FROM per_source p),
    n_sources AS (
        SELECT s.track_id, count(DISTINCT s.source) AS n,
               array_agg(DISTINCT s.source ORDER BY s.source) AS sources
          FROM shares s GROUP BY 1),
    per_genre AS (
        SELECT s.track_id, u.genre_id,
               sum(s.share) AS share,
               sum(s.share) FILTER (WHERE cardinality(s.item) = 1) AS decisive
          FROM shares s CROSS JOIN LATERAL unnest(s.item) AS u(genre_id)
         GROUP BY 1, 2)
    SELECT p.track_id, p.genre_id, g.name, p.share / n.n AS score,
           coalesce(p.decisive, 0) / n.n AS decisive, n.sources,
           row_number() OVER (PARTITION BY p.track_id
                              ORDER BY p.share DESC, coalesce(p.decisive, 0) DESC, g.name) AS rank
      FROM per_genre p JOIN n_sources n USING (track_id) JOIN genres g USING (genre_id);

    -- The coarse items each track has, to tell an ambiguous tie from a conflict.
    CREATE TEMP TABLE af_groups ON COMMIT DROP AS
    SELECT DISTINCT h.track_id, h.item FROM af_hits h
     WHERE cardinality(h.item) > 1 AND h.tag_weight >= p_min_tag_weight AND h.evidence > 0;

    CREATE INDEX ON af_groups (track_id);
    CREATE INDEX ON af_hits (track_id);
    ANALYZE af_hits;
    ANALYZE af_scores;
    ANALYZE af_groups;

    -- Tracks with usable genre evidence: labelled, ambiguous or conflict.
    INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id, top_share, scores,
                              sources, reason, selected, run_id)
    SELECT x.track_id, p_version, y.status,
           CASE WHEN x.ok THEN x.genre_id END,
           x.score, x.scores, x.sources,
           CASE y.status
                WHEN 'labelled' THEN NULL
                WHEN 'ambiguous' THEN 'ambiguous: ' || x.tied_names
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
                       FILTER (WHERE a.rank <= 4) AS top4,
                   -- the genres tied at the top, and whether any has evidence of its own
                   array_agg(a.genre_id ORDER BY a.genre_id) FILTER (WHERE a.is_top) AS tied,
                   string_agg(a.name, ' or ' ORDER BY a.name) FILTER (WHERE a.is_top) AS tied_names,
                   coalesce(max(a.decisive) FILTER (WHERE a.is_top), 0) > 0 AS tied_decisive
              FROM (SELECT s.*, s.score >= max(s.score) OVER (PARTITION BY s.track_id) - 1e-6 AS is_top
                      FROM af_scores s) a
             GROUP BY a.track_id) x
     CROSS JOIN LATERAL (
        SELECT CASE WHEN x.ok THEN 'labelled'
                    WHEN cardinality(x.tied) >= 2 AND NOT x.tied_decisive
                         AND EXISTS (SELECT 1 FROM af_groups gr
                                      WHERE gr.track_id = x.track_id AND x.tied <@ gr.item)
                    THEN 'ambiguous'
                    ELSE 'conflict' END AS status) y;

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

    DROP TABLE af_gt;
    DROP TABLE af_tags;
    DROP TABLE af_hits;
    DROP TABLE af_scores;
    DROP TABLE af_groups;
    RETURN QUERY SELECT l.status, count(*) FROM track_labels l
                  WHERE l.taxonomy_version = p_version GROUP BY l.status ORDER BY l.status;
END
$$;
