#!/usr/bin/env bash
# bench_audio_store.sh — database bytes per track for each [audio] store (database,
# directory, none): N distinct 30-second 128 kbit/s MP3 previews (~0.48 MB each, like
# Deezer's and iTunes') ingested with af-ingest dir and extracted with af-extract, then
# the database's growth, the audio table's share (with its TOAST) and the directory's
# bytes, each divided by N.  BENCH_TRACKS=N changes N (default 20).
set -u
export AF_BIN="$AF_PROJECT/build/bin" PATH="$AF_PROJECT/build/bin:$PATH"
n=${BENCH_TRACKS:-20}
work=$(mktemp -d /tmp/af-bench-store.XXXXXX)
db="af_bench_store_$$"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"' EXIT
mkdir -p "$work/music/jazz"
for i in $(seq "$n"); do
    ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=$((200 + 17 * i)):duration=30:sample_rate=44100" \
        -f lavfi -i "anoisesrc=d=30:c=pink:a=0.05:r=44100:seed=$i" -filter_complex amix=inputs=2:duration=shortest \
        -ac 2 -b:a 128k "$work/music/jazz/t$i.mp3" || exit 1
done
file_bytes=$(du -cb "$work"/music/jazz/*.mp3 | tail -n 1 | cut -f1)
echo "$n previews, $((file_bytes / n)) bytes each on average"
printf '%-10s %22s %26s %24s\n' store "database bytes/track" "of which audio (+TOAST)" "directory bytes/track"
for store in database directory none; do
    dropdb --if-exists "$db" >/dev/null 2>&1
    createdb "$db" && export PGDATABASE="$db"
    rm -rf "$work/store" && mkdir -p "$work/store"
    printf '[audio]\nstore = %s\ndirectory = %s\n' "$store" "$work/store" >"$work/$store.conf"
    af-db migrate >/dev/null 2>&1 || exit 1
    psql -XAtq -c "VACUUM ANALYZE" >/dev/null
    before=$(psql -XAtc "SELECT pg_database_size(current_database())")
    af-ingest --config "$work/$store.conf" -q dir "$work/music" || exit 1
    af-extract --config "$work/$store.conf" -q || exit 1
    psql -XAtq -c "VACUUM FULL audio" -c "CHECKPOINT" >/dev/null
    after=$(psql -XAtc "SELECT pg_database_size(current_database())")
    audio=$(psql -XAtc "SELECT pg_total_relation_size('audio')")
    dir_bytes=$(find "$work/store" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    printf '%-10s %22d %26d %24d\n' "$store" $(((after - before) / n)) $((audio / n)) $((dir_bytes / n))
done
echo "(database bytes/track: growth of pg_database_size over ingest + extract, features included;"
echo " a million tracks: multiply by 10^6)"
