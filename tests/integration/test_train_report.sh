#!/usr/bin/env bash
# af-report: one self-contained HTML file, rendered by a real headless browser (Debian's
# chromium): the DOM holds the SVG curves, the heatmap and the genre names; a screenshot
# is written.  Skipped (with a failing check) when chromium is not installed.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/train_data.sh"
use_fresh_database train_report
af-db migrate 2>/dev/null
synthetic_set syn 8
synthetic_tracks 1 3 12 3 5 8
af-train --feature-set syn --hidden 32,16 --epochs 25 -q >/dev/null 2>&1
af-train --feature-set syn --hidden 32,16 --epochs 10 --folds 3 -q >/dev/null 2>&1

run af-report --model 1 -o "$test_tmp/report.html"
expect_status 0 "af-report writes a report"
html=$(cat "$test_tmp/report.html")
expect_no '(src|href)=|<script|<link|@import|url\(' "$html" "the report loads nothing from elsewhere"
expect_eq "4" "$(grep -o '<polyline' "$test_tmp/report.html" | wc -l)" "train and validation curves of loss and accuracy"
run af-report --model latest -o "$test_tmp/cv.html"
expect_status 0 "af-report on a cross-validated model"
expect_eq "12" "$(grep -o '<polyline' "$test_tmp/cv.html" | wc -l)" "curves for each of the 3 folds"
(cd "$test_tmp" && af-report --model 1 -q)
[ -s "$test_tmp/model-1.html" ] && pass "without -o the report is model-ID.html" || fail "without -o the report is model-ID.html"
run af-report --model 77 -o "$test_tmp/none.html"
expect_status 1 "an unknown model id fails"
expect_err 'no model with id 77' "naming it"
[ ! -e "$test_tmp/none.html" ] && pass "and writes no file" || fail "and writes no file"

if ! command -v chromium >/dev/null; then
    fail "chromium is installed (apt-get install chromium)"
    exit 0
fi
browse() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$test_tmp/chromium" \
        "$@" 2>"$test_tmp/chromium.log"
}
dom=$(browse --dump-dom "file://$test_tmp/report.html")
expect_eq "4" "$(printf '%s' "$dom" | grep -o '<polyline' | wc -l)" "chromium renders the 4 curve polylines"
expect_eq "18" "$(printf "%s" "$dom" | grep -o "<rect class=\"cell\"" | wc -l)" "and a 3 x 3 heatmap per level (windows, tracks)"
for g in g1 g2 g3; do
    printf '%s' "$dom" | grep -q "<td>$g</td>" && pass "the rendered per-class table lists $g" || fail "the rendered per-class table lists $g"
done
printf '%s' "$dom" | grep -q 'Genre classifier — model 1' && pass "the title is rendered" || fail "the title is rendered"
browse --window-size=1100,1800 --screenshot="$test_tmp/report.png" "file://$test_tmp/report.html" >/dev/null
size=$(stat -c %s "$test_tmp/report.png" 2>/dev/null || echo 0)
[ "$size" -gt 20000 ] && pass "chromium takes a screenshot ($size bytes)" || fail "chromium takes a screenshot" "size $size"
[ "$(head -c 8 "$test_tmp/report.png" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ] && pass "the screenshot is a PNG" || fail "the screenshot is a PNG"
[ -n "${AF_KEEP_REPORT:-}" ] && cp "$test_tmp/report.png" "$test_tmp/cv.html" "$AF_KEEP_REPORT"/
exit 0
