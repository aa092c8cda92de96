#!/usr/bin/env bash
# af-predict end to end: synthetic audio per genre (low tones, high tones, noise; several
# artists each) -> af-extract -> af-train -> af-predict on new files, text, --json and
# --windows; a model whose feature parameters differ from the running code is refused.
source "$AF_PROJECT/tests/lib.sh"
use_fresh_database train_predict
af-db migrate 2>/dev/null
audio="$test_tmp/audio"
mkdir -p "$audio"
id=1
for artist in 1 2 3 4 5 6 7 8 9; do
    for t in 1; do
        make_tone "$audio/low$id.wav" 9 $((120 + 15 * artist + 7 * t))
        add_track_with_audio $id "$audio/low$id.wav" "Low Artist $artist" >/dev/null; id=$((id + 1))
        make_tone "$audio/high$id.wav" 9 $((2400 + 150 * artist + 70 * t))
        add_track_with_audio $id "$audio/high$id.wav" "High Artist $artist" >/dev/null; id=$((id + 1))
        ffmpeg -nostdin -v error -y -f lavfi -i "anoisesrc=d=9:c=white:a=0.$((2 + artist % 5)):r=22050:seed=$id" "$audio/noise$id.wav"
        add_track_with_audio $id "$audio/noise$id.wav" "Noise Artist $artist" >/dev/null; id=$((id + 1))
    done
done
run af-extract --jobs 2
expect_status 0 "af-extract computes the features of the generated audio"
sql "INSERT INTO taxonomy_versions (checksum, source_file) VALUES ('t', 'test');
     INSERT INTO genres (name) VALUES ('high'), ('low'), ('noise');
     INSERT INTO track_labels (track_id, taxonomy_version, status, genre_id)
     SELECT t.track_id, 1, 'labelled', g.genre_id FROM tracks t
     JOIN genres g ON t.artist ILIKE g.name || ' %'" >/dev/null
# Splits are stratified: each genre's 9 artists land in all three splits.
run af-train --hidden 32 --epochs 150 --patience 20
expect_status 0 "af-train on v1 features"

make_tone "$audio/new_low.wav" 12 190
make_tone "$audio/new_high.wav" 12 2900
run af-predict "$audio/new_low.wav" "$audio/new_high.wav"
expect_status 0 "af-predict on two new files"
expect_out 'new_low.wav: low [01]\.[0-9]+, [a-z]+ [01]\.[0-9]+, [a-z]+ [01]\.[0-9]+$' "a low tone is predicted low, with the top 3 genres"
expect_out 'new_high.wav: high ' "a high tone is predicted high"
expect_out '^Model 1 \(the default model\)$' "the text names the model used (the first finished one: the default)"

run af-predict --json --windows --model latest "$audio/new_low.wav"
expect_status 0 "af-predict --json --windows"
check=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
ok = d["top"][0]["genre"] == "low" and len(d["top"]) == 3 and len(d["windows"]) == 4
ok = ok and abs(sum(d["probabilities"].values()) - 1) < 1e-3
ok = ok and [w["start_seconds"] for w in d["windows"]] == [0, 3, 6, 9]
ok = ok and d["model"] == 1 and d["model_default"] is True
print("yes" if ok else "no: " + json.dumps(d)[:300])')
expect_eq "yes" "$check" "JSON has top 3, probabilities summing to 1, 4 windows at 0, 3, 6, 9 s and the model"
run af-predict --windows "$audio/new_low.wav"
expect_out '^ +9\.0 s +[a-z]+ [01]\.[0-9]+, ' "--windows prints one line per window"
expect_eq "4" "$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+\.0 s ')" "one line for each of the 4 windows"

head -c 5000 /dev/urandom >"$audio/garbage.mp3"
run af-predict "$audio/garbage.mp3" "$audio/new_low.wav"
expect_status 1 "an undecodable file makes the exit code 1"
expect_out 'new_low.wav: low' "and the other files are still predicted"

# A named model: af-predict says which one it used, in text and JSON.
run af-train --hidden 32 --epochs 150 --patience 20 --name tones-v2 --no-baselines
expect_status 0 "a second, named model"
run af-predict --model tones-v2 "$audio/new_low.wav"
expect_out "^Model 2 'tones-v2'\$" "the text names the named model (not the default)"
run af-predict --json --model tones-v2 "$audio/new_low.wav"
expect_eq "2|tones-v2|False" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["model"], d["model_name"], d["model_default"], sep="|")')" \
    "the JSON names it too"
run af-predict "$audio/new_low.wav"
expect_out '^Model 1 ' "without --model, the default model (1), not the newest, is used"
run af-train --delete tones-v2
run af-predict --model 2 "$audio/new_low.wav"
expect_status 1 "a deleted model is refused"
expect_err "model 2 \(tones-v2\) was deleted on .*: it cannot be used" "with a clear error"
expect_no 'low' "$out" "and nothing is predicted"

# The rank-gauss input transform travels inside the stored model: trained, stored in the
# database, read back by af-predict, which then classifies the tones as before.
run af-train --hidden 32 --epochs 150 --patience 20 --name tones-rg --input-transform rankgauss --members 1 --no-baselines
expect_status 0 "a model with the rank-gauss input transform"
expect_eq "rankgauss" "$(sql "SELECT hyperparameters->>'input_transform' FROM models WHERE name = 'tones-rg'")" \
    "its hyperparameters say so"
# mlp.h's buffer (one network, 2 weight layers): magic 8, version, length, L, 3 widths,
# then scaler.h's block: u32 dim with the rank-gauss flag (bit 31), u32 knot count
expect_eq "128|t" "$(sql "SELECT get_byte(weights, 35) & 128, get_byte(weights, 36) + 256 * get_byte(weights, 37) >= 16
                         FROM models WHERE name = 'tones-rg'")" "its weights carry the rank-gauss block (flag, knots)"
run af-predict --model tones-rg "$audio/new_low.wav" "$audio/new_high.wav"
expect_status 0 "af-predict with the rank-gauss model"
expect_out 'new_low.wav: low ' "a low tone is predicted low through the stored transform"
expect_out 'new_high.wav: high ' "a high tone is predicted high"
run af-train --input-transform log --no-baselines
expect_status 2 "an unknown input transform is a usage error"
expect_err "input_transform 'log': expected rankgauss or standardise" "naming the value and the choices"

model=$(sql "SELECT max(model_id) FROM models WHERE deleted_at IS NULL")
run af-predict --model 999 "$audio/new_low.wav"
expect_status 1 "an unknown model id fails"
expect_err 'no model with id 999' "naming it"
sql "UPDATE models SET hyperparameters = jsonb_set(hyperparameters, '{feature_params,n_mfcc}', '13') WHERE model_id = $model" >/dev/null
run af-predict --model "$model" "$audio/new_low.wav"
expect_status 1 "a model trained on other feature parameters is refused"
expect_err "does not match this program's feature code" "with a clear message"
expect_no 'low' "$out" "and nothing is predicted"
