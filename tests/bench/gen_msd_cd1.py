#!/usr/bin/env python3
"""Generates a file shaped like tagtraum's msd_tagtraum_cd1.cls: a 7-line '#' header,
then TRACK_ID<TAB>MAJORITY[<TAB>MINORITY] lines with the 13 Top-MAGD genres, the coarse
class Pop_Rock covering most tracks (63 % on the real file), and minority votes on a
share of the lines.  Full scale: 133,676 tracks.  Deterministic for a given seed.
Usage: gen_msd_cd1.py FILE [--tracks N] [--pop-rock 0.63] [--minority 0.12] [--seed N]
"""
import argparse
import random
import string

# Top-MAGD's genres other than Pop_Rock, weighted as in MAGD (rows per genre).
OTHERS = [("Electronic", 41075), ("Rap", 20939), ("Jazz", 17836), ("Latin", 17590), ("RnB", 14335),
          ("International", 14242), ("Country", 11772), ("Reggae", 6946), ("Blues", 6836),
          ("Vocal", 6195), ("Folk", 5865), ("New Age", 4010)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--tracks", type=int, default=133676)
    ap.add_argument("--pop-rock", type=float, default=0.63)
    ap.add_argument("--minority", type=float, default=0.12)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    names = [g for g, _ in OTHERS]
    weights = [w for _, w in OTHERS]
    alphabet = string.ascii_uppercase + string.digits
    with open(a.file, "w") as f:
        f.write("# msd_tagtraum_cd1.cls (generated in the real file's shape)\n"
                "#\n# Genre annotations for the Million Song Dataset, tagtraum industries\n"
                "# http://www.tagtraum.com/msd_genre_datasets.html\n#\n"
                "# Format: TRACK_ID<TAB>MAJORITY_GENRE[<TAB>MINORITY_GENRE]\n#\n")
        seen = set()
        while len(seen) < a.tracks:
            tid = "TR" + "".join(rng.choice(alphabet) for _ in range(16))
            if tid in seen:
                continue
            seen.add(tid)
            major = "Pop_Rock" if rng.random() < a.pop_rock else rng.choices(names, weights)[0]
            line = tid + "\t" + major
            if rng.random() < a.minority:
                minor = rng.choice(["Pop_Rock"] + names)
                if minor != major:
                    line += "\t" + minor
            f.write(line + "\n")


if __name__ == "__main__":
    main()
