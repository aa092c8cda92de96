#!/usr/bin/env bash
# af-train's models as a user manages them: baselines in every evaluation, per-track
# predictions that match the confusion matrices, --name / --promote / --delete, the
# default model (the first finished one; never an interrupted one, issue 18; changed
# only by --promote), --tune never reading the test fold, --csv on a fresh database,
# networks that early-stop on their own draws of artists outside the test set, two runs
# storing their models at the same moment.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database train_models
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
fast=(--feature-set syn --hidden 16 --epochs 30 --patience 5)

# --- a finished model on a database without a default becomes the default
run af-train "${fast[@]}" --name first
expect_status 0 "af-train --name first"
expect_out '^network +[01]\.[0-9]+ +[01]\.[0-9]+' "the summary compares the network..."
expect_out '^logreg +[01]\.[0-9]+' "...with the logistic regression..."
expect_out '^svm +[01]\.[0-9]+' "...and the RBF SVM"
expect_out 'network (wins|LOSES) by [0-9.]+ points of track accuracy over the best baseline \((logreg|svm)\)' \
    "and says who won and by how much"
expect_eq "first|t|f" "$(sql "SELECT name, is_default, interrupted FROM models")" "the first finished model is named and the default"
expect_eq "logreg,network,svm" "$(sql "SELECT string_agg(DISTINCT classifier, ',' ORDER BY classifier) FROM evaluations")" \
    "evaluations rows for the network and both baselines"
expect_eq "t" "$(sql "SELECT hyperparameters->'comparison'->>'winner' IN ('network', 'logreg', 'svm') AND hyperparameters->'comparison' ? 'margin_track_accuracy' FROM models")" \
    "the model records the winner and the margin"
expect_no 'standard error' "$out" "a single test split has no fold-paired standard error..."
expect_eq "f" "$(sql "SELECT hyperparameters->'comparison' ? 'margin_standard_error' FROM models")" "...and records none"
# separable data: both baselines are right on every test track
expect_eq "2" "$(sql "SELECT count(*) FROM evaluations WHERE level = 'track' AND accuracy = 1 AND classifier <> 'network'")" \
    "the baselines learn separable data"

# --- predictions: one row per evaluated track and classifier, matching the confusion matrix
check_predictions() { # MODEL_ID
    sql "WITH cm AS (
           SELECT e.classifier, m.genres[i] AS t, m.genres[j] AS p, sum(e.confusion_matrix[i][j]) AS n
             FROM evaluations e JOIN models m USING (model_id),
                  generate_subscripts(e.confusion_matrix, 1) i, generate_subscripts(e.confusion_matrix, 2) j
            WHERE e.model_id = $1 AND e.level = 'track' GROUP BY 1, 2, 3),
         pr AS (SELECT classifier, true_genre AS t, predicted_genre AS p, count(*) AS n
                  FROM predictions WHERE model_id = $1 GROUP BY 1, 2, 3)
         SELECT (SELECT sum(n) FROM cm) || '|' || (SELECT count(*) FROM predictions WHERE model_id = $1) || '|' ||
                (SELECT count(*) FROM cm FULL JOIN pr USING (classifier, t, p)
                  WHERE coalesce(cm.n, 0) <> coalesce(pr.n, 0))"
}
res=$(check_predictions 1)
expect_eq "0" "${res##*|}" "prediction rows match the track-level confusion matrices cell by cell ($res)"
expect_no '^0\|' "$res" "and there are some"
expect_eq "t" "$(sql "SELECT bool_and(abs((SELECT sum(x) FROM unnest(p.probabilities) x) - 1) < 1e-3) FROM predictions p")" \
    "each prediction's probabilities sum to 1"
expect_eq "t|t" "$(sql "SELECT bool_and(artist IS NOT NULL AND title IS NOT NULL), bool_and(jsonb_typeof(probabilities) = 'object') FROM prediction_details")" \
    "the view gives artist, title and the probabilities by genre"
expect_eq "t" "$(sql "SELECT count(*) = (SELECT count(*) FROM predictions WHERE model_id = 1 AND predicted_genre <> true_genre)
                      FROM prediction_details WHERE model_id = 1 AND NOT correct")" "the view's 'correct' flags the wrong predictions"

# --- a later experiment does not become the default
run af-train --feature-set syn --hidden 8 --epochs 3 --patience 3 --no-baselines
expect_status 0 "an 8-epoch experiment trains"
expect_err 'default model is unchanged' "and says it is not the default"
expect_eq "1" "$(sql "SELECT model_id FROM models WHERE is_default")" "the default is still model 1"
expect_eq "network" "$(sql "SELECT string_agg(DISTINCT classifier, ',') FROM evaluations WHERE model_id = 2")" \
    "--no-baselines evaluates the network only"

