#!/usr/bin/env bash
# af-train on synthetic window features inserted with SQL: accuracy on separable data and
# chance on shuffled labels, artist-disjoint and stable splits, stored models, epochs and
# evaluations, --list/--show, same seed -> same bytes, CSV round trip, --folds, SIGINT.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database train
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
fast=(--feature-set syn --hidden 32,16 --epochs 40 --patience 5)

run af-train "${fast[@]}"
expect_status 0 "af-train trains on separable synthetic data"
expect_out 'Test split' "a summary is printed"
expect_out '^track +[0-9]+ +1\.0000' "track-level test accuracy is 100 % on separable data"
expect_eq "1" "$(sql "SELECT count(*) FROM models")" "one model stored"
expect_eq "window|track" "$(sql "SELECT string_agg(level, '|' ORDER BY level DESC) FROM evaluations WHERE fold IS NULL AND classifier = 'network'")" \
    "window- and track-level evaluations of the test split stored"
expect_eq "t" "$(sql "SELECT count(*) > 0 AND bool_and(seconds >= 0 AND val_loss IS NOT NULL) FROM training_epochs")" "training epochs stored with losses and seconds"
expect_eq "t|t|t" "$(sql "SELECT m.run_id = r.run_id, m.feature_set_id = f.feature_set_id, m.split_scheme_id IS NOT NULL FROM models m JOIN runs r ON r.program = 'af-train' JOIN feature_sets f ON f.name = 'syn'")" \
    "the model is linked to its run, feature set and split scheme"
expect_eq "{g1,g2,g3}|1|t|42" "$(sql "SELECT genres, format_version, length(weights) > 100, hyperparameters->>'seed' FROM models")" "genres, format version, weights and seed stored"
expect_eq "540|108|t" "$(sql "SELECT counters->>'windows', counters->>'tracks', (counters->>'epochs')::int > 0 FROM runs WHERE program = 'af-train'")" "the run counts windows, tracks and epochs"
expect_eq "0" "$(sql "SELECT count(*) FROM (SELECT t.artist FROM tracks t JOIN track_splits s USING (track_id) GROUP BY t.artist HAVING count(DISTINCT s.split) > 1) x")" \
    "no artist spans two splits"
expect_eq "3" "$(sql "SELECT count(DISTINCT split) FROM track_splits")" "train, val and test are all used"

# Stability: new tracks (of old and new artists) never move old ones.
sql "CREATE TABLE before AS SELECT track_id, split FROM track_splits" >/dev/null
synthetic_tracks 1001 3 14 3 5 8   # artists 1..12 again (new tracks) and 13, 14
run af-train "${fast[@]}"
expect_status 0 "retraining after new tracks arrived"
expect_eq "0" "$(sql "SELECT count(*) FROM before b JOIN track_splits s USING (track_id) WHERE s.split <> b.split")" "existing assignments are unchanged"
expect_eq "$((108 + 126))" "$(sql "SELECT count(*) FROM track_splits")" "new tracks got splits"
expect_eq "0" "$(sql "SELECT count(*) FROM (SELECT t.artist FROM tracks t JOIN track_splits s USING (track_id) GROUP BY t.artist HAVING count(DISTINCT s.split) > 1) x")" \
    "new tracks of old artists joined their artist's split"

# Same seed, same data -> same bytes; --list and --show.
af-train "${fast[@]}" --seed 7 -q >/dev/null 2>&1
af-train "${fast[@]}" --seed 7 --threads 2 -q >/dev/null 2>&1
expect_eq "1" "$(sql "SELECT count(DISTINCT md5(weights)) FROM models WHERE hyperparameters->>'seed' = '7'")" "the same seed gives the same model bytes (1 and 2 threads)"
expect_eq "2" "$(sql "SELECT count(DISTINCT md5(weights)) FROM models WHERE hyperparameters->>'seed' IN ('7', '42') AND (hyperparameters->>'n_tracks')::int = 234")" "another seed gives another model"
run af-train --list
expect_status 0 "--list"
expect_out '^ +4 .*syn +default +3 ' "--list shows the models"
run af-train --show 2
expect_status 0 "--show ID"
expect_out 'hidden_layers' "--show prints hyperparameters"
expect_out 'g3 +[01]\.[0-9]+' "--show prints per-genre scores"
run af-train --show 999
expect_status 1 "--show with an unknown id fails"
expect_err 'no model with id 999' "and says so"

