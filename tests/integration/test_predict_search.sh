#!/usr/bin/env bash
# af-predict --search / --deezer-id / --isrc / --pick against the fake providers: the
# candidates listed and scored, the best match with a preview taken, its preview
# downloaded, checked and classified; text and JSON name the track, the preview's
# source and the model; Spotify only with credentials; a failing provider is retried
# then skipped; bad audio, no match and a bad --pick fail clearly.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/use_model.sh"
use_fresh_database predict_search
af-db migrate 2>/dev/null
tone_model "$test_tmp/audio" 32,8
expect_status 0 "af-train on the tone tracks"

world=$test_tmp/world
preview_world "$world"
unset SPOTIFY_CLIENT_ID SPOTIFY_CLIENT_SECRET

run af-predict --search "Low Band - Deep Tone"
expect_status 0 "af-predict --search"
expect_out "^ *1 +deezer +701 +Low Band +Deep Tone +1\.00 +yes" "the exact Deezer match is the first candidate"
expect_out "itunes +801 +Low Band +Deep Tone +1\.00 +yes" "the iTunes match is listed"
expect_out "deezer +705 +Low Band +Deep Tone \(Live\) .* no$" "a candidate without a preview is listed"
expect_out "^Track: Low Band - Deep Tone \(deezer 701, match 1\.00\)" "the track found is named"
expect_out "^Preview: deezer, mp3, 30\.[0-9] s" "the preview's source is named"
expect_out "^Model: 1$" "the model is named"
expect_out "^Low Band - Deep Tone: [a-z]+ [01]\.[0-9]{3}, [a-z]+ [01]\.[0-9]{3}, [a-z]+ [01]\.[0-9]{3}$" "the preview is classified (top 3)"
search_line=$(printf '%s\n' "$out" | sed -n 's/^Low Band - Deep Tone: //p')
run af-predict "$world/low.mp3"
expect_eq "$search_line" "$(printf '%s\n' "$out" | sed -n 's/^.*low.mp3: //p')" "the search's prediction is the preview file's"
expect_no "spotify" "$out" "Spotify is not asked without credentials"
expect_eq 0 "$(fakeapi_count /spotify/)" "no request to Spotify without credentials"

run af-predict --json --search "High Band - Bright Tone"
expect_status 0 "af-predict --search --json"
check_json=$out
check=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
ok = d["model"] == 1
ok = ok and d["track"]["provider"] == "deezer" and d["track"]["id"] == "702"
ok = ok and d["track"]["title"] == "Bright Tone" and d["preview"]["source"] == "deezer"
ok = ok and d["preview"]["codec"] == "mp3" and "/previews/deezer/high.mp3" in d["preview"]["url"]
ok = ok and len(d["candidates"]) == 2 and {c["provider"] for c in d["candidates"]} == {"deezer", "itunes"}
print("yes" if ok else "no: " + json.dumps(d)[:600])')
expect_eq "yes" "$check" "JSON: track, preview source and codec, model, candidates"
# The prediction is the file's: the same as af-predict on the preview itself.
run af-predict --json "$world/high.mp3"
expect_eq "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["probabilities"])')" \
    "$(printf '%s' "$check_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["probabilities"])')" \
    "the search's probabilities are those of the preview file"

run af-predict --pick 2 --search "Low Band - Deep Tone"
expect_status 0 "--pick 2"
expect_out "^Track: Low Band - Deep Tone \(itunes 801" "--pick 2 takes the second candidate"
expect_out "^Preview: itunes, mp3" "the iTunes preview is downloaded"
run af-predict --pick 9 --search "Low Band - Deep Tone"
expect_status 1 "--pick beyond the list exits 1"
expect_err "--pick 9: only 3 candidate" "the bad pick is explained"

run af-predict --deezer-id 702
expect_status 0 "--deezer-id"
expect_out "^Track: High Band - Bright Tone \(deezer 702, match 1\.00\)" "--deezer-id names the track"
expect_out "^High Band - Bright Tone: [a-z]+ [01]\.[0-9]{3}, " "and classifies it"
run af-predict --deezer-id 799
expect_status 1 "an unknown Deezer id exits 1"
expect_err "no candidate" "nothing found is said"

run af-predict --isrc USLOW0000001 --json
expect_status 0 "--isrc"
expect_eq "deezer 701 USLOW0000001" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["track"]["provider"], d["track"]["id"], d["track"]["isrc"])')" \
    "--isrc finds the recording at Deezer"

run af-predict --search "Short One - Tiny"
expect_status 1 "a too short preview exits 1"
expect_err "deezer preview of track 703 is not usable audio \(too_short\)" "the bad preview is named"
run af-predict --search "Nobody - Nothing At All"
expect_status 1 "no match exits 1"
expect_err "no candidate with a preview matches well enough \(0 candidate" "no match is explained"
run af-predict --search ""
expect_status 2 "an empty --search is a usage error, not a search"
expect_err '--search: give "ARTIST - TITLE" or a title' "saying what to give"

# A provider failing twice is retried; one failing for good is skipped, the others answer.
fakeapi_fault '{"prefix": "/deezer/", "count": 2, "status": 502}'
run af-predict --search "Low Band - Deep Tone"
expect_status 0 "two 502s from Deezer are retried"
expect_out "^Track: Low Band - Deep Tone \(deezer 701" "and Deezer's answer is used"
fakeapi_fault '{"prefix": "/deezer/", "count": 50, "status": 500}'
run af-predict --search "Low Band - Deep Tone"
expect_status 0 "with Deezer down, iTunes answers"
expect_out "^Track: Low Band - Deep Tone \(itunes 801" "the iTunes match is taken"
expect_err "deezer: search failed: HTTP 500" "the failing provider is reported"
fakeapi_reset

# Spotify with credentials.
export SPOTIFY_CLIENT_ID=test-id SPOTIFY_CLIENT_SECRET=test-secret
run af-predict --search "Spot Only - Green Tone"
expect_status 0 "Spotify is asked with credentials"
expect_out "^Track: Spot Only - Green Tone \(spotify sp4" "the Spotify match is taken"
export SPOTIFY_CLIENT_SECRET=wrong
run af-predict --search "Spot Only - Green Tone"
expect_status 6 "rejected Spotify credentials and no other match exit 6"
expect_err "spotify: search failed: the token endpoint answered HTTP 40" "the rejected credentials are reported"
unset SPOTIFY_CLIENT_ID SPOTIFY_CLIENT_SECRET

# af-similar --search: a song not in the collection is looked up at the providers.
run af-similar -k 3 --search "High Band - Bright Tone"
expect_status 0 "af-similar --search for a song outside the collection"
expect_out "^Nearest tracks to High Band - Bright Tone \(deezer 702 preview\), by model 1 \(the default model\)" \
    "its preview at Deezer is the query"
expect_eq 3 "$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+ +[0-9]+ ')" "three nearest tracks"
run af-similar --search "Nobody - Nothing At All"
expect_status 1 "af-similar --search without any match exits 1"
expect_err "nor a song with a preview at the providers" "the failed search is explained"

run af-predict --search "x" "$test_tmp/audio/low1.wav"
expect_status 2 "files and --search do not mix"
run af-predict --isrc nope
expect_status 2 "a malformed ISRC is a usage error"
run af-predict --pick 1 "$test_tmp/audio/low1.wav"
expect_status 2 "--pick without a search is a usage error"
