#!/usr/bin/env bash
# Deployment: secrets never stored or logged (conninfo masked by libpq's own parser),
# log lines that input cannot forge, quiet runs for cron, scripts/db and scripts/setup
# as a first user meets them (also as root in a private directory), database roles,
# and an installation that works without the source tree.
source "$AF_PROJECT/tests/lib.sh"
pipeline="$AF_PROJECT/scripts/af-pipeline"
empty="$test_tmp/empty"
mkdir -p "$empty"

# ---- secrets ---------------------------------------------------------------------------------
use_migrated_database deploy_secrets
# The test server trusts local connections, so any password connects.
base="host=$PGHOST dbname=$PGDATABASE user=${PGUSER:-$(id -un)}"
uri="postgresql:///$PGDATABASE?host=$(printf '%s' "$PGHOST" | sed 's#/#%2F#g')"
i=0
for conninfo in "$base password = spaced-S3CRET" \
    "$base password='quoted S3CRET words'" \
    "$base password=first-S3CRET password=second-S3CRET" \
    "$uri&password=uri-S3CRET"; do
    i=$((i + 1))
    run "$pipeline" --sources dir --dir "$empty" --db "$conninfo"
    expect_status 0 "secrets $i: the pipeline runs with a password in --db"
    expect_no 'S3CRET|quoted|words' "$err" "secrets $i: the pipeline's log shows no part of the password"
    expect_err "password=\*\*\*" "secrets $i: the log shows the password masked"
    stored=$(sql "SELECT string_agg(arguments::text, ' ') FROM runs")
    expect_no 'S3CRET|quoted|words' "$stored" "secrets $i: no run record stores any part of the password"
    sql "DELETE FROM runs"
done
run af-db --db "postgresql://ana:uri-S3CRET@[::1/music" status
expect_status 2 "a malformed URI is a usage error (exit 2)"
expect_err "malformed database connection string" "and is said to be one"
expect_no S3CRET "$err" "libpq's message about it is shown without the URI"
run af-db --db "$base password=S3CRET" conninfo
expect_status 0 "af-db conninfo prints the connection string"
expect_out "password=\*\*\*" "af-db conninfo masks the password"
expect_no S3CRET "$out" "af-db conninfo never prints the password"

# ---- log lines cannot be forged --------------------------------------------------------------
forged="$test_tmp/music
2026-01-01T00:00:00Z ERROR af-db: forged"
mkdir -p "$forged"
run "$pipeline" --sources dir --dir "$forged"
expect_status 0 "a directory name with a newline is ingested"
expect_no '^2026-01-01T00:00:00Z' "$err" "its name forges no log line (pipeline and stages)"
expect_err 'music\\n2026-01-01T00:00:00Z ERROR af-db: forged' "the name is logged with its newline escaped"

# ---- quiet runs for cron ---------------------------------------------------------------------
run "$pipeline" --sources dir --dir "$empty" -q
expect_status 0 "a quiet dir-only run exits 0"
expect_eq "" "$err$out" "a quiet dir-only run prints nothing"
run "$pipeline" --sources dir --dir "$empty"
expect_no "[Ss]potify" "$err" "a dir-only run says nothing about Spotify keys"
expect_err "stage fetch: skipped" "a dir-only run skips the fetch stage and says so"

# ---- first contact: scripts/db, scripts/setup, the Makefile before packages -------------------
run "$AF_PROJECT/scripts/db" --help
expect_status 0 "scripts/db --help exits 0"
expect_out "url \[NAME\]" "scripts/db --help documents its commands"
run "$AF_PROJECT/scripts/setup" --help
expect_status 0 "scripts/setup --help exits 0"
expect_out "^Usage: scripts/setup" "scripts/setup --help prints help (and does nothing else)"
expect_no "install-packages: installing|db: started" "$out$err" "scripts/setup --help installs and starts nothing"
run "$AF_PROJECT/scripts/db" --dir "$test_tmp/dbdir" url demo_db
expect_eq "host=$test_tmp/dbdir/run dbname=demo_db user=audiofiler" "$out" "scripts/db url NAME names that database"
run "$AF_PROJECT/scripts/db" --dir "$test_tmp/dbdir" url "x'; DROP"
expect_status 2 "scripts/db url refuses a name that is not plain"

