#!/usr/bin/env bash
# af-train's cap on the baselines' training rows ([train] baseline_max_rows, issue 19
# "A million tracks"): above the cap the baselines are fitted on a uniform sample of
# exactly that many windows and af-train says so; the network still trains on every
# window, and the baselines are still evaluated and stored; within the cap (or with 0)
# nothing is sampled and nothing is said.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database train_baseline_cap
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
fast=(--feature-set syn --hidden 8 --epochs 3 --patience 3)
conf() { printf '[train]\nbaseline_max_rows = %s\n' "$1" >"$test_tmp/cap.conf"; }

conf 60
run af-train --config "$test_tmp/cap.conf" "${fast[@]}" --name capped
expect_status 0 "af-train with baseline_max_rows = 60"
expect_err 'baselines: fitted on a uniform sample of 60 of the [0-9]+ training and validation windows \(\[train\] baseline_max_rows\)' \
    "the baselines are fitted on a sample of 60 windows, and af-train says so"
fit=$(sed -nE 's/.*sample of 60 of the ([0-9]+) training.*/\1/p' "$test_tmp/err" | head -n 1)
expect_eq "$(sql "SELECT count(*) FROM window_features w JOIN track_splits s USING (track_id) WHERE s.split IN ('train', 'val')")" \
    "$fit" "the sample is drawn from every training and validation window"
expect_eq "logreg,network,svm" "$(sql "SELECT string_agg(DISTINCT classifier, ',' ORDER BY classifier) FROM evaluations e JOIN models m USING (model_id) WHERE m.name = 'capped'")" \
    "the capped baselines are still evaluated and stored"

for cap in 0 100000; do
    conf "$cap"
    run af-train --config "$test_tmp/cap.conf" "${fast[@]}" --name "all$cap"
    expect_status 0 "af-train with baseline_max_rows = $cap"
    expect_no 'uniform sample' "$err" "baseline_max_rows = $cap: all the windows, nothing said"
done
