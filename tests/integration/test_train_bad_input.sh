#!/usr/bin/env bash
# af-train on bad input: clear error, non-zero exit, nothing written (no model, no
# evaluation, and no split assignment either).
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
fast=(--feature-set syn --hidden 16 --epochs 5)
nothing_written() { # NAME
    expect_eq "0|0|0|0" "$(sql "SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM evaluations), (SELECT count(*) FROM training_epochs), (SELECT count(*) FROM track_splits)")" "$1: nothing written"
}

use_fresh_database train_empty
af-db migrate 2>/dev/null
synthetic_set syn 8
run af-train "${fast[@]}"
expect_status 1 "no labels at all fails"
expect_err 'empty training set' "with 'empty training set'"
synthetic_tracks 1 3 6 2 3 8
sql "DELETE FROM window_features" >/dev/null
run af-train "${fast[@]}"
expect_status 1 "labelled tracks without windows fail"
expect_err "empty training set: no labelled, selected track has windows of feature set 'syn'" "and the message says what is missing"
nothing_written "empty training set"
run af-train --feature-set nosuchset
expect_status 2 "an unknown feature set is a usage error"
expect_err "no feature set 'nosuchset'" "naming it"

use_fresh_database train_nan
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 2 3 8
sql "UPDATE window_features SET feature_values[3] = 'NaN' WHERE track_id = 17 AND window_index = 1" >/dev/null
run af-train "${fast[@]}"
expect_status 1 "a NaN feature fails"
expect_err 'track 17 window 1: feature 2 \(f2\) is NaN' "naming the track, window and feature"
nothing_written "NaN"
sql "UPDATE window_features SET feature_values[3] = 'Infinity' WHERE track_id = 17 AND window_index = 1" >/dev/null
run af-train "${fast[@]}"
expect_status 1 "an infinite feature fails"
expect_err 'track 17 window 1: feature 2 \(f2\) is infinite' "naming the track"
sql "UPDATE window_features SET feature_values = feature_values[1:7] WHERE track_id = 17 AND window_index = 1" >/dev/null
run af-train "${fast[@]}"
expect_status 1 "a vector of the wrong length fails"
expect_err 'track 17 window 1: 7 feature values, the feature set has 8 \(mismatched dimensions\)' "saying mismatched dimensions"
nothing_written "wrong length"

# A genre whose every track is in the test split (assignments are stored, so set them).
use_fresh_database train_genre
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 2 3 8
sql "INSERT INTO split_schemes (name, parameters) VALUES ('default', '{\"train\": 0.7, \"val\": 0.15, \"test\": 0.15, \"salt\": \"4703538465177424945\"}');
     INSERT INTO track_splits (split_scheme_id, track_id, split) SELECT 1, l.track_id, 'test' FROM track_labels l JOIN genres g USING (genre_id) WHERE g.name = 'g2'" >/dev/null
run af-train "${fast[@]}"
expect_status 1 "a genre without training tracks fails"
expect_err "genre 'g2' has no track in the training split" "naming the genre and the split"
expect_eq "0|0|24" "$(sql "SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM evaluations), (SELECT count(*) FROM track_splits)")" "nothing written (no model, no new assignment)"

# CSV input.
printf 'track_id,label,split,f0,f1\n1,a,train,1,2\n1,a,train,1\n' >"$test_tmp/short.csv"
run af-train "${fast[@]}" --csv "$test_tmp/short.csv"
expect_status 1 "a CSV row of the wrong width fails"
expect_err 'short.csv line 3: 1 features, the header has 2 \(mismatched dimensions\)' "naming the line"
printf 'track_id,label,split,f0,f1\n1,a,train,1,2\n2,b,train,1,2\n' >"$test_tmp/narrow.csv"
run af-train "${fast[@]}" --csv "$test_tmp/narrow.csv"
expect_status 1 "a CSV of another width than the feature set fails"
expect_err 'has 2 features per row, feature set .syn. has 8' "saying so"
printf 'track_id,label,split,f0\n5,a,train,nan\n' >"$test_tmp/nan.csv"
run af-train --feature-set syn --csv "$test_tmp/nan.csv"
expect_status 1 "a NaN in a CSV fails"
expect_err 'nan.csv line 2: track 5 window 0: feature 0 is NaN' "naming line and track"
expect_eq "0" "$(sql "SELECT count(*) FROM models")" "no model from bad CSV files"

run af-train --show 12345
expect_status 1 "an unknown model id fails"
expect_err 'no model with id 12345' "naming the id"
run af-train --show abc
expect_status 1 "an unknown model name fails (models can be named)"
expect_err "no model named 'abc'" "naming the name"
run af-train --show ''
expect_status 2 "an empty model is a usage error"
run af-train --hidden 12,x
expect_status 2 "bad --hidden is a usage error"
