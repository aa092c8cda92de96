# train_data.sh — synthetic training data for the af-train tests (sourced after tests/lib.sh).
#
# synthetic_set NAME DIM: a feature set NAME with DIM values per window (f0..).
# synthetic_tracks FIRST GENRES ARTISTS TRACKS WINDOWS DIM [MODE]: tracks FIRST.. of
#   GENRES genres (genres g1..gN, created if missing) x ARTISTS artists per genre x TRACKS
#   tracks per artist, each with WINDOWS windows of feature set 'syn' and a label under
#   the newest taxonomy.  Genre g's windows have mean 2 on features j with j % GENRES = g-1
#   and 0 elsewhere, plus uniform noise in [-0.5, 0.5): separable.  MODE 'shuffled' gives
#   every track a random label instead (features still follow the true genre).
synthetic_set() {
    sql "INSERT INTO taxonomy_versions (checksum, source_file) SELECT 'synthetic', 'test'
           WHERE NOT EXISTS (SELECT 1 FROM taxonomy_versions);
         INSERT INTO feature_sets (name, parameters, feature_names)
         SELECT '$1', '{\"definition\": \"synthetic\", \"n_features\": $2}',
                array_agg('f' || j ORDER BY j) FROM generate_series(0, $2 - 1) j" >/dev/null
}

synthetic_tracks() {
    local first=$1 genres=$2 artists=$3 tracks=$4 windows=$5 dim=$6 mode=${7:-separable}
    local label="g"
    [ "$mode" = shuffled ] && label="1 + floor(random() * $genres)::int"
    sql "SELECT setseed(0.25);
         INSERT INTO genres (name) SELECT 'g' || g FROM generate_series(1, $genres) g ON CONFLICT DO NOTHING;
         CREATE TEMP TABLE syn AS
           SELECT $first - 1 + row_number() OVER (ORDER BY g, a, t) AS track_id, g,
                  'artist ' || g || '-' || a AS artist, $label AS lab
           FROM generate_series(1, $genres) g, generate_series(1, $artists) a, generate_series(1, $tracks) t;
         INSERT INTO tracks (track_id, artist, title) SELECT track_id, artist, 'title ' || track_id FROM syn;
         INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id)
           SELECT track_id, (SELECT max(taxonomy_version) FROM taxonomy_versions), 'labelled',
                  gn.genre_id FROM syn JOIN genres gn ON gn.name = 'g' || syn.lab ORDER BY track_id;
         INSERT INTO track_features (track_id, feature_set_id, excerpt_start, excerpt_seconds, n_windows, feature_values)
           SELECT track_id, (SELECT feature_set_id FROM feature_sets WHERE name = 'syn'), 0, 3 * $windows, $windows, '{}'
           FROM syn;
         INSERT INTO window_features (track_id, feature_set_id, window_index, start_seconds, feature_values)
           SELECT s.track_id, (SELECT feature_set_id FROM feature_sets WHERE name = 'syn'), w, 3 * w,
                  ARRAY(SELECT (CASE WHEN j % $genres = s.g - 1 THEN 2.0 ELSE 0.0 END + random() - 0.5)::real
                        FROM generate_series(0, $dim - 1) j)
           FROM syn s, generate_series(0, $windows - 1) w ORDER BY s.track_id, w;" >/dev/null
}
