#!/usr/bin/env bash
# The Debian package (make deb): built with dpkg-deb, installed with apt on this machine,
# it creates the system user audiofiler, puts the configuration under /etc (conffiles),
# the systemd units and man pages in place, and runs the pipeline as audiofiler against
# a cluster of the distribution's PostgreSQL (pg_createcluster / pg_ctlcluster), made
# for this test on a free port and dropped at the end; the package is purged too.
# Needs root (it installs a package); the package holds build/bin's programs, so it is
# checked once, with build/bin.
source "$AF_PROJECT/tests/lib.sh"
if [ "$(id -u)" -ne 0 ]; then echo "# test_deb: needs root (apt-get install)"; exit 0; fi
case "$AF_BIN" in */build-asan/bin) echo "# test_deb: the package holds build/bin; checked with it"; exit 0 ;; esac
command -v pg_createcluster >/dev/null || { echo "not ok - pg_createcluster (postgresql-common) is installed"; exit 1; }
# A configuration in /etc/audiofiler that no package owns (a `make install` leaves one)
# stops dpkg at its conffile prompt, and apt says only "dpkg returned an error code".
for f in /etc/audiofiler/audiofiler.conf /etc/audiofiler/genres.conf; do
    if [ -e "$f" ] && ! dpkg -S "$f" >/dev/null 2>&1; then
        echo "not ok - $f belongs to no package (left by make install?): move it away to test the package"
        exit 1
    fi
done

run make -s -C "$AF_PROJECT" deb
expect_status 0 "make deb builds the package"
deb=$(ls "$AF_PROJECT"/build/audiofiler_*.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] && pass "the package is build/$(basename "$deb")" || { fail "the package exists"; exit 1; }
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/af-pipeline ./usr/bin/af-extract ./usr/sbin/audiofiler-setup-db \
    ./etc/audiofiler/audiofiler.conf ./etc/audiofiler/genres.conf \
    ./lib/systemd/system/audiofiler.service ./lib/systemd/system/audiofiler.timer \
    ./usr/share/man/man1/af-pipeline.1.gz ./usr/share/man/man1/af-db.1.gz ./usr/share/audiofiler/sql/001_core.sql; do
    printf '%s\n' "$contents" | grep -qx -- "$f" && pass "the package holds $f" || fail "the package holds $f"
done
expect_eq "/etc/audiofiler/audiofiler.conf
/etc/audiofiler/genres.conf" "$(dpkg-deb -I "$deb" conffiles)" "the configuration files are conffiles"

# Installed with apt (serialised with the other users of apt on this machine).
cluster="aftest$$"
cleanup_deb() {
    pg_dropcluster --stop 15 "$cluster" >/dev/null 2>&1
    flock /tmp/apt.lock apt-get purge -y -qq audiofiler >/dev/null 2>&1
    rm -rf "$music"
    cleanup_lib
}
music=$(mktemp -d /tmp/af-deb-music.XXXXXX)
trap cleanup_deb EXIT
run flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb"
expect_status 0 "apt-get install the package"
[ "$(dpkg-query -W -f='${Status}' audiofiler)" = "install ok installed" ] && pass "dpkg knows the package is installed" || fail "dpkg knows the package is installed"
getent passwd audiofiler >/dev/null && pass "the package created the system user audiofiler" || fail "the system user audiofiler exists"
run man -w af-pipeline
expect_status 0 "man af-pipeline finds the man page"
if command -v systemd-analyze >/dev/null; then
    run systemd-analyze verify /lib/systemd/system/audiofiler.service /lib/systemd/system/audiofiler.timer
    expect_no "audiofiler\.(service|timer):[0-9]+:" "$err" "systemd-analyze finds no error in the units"
fi
expect_eq /usr/bin/af-pipeline "$(command -v af-pipeline 2>/dev/null || true)" "af-pipeline is on PATH"

# A cluster of the distribution's PostgreSQL on a free port, prepared by the package's tool.
port=$((20000 + $$ % 20000))
while pg_lsclusters -h | awk '{print $3}' | grep -qx "$port"; do port=$((port + 1)); done
run pg_createcluster 15 "$cluster" -p "$port" --start
expect_status 0 "pg_createcluster 15 $cluster (port $port)"
run audiofiler-setup-db --cluster "15/$cluster"
expect_status 0 "audiofiler-setup-db prepares the role, the database and the schema"
run audiofiler-setup-db --cluster "15/$cluster"
expect_status 0 "audiofiler-setup-db a second time changes nothing"
mkdir -p "$music/jazz"
# tagged with an artist: a folder of artist-less tracks is rightly warned about, even with -q
make_tone "$music/jazz/tone.mp3" 8 440 -metadata artist="Deb Tester" -metadata title="Tone"
chmod -R a+rX "$music"
as_service() { # like the service: user audiofiler, the installed programs, no test environment
    (cd / && runuser -u audiofiler -- env -i PATH=/usr/bin:/bin PGPORT="$port" "$@")
}
run as_service af-pipeline -q --sources dir --dir "$music"
expect_status 0 "the installed pipeline runs as audiofiler against the distribution's cluster"
expect_eq "" "$err" "quietly (what the timer's journal would show)"
expect_eq "1|1" "$(runuser -u postgres -- env -i PATH=/usr/bin:/bin psql -X -h /var/run/postgresql -p "$port" -d audiofiler -Atc \
    "SELECT (SELECT count(*) FROM current_labels WHERE label = 'jazz'), (SELECT count(*) FROM track_features)")" \
    "the track is labelled (genres of /etc/audiofiler) and its features stored"
run pg_ctlcluster 15 "$cluster" stop
run as_service af-db status
expect_status 3 "with the cluster stopped, an installed program exits 3"
