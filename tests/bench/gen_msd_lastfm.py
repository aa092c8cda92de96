#!/usr/bin/env python3
"""Generates a Last.fm dataset tree shaped like the MSD's (lastfm_train/lastfm_test):
one JSON file per track at <root>/<tid[2]>/<tid[3]>/<tid[4]>/<tid>.json, with the real
files' keys and quirks (tag counts as strings, similars as [id, float]).

Full scale (--scale 1): 943,347 tracks, 505,216 of them tagged, 8,598,630 track-tag
pairs (about 17 per tagged track), 522,366 distinct tags with a Zipf-like popularity,
584,897 tracks with similars (--similars-scale scales their ~97 per track; the real
56.5 M pairs make ~2 GB, default 0.1 keeps the files' shape at a tenth of the bulk).
Deterministic for a given seed.  Usage: gen_msd_lastfm.py DIR [--scale X] [--seed N]
"""
import argparse
import os
import random
import string

FULL_TRACKS = 943347
FULL_TAGGED = 505216
FULL_PAIRS = 8598630
FULL_TAGS = 522366
FULL_WITH_SIMILARS = 584897
SIMILARS_PER_TRACK = 56506688 / FULL_WITH_SIMILARS
GENRE_WORDS = ["rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
               "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock",
               "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "british", "90s", "chill",
               "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental",
               "Hip-Hop", "hip hop", "country", "funk", "classical", "reggae", "disco", "Heavy Metal", "rap"]


def track_id(i):
    chars = string.ascii_uppercase + string.digits
    s = []
    x = i * 2654435761 % (36 ** 16)
    for _ in range(16):
        s.append(chars[x % 36])
        x //= 36
    return "TR" + "".join(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--similars-scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    n_tracks = int(FULL_TRACKS * a.scale)
    n_tags = max(len(GENRE_WORDS), int(FULL_TAGS * a.scale))
    tags_per_tagged = FULL_PAIRS / FULL_TAGGED
    p_tagged = FULL_TAGGED / FULL_TRACKS
    p_similars = FULL_WITH_SIMILARS / FULL_TRACKS
    vocab = GENRE_WORDS + ["tag %d \u00e9" % i if i % 97 == 0 else "tag %d" % i for i in range(n_tags - len(GENRE_WORDS))]
    pairs = 0
    for i in range(n_tracks):
        tid = track_id(i)
        d = os.path.join(a.root, tid[2], tid[3], tid[4])
        os.makedirs(d, exist_ok=True)
        tags = []
        if rnd.random() < p_tagged:
            k = max(1, min(100, int(rnd.expovariate(1 / tags_per_tagged))))
            seen = set()
            for _ in range(4 * k):
                if len(tags) == k:
                    break
                # Zipf-like: popular tags dominate, the long tail is used once or twice
                t = vocab[min(len(vocab) - 1, int(rnd.paretovariate(0.6)) - 1)] if rnd.random() < 0.7 \
                    else vocab[rnd.randrange(len(vocab))]
                if t not in seen:
                    seen.add(t)
                    tags.append('["%s", "%d"]' % (t, rnd.randint(0, 100)))
            pairs += len(tags)
        sims = []
        if rnd.random() < p_similars:
            for _ in range(int(rnd.expovariate(1 / (SIMILARS_PER_TRACK * a.similars_scale))) + 1):
                sims.append('["%s", %.17g]' % (track_id(rnd.randrange(FULL_TRACKS)), rnd.random()))
        with open(os.path.join(d, tid + ".json"), "w", encoding="utf-8") as f:
            f.write('{"artist": "Artist %d", "timestamp": "2011-08-15 09:59:32.436152", "similars": [%s], '
                    '"tags": [%s], "track_id": "%s", "title": "Title %d"}' % (i // 7, ", ".join(sims), ", ".join(tags), tid, i))
    print("%d tracks, %d track-tag pairs" % (n_tracks, pairs))


if __name__ == "__main__":
    main()
