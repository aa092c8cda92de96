#!/usr/bin/env bash
# Many hosts, for real: a PostgreSQL server on TCP with TLS (sslmode=verify-full against
# a test CA) and SCRAM passwords in one network namespace; two worker "hosts" in two
# others (veth pairs, addresses only inside those namespaces), each with its own fake
# APIs on its loopback, running af-fetch and af-extract as the worker role.  One host's
# link is cut while it holds a batch of extraction leases, inside the transaction that
# stores that batch (row locks held on a half-open connection): the server ends the dead
# host's session after [database] dead_peer_seconds, the other host takes the leases
# over, and every track ends with its features exactly once; the same for af-fetch's
# claims.  Every wait is bounded (timeout), so a regression fails instead of hanging.
# Needs root (ip netns); run with build/bin only (the network part is the same code).
source "$AF_PROJECT/tests/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "# test_many_hosts: needs root (ip netns)"; exit 0; fi
case "$AF_BIN" in */build-asan/bin) echo "# test_many_hosts: checked with build/bin"; exit 0 ;; esac
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/initdb" ] || { echo "not ok - PostgreSQL 15 server binaries"; exit 1; }

tag=$(($$ % 100000))
ns_db="afdb$tag" ns_w1="afwa$tag" ns_w2="afwb$tag"
net=10.$((100 + $$ % 100))
db_ip1="$net.1.1" w1_ip="$net.1.2" db_ip2="$net.2.1" w2_ip="$net.2.2"
err=""
pgdir=$(mktemp -d /tmp/af-hosts.XXXXXX) # the server's files, owned by audiofiler
pids=()
cleanup_hosts() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$pgdir/data/postmaster.pid" ] && runuser -u audiofiler -- "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1
    for ns in "$ns_db" "$ns_w1" "$ns_w2"; do ip netns delete "$ns" 2>/dev/null; done
    rm -rf "$pgdir"
    cleanup_lib
    return 0
}
trap cleanup_hosts EXIT
id audiofiler >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin audiofiler

# ---- the network: db <-> w1 and db <-> w2 -------------------------------------------------------
for ns in "$ns_db" "$ns_w1" "$ns_w2"; do ip netns add "$ns" && ip -n "$ns" link set lo up; done
ip link add "d1$tag" netns "$ns_db" type veth peer name "w1$tag" netns "$ns_w1"
ip link add "d2$tag" netns "$ns_db" type veth peer name "w2$tag" netns "$ns_w2"
ip -n "$ns_db" addr add "$db_ip1/24" dev "d1$tag" && ip -n "$ns_db" link set "d1$tag" up
ip -n "$ns_db" addr add "$db_ip2/24" dev "d2$tag" && ip -n "$ns_db" link set "d2$tag" up
ip -n "$ns_w1" addr add "$w1_ip/24" dev "w1$tag" && ip -n "$ns_w1" link set "w1$tag" up
ip -n "$ns_w2" addr add "$w2_ip/24" dev "w2$tag" && ip -n "$ns_w2" link set "w2$tag" up

# ---- a test CA and the server's certificate (both its addresses as subjectAltName) -------------
tls="$pgdir/tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.crt" -days 2 \
    -subj "/CN=AudioFiler test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$tls/server.key" -out "$tls/server.csr" \
    -subj "/CN=db.audiofiler.test" 2>/dev/null
printf 'subjectAltName=DNS:db.audiofiler.test,IP:%s,IP:%s\n' "$db_ip1" "$db_ip2" >"$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
    -out "$tls/server.crt" -days 2 -extfile "$tls/ext" 2>/dev/null
chmod 755 "$pgdir" && chown -R audiofiler: "$pgdir" && chmod 600 "$tls/server.key" "$tls/ca.key"
cp "$tls/ca.crt" "$test_tmp/ca.crt"

# ---- the server: TCP on the two links only, TLS, SCRAM --------------------------------------------
runuser -u audiofiler -- "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth-local=trust \
    --auth-host=reject -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 ||
    { echo "not ok - initdb"; cat "$pgdir/initdb.log"; exit 1; }