# --- an interrupted run (SIGTERM mid-training) is stored but never the default (issue 18)
use_fresh_database train_models_term
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
af-train --feature-set syn --hidden 64,64 --epochs 100000 --patience 100000 >"$test_tmp/term.out" 2>"$test_tmp/term.err" &
pid=$!
for _ in $(seq 200); do
    grep -q 'training, .* validation' "$test_tmp/term.err" 2>/dev/null && break
    sleep 0.05
done
sleep 0.5
kill -TERM $pid
wait $pid
status=$?
err=$(cat "$test_tmp/term.err")
expect_status 0 "SIGTERM stops training"
expect_err 'interrupted: it is stored for inspection but never becomes the default' "and warns that the model is not the default"
expect_eq "t|f" "$(sql "SELECT interrupted, is_default FROM models")" "the interrupted model is stored, not the default"
run af-train --show default
expect_status 1 "no default model after an interrupted run"
expect_err 'no default model .*interrupted ones never become the default.*--promote' "the error says why and what to do"
run af-train --promote 1
expect_status 1 "promoting an interrupted model is refused"
expect_err 'model 1 was interrupted' "with the reason"
run af-train "${fast[@]}"
expect_eq "2" "$(sql "SELECT model_id FROM models WHERE is_default")" "the next finished model becomes the default"

# --- names, promote, delete
run af-train "${fast[@]}" --name exp --no-baselines
expect_status 0 "a named model"
run af-train "${fast[@]}" --name exp
expect_status 2 "a name already in use is refused before training"
expect_err "model name 'exp' is already model 3's" "naming the model that has it"
for bad in $'two\nlines' $'caf\xe9'; do
    run af-train "${fast[@]}" --name "$bad"
    expect_status 2 "a model name with a control character or not UTF-8 is refused"
    expect_err "must be 1-100 bytes of UTF-8 text without control characters" "saying what a name may hold"
done
run af-train --promote exp
expect_status 0 "--promote by name"
expect_eq "3" "$(sql "SELECT model_id FROM models WHERE is_default")" "model 3 is the default"
run af-train --list
expect_out '^ +3 +exp .*DEFAULT' "--list shows name and default"
run af-train --show default
expect_out '^model +3 \(exp\), the default' "--show default shows it"
run af-train --delete 3
expect_status 0 "--delete"
expect_out 'model 3 was the default: no model is the default now' "deleting the default says so"
expect_eq "0|t|0" "$(sql "SELECT count(*) FILTER (WHERE is_default), bool_or(deleted_at IS NOT NULL), length(weights) FROM models WHERE model_id = 3 GROUP BY model_id")" \
    "the deleted model keeps its record, not its weights"
run af-train --promote 3
expect_status 1 "a deleted model cannot be promoted"
expect_err 'model 3 .*was deleted on' "the error says it was deleted"
run af-report --model 3 -o "$test_tmp/r.html"
expect_status 1 "af-report refuses a deleted model"
run af-train --show exp
expect_status 0 "--show finds a deleted model's record (its scores stay)"
expect_out '^model +3 \(exp\), deleted ' "and says it was deleted"
run af-train --promote exp
expect_err "model 3 \(exp\) was deleted on" "a deleted model's name resolves to a clear refusal"
run af-train "${fast[@]}" --name exp
expect_status 0 "the name of a deleted model can be used again"

# --- the report: comparison and misclassified tracks
run af-report --model 2 -o "$test_tmp/r2.html"
expect_status 0 "af-report"
expect_eq "1|1" "$(grep -c 'Network against the baselines' "$test_tmp/r2.html")|$(grep -c 'Misclassified tracks' "$test_tmp/r2.html")" \
    "the report compares with the baselines and lists misclassified tracks"

# --- cross-validation: how sure the margin is (the fold-paired difference's standard error)
use_fresh_database train_models_margin
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 10 2 4 8 shuffled
run af-train --feature-set syn --folds 4 --epochs 8 --patience 3 --hidden 8
expect_status 0 "af-train --folds 4 with the baselines"
expect_out 'over the best baseline \((logreg|svm)\); standard error of the fold-paired difference [0-9]+\.[0-9] points' \
    "the margin comes with the standard error of the fold-paired difference"
