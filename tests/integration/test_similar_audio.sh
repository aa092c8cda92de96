#!/usr/bin/env bash
# Embeddings of audio files: af-predict --embedding (text and JSON) gives, for a file of
# the collection, the embedding af-train stored for its track; af-similar FILE lists the
# collection's tracks nearest to a new file (its genre first); an undecodable file fails
# naming it.
source "$AF_PROJECT/tests/lib.sh"
source "$AF_PROJECT/tests/integration/use_model.sh"
use_fresh_database similar_audio
af-db migrate 2>/dev/null
audio="$test_tmp/audio"
tone_model "$audio" 32,8
expect_status 0 "af-train"
expect_eq "27|8" "$(sql "SELECT count(*), min(cube_dim(embedding)) FROM track_embeddings")" "27 embeddings of 8 values"

run af-predict --embedding --json "$audio/low1.wav"
expect_status 0 "af-predict --embedding --json"
stored=$(sql "SELECT embedding FROM track_embeddings WHERE track_id = 1")
check=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
stored = [float(v) for v in sys.argv[1].strip("()").split(",")]
e = d["embedding"]
diff = max(abs(a - b) for a, b in zip(e, stored)) if len(e) == len(stored) else 1e9
print("yes" if diff <= 1e-3 * max(1, max(stored)) else "no: %r vs %r" % (e, stored))' "$stored")
expect_eq "yes" "$check" "a collection file's embedding equals the one stored for its track"
run af-predict --embedding "$audio/low1.wav"
expect_out '^  embedding \(8\):( [-0-9.e]+){8}$' "text output has the embedding line"

make_tone "$audio/new_low.wav" 12 190
run af-similar -k 3 "$audio/new_low.wav"
expect_status 0 "af-similar FILE"
expect_out "Nearest tracks to .*new_low.wav, by model 1 \(the default model\)" "the file is the query"
expect_eq "low low low" "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/ {print $8}' | xargs)" \
    "the three nearest tracks of a low tone are low tones"

head -c 5000 /dev/urandom >"$audio/garbage.mp3"
run af-similar "$audio/garbage.mp3"
expect_status 1 "an undecodable file exits 1"
expect_err "garbage.mp3" "the undecodable file is named"

# An ensemble (--members 3): its embedding is its first network's (embeddings.h), the
# same whether af-train stores it for a track or af-predict computes it for the file.
run af-train --hidden 32,8 --epochs 60 --patience 20 --members 3
expect_status 0 "af-train --members 3"
expect_eq "3" "$(sql "SELECT hyperparameters->>'members' FROM models WHERE model_id = 2")" "model 2 has 3 networks"
run af-predict -m 2 --embedding --json "$audio/high2.wav"
expect_status 0 "af-predict -m 2 --embedding --json"
stored=$(sql "SELECT embedding FROM track_embeddings WHERE model_id = 2 AND track_id = 2")
check=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
stored = [float(v) for v in sys.argv[1].strip("()").split(",")]
e = d["embedding"]
diff = max(abs(a - b) for a, b in zip(e, stored)) if len(e) == len(stored) else 1e9
print("yes" if d["model"] == 2 and diff <= 1e-3 * max(1, max(stored)) else "no: %r vs %r" % (e, stored))' "$stored")
expect_eq "yes" "$check" "an ensemble's file embedding equals the one stored for its track"
