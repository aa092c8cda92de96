#!/usr/bin/env bash
# af-report on a model trained on real audio (tone tracks, use_model.sh): per genre the
# most confidently right test track's mel spectrogram and MFCCs, computed from the
# stored audio (database or directory; audio not kept is said, not a failure), as BMP
# data: URIs in SVG with labelled axes; the PCA map rings the misclassified test tracks
# with a legend and tooltips; af-report defaults to the default model and names it.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/use_model.sh"
use_fresh_database report_spectro
af-db migrate 2>/dev/null
tone_model "$test_tmp/audio" 16
expect_status 0 "af-train on the tone tracks"

run af-report -o "$test_tmp/r.html"
expect_status 0 "af-report"
expect_out "^Report of model 1 \(the default model\) written to $test_tmp/r.html$" "af-report names the model it used"

# check_pictures FILE: per genre with a right test track: the chosen track (the most
# confident), two BMPs (128 mel bands, 20 MFCCs) of the same width, the axes labelled,
# and the brightest mel band where the genre's tones are (low < 300 Hz, high > 2 kHz).
check_pictures() {
    python3 - "$1" "$(sql "SELECT string_agg(true_genre || ':' || track_id, ',' ORDER BY true_genre)
        FROM (SELECT DISTINCT ON (true_genre) true_genre, track_id FROM prediction_details
              WHERE model_id = 1 AND classifier = 'network' AND fold IS NULL AND correct
              ORDER BY true_genre, true_genre_probability DESC, track_id) x")" <<'PY'
import base64, math, re, struct, sys
html = open(sys.argv[1]).read()
want = dict(kv.split(":") for kv in sys.argv[2].split(",") if kv)
section = html[html.index("<h2>A typical track per genre</h2>"):]
problems = []
def mel_of(hz):  # Slaney
    return hz * 3 / 200 if hz < 1000 else 15 + math.log(hz / 1000) / (math.log(6.4) / 27)
for genre, track in want.items():
    m = re.search(r"<h3>%s</h3>\n<p>Track (\d+),.*?</p>\n(<svg class=\"spectrogram\".*?</svg>)" % genre, section, re.S)
    if not m:
        problems.append(genre + ": no picture"); continue
    if m.group(1) != track:
        problems.append("%s: track %s, not the most confident %s" % (genre, m.group(1), track))
    svg = m.group(2)
    for label in ("time (s)", "frequency (Hz, mel scale)", "MFCC", ">4000<", " dB<"):
        if label not in svg:
            problems.append("%s: no axis label %r" % (genre, label))
    uris = re.findall(r'href="data:image/bmp;base64,([A-Za-z0-9+/=]+)"', svg)
    if len(uris) != 2:
        problems.append("%s: %d images" % (genre, len(uris))); continue
    bmps = [base64.b64decode(u) for u in uris]
    dims = [struct.unpack("<ii", b[18:26]) for b in bmps]
    if bmps[0][:2] != b"BM" or dims[0][1] != 128 or dims[1] != (dims[0][0], 20) or not 100 < dims[0][0] <= 300:
        problems.append("%s: BMP sizes %s" % (genre, dims)); continue
    w = dims[0][0]; stride = (w + 3) & ~3; off = struct.unpack("<I", bmps[0][10:14])[0]
    rows = [bmps[0][off + r * stride: off + r * stride + w] for r in range(128)]
    col = w // 2
    band = max(range(128), key=lambda r: rows[r][col])
    hz_band = [mel_of(h) / (mel_of(11025) / 129) - 1 for h in (300, 2000)]
    if genre == "low" and band > hz_band[0]:
        problems.append("low: brightest band %d above 300 Hz" % band)
    if genre == "high" and band < hz_band[1]:
        problems.append("high: brightest band %d below 2 kHz" % band)
print("; ".join(problems) if problems else "ok %d" % len(want))
PY
}
expect_eq "ok 3" "$(check_pictures "$test_tmp/r.html")" "each genre's typical track, its mel spectrogram and MFCCs (audio in the database)"