# The same figure from the evaluations rows: per fold, network minus the best baseline.
se_sql=$(sql "WITH a AS (SELECT classifier, avg(accuracy) AS acc FROM evaluations WHERE level = 'track' GROUP BY 1),
                   b AS (SELECT classifier FROM a WHERE classifier <> 'network' ORDER BY acc DESC LIMIT 1),
                   d AS (SELECT n.accuracy - x.accuracy AS diff FROM evaluations n JOIN evaluations x
                           ON x.fold = n.fold AND x.level = 'track' AND x.classifier = (SELECT classifier FROM b)
                         WHERE n.level = 'track' AND n.classifier = 'network')
              SELECT round((stddev_samp(diff) / sqrt(count(*)))::numeric, 4) FROM d")
expect_eq "$se_sql" "$(sql "SELECT round((hyperparameters->'comparison'->>'margin_standard_error')::numeric, 4) FROM models")" \
    "the model records it, equal to sd / sqrt(folds) of the per-fold differences in evaluations"
expect_no '^0(\.0*)?$' "$se_sql" "(shuffled labels: the folds disagree, the error is not 0)"
printed=$(printf '%s' "$out" | sed -n 's/.*fold-paired difference \([0-9.]*\) points.*/\1/p')
run af-train --show 1
expect_out "fold-paired difference $printed points" "--show gives the same standard error ($printed points)"

# --- --tune: the test fold's labels are never read
use_fresh_database train_models_tune
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 10 2 4 8 shuffled
tune=(--feature-set syn --folds 4 --tune --epochs 8 --patience 3 --hidden 8 --no-baselines
      --tune-grid "hidden=4; dropout=0.5 l2=0.01; input_noise=0.5")
run af-train "${tune[@]}"
expect_status 0 "af-train --folds 4 --tune"
expect_out '^mean \+- sd +track' "prints the network's figures"
before=$(sql "SELECT hyperparameters->'tuned'->0 FROM models")
expect_eq "4" "$(sql "SELECT jsonb_array_length(hyperparameters->'tune_grid') FROM models")" "the grid is recorded"
# Poison the labels of fold 0 (rotate every genre): fold 0's tuning must not change.
sql "UPDATE track_labels l SET genre_id = (SELECT genre_id FROM genres WHERE name = 'g' || (1 + (substr(g.name, 2)::int % 3)))
       FROM genres g, track_splits s
      WHERE g.genre_id = l.genre_id AND s.track_id = l.track_id AND s.fold = 0" >/dev/null
run af-train "${tune[@]}"
expect_status 0 "af-train --tune again after poisoning fold 0's labels"
after=$(sql "SELECT hyperparameters->'tuned'->0 FROM models WHERE model_id = 2")
expect_eq "$before" "$after" "fold 0's tuned choice and inner scores are identical"
changed=$(sql "SELECT count(*) FROM predictions p1 JOIN predictions p2 USING (track_id, classifier)
               WHERE p1.model_id = 1 AND p2.model_id = 2 AND p1.fold = 0 AND p1.true_genre <> p2.true_genre")
expect_no '^0$' "$changed" "(the poisoning did change fold 0's labels: $changed tracks)"
run af-train --feature-set syn --tune
expect_status 2 "--tune without --folds is a usage error"

# --- --csv on a fresh database: the feature set is registered from the CSV's header
use_fresh_database train_models_csv_src
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
sql "UPDATE feature_sets SET feature_names = (SELECT array_agg('x' || j ORDER BY j)
                                             FROM generate_series(0, 7) j) WHERE name = 'syn'" >/dev/null
af-train --feature-set syn --export-csv "$test_tmp/syn.csv" 2>/dev/null
expect_eq "track_id,label,split,artist,x0,x1,x2,x3,x4,x5,x6,x7" "$(head -1 "$test_tmp/syn.csv")" \
    "--export-csv heads its columns with the feature set's names"
use_fresh_database train_models_csv
af-db migrate 2>/dev/null
run af-train --csv "$test_tmp/syn.csv" --feature-set mycsv --hidden 16 --epochs 20 --patience 5
expect_status 0 "af-train --csv on a fresh database"
expect_err "feature set 'mycsv' registered from the header of" "registers the feature set from the CSV header"
expect_eq "mycsv|8|x0|x7" "$(sql "SELECT name, array_length(feature_names, 1), feature_names[1], feature_names[8]
                                  FROM feature_sets")" \
    "with the CSV's feature names, which are the exporting database's"
run af-train --csv "$test_tmp/syn.csv" --feature-set mycsv --hidden 16 --epochs 20 --patience 5
expect_status 0 "and uses it the next time"
# Without --feature-set the set is named after the file (csv_<stem>, a valid name).
cp "$test_tmp/syn.csv" "$test_tmp/My Data-2.csv"
run af-train --csv "$test_tmp/My Data-2.csv" --hidden 16 --epochs 20 --patience 5
expect_status 0 "--csv without --feature-set"
expect_err "feature set 'csv_my_data_2' registered" "names the set after the file"
run af-train --csv "$test_tmp/syn.csv" --feature-set My-Set --epochs 1
expect_status 2 "--feature-set with a name the database cannot hold: a usage error"
expect_err "feature set name 'My-Set': must start with a lower-case letter" "naming the rule"
# The columns must be the set's, in order: swapped or renamed columns are refused.
awk -F, 'BEGIN { OFS = "," } { t = $5; $5 = $6; $6 = t; print }' "$test_tmp/syn.csv" >"$test_tmp/swapped.csv"
run af-train --csv "$test_tmp/swapped.csv" --feature-set mycsv --epochs 1
expect_status 2 "a CSV whose columns are swapped"
expect_err "swapped.csv: column 5 is 'x1' where feature set 'mycsv' has 'x0'" "is refused, naming the column"
cut -d, -f1-3,5- "$test_tmp/swapped.csv" >"$test_tmp/swapped-old.csv"
run af-train --csv "$test_tmp/swapped-old.csv" --feature-set mycsv --epochs 1
expect_status 2 "the same in a file without the artist column"
expect_err "swapped-old.csv: column 4 is 'x1'" "counts its columns"
cut -d, -f1-3,5- "$test_tmp/syn.csv" |
    awk -F, 'BEGIN { OFS = "," } NR == 1 { for (k = 4; k <= NF; k++) $k = "f" (k - 4) } { print }' \
    >"$test_tmp/generic.csv"
run af-train --csv "$test_tmp/generic.csv" --feature-set mycsv --hidden 16 --epochs 20 --patience 5
expect_status 0 "a header of f0,f1,... (older exports) is still read"
expect_err "generic.csv: its header names no features" "with a warning that it cannot be checked"

# --- the input transform is fitted on the training rows only: poisoning the test split's
# features (scaled and shifted far outside the training range) leaves the stored model,
# rank-gauss knots included, byte for byte the same.
use_fresh_database train_models_transform
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
rg=(--feature-set syn --hidden 16 --epochs 20 --patience 5 --members 2 --seed 5
    --input-transform rankgauss --no-baselines)
run af-train "${rg[@]}"
expect_status 0 "af-train with the rank-gauss transform"
poisoned=$(sql "UPDATE window_features w SET feature_values =
                       (SELECT array_agg(v * -1000 + 1e6 ORDER BY i) FROM unnest(w.feature_values) WITH ORDINALITY AS u(v, i))
                  FROM track_splits s WHERE s.track_id = w.track_id AND s.split = 'test'
                RETURNING 1" | wc -l)
expect_no '^0$' "$poisoned" "(the test split's windows were poisoned: $poisoned)"
run af-train "${rg[@]}"
expect_status 0 "af-train again on the poisoned test split"
expect_eq "1|2" "$(sql "SELECT count(DISTINCT md5(weights)), count(*) FROM models")" \
    "the same model bytes: nothing of the test split reached the transform or the networks"

# --- each network early-stops on its own draw of the artists outside the test set
# ([train] member_val_share): said, recorded with the model, and the test fold stays out
# of every draw: poisoning fold 0's labels leaves fold 0's predictions as they were, and
# changes the other folds' (whose networks train on fold 0).
use_fresh_database train_models_draws
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 10 2 4 8
draws=(--feature-set syn --folds 4 --hidden 8 --epochs 10 --patience 3 --members 3 --seed 3
       --no-baselines)
run af-train "${draws[@]}"
expect_status 0 "af-train --folds 4 with the default member_val_share"
expect_err 'each network validates on its own 20% of their artists' "says how the networks validate"
expect_no 'no track in the validation split' "$err" "and does not warn about the unused validation split"
expect_eq "0.2|false" "$(sql "SELECT hyperparameters->>'member_val_share', hyperparameters->>'inner_fold_members' FROM models")" \
    "the model records the share"
sql "UPDATE track_labels l SET genre_id = (SELECT genre_id FROM genres WHERE name = 'g' || (1 + (substr(g.name, 2)::int % 3)))
       FROM genres g, track_splits s
      WHERE g.genre_id = l.genre_id AND s.track_id = l.track_id AND s.fold = 0" >/dev/null
run af-train "${draws[@]}"
expect_status 0 "af-train again after poisoning fold 0's labels"
moved() { # FOLD: tracks of FOLD whose network probabilities differ between the two models
    sql "SELECT count(*) FROM predictions p1 JOIN predictions p2 USING (track_id, classifier)
          WHERE p1.model_id = 1 AND p2.model_id = 2 AND p1.fold = $1 AND p1.probabilities <> p2.probabilities"
}
expect_eq "0" "$(moved 0)" "fold 0's networks never saw fold 0: its predictions are the same"
expect_no '^0$' "$(moved 1)" "(fold 1's networks did train on the poisoned labels: $(moved 1) tracks moved)"
run af-train "${draws[@]}" --member-val-share 0
expect_status 0 "--member-val-share 0: all networks early-stop on the validation split"
expect_err 'fold 0 of 4: [0-9]+ training, [0-9]+ validation, [0-9]+ test windows' "said as before"
expect_eq "0" "$(sql "SELECT (hyperparameters->>'member_val_share')::float FROM models WHERE model_id = 3")" "and recorded"
run af-train "${draws[@]}" --member-val-share 1
expect_status 2 "a share of 1 leaves no artist to train on: a usage error"
expect_err 'member-val-share: 1 is out of range \(0 to 0\.9\)' "naming the option and its range"
# Without folds the test split is held out of every draw, and a data set whose tracks
# outside it all share one artist cannot be drawn from: said, naming the option.
run af-train --feature-set syn --hidden 8 --epochs 5 --patience 2 --members 2 --no-baselines
expect_status 0 "af-train on the test split with draws"
expect_err '[0-9]+ training and validation windows \(each network validates on its own 20%' "said"
expect_eq "$(sql "SELECT count(*) FROM window_features w JOIN track_splits s USING (track_id)
                   WHERE s.split <> 'test'")|" \
    "$(sql "SELECT hyperparameters#>>'{split_windows,train_and_val}', hyperparameters#>>'{split_windows,val}'
              FROM models ORDER BY model_id DESC LIMIT 1")" \
    "the model counts its training and validation windows together (no shared validation split)"
sql "UPDATE tracks SET artist = 'one artist'
      WHERE track_id IN (SELECT track_id FROM track_splits WHERE split <> 'test')" >/dev/null
run af-train --feature-set syn --hidden 8 --epochs 5 --patience 2 --members 2 --no-baselines
expect_status 1 "one artist outside the test split: an error"
expect_err "member_val_share .*1 artist\(s\) to draw validation artists from" "that says why"

# --- two af-train runs storing at the same moment both store (no deadlock): a session
# holding the models table in SHARE mode lets both runs finish training and queue for it,
# then steps aside. (Taking the table lock after the INSERT deadlocked them, one run lost.)
use_fresh_database train_models_concurrent
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 10 2 4 8
quick=(--feature-set syn --hidden 4 --epochs 3 --patience 2 --members 1 --no-baselines -q)
af-train "${quick[@]}" --seed 3 >/dev/null 2>&1   # the splits assigned: the runs below only store
psql -XAq <<'SQL' >"$test_tmp/blocker.out" 2>&1 &
BEGIN;
LOCK TABLE models IN SHARE MODE;
DO $$ BEGIN
    FOR i IN 1..600 LOOP
        PERFORM pg_stat_clear_snapshot(); -- else the transaction sees its first reading
        EXIT WHEN (SELECT count(*) FROM pg_stat_activity
                    WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))) >= 2;
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT 'waiting: ' || count(*) FROM pg_stat_activity
 WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid));
COMMIT;
SQL
blocker=$!
for _ in $(seq 100); do   # until the session holds the table
    [ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'models'::regclass AND mode = 'ShareLock' AND granted")" = 1 ] && break
    sleep 0.1
done
af-train "${quick[@]}" --seed 1 >"$test_tmp/a.out" 2>&1 & first=$!
af-train "${quick[@]}" --seed 2 >"$test_tmp/b.out" 2>&1 & second=$!
wait "$first"; status=$?
expect_status 0 "the first of two simultaneous runs stores its model ($(cat "$test_tmp/a.out"))"
wait "$second"; status=$?
expect_status 0 "and so does the second ($(cat "$test_tmp/b.out"))"
wait "$blocker"
expect_eq "waiting: 2" "$(grep -o 'waiting: [0-9]*' "$test_tmp/blocker.out")" "(both had queued for the table)"
expect_eq "3|1" "$(sql "SELECT count(*), count(*) FILTER (WHERE is_default) FROM models")" \
    "their two models stored beside the first, still the only default"
