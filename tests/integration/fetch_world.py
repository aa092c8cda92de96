#!/usr/bin/env python3
"""Builds a world for the fake preview APIs and the SQL that seeds labelled tracks.

Usage: fetch_world.py DIR [--extra N] [--small] [--only-extra] [--quirks]
                       [world overrides as KEY=JSON ...]
Writes DIR/world.json, DIR/seed.sql and the audio files (made with the ffmpeg CLI).

The fixed tracks (ids 1-8), one per situation af-fetch must handle:
  1 on Spotify with a preview (and on Deezer and iTunes)  2 Spotify preview_url null, on Deezer
  3 only on Deezer, found by ISRC   4 only on iTunes (M4A)   5 nowhere
  6 everywhere without a preview    7 same audio as 1, on Deezer   8 Deezer, 3 s of audio (too short)
--quirks adds the providers' real quirks (API_FORMATS.md, issue 17), ids 11-13:
  11 ISRC known, Deezer's ISRC route answers 800 "no data" (HTTP 404), its search finds it
  12 on Deezer with "readable": false (a preview URL all the same), on iTunes (M4A)
  13 no ISRC of ours; Spotify knows it (ISRC, no preview), Deezer's ISRC route does not,
     its search does: the main route now that Spotify serves no previews
--hostile PORT adds tracks 21-24, only on Deezer, whose preview URLs are hostile
(issue 19): gopher:// and dict:// to 127.0.0.1:PORT, file:///etc/passwd, and a
redirect from the preview host to gopher://127.0.0.1:PORT.
Extra tracks (ids 101...) are on Deezer with distinct MP3s (one file, a distinct ID3v1
tag appended) so that every preview has its own sha256; --small makes them 30 s of
32 kbit/s mono (120 kB) instead of 128 kbit/s stereo (480 kB).
"""
import json
import os
import subprocess
import sys


def ffmpeg(out, seconds, freq, codec_args):
    if not os.path.exists(out):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=%d:duration=%s" % (freq, seconds), "-ac", "2", "-ar", "44100"]
                       + codec_args + [out], check=True)


