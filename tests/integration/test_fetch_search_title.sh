#!/usr/bin/env bash
# test_fetch_search_title.sh — af-fetch searches providers with a cleaned title (issue 17:
# 17 % of MSD titles carry "(LP Version)", "(Album Version)", "[Live]", "- Remastered",
# and "_" for a comma) and scores the match against it; the stored title is kept.
# Against the fake Deezer (tests/fakeapi/deezer.py), whose search, like the real one,
# finds nothing for a title with a version suffix the catalogue does not have.
. "$AF_PROJECT/tests/lib.sh"

world=$test_tmp/world
python3 "$AF_PROJECT/tests/integration/fetch_world.py" "$world" --extra 3 --only-extra --small >/dev/null ||
    { echo "not ok - generate the test world"; exit 1; }
# The catalogue's title of track 103 has a comma where the MSD writes "_".
python3 - "$world/world.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
for t in w["tracks"]:
    if t["id"] == 103:
        t["title"] = "Extra Song 2, Part Two"
json.dump(w, open(sys.argv[1], "w"))
PY
start_fakeapi "$world/world.json"
cat >"$test_tmp/fetch.conf" <<CONF
[deezer]
api_url = $fakeapi_url/deezer
requests_per_second = 0
[fetch]
providers = deezer
retry_base_seconds = 0.05
retry_max_seconds = 0.2
CONF
use_migrated_database fetch_search_title
psql -Xq -v ON_ERROR_STOP=1 -f "$world/seed.sql" >/dev/null
sql "UPDATE tracks SET title = 'Extra Song 0 (Album Version)' WHERE track_id = 101;
     UPDATE tracks SET title = 'Extra Song 1 [Live] - Remastered 2009' WHERE track_id = 102;
     UPDATE tracks SET title = 'Extra Song 2_ Part Two (LP Version)' WHERE track_id = 103" >/dev/null
run af-fetch --config "$test_tmp/fetch.conf"
expect_status 0 "af-fetch with version suffixes in the stored titles"
expect_eq "101:stored|102:stored|103:stored" \
    "$(sql "SELECT string_agg(track_id || ':' || outcome, '|' ORDER BY track_id) FROM fetch_outcomes WHERE provider = 'deezer'")" \
    "each track is found by its cleaned title and stored"
queries=$(curl -sf "$fakeapi_url/_control/requests" | python3 -c '
import json, sys
print("\n".join(r["query"].get("q", "") for r in json.load(sys.stdin) if r["path"] == "/deezer/search"))')
expect_no "Version|Live|Remastered|_" "$queries" "no search carries a version suffix or an underscore"
if grep -q 'track:"Extra Song 2, Part Two"' <<<"$queries"; then pass "\"_\" is searched as \",\""
else fail "\"_\" is searched as \",\"" "queries: $queries"; fi
expect_eq "Extra Song 0 (Album Version)|Extra Song 2_ Part Two (LP Version)" \
    "$(sql "SELECT string_agg(title, '|' ORDER BY track_id) FROM tracks WHERE track_id IN (101, 103)")" \
    "the stored titles are kept"
expect_eq 3 "$(sql "SELECT count(*) FROM fetch_outcomes WHERE provider = 'deezer' AND match_score > 0.99")" \
    "the match is scored against the cleaned title (a perfect match)"