cat >>"$pgdir/data/postgresql.conf" <<CONF
listen_addresses = '$db_ip1,$db_ip2'
unix_socket_directories = '$pgdir'
ssl = on
ssl_cert_file = '$tls/server.crt'
ssl_key_file = '$tls/server.key'
password_encryption = 'scram-sha-256'
CONF
printf 'local all all trust\nhostssl all all %s.0.0/16 scram-sha-256\n' "$net" >"$pgdir/data/pg_hba.conf"
run ip netns exec "$ns_db" runuser -u audiofiler -- "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w start
expect_status 0 "server: PostgreSQL starts in the database host's namespace"
tcp_open() { ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/5432" 2>/dev/null; }
tcp_open "$ns_w1" "$db_ip1" && pass "network: host 1 reaches the server's port" ||
    fail "network: host 1 reaches the server's port"
tcp_open "$ns_w1" "$db_ip2" && fail "network: host 1 is not on host 2's link" ||
    pass "network: host 1 is not on host 2's link"
tcp_open "$ns_w2" "$db_ip2" && pass "network: host 2 reaches the server's port" ||
    fail "network: host 2 reaches the server's port"
admin="host=$pgdir user=postgres dbname=audiofiler" # the Unix socket: filesystem, not network
createdb -h "$pgdir" -U postgres audiofiler
run af-db --db "$admin" migrate
expect_status 0 "server: af-db migrate as the owner"
run af-db --db "$admin" roles --add-worker hostworker
expect_status 0 "server: af-db roles makes hostworker a worker"
export PGPASSWORD="w0rker-S3CRET-$tag"
psql -XAtq -h "$pgdir" -U postgres -d audiofiler -c "ALTER ROLE hostworker PASSWORD '$PGPASSWORD'"
expect_eq 1 "$(psql -XAt -h "$pgdir" -U postgres -d audiofiler -c "SELECT count(*) FROM pg_authid WHERE rolname = 'hostworker' AND rolpassword LIKE 'SCRAM-SHA-256\$%'")" \
    "server: the worker's password is stored as a SCRAM verifier"

conn() { # conn HOST_NUMBER [extra]: the worker's connection string from that host
    local ip=$db_ip1
    [ "$1" = 2 ] && ip=$db_ip2
    echo "host=$ip dbname=audiofiler user=hostworker sslmode=verify-full sslrootcert=$test_tmp/ca.crt connect_timeout=5 tcp_user_timeout=4000 keepalives_idle=2 keepalives_interval=1 keepalives_count=2 ${2:-}"
}
on_host() { local ns=$ns_w1; [ "$1" = 2 ] && ns=$ns_w2; shift; ip netns exec "$ns" env -u PGHOST -u PGUSER -u PGDATABASE "$@"; }

# ---- what a worker host can and cannot do -------------------------------------------------------
run on_host 1 af-db --db "$(conn 1)" status
expect_status 0 "host 1: verify-full TLS with the test CA and SCRAM: af-db status works"
expect_eq "t" "$(on_host 1 psql -XAt "$(conn 1)" -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" \
    "host 1: the session is encrypted"
run on_host 1 af-db --db "host=$db_ip1 dbname=audiofiler user=hostworker sslmode=disable connect_timeout=5" status
expect_status 3 "host 1: a connection without TLS is refused"
run on_host 1 af-db --db "host=db.wrong.test hostaddr=$db_ip1 dbname=audiofiler user=hostworker sslmode=verify-full sslrootcert=$test_tmp/ca.crt connect_timeout=5" status
expect_status 3 "host 1: verify-full refuses a server name the certificate does not carry"
run on_host 1 env PGPASSWORD=wrong af-db --db "$(conn 1)" status
expect_status 3 "host 1: a wrong password is refused (exit 3)"
expect_no "wrong|$PGPASSWORD" "$err" "host 1: no password in the message"

# ---- the work: tracks from the fake Last.fm (database host side), labelled ----------------------
world="$test_tmp/world"
start_demo_fakeapi "$world" 6 8 hosts
trap 'kill $fakeapi_pid 2>/dev/null; cleanup_hosts' EXIT
dead_peer=6 # the server ends a silent worker's session after this long
host_conf() { # host_conf FILE URL [REQUESTS_PER_SECOND]
    { printf '[database]\ndead_peer_seconds = %s\n' "$dead_peer"; fakeapi_conf "$2" "${3:-0}"; cat <<CONF; } >"$1"
[fetch]
lease_seconds = 10
[extract]
lease_seconds = 4
CONF
}
host_conf "$test_tmp/admin.conf" "$fakeapi_url"
af-ingest --config "$test_tmp/admin.conf" --db "$admin" -q lastfm >/dev/null &&
    af-ingest --config "$test_tmp/admin.conf" --db "$admin" -q label >/dev/null ||
    { echo "not ok - ingest and label"; exit 1; }
labelled=$(psql -XAt -h "$pgdir" -U postgres -d audiofiler -c "SELECT count(*) FROM current_labels")
[ "$labelled" -gt 4 ] && pass "tracks ingested and labelled ($labelled)" || fail "tracks ingested and labelled"
q() { psql -XAt -h "$pgdir" -U postgres -d audiofiler -c "$1"; }

# Each worker host has its own fake APIs on its own loopback.
for h in 1 2; do
    on_host "$h" python3 "$AF_PROJECT/tests/fakeapi/server.py" --world "$world/world.json" --port 0 \
        --port-file "$test_tmp/api$h.port" >"$test_tmp/api$h.log" 2>&1 &
    pids+=($!)
done
for _ in $(seq 100); do [ -s "$test_tmp/api1.port" ] && [ -s "$test_tmp/api2.port" ] && break; sleep 0.05; done
host_conf "$test_tmp/host1.conf" "http://127.0.0.1:$(cat "$test_tmp/api1.port")"
host_conf "$test_tmp/host2.conf" "http://127.0.0.1:$(cat "$test_tmp/api2.port")"

# ---- fetch: host 1 (slow providers) is cut off mid-batch; host 2 takes its claims over -------
host_conf "$test_tmp/host1-slow.conf" "http://127.0.0.1:$(cat "$test_tmp/api1.port")" 3
expected=$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1])); print(sum(1 for t in w["tracks"] if "audio" in t or "audio_m4a" in t))' "$world/world.json")
on_host 1 af-fetch --config "$test_tmp/host1-slow.conf" --db "$(conn 1)" >"$test_tmp/f1.log" 2>&1 &
f1=$!
pids+=("$f1")
for _ in $(seq 600); do # until host 1 saved a preview and still holds claims
    [ "$(q "SELECT (SELECT count(*) FROM track_audio) > 0 AND (SELECT count(*) FROM fetch_claims) > 0")" = t ] && break
    sleep 0.05