tree="$test_tmp/make-tree"
mkdir -p "$tree/scripts" "$tree/sql"
cp "$AF_PROJECT/Makefile" "$AF_PROJECT/VERSION" "$tree/"
cp "$AF_PROJECT/scripts/embed-migrations" "$tree/scripts/"
run env PKG_CONFIG_LIBDIR="$test_tmp/no-packages" make -C "$tree" check-packages
expect_status 2 "make without the libraries installed stops"
expect_no "not found|Package .* was not found|pkg-config" "$err" "without the libraries, make prints no pkg-config noise"
expect_err "run scripts/install-packages" "and says what to run instead"

# As root in a directory the system user audiofiler cannot enter (root's 0700 home is
# the usual case): the cluster is made elsewhere and reached through var/.
if [ "$(id -u)" -eq 0 ]; then
    private="$test_tmp/private-home" # inside $test_tmp, itself 0700
    mkdir -m 700 "$private"
    checkout_var="$private/audiofiler/var"
    run "$AF_PROJECT/scripts/db" --dir "$checkout_var" start
    expect_status 0 "root, private directory: scripts/db start works"
    expect_eq "" "$err" "root, private directory: scripts/db start prints no error"
    cluster_home=$(readlink -f "$checkout_var/pg" | xargs dirname)
    url=$("$AF_PROJECT/scripts/db" --dir "$checkout_var" url)
    run af-db --db "$url" migrate
    expect_status 0 "root, private directory: af-db migrate through var/run"
    run "$pipeline" --db "$url" --sources dir --dir "$empty" -q
    expect_status 0 "root, private directory: the pipeline runs against it"
    run "$AF_PROJECT/scripts/db" --dir "$checkout_var" stop
    run "$AF_PROJECT/scripts/db" --dir "$checkout_var" start
    expect_status 0 "root, private directory: the cluster restarts where it is"
    expect_eq 1 "$(psql "$url" -XAtc 'SELECT count(*) FROM schema_migrations WHERE version = 1')" \
        "root, private directory: the schema survives a restart"
    "$AF_PROJECT/scripts/db" --dir "$checkout_var" stop >/dev/null
    case "$cluster_home" in /var/lib/audiofiler/clusters/*) rm -rf "$cluster_home" ;; esac
else
    echo "# root, private directory: needs root (tests/run as root checks it)"
fi

# ---- installed without the source tree --------------------------------------------------------
# A copy of the tree (with its build outputs, so that only what depends on the tree's
# path is rebuilt) is installed into a fresh prefix and then deleted: the installed
# pipeline must find its configuration in SYSCONFDIR and run without it.
copy="$test_tmp/checkout-copy"
prefix="$test_tmp/prefix"
mkdir -p "$copy"
(cd "$AF_PROJECT" && tar cf - --exclude=./build-asan --exclude=./var --exclude=./.git .) | tar xf - -C "$copy"
run make -s -C "$copy" -j2 install PREFIX="$prefix" SYSCONFDIR="$prefix/etc/audiofiler"
expect_status 0 "make install from a copy of the tree into a fresh prefix"
rm -rf "$copy"
[ -x "$prefix/bin/af-pipeline" ] && [ -x "$prefix/bin/af-extract" ] && pass "the programs are installed" ||
    fail "the programs are installed"
[ -f "$prefix/etc/audiofiler/genres.conf" ] && [ -f "$prefix/share/audiofiler/audiofiler.conf" ] &&
    pass "the configuration is installed in SYSCONFDIR and share/audiofiler" || fail "the configuration is installed"
music="$test_tmp/installed-music"
mkdir -p "$music/jazz"
make_tone "$music/jazz/tone.mp3" 8 440
use_fresh_database installed
run env -u AUDIOFILER_CONFIG -u AF_BIN "$prefix/bin/af-pipeline" --sources dir --dir "$music"
expect_status 0 "the installed pipeline runs with the tree deleted"
expect_err "taxonomy $prefix/etc/audiofiler/genres.conf" "it labels with the genres of SYSCONFDIR"
expect_err "programs in $prefix/bin" "it runs the installed programs"
expect_no "$copy|$AF_PROJECT" "$err" "nothing it does names a source tree"
expect_eq "1|1" "$(sql "SELECT (SELECT count(*) FROM current_labels WHERE label = 'jazz'), (SELECT count(*) FROM track_features)")" \
    "the installed pipeline labels and extracts the track"
run env -u AUDIOFILER_CONFIG "$prefix/bin/af-db" --db "host=$test_tmp/nowhere dbname=x" status
expect_status 3 "an installed program with no database says so (exit 3)"