# CSV: export, then training on the file gives the model the database gives: the file
# carries the artists, so the networks draw the same validation artists (member_val_share).
run af-train --feature-set syn --export-csv "$test_tmp/data.csv"
expect_status 0 "--export-csv"
expect_eq "track_id,label,split,artist,f0,f1,f2,f3,f4,f5,f6,f7" "$(head -1 "$test_tmp/data.csv")" "the CSV header"
expect_eq "1170" "$(tail -n +2 "$test_tmp/data.csv" | wc -l)" "one CSV line per window"
expect_eq "$(sql "SELECT artist FROM tracks WHERE track_id = 1")" "$(sed -n 2p "$test_tmp/data.csv" | cut -d, -f4)" \
    "each line names its track's artist"
af-train "${fast[@]}" --seed 8 -q >/dev/null 2>&1
run af-train "${fast[@]}" --seed 8 --csv "$test_tmp/data.csv"
expect_status 0 "--csv trains on the file"
expect_eq "1|2" "$(sql "SELECT count(DISTINCT md5(weights)), count(*) FROM models WHERE hyperparameters->>'seed' = '8'")" "CSV data and database data give the same model bytes"
expect_eq "csv" "$(sql "SELECT hyperparameters->>'data' FROM models ORDER BY model_id DESC LIMIT 1")" "the model records its CSV origin"
# A file without the artist column (older exports): every track is an artist of its own,
# so the draws take tracks and the model differs; with the stored validation split
# (--member-val-share 0) artists play no part and the bytes agree again.
cut -d, -f1-3,5- "$test_tmp/data.csv" >"$test_tmp/no-artist.csv"
run af-train "${fast[@]}" --seed 8 --csv "$test_tmp/no-artist.csv"
expect_status 0 "--csv on a file without the artist column"
expect_eq "2|3" "$(sql "SELECT count(DISTINCT md5(weights)), count(*) FROM models WHERE hyperparameters->>'seed' = '8'")" \
    "its draws take tracks: another model"
af-train "${fast[@]}" --seed 9 --member-val-share 0 -q >/dev/null 2>&1
af-train "${fast[@]}" --seed 9 --member-val-share 0 --csv "$test_tmp/no-artist.csv" -q >/dev/null 2>&1
expect_eq "1|2" "$(sql "SELECT count(DISTINCT md5(weights)), count(*) FROM models WHERE hyperparameters->>'seed' = '9'")" \
    "with --member-val-share 0 it gives the database's model bytes"
# --folds on a CSV file: folds by the file's artists, computed from the file alone (the
# same every time), every artist's tracks in one fold.
run af-train "${fast[@]}" --seed 10 --folds 3 --csv "$test_tmp/data.csv"
expect_status 0 "--folds 3 --csv"
expect_err 'data\.csv: 3 folds by artist, computed from the file' "says where the folds come from"
expect_no 'name no artist' "$err" "and does not warn about artists"
expect_eq "0,1,2" "$(sql "SELECT string_agg(DISTINCT fold::text, ',') FROM evaluations WHERE model_id = (SELECT max(model_id) FROM models)")" \
    "one evaluation per fold"
expect_eq "0" "$(sql "SELECT count(*) FROM (SELECT t.artist FROM predictions p JOIN tracks t USING (track_id)
                       WHERE p.model_id = (SELECT max(model_id) FROM models) AND p.classifier = 'network'
                       GROUP BY t.artist HAVING count(DISTINCT p.fold) > 1) x")" "no artist spans two folds"
expect_eq "$(sql "SELECT count(*) FROM tracks")" "$(sql "SELECT count(*) FROM predictions WHERE classifier = 'network'
                                                         AND model_id = (SELECT max(model_id) FROM models)")" \
    "every track is predicted once, in its fold"
af-train "${fast[@]}" --seed 10 --folds 3 --csv "$test_tmp/data.csv" -q >/dev/null 2>&1
expect_eq "1|2" "$(sql "SELECT count(DISTINCT md5(weights)), count(*) FROM models WHERE hyperparameters->>'seed' = '10'")" \
    "the same file gives the same folds and model bytes"
run af-train "${fast[@]}" --seed 10 --folds 3 --csv "$test_tmp/no-artist.csv"
expect_status 0 "--folds on a file without artists"
expect_err 'no-artist\.csv: 234 of 234 tracks name no artist: each of them is a group of its own' \
    "warns that the folds cannot keep artists apart"

# Key shift (train.key_shift): the warning on a feature set without chroma, and on
# one with chroma01..chroma12 blocks, genres that differ only in key are not learned.
expect_err "key_shift: feature set 'syn' has no chroma01_\* \.\. chroma12_\* blocks" \
    "key shift on features without chroma: a warning"