done
ip -n "$ns_w1" link set "w1$tag" down # the cable is pulled
claimed=$(q "SELECT string_agg(track_id::text, ',' ORDER BY track_id) FROM fetch_claims")
saved_by_1=$(q "SELECT count(*) FROM track_audio")
[ -n "$claimed" ] && [ "$saved_by_1" -gt 0 ] &&
    pass "fetch: host 1 cut off after saving $saved_by_1 preview(s), holding claims on tracks $claimed" ||
    fail "fetch: host 1 cut off mid-batch" "claimed '$claimed', saved $saved_by_1"
sleep 11 # host 1's claims (10 s) expire
run on_host 2 timeout -k 5 120 af-fetch --config "$test_tmp/host2.conf" --db "$(conn 2)" -q
expect_status 0 "fetch: af-fetch on host 2 exits 0"
kill "$f1" 2>/dev/null
ip -n "$ns_w1" link set "w1$tag" up # host 1 is back for the extraction
fetch1=$(q "SELECT min(run_id) FROM runs WHERE program = 'af-fetch'")
fetch2=$(q "SELECT max(run_id) FROM runs WHERE program = 'af-fetch'")
with_audio=$(q "SELECT count(*) FROM track_audio")
expect_eq "$expected" "$with_audio" "fetch: every track with a preview somewhere has its audio"
expect_eq 0 "$(q "SELECT count(*) FROM fetch_claims")" "fetch: no claim is left"
expect_eq "$(echo "$claimed" | tr ',' '\n' | grep -c .)" \
    "$(q "SELECT count(DISTINCT track_id) FROM fetch_attempts WHERE run_id = $fetch2 AND track_id IN ($claimed)")" \
    "fetch: host 2 took over every track host 1 held"
expect_eq 0 "$(q "SELECT count(*) FROM fetch_attempts a JOIN track_audio ta USING (track_id) WHERE ta.run_id = $fetch1 AND a.run_id = $fetch2")" \
    "fetch: what host 1 saved before the cut was not fetched again"
expect_eq 0 "$(q "SELECT count(*) FROM (SELECT track_id, provider FROM fetch_attempts WHERE outcome = 'stored' GROUP BY 1, 2 HAVING count(*) > 1) d")" \
    "fetch: no preview stored twice"
run on_host 2 timeout -k 5 120 af-fetch --config "$test_tmp/host2.conf" --db "$(conn 2)" -q
expect_eq "0" "$(q "SELECT count(*) FROM fetch_attempts WHERE run_id > $fetch2")" "fetch: a second run finds nothing left to fetch"