# The audio in the directory store: read from there.
store=$test_tmp/store
mkdir -p "$store"
printf '[audio]\nstore = directory\ndirectory = %s\n' "$store" >"$test_tmp/dir.conf"
run af-db --config "$test_tmp/dir.conf" move-audio --to directory
expect_status 0 "af-db move-audio --to directory"
run af-report --config "$test_tmp/dir.conf" -o "$test_tmp/dir.html"
expect_status 0 "af-report with the audio in the directory store"
expect_eq "ok 3" "$(check_pictures "$test_tmp/dir.html")" "the pictures come from the directory store"
# A file missing from the directory: said, not a failure.
low=$(sql "SELECT track_id FROM prediction_details WHERE model_id = 1 AND classifier = 'network' AND fold IS NULL AND correct AND true_genre = 'low' ORDER BY true_genre_probability DESC, track_id LIMIT 1")
rm -f "$store"/*/*/"$(sql "SELECT encode(sha256, 'hex') FROM track_audio WHERE track_id = $low")"
run af-report --config "$test_tmp/dir.conf" -o "$test_tmp/missing.html"
expect_status 0 "af-report with a file missing from the directory store"
expect_eq "t" "$(grep -q "class=\"no-audio\">the audio of track $low is in the audio directory but cannot be read" "$test_tmp/missing.html" && echo t)" \
    "the missing file is said in the report"

# Audio not kept (store = none, pruned): said in the report, exit 0.
run af-db --config "$test_tmp/dir.conf" prune-audio
expect_status 0 "af-db prune-audio"
run af-report --config "$test_tmp/dir.conf" -o "$test_tmp/none.html"
expect_status 0 "af-report without stored audio"
expect_eq "3|0" "$(grep -c 'is not kept (\[audio\] store = none' "$test_tmp/none.html")|$(grep -c 'class="spectrogram"' "$test_tmp/none.html")" \
    "each genre says its audio is not kept; no pictures"

# The map rings the misclassified test tracks (one made wrong here), with a legend and tooltips.
wrong=$(sql "SELECT track_id FROM predictions WHERE model_id = 1 AND classifier = 'network' AND fold IS NULL AND true_genre = 'low' LIMIT 1")
sql "UPDATE predictions SET predicted_genre = 'noise' WHERE model_id = 1 AND classifier = 'network' AND track_id = $wrong" >/dev/null
n_wrong=$(sql "SELECT count(*) FROM predictions p JOIN track_embeddings e USING (model_id, track_id) WHERE model_id = 1 AND classifier = 'network' AND fold IS NULL AND predicted_genre <> true_genre")
run af-report -o "$test_tmp/wrong.html"
map=$(sed -n '/aria-label="PCA map"/,/<\/svg>/p' "$test_tmp/wrong.html")
expect_eq "$n_wrong" "$(printf '%s' "$map" | grep -c '<circle class="misclassified"')" "one ring per misclassified test track ($n_wrong)"
expect_eq "t" "$(printf '%s' "$map" | grep -q ">misclassified ($n_wrong, test split)</text>" && echo t)" "the legend explains the rings"
artist=$(sql "SELECT artist || ' - ' || title FROM tracks WHERE track_id = $wrong")
expect_eq "t" "$(printf '%s' "$map" | grep -q "<circle class=\"misclassified\"[^>]*><title>$artist: label low, predicted noise</title>" && echo t)" \
    "the ring's tooltip has artist, title, label and prediction"
expect_eq "27" "$(printf '%s' "$map" | grep -c 'r="3"')" "still one point per track"

# A newer model that is not the default: af-report still reports the default one.
run af-train --hidden 8 --epochs 10 --patience 5
expect_status 0 "a second model"
run af-report -o "$test_tmp/second.html"
expect_out "^Report of model 1 \(the default model\) written to" "without --model: the default model, not the newest"
run af-report -m latest -o -
expect_status 0 "af-report -m latest -o -"
expect_err "Report of model 2 written to -" "on standard error when the report goes to standard output"
expect_eq "t" "$(printf '%s' "$out" | grep -q '<html' && echo t)" "the report itself on standard output"

# Genre names are text, not HTML, everywhere in the section (a taxonomy may name a genre
# "R&B"; a hostile one could name it "<script>").
sql "UPDATE predictions SET true_genre = '<i>hi</i>&' WHERE model_id = 1 AND true_genre = 'high';
     UPDATE predictions SET predicted_genre = '<i>hi</i>&' WHERE model_id = 1 AND predicted_genre = 'high';
     UPDATE models SET genres = array_replace(genres, 'high', '<i>hi</i>&') WHERE model_id = 1" >/dev/null
run af-report -m 1 -o "$test_tmp/escaped.html"
expect_status 0 "af-report with a genre named like HTML"
expect_eq "0" "$(grep -c '<i>hi</i>' "$test_tmp/escaped.html")" "the name never appears as markup"
expect_no '^0$' "$(grep -c 'probability of &lt;i&gt;hi&lt;/i&gt;&amp;' "$test_tmp/escaped.html")" \
    "it is escaped where the typical track gives its probability"
