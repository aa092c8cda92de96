# use_model.sh — a model trained on real analysis of generated audio, for the tests of
# what uses a model (af-similar, af-predict --search, af-cluster, af-serve); sourced
# after tests/lib.sh.
#
# tone_model DIR HIDDEN: 27 tracks of 9 s in DIR (9 artists x low tones, high tones,
# white noise; tracks 1, 4, 7... low, 2, 5, 8... high, 3, 6, 9... noise) stored as
# audio, extracted, labelled low/high/noise under taxonomy version 1, and af-train
# --hidden HIDDEN on them.  Sets $status/$out/$err of the af-train run.
tone_model() {
    local audio=$1 hidden=$2 id=1 artist
    mkdir -p "$audio"
    for artist in 1 2 3 4 5 6 7 8 9; do
        make_tone "$audio/low$id.wav" 9 $((120 + 15 * artist))
        add_track_with_audio $id "$audio/low$id.wav" "Low Artist $artist" >/dev/null; id=$((id + 1))
        make_tone "$audio/high$id.wav" 9 $((2400 + 150 * artist))
        add_track_with_audio $id "$audio/high$id.wav" "High Artist $artist" >/dev/null; id=$((id + 1))
        ffmpeg -nostdin -v error -y -f lavfi -i "anoisesrc=d=9:c=white:a=0.$((2 + artist % 5)):r=22050:seed=$id" "$audio/noise$id.wav"
        add_track_with_audio $id "$audio/noise$id.wav" "Noise Artist $artist" >/dev/null; id=$((id + 1))
    done
    af-extract --jobs 2 >/dev/null 2>&1 || { echo "not ok - af-extract for the tone model"; return 1; }
    sql "INSERT INTO taxonomy_versions (checksum, source_file) VALUES ('t', 'test');
         INSERT INTO genres (name) VALUES ('high'), ('low'), ('noise');
         INSERT INTO genre_tags (taxonomy_version, genre_id, tag_key) SELECT 1, genre_id, name FROM genres;
         INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id)
         SELECT t.track_id, 1, 'labelled', g.genre_id FROM tracks t
         JOIN genres g ON t.artist ILIKE g.name || ' %';
         SELECT setval('tracks_track_id_seq', (SELECT max(track_id) FROM tracks))" >/dev/null
    run af-train --hidden "$hidden" --epochs 150 --patience 20
}

# preview_world DIR: the fake providers' world for looking songs up (tests/fakeapi):
#   Low Band - Deep Tone       Deezer 701 and iTunes 801, ISRC USLOW0000001, a 190 Hz tone
#   Low Band - Deep Tone (Live) Deezer 705 without a preview
#   High Band - Bright Tone    Deezer 702 and iTunes 802, a 2900 Hz tone
#   Short One - Tiny           Deezer 703, 3 s of audio (too short)
#   Spot Only - Green Tone     Spotify sp4 only
# starts the fake server and points $AUDIOFILER_CONFIG ($conf) at it (no Spotify
# credentials set).
preview_world() {
    mkdir -p "$1"
    make_tone "$1/low.mp3" 30 190 -ac 2 -b:a 128k
    make_tone "$1/high.mp3" 30 2900 -ac 2 -b:a 128k
    make_tone "$1/short.mp3" 3 200 -b:a 128k
    cat >"$1/world.json" <<'JSON'
{"tracks": [
 {"artist": "Low Band", "title": "Deep Tone", "isrc": "USLOW0000001", "duration": 30,
  "deezer": {"id": 701}, "itunes": {"id": 801}, "audio": "low.mp3"},
 {"artist": "Low Band", "title": "Deep Tone (Live)", "duration": 30,
  "deezer": {"id": 705, "preview": false}, "audio": "low.mp3"},
 {"artist": "High Band", "title": "Bright Tone", "duration": 30,
  "deezer": {"id": 702}, "itunes": {"id": 802}, "audio": "high.mp3"},
 {"artist": "Short One", "title": "Tiny", "duration": 3, "deezer": {"id": 703}, "audio": "short.mp3"},
 {"artist": "Spot Only", "title": "Green Tone", "duration": 30,
  "spotify": {"id": "sp4", "preview": true}, "audio": "low.mp3"}
]}
JSON
    start_fakeapi "$1/world.json"
    conf=$test_tmp/use.conf
    { fakeapi_conf; cat <<CONF; } >"$conf"
[fetch]
providers = spotify,deezer,itunes
retry_base_seconds = 0.05
retry_max_seconds = 0.1
CONF
    export AUDIOFILER_CONFIG=$conf
}