# ---- extraction: host 1's link is cut while it holds leases ---------------------------------------
# To cut it inside its store transaction every time (not only when the timing happens to
# fall there), a lock the test holds on track_features stops host 1's next store after it
# has marked its batch's jobs done (their rows locked) and before its features go in.
on_host 1 af-extract --config "$test_tmp/host1.conf" --db "$(conn 1)" --jobs 1 --batch 3 >"$test_tmp/x1.log" 2>&1 &
x1=$!
pids+=("$x1")
held=""
for _ in $(seq 600); do # until host 1 has committed a batch and holds the next one
    held=$(q "SELECT string_agg(track_id::text, ',' ORDER BY track_id) FROM extraction_jobs WHERE status = 'running'
              AND (SELECT count(*) FROM extraction_jobs WHERE status = 'done') > 0")
    [ -n "$held" ] && break
    sleep 0.05
done
printf "SET application_name = 'af_test_hold';\nBEGIN;\nLOCK TABLE track_features IN SHARE MODE;\nSELECT pg_sleep(300);\n" |
    timeout 310 psql -XAtq -h "$pgdir" -U postgres -d audiofiler >/dev/null 2>&1 &
pids+=($!)
waiting=""
for _ in $(seq 600); do # until host 1's session waits on that lock, its jobs' rows locked
    waiting=$(q "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hostworker' AND wait_event_type = 'Lock'
                 AND client_addr = '$w1_ip'")
    [ "$waiting" = 1 ] && break
    sleep 0.05
done
ip -n "$ns_w1" link set "w1$tag" down # the cable is pulled
cut_at=$(date +%s)
[ "$waiting" = 1 ] && pass "extract: host 1 cut off inside its store transaction" ||
    fail "extract: host 1 cut off inside its store transaction" "no session of host 1 waits on the lock"
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'af_test_hold'" >/dev/null
# Its server session goes on (the DELETE it waited for completes) and then sits idle in a
# transaction that holds the jobs' row locks, its answer lost on the dead link.
idle_in_xact() { q "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hostworker' AND client_addr = '$w1_ip' AND state = 'idle in transaction'"; }
for _ in $(seq 100); do [ "$(idle_in_xact)" = 1 ] && break; sleep 0.05; done
expect_eq 1 "$(idle_in_xact)" \
    "extract: host 1's half-open session holds its transaction (row locks) after the cut"
# What host 1 holds now that it can commit nothing more.
held=$(q "SELECT string_agg(track_id::text, ',' ORDER BY track_id) FROM extraction_jobs WHERE status = 'running'")
[ -n "$held" ] && pass "extract: host 1 cut off while holding leases on tracks $held" ||
    fail "extract: host 1 held leases when cut off"
done_by_1=$(q "SELECT count(*) FROM extraction_jobs WHERE status = 'done'")
sleep 5 # host 1's leases (4 s) expire
run on_host 2 timeout -k 5 120 af-extract --config "$test_tmp/host2.conf" --db "$(conn 2)" --jobs 2
expect_status 0 "extract: af-extract on host 2 exits 0 (not stuck on host 1's row locks)"
took=$(($(date +%s) - cut_at))
[ "$took" -le $((dead_peer + 30)) ] && pass "extract: host 1's work was done by host 2 $took s after the cut (dead peer after ${dead_peer} s, leases 4 s)" ||
    fail "extract: host 1's work was done by host 2 within $((dead_peer + 30)) s of the cut" "took $took s"
host1_sessions() { q "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hostworker' AND client_addr = '$w1_ip'"; }
for _ in $(seq 300); do [ "$(host1_sessions)" = 0 ] && break; sleep 0.1; done # its heartbeat's too
expect_eq 0 "$(host1_sessions)" "extract: the server ended host 1's dead sessions"
expect_eq "$with_audio|$with_audio|0" \
    "$(q "SELECT count(*), count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status <> 'done') FROM extraction_jobs")" \
    "extract: every track with audio is done, none left running or failed"
expect_eq "$with_audio|$with_audio" "$(q "SELECT count(*), count(DISTINCT track_id) FROM track_features")" \
    "extract: each track's features stored exactly once"
run1=$(q "SELECT min(run_id) FROM runs WHERE program = 'af-extract'") # host 1's run
run2=$(q "SELECT max(run_id) FROM runs WHERE program = 'af-extract'") # host 2's
[ "$run1" != "$run2" ] && pass "extract: one run per host" || fail "extract: one run per host"
expect_eq "$(echo "$held" | tr ',' '\n' | grep -c .)" "$(q "SELECT count(*) FROM extraction_jobs WHERE track_id IN ($held) AND run_id = $run2")" \
    "extract: the leases host 1 held were taken over by host 2"
expect_eq "$done_by_1" "$(q "SELECT count(*) FROM extraction_jobs WHERE run_id = $run1 AND attempts = 1 AND status = 'done'")" \
    "extract: what host 1 committed before the cut was not done again"
[ "$done_by_1" -gt 0 ] && pass "extract: host 1 had committed work before the cut ($done_by_1 tracks)" ||
    fail "extract: host 1 had committed work before the cut"
expect_eq "" "$(q "SELECT string_agg(track_id::text, ',') FROM extraction_jobs WHERE track_id IN ($held) AND attempts <> 2")" \
    "extract: each taken-over track was attempted twice (host 1's lost try, host 2's)"
kill "$x1" 2>/dev/null || true # cut off, it may still wait on its dead connection
