#!/usr/bin/env bash
# af-report's added sections: the dataset (tracks per genre and split, label sources
# with the corrections counted), the 2-D PCA map of the track embeddings coloured by
# label (one point per track, a legend), the hyperparameters as a table.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database report_use
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 8 2 4 8
sql "UPDATE track_labels SET sources = '{msd_lastfm}';
     UPDATE track_labels SET sources = '{correction}' WHERE track_id IN (1, 2)" >/dev/null
run af-train --feature-set syn --hidden 32,16 --epochs 100 --patience 15
expect_status 0 "af-train"
run af-report -o "$test_tmp/r.html"
expect_status 0 "af-report"
html=$(cat "$test_tmp/r.html")
expect_eq "t" "$(printf '%s' "$html" | grep -q '<h2>Dataset</h2>' && echo t)" "a dataset section"
best=$(sql "SELECT epoch FROM training_epochs WHERE val_loss = (SELECT min(val_loss) FROM training_epochs) ORDER BY epoch LIMIT 1")
expect_eq "t" "$(printf '%s' "$html" | grep -q "class=\"best-epoch\".*best epoch $best (validation loss" && echo t)" \
    "the log-scale loss chart marks the best epoch ($best)"
expect_eq "2" "$(printf '%s' "$html" | sed -n '/aria-label="log loss"/,/<\/svg>/p' | grep -c '<path class="log-loss"')" \
    "training and validation loss are drawn"
splits=$(sql "SELECT string_agg(n::text, ',' ORDER BY split) FROM (SELECT s.split, count(*) AS n FROM track_splits s JOIN track_labels l USING (track_id) JOIN genres g USING (genre_id) WHERE g.name = 'g1' GROUP BY s.split) x")
expect_eq "t" "$(printf '%s' "$html" | python3 -c '
import re, sys
html = sys.stdin.read()
row = re.search(r"<tr><td>g1</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", html)
want = sorted(int(v) for v in sys.argv[1].split(","))
print("t" if row and int(row.group(4)) == 16 and sorted(int(row.group(i)) for i in (1, 2, 3)) == want else "f")' "$splits")" \
    "the dataset table has g1's tracks per split (as in track_splits) and in all"
expect_eq "t" "$(printf '%s' "$html" | grep -q '<tr><td>correction</td><td>2</td><td>2</td></tr>' && echo t)" \
    "the label sources count the corrections"
expect_eq "48" "$(printf '%s' "$html" | sed -n '/aria-label="PCA map"/,/<\/svg>/p' | grep -c 'r="3"')" \
    "the PCA map has one point per track"
expect_eq "t" "$(printf '%s' "$html" | sed -n '/aria-label="PCA map"/,/<\/svg>/p' | grep -q '>g3</text>' && echo t)" \
    "the map has a legend of the genres"
expect_eq "t" "$(printf '%s' "$html" | grep -q '<tr><td>seed</td><td>42</td></tr>' && echo t)" \
    "the hyperparameters are a table"
expect_eq "t" "$(printf '%s' "$html" | grep -q '<h2>Hyperparameters</h2>' && echo t)" "the JSON is still there"