expect_eq "false" "$(sql "SELECT hyperparameters->>'key_shift' FROM models ORDER BY model_id DESC LIMIT 1")" \
    "...and the model records that it trained without it"
awk 'BEGIN {
    srand(3); printf "track_id,label,split,tempo";
    for (p = 1; p <= 12; p++) printf ",chroma%02d_mean,chroma%02d_std", p, p;
    print ",onset_mean";
    for (t = 1; t <= 240; t++) {
        key = int(rand() * 12); part = t % 5 == 0 ? "test" : t % 5 == 1 ? "val" : "train";
        for (w = 0; w < 5; w++) {
            printf "%d,%s,%s,%.3f", t, key < 6 ? "low" : "high", part, rand();
            for (p = 0; p < 12; p++) printf ",%.3f,%.3f", (p == key) + rand() / 5, (p == key) + rand() / 5;
            printf ",%.3f\n", rand();
        }
    }
}' >"$test_tmp/keys.csv"
keyed=(--csv "$test_tmp/keys.csv" --feature-set keys --hidden 32 --epochs 30 --patience 30 --members 1)
run af-train "${keyed[@]}" --no-key-shift
expect_status 0 "training on genres told apart by the key alone"
expect_out '^track +[0-9]+ +(0\.9|1\.0)' "...learns them without key shift"
run af-train "${keyed[@]}"
expect_status 0 "...and with key shift (the default)"
acc=$(sql "SELECT accuracy FROM evaluations WHERE level = 'track' AND classifier = 'network' ORDER BY model_id DESC LIMIT 1")
if awk -v a="$acc" 'BEGIN { exit !(a < 0.75) }'; then pass "key shift finds the chroma blocks by name and hides the key ($acc, chance 0.5)"
else fail "key shift finds the chroma blocks by name and hides the key" "track accuracy $acc"; fi
expect_eq "true" "$(sql "SELECT hyperparameters->>'key_shift' FROM models ORDER BY model_id DESC LIMIT 1")" \
    "...and the model records it"

# Cross-validation.
run af-train "${fast[@]}" --folds 3
expect_status 0 "--folds 3"
expect_out 'mean \+- sd +track' "mean and spread over folds are printed"
expect_eq "0,1,2" "$(sql "SELECT string_agg(DISTINCT fold::text, ',') FROM evaluations WHERE model_id = (SELECT max(model_id) FROM models)")" "one evaluation per fold"
expect_eq "0,1,2" "$(sql "SELECT string_agg(DISTINCT fold::text, ',') FROM training_epochs WHERE model_id = (SELECT max(model_id) FROM models)")" "training epochs per fold"
expect_eq "0" "$(sql "SELECT count(*) FROM (SELECT t.artist FROM tracks t JOIN track_splits s USING (track_id) WHERE s.split_scheme_id = (SELECT split_scheme_id FROM split_schemes WHERE name = 'default') GROUP BY t.artist HAVING count(DISTINCT s.fold) > 1) x")" \
    "no artist spans two folds"
run af-train "${fast[@]}" --folds 4
expect_status 2 "another number of folds on the same scheme is refused"
run af-train "${fast[@]}" --folds 4 --split-scheme cv4
expect_status 0 "... and works under another scheme name"

# Shuffled labels: chance level.
use_fresh_database train_shuffled
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 20 3 5 8 shuffled
run af-train "${fast[@]}" --folds 3
expect_status 0 "training on shuffled labels"
acc=$(sql "SELECT round(avg(accuracy)::numeric, 2) FROM evaluations WHERE level = 'window'")
if awk -v a="$acc" 'BEGIN { exit !(a < 0.55) }'; then pass "shuffled labels give chance-level accuracy ($acc, chance 0.33)"
else fail "shuffled labels give chance-level accuracy" "accuracy $acc"; fi

# SIGINT: stop after the current epoch, keep the best model so far, marked.
use_fresh_database train_sigint
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
af-train --feature-set syn --hidden 64,64 --epochs 100000 --patience 100000 >"$test_tmp/int.out" 2>"$test_tmp/int.err" &
pid=$!
for _ in $(seq 200); do
    grep -q 'training, .* validation' "$test_tmp/int.err" 2>/dev/null && break
    sleep 0.05
done
sleep 0.5
kill -INT $pid
wait $pid
status=$?
err=$(cat "$test_tmp/int.err")
expect_status 0 "SIGINT ends training with exit 0"
expect_eq "true|interrupted" "$(sql "SELECT m.hyperparameters->>'interrupted', r.status FROM models m JOIN runs r USING (run_id)")" \
    "the best model so far is stored, marked interrupted, and the run too"
