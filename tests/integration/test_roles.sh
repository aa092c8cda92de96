#!/usr/bin/env bash
# Database roles (sql/060_roles.sql, af-db roles): the owner migrates; every stage runs
# as a worker role that may not create anything (a new feature set's views come from
# the owner's SECURITY DEFINER function); every README example query runs as a reader
# role, including on views made after the grant; README query 5 counts each labelled
# track once however many feature sets exist.
source "$AF_PROJECT/tests/lib.sh"
pipeline="$AF_PROJECT/scripts/af-pipeline"

use_migrated_database roles
tag=$$
worker_group="af_test_wgroup_$tag" reader_group="af_test_rgroup_$tag"
worker="af_test_worker_$tag" reader="af_test_reader_$tag"
drop_roles() {
    for db in "${created_databases[@]}"; do dropdb --if-exists "$db" >/dev/null 2>&1; done
    for r in "$worker" "$reader" "$worker_group" "$reader_group"; do
        psql -XAtq -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
    done
}

run af-db roles --worker "$worker_group" --reader "$reader_group" --add-worker "$worker" --add-reader "$reader"
expect_status 0 "af-db roles creates and grants the roles"
expect_err "$worker is a member of $worker_group" "af-db roles says who is a member of what"
run af-db roles --worker "$worker_group" --reader "$reader_group" --add-worker "$worker" --add-reader "$reader"
expect_status 0 "af-db roles a second time changes nothing and succeeds"
as_worker="user=$worker"
as_reader() { psql -XAtq -v ON_ERROR_STOP=1 -U "$reader" "$@"; }

# ---- the worker: no DDL ------------------------------------------------------------------------
run psql -XAtq -v ON_ERROR_STOP=1 -U "$worker" -c "CREATE TABLE worker_made (i int)"
expect_status 1 "the worker cannot create a table"
run psql -XAtq -v ON_ERROR_STOP=1 -U "$worker" -c "DROP VIEW current_labels"
expect_status 1 "the worker cannot drop a view"
run psql -XAtq -v ON_ERROR_STOP=1 -U "$worker" -c "DELETE FROM schema_migrations"
expect_status 1 "the worker cannot touch the migrations' record"

# ---- every stage as the worker, end to end against the fake APIs --------------------------------
world="$test_tmp/world"
start_demo_fakeapi "$world" 5 6 roles
trap 'kill $fakeapi_pid 2>/dev/null; drop_roles; cleanup_lib' EXIT
{ fakeapi_conf; cat <<CONF; } >"$test_tmp/roles.conf"
[train]
hidden_layers = 16
max_epochs = 5
CONF
run "$pipeline" --train --config "$test_tmp/roles.conf" --db "$as_worker"
expect_status 0 "worker: af-pipeline --train (migrate, ingest, label, fetch, extract, train) exits 0"
expect_err "migrate ok; ingest lastfm ok; label ok; fetch ok; extract ok; train ok" "worker: every stage ok"
expect_no "permission denied" "$err" "worker: no permission is missing"
[ "$(sql "SELECT count(*) FROM track_features")" -gt 0 ] && pass "worker: features were stored" ||
    fail "worker: features were stored"
mkdir -p "$test_tmp/music/jazz"
make_tone "$test_tmp/music/jazz/tone.mp3" 5 440
run af-ingest --config "$test_tmp/roles.conf" --db "$as_worker" dir "$test_tmp/music"
expect_status 0 "worker: af-ingest dir stores a file"
run af-db --db "$as_worker" prune-audio --feature-set nosuchset
expect_status 2 "worker: af-db prune-audio runs (and refuses an unknown set)"
run af-extract --config "$test_tmp/roles.conf" --db "$as_worker" --feature-set w2 --window 2 --hop 2
expect_status 0 "worker: af-extract registers a second feature set (its views made by the owner's function)"
expect_eq "$(sql "SELECT tableowner FROM pg_tables WHERE tablename = 'schema_migrations'")" \
    "$(sql "SELECT viewowner FROM pg_views WHERE viewname = 'features_w2_tracks'")" \
    "worker: the new views belong to the owner"