def main():
    out = sys.argv[1]
    extra, only_extra, quirks, hostile, overrides = 0, False, False, None, {}
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--extra":
            extra = int(args.pop(0))
        elif a == "--small":
            overrides["_small"] = True
        elif a == "--only-extra":
            only_extra = True
        elif a == "--quirks":
            quirks = True
        elif a == "--hostile":
            hostile = int(args.pop(0))
        else:
            k, v = a.split("=", 1)
            overrides[k] = json.loads(v)
    os.makedirs(out, exist_ok=True)
    ffmpeg(os.path.join(out, "a.mp3"), 30, 440, ["-b:a", "128k"])
    ffmpeg(os.path.join(out, "b.mp3"), 30, 550, ["-b:a", "128k"])
    ffmpeg(os.path.join(out, "c.mp3"), 29, 660, ["-b:a", "96k"])
    ffmpeg(os.path.join(out, "d.m4a"), 30, 330, ["-c:a", "aac", "-b:a", "128k"])
    ffmpeg(os.path.join(out, "short.mp3"), 3, 770, ["-b:a", "128k"])
    T = []
    if not only_extra:
        T = [
            {"id": 1, "artist": "The Alphas", "title": "First Light", "isrc": "USAAA0000001", "duration": 200,
             "spotify": {"id": "sp1", "preview": True}, "deezer": {"id": 501}, "itunes": {"id": 901}, "audio": "a.mp3"},
            {"id": 2, "artist": "Beta Band", "title": "Second Wind (Remastered)", "duration": 180,
             "spotify": {"id": "sp2", "preview": False}, "deezer": {"id": 502}, "audio": "b.mp3"},
            {"id": 3, "artist": "Gamma Ray", "title": "Third Eye", "isrc": "USCCC0000003", "duration": 240,
             "deezer": {"id": 503}, "audio": "c.mp3"},
            {"id": 4, "artist": "Délta", "title": "Fourth Floor", "duration": 210,
             "itunes": {"id": 904}, "audio": "d.m4a"},
            {"id": 5, "artist": "Nobody Knows", "title": "Fifth Element", "duration": 190},
            {"id": 6, "artist": "Epsilon", "title": "Sixth Sense", "duration": 199,
             "spotify": {"id": "sp6", "preview": False}, "deezer": {"id": 506, "preview": False},
             "itunes": {"id": 906, "preview": False}, "audio": "a.mp3"},
            {"id": 7, "artist": "Zeta", "title": "Seventh Heaven", "duration": 205,
             "deezer": {"id": 507}, "audio": "a.mp3"},
            {"id": 8, "artist": "Eta", "title": "Eighth Wonder", "duration": 201,
             "deezer": {"id": 508}, "audio": "short.mp3"},
        ]
    if quirks:
        ffmpeg(os.path.join(out, "e.mp3"), 30, 880, ["-b:a", "128k"])
        ffmpeg(os.path.join(out, "f.mp3"), 30, 990, ["-b:a", "128k"])
        ffmpeg(os.path.join(out, "g.mp3"), 30, 1100, ["-b:a", "128k"])
        T += [
            {"id": 11, "artist": "Iota", "title": "Isrc Unknown", "isrc": "USQQQ0000011", "duration": 200,
             "deezer": {"id": 511, "isrc_lookup": False}, "audio": "e.mp3"},
            {"id": 12, "artist": "Kappa", "title": "Not Readable", "duration": 200,
             "deezer": {"id": 512, "readable": False}, "itunes": {"id": 912}, "audio": "g.mp3", "audio_m4a": "d.m4a"},
            {"id": 13, "artist": "Lambda", "title": "Spotify Isrc", "isrc": "USQQQ0000013", "seed_isrc": False,
             "duration": 200, "spotify": {"id": "sp13", "preview": False},
             "deezer": {"id": 513, "isrc_lookup": False}, "audio": "f.mp3"},
        ]
    if hostile:
        urls = ["gopher://127.0.0.1:%d/_SET%%20pwned%%201" % hostile, "file:///etc/passwd",
                "dict://127.0.0.1:%d/info" % hostile,
                "{base}/previews/redirect?to=gopher://127.0.0.1:%d/_SET%%2520pwned%%25202" % hostile]
        for i, url in enumerate(urls):
            T.append({"id": 21 + i, "artist": "Hostile %d" % i, "title": "Payload %d" % i, "duration": 200,
                      "deezer": {"id": 521 + i, "preview_url": url}, "audio": "a.mp3"})
    small = overrides.pop("_small", False)
    if small:
        ffmpeg(os.path.join(out, "small.mp3"), 30, 500, ["-ac", "1", "-b:a", "32k"])
    if extra:
        base = open(os.path.join(out, "small.mp3" if small else "b.mp3"), "rb").read()
        os.makedirs(os.path.join(out, "x"), exist_ok=True)
        for i in range(extra):
            name = "x/%05d.mp3" % i
            path = os.path.join(out, name)
            if not os.path.exists(path):
                tag = b"TAG" + ("Extra %d" % i).encode().ljust(30, b" ") + b" " * 94
                with open(path, "wb") as f:
                    f.write(base + tag[:128])
            T.append({"id": 101 + i, "artist": "Extra Artist %d" % i, "title": "Extra Song %d" % i,
                      "duration": 180, "deezer": {"id": 10000 + i}, "itunes": {"id": 20000 + i},
                      "audio": name})
    world = {"tracks": T}
    world.update(overrides)
    with open(os.path.join(out, "world.json"), "w") as f:
        json.dump(world, f, indent=1)

    def lit(v):
        return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"

    with open(os.path.join(out, "seed.sql"), "w") as f:
        f.write("INSERT INTO taxonomy_versions (checksum, source_file) VALUES ('test', 'test') ON CONFLICT DO NOTHING;\n")
        f.write("INSERT INTO genres (name) VALUES ('rock') ON CONFLICT DO NOTHING;\n")
        f.write("INSERT INTO tracks (track_id, artist, title, isrc, duration_seconds) VALUES\n")
        f.write(",\n".join("(%d, %s, %s, %s, %s)" % (t["id"], lit(t["artist"]), lit(t["title"].replace(" (Remastered)", "")),
                                                    lit(t.get("isrc") if t.get("seed_isrc", True) else None),
                                                    t.get("duration")) for t in T))
        f.write(";\nINSERT INTO track_labels (track_id, taxonomy_version, status, genre_id)"
                " SELECT track_id, (SELECT max(taxonomy_version) FROM taxonomy_versions), 'labelled',"
                " (SELECT genre_id FROM genres WHERE name = 'rock') FROM tracks;\n")


if __name__ == "__main__":
    main()
