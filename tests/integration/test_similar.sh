#!/usr/bin/env bash
# Embeddings and similar tracks: af-train stores every track's embedding (the mean of the
# last hidden layer over its windows, unlabelled tracks too), recomputed from the model
# they equal what the stored weights give; af-similar TRACK_ID / --search / --json list
# the nearest tracks (same genre first) through the GiST index; the SQL functions agree
# with a brute-force scan; errors name the track, the model and the search.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database similar
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 8 2 4 8
# An unlabelled track with features: embedded too.
sql "INSERT INTO tracks (track_id, artist, title) VALUES (1000, 'Nobody', 'Unlabelled Song');
     INSERT INTO track_features (track_id, feature_set_id, excerpt_start, excerpt_seconds, n_windows, feature_values)
       SELECT 1000, feature_set_id, 0, 12, 4, '{}' FROM feature_sets WHERE name = 'syn';
     INSERT INTO window_features (track_id, feature_set_id, window_index, start_seconds, feature_values)
       SELECT 1000, feature_set_id, w, 3 * w, ARRAY[2.1, 0, 0, 1.9, 0, 0, 2, 0]::real[]
       FROM feature_sets, generate_series(0, 3) w WHERE name = 'syn'" >/dev/null

run af-similar 1
expect_status 1 "af-similar before any model exits 1"

run af-train --feature-set syn --hidden 16,6 --epochs 60 --patience 10
expect_status 0 "af-train with embeddings"
expect_eq "49|6|4" "$(sql "SELECT count(*), min(cube_dim(embedding)), min(n_windows) FROM track_embeddings")" \
    "every track with windows has a 6-dimensional embedding (48 labelled + 1 unlabelled)"
expect_eq "49" "$(sql "SELECT counters->>'embeddings' FROM runs WHERE program = 'af-train'")" \
    "the run counts the embeddings"
expect_eq "t" "$(sql "SELECT bool_and(cube_ll_coord(embedding, 1) >= 0) FROM track_embeddings")" \
    "embeddings are ReLU activations (>= 0)"

# The same tracks' nearest neighbours: mostly their own genre (separable data).
expect_eq "t" "$(sql "SELECT avg((l.genre_id = ln.genre_id)::int) >= 0.8
    FROM track_labels l, LATERAL af_similar_tracks((SELECT max(model_id) FROM models), l.track_id, 5) s
    JOIN track_labels ln ON ln.track_id = s.track_id")" "neighbours share the genre (>= 80 %)"
# The SQL function equals a brute-force scan.
expect_eq "$(sql "SELECT string_agg(track_id::text, ',' ORDER BY d, track_id) FROM (SELECT e.track_id, e.embedding <-> q.embedding AS d FROM track_embeddings e, track_embeddings q WHERE q.track_id = 5 AND e.track_id <> 5 ORDER BY 2, 1 LIMIT 7) x")" \
    "$(sql "SELECT string_agg(track_id::text, ',') FROM af_similar_tracks((SELECT max(model_id) FROM models), 5, 7)")" \
    "af_similar_tracks equals a brute-force scan"

run af-similar 1 -k 3
expect_status 0 "af-similar TRACK_ID"
expect_out "Nearest tracks to track 1 \(artist 1-1 - title 1\)" "the query track is named"
# (the unlabelled track 1000 has g1-like features: it may rank first, labelled "-")
expect_out "^ +[1-3] +[0-9]+ +artist 1-[0-9] +title [0-9]+ +g1 +[0-9]+\.[0-9]{4}$" "rank, track, artist, title, label and distance"
expect_eq 3 "$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+ +[0-9]+ ')" "-k 3 gives 3 rows"
expect_no "^ +[0-9]+ +1 +" "$out" "the query track itself is left out"

run af-similar --json -k 2 --search "artist 2-3 - title 21"
expect_status 0 "af-similar --search --json"
expect_eq "1|2|g2" "$(printf '%s' "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["model"], len(o["similar"]), o["similar"][0]["label"], sep="|")')" \
    "JSON names the model and lists the neighbours with labels"
run af-similar --search "Nobody - unlabelled song" -k 2
expect_status 0 "--search matches after normalisation, an unlabelled track"
expect_out "track 1000 \(Nobody - Unlabelled Song\)" "the unlabelled track is the query"

run af-similar 424242
expect_status 1 "an unknown track exits 1"
expect_err "track 424242: no such track" "the unknown track is named"
run af-similar --search "Nobody - Nothing"
expect_status 1 "a search without a match exits 1"
expect_err 'no track of the collection with an embedding under model 1 matches' "the failed search is said"
# A track of the collection without an embedding (added by a correction, no audio yet) is
# not the answer: the search goes on to the providers (none configured here).
sql "INSERT INTO tracks (track_id, artist, title) VALUES (1001, 'Lonely', 'Unheard Song')" >/dev/null
run af-similar --search "Lonely - Unheard Song"
expect_status 1 "a search matching only a track without an embedding"
expect_no "has no embedding" "$err" "does not stop at that track"
expect_err 'no track of the collection with an embedding under model 1 matches' "it looks further"
run af-similar --search ""
expect_status 2 "an empty --search is a usage error"
run af-similar --model 99 1
expect_status 1 "an unknown model exits 1"
run af-similar /nonexistent/file.mp3
expect_status 1 "a missing file exits 1"
expect_err "/nonexistent/file.mp3: neither a track id nor a readable file" "the missing file is named"
run af-similar
expect_status 2 "no query is a usage error"

# Retraining replaces nothing of the old model; deleting a model deletes its embeddings.
run af-train --feature-set syn --hidden 16,6 --epochs 5 --patience 5
expect_eq "98" "$(sql "SELECT count(*) FROM track_embeddings")" "a second model has its own embeddings"
# Without --model: the default model (the first, not promoted away), not the newest.
run af-similar 1 -k 2
expect_out "^Nearest tracks to track 1 \(artist 1-1 - title 1\), by model 1 \(the default model\):$" \
    "af-similar uses the default model and names it"
run af-similar --json 1 -k 2
expect_eq "1|True" "$(printf '%s' "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["model"], o["model_default"], sep="|")')" \
    "JSON: the default model"
run af-similar --model latest 1 -k 2
expect_out "^Nearest tracks to track 1 .*, by model 2:$" "--model latest: the newest model, named"
sql "DELETE FROM models WHERE model_id = (SELECT min(model_id) FROM models)" >/dev/null
expect_eq "49" "$(sql "SELECT count(*) FROM track_embeddings")" "deleting a model deletes its embeddings"

# A last hidden layer wider than cube's 100 dimensions: no embeddings, a warning.
run af-train --feature-set syn --hidden 101 --epochs 3 --patience 3
expect_status 0 "af-train with a 101-unit last layer still stores the model"
expect_err "more than the 100 a cube holds" "the missing embeddings are explained"
run af-similar 1
expect_status 1 "af-similar on a model without embeddings exits 1"
expect_err "has no stored embeddings" "the model without embeddings is explained"