run af-predict --config "$test_tmp/roles.conf" --db "$as_worker" "$world/unseen/jazz.mp3"
expect_status 0 "worker: af-predict classifies a file"
run af-report --config "$test_tmp/roles.conf" --db "$as_worker" -o "$test_tmp/report.html"
expect_status 0 "worker: af-report writes the report"
run af-db --db "$as_worker" status
expect_status 0 "worker: af-db status"

# ---- the reader: every README example query, also on views made after the grant --------------
awk '/^## For analysts/ {on = 1} on && /^```sql/ {inside = 1; next} inside && /^```/ {exit} inside' \
    "$AF_PROJECT/README.md" >"$test_tmp/readme.sql"
n_queries=$(grep -c ';$' "$test_tmp/readme.sql")
[ "$n_queries" -ge 6 ] && pass "the README has its example queries ($n_queries)" || fail "the README has its example queries" "$n_queries"
q=0
while IFS= read -r -d ';' query; do
    [ -n "$(printf '%s' "$query" | tr -d '[:space:]')" ] || continue
    q=$((q + 1))
    run as_reader -c "$query"
    expect_status 0 "reader: README query statement $q runs"
done <"$test_tmp/readme.sql"
run as_reader -c "SELECT count(*) FROM features_w2_tracks"
expect_status 0 "reader: SELECT on the views of a feature set made after af-db roles"
run as_reader -c "DELETE FROM tracks"
expect_status 1 "reader: cannot change data"

# README query 5 with two feature sets: each labelled track counted once.
query5=$(awk '/^-- 5\./ {on = 1} on && /^SELECT/ {take = 1} take {print} take && /;$/ {exit}' "$test_tmp/readme.sql")
query5=${query5%;}
labelled=$(sql "SELECT count(*) FROM current_labels")
[ "$labelled" -gt 0 ] && pass "there are labelled tracks" || fail "there are labelled tracks"
expect_eq 2 "$(sql "SELECT count(DISTINCT feature_set_id) FROM track_features")" "two feature sets have features"
expect_eq "$labelled" "$(as_reader -c "SELECT sum(labelled) FROM ($query5) q5" 2>&1)" \
    "README query 5 counts each labelled track once with two feature sets"

# ---- \d+ explains the schema: every table, view and analyst column has a comment --------------
analyst="runs tracks track_sources raw_tags taxonomy_versions genres genre_tags track_labels current_labels
audio track_audio fetch_attempts fetch_outcomes feature_sets extraction_jobs window_features
track_features split_schemes track_splits models training_epochs evaluations features_v1_windows
features_v1_tracks features_w2_windows features_w2_tracks"
list=$(printf "'%s'," $analyst)
expect_eq "" "$(sql "SELECT string_agg(c.relname || '.' || a.attname, ' ') FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relname IN (${list%,}) AND col_description(c.oid, a.attnum) IS NULL")" \
    "every column analysts use has a comment"
# Not only the analysts' list: every table, view and column of the schema (sql/086).
expect_eq "" "$(sql "SELECT string_agg(c.relname || '.' || a.attname, ' ' ORDER BY c.relname, a.attnum) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'v', 'm') AND col_description(c.oid, a.attnum) IS NULL")" \
    "every column of every table and view has a comment"
expect_eq "" "$(sql "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    WHERE c.relkind IN ('r', 'v', 'm') AND obj_description(c.oid, 'pg_class') IS NULL")" \
    "every table and view of the schema has a comment"
expect_eq "" "$(sql "SELECT string_agg(c.relname, ' ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL
    AND c.relname IN (${list%,}, 'schema_migrations', 'lastfm_responses', 'ingest_problems', 'fetch_claims')")" \
    "every table and view has a comment"
run as_reader -c '\d+ features_w2_tracks'
expect_out "Value 1 of feature set w2" "reader: \\d+ explains a feature view's columns"

# ---- a quiet nightly run (what cron mails): warnings and errors only, no tables ---------------
run "$pipeline" --train -q --config "$test_tmp/roles.conf" --db "$as_worker"
expect_status 0 "worker: af-pipeline --train -q exits 0"
expect_eq "" "$out$err" "af-pipeline --train -q prints nothing (no evaluation tables either)"
