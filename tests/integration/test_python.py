"""test_python.py — the Python module (python/afaudio) against librosa 0.10.1's own
arrays: the synthetic signals' references in tests/data/librosa/synth (copied from
shared/reference/librosa, see its README) and, when ../shared is present, the real
clips' in ../shared/reference/librosa/clips.  Same shapes, orientation and dtype as
librosa's; values within 1e-4 of each array's maximum (the reference README's
"faithful port" bound), rolloff equal or one FFT bin away on at most 1 % of the
frames, tempo equal, tuning within one 0.01 step (chroma_stft compared when the
tuning is the same, chroma_stft_tuning0 being the C tests' business).  Also: the
feature vectors equal af-features' .npy output, errors are exceptions with the
reason.  Prints "ok - ..." / "not ok - ..." lines; run by test_python.sh.

Usage: python3 test_python.py PROJECT_DIR AF_FEATURES_PROGRAM TMPDIR
"""
import json
import os
import subprocess
import sys
import wave

import numpy as np

project, af_features, tmp = sys.argv[1:4]
sys.path.insert(0, os.path.join(project, "python"))
import afaudio  # noqa: E402

TOLERANCE = 1e-4
ROLLOFF_BIN = 22050 / 2048
synth = os.path.join(project, "tests/data/librosa/synth")
clips = os.path.join(project, "../shared/reference/librosa/clips")
clip_audio = os.path.join(project, "../shared/reference/audio")
failures = 0


def check(condition, name, detail=""):
    global failures
    if condition:
        print(f"ok - {name}")
    else:
        failures += 1
        print(f"not ok - {name}")
        if detail:
            print(f"#   {detail}")


def relative_error(ours, ref):
    scale = np.abs(ref).max()
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64)).max()
    return diff / scale if scale > 0 else diff


def compare(label, ours, reference_dir, meta_tuning):
    """Every librosa array in reference_dir against ours (afaudio.features' dict)."""
    for name in ["mfcc", "spectral_centroid", "spectral_bandwidth", "spectral_flatness",
                 "spectral_contrast", "zero_crossing_rate", "rms", "onset_strength",
                 "spectral_rolloff", "chroma_stft", "tempo"]:
        ref = np.load(os.path.join(reference_dir, name + ".npy"))
        got = ours[name]
        check(got.shape == ref.shape and got.dtype == ref.dtype,
              f"{label} {name}: shape {ref.shape} and dtype {ref.dtype} as librosa's",
              f"got {got.shape} {got.dtype}")
        if got.shape != ref.shape:
            continue
        if name == "tempo":
            check(got[0] == ref[0], f"{label} tempo equals librosa's ({ref[0]:.4f} BPM)",
                  f"got {got[0]}")
        elif name == "spectral_rolloff":
            moved = np.abs(got - ref) > 1e-3
            far = np.abs(got - ref) > ROLLOFF_BIN + 0.01
            check(not far.any() and moved.sum() * 100 <= got.size,
                  f"{label} spectral_rolloff equal but for one bin on {moved.sum()} "
                  f"of {got.size} frames", f"{far.sum()} frames further")
        elif name == "chroma_stft":
            step = abs(float(ours["tuning"]) - meta_tuning)
            check(step <= 0.01 + 1e-6, f"{label} tuning {float(ours['tuning']):.2f} within "
                  f"one step of librosa's {meta_tuning:.2f}")
            if step < 1e-6:
                e = relative_error(got, ref)
                check(e <= TOLERANCE, f"{label} chroma_stft within {TOLERANCE:g} "
                      f"(max rel error {e:.2g})")
        else:
            e = relative_error(got, ref)
            check(e <= TOLERANCE, f"{label} {name} within {TOLERANCE:g} (max rel error {e:.2g})")


def wav_samples(path):
    with wave.open(path) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return raw.astype(np.float32) / 32768.0


# ---- the synthetic signals: load, features(path), per-feature functions ------------
meta = json.load(open(os.path.join(synth, "meta.json")))
for signal in ["tones", "beats", "sweep"]:
    path = os.path.join(synth, signal + ".wav")
    y, sr = afaudio.load(path)
    check(sr == 22050 and y.dtype == np.float32 and y.shape == (meta[signal]["n_samples"],),
          f"{signal}: load gives float32 mono at 22050 Hz, {meta[signal]['n_samples']} samples")
    check(np.array_equal(y, wav_samples(path)),
          f"{signal}: loaded samples are the WAV's int16 / 32768, what librosa was fed")
    compare(signal, afaudio.features(path), os.path.join(synth, signal),
            meta[signal]["tuning_stft"])

y, sr = afaudio.load(os.path.join(synth, "beats.wav"))
whole = afaudio.features(y, sr=sr)
for name in ["mfcc", "spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
             "spectral_flatness", "spectral_contrast", "zero_crossing_rate", "rms",
             "chroma_stft", "onset_strength", "tempo"]:
    got = getattr(afaudio, name)(y=y, sr=sr)
    check(np.array_equal(got, whole[name]) and got.dtype == whole[name].dtype,
          f"afaudio.{name}(y=y, sr=sr) equals features()['{name}'], shape {got.shape}")
check(afaudio.estimate_tuning(y) == whole["tuning"], "afaudio.estimate_tuning(y) is features()'s")
harmonic, percussive = afaudio.hpss_energy(y)
check(harmonic.shape == percussive.shape == (whole["mfcc"].shape[1],)
      and (harmonic >= 0).all() and (percussive >= 0).all(),
      "hpss_energy: two non-negative (n_frames,) arrays")
harmonic, percussive = afaudio.hpss_energy(os.path.join(synth, "tones.wav"))
check(harmonic.sum() > 10 * percussive.sum(), "tones (sustained chords) is mostly harmonic",
      f"harmonic {harmonic.sum():.4g}, percussive {percussive.sum():.4g}")
harmonic, percussive = afaudio.hpss_energy(os.path.join(synth, "sweep.wav"))
# sweep is silent from 5.0 to 6.0 s: frames 218..256 (centre +- 1024 samples) see only zeros
check((harmonic[218:257] == 0).all() and (percussive[218:257] == 0).all()
      and harmonic[100] > 0 and percussive[100] > 0,
      "sweep's frames of digital silence have no energy, the others have")
check(np.array_equal(afaudio.mfcc(os.path.join(synth, "beats.wav")), whole["mfcc"]),
      "a per-feature function takes a path as well")
check(np.array_equal(afaudio.mfcc(y.astype(np.float64)), whole["mfcc"]),
      "float64 samples are computed in float32, as librosa.load's are")

# ---- feature vectors: the same numbers af-features prints ----------------------------
path = os.path.join(synth, "tones.wav")
out = os.path.join(tmp, "tones.npy")
for mode in ["windows", "track"]:
    subprocess.run([af_features, "--format", "npy", "--" + mode, "-o", out, path], check=True)
    theirs = np.load(out)
    windows, track = afaudio.vectors(path)
    ours = windows if mode == "windows" else track[np.newaxis, :]
    check(ours.shape == theirs.shape and np.array_equal(ours, theirs),
          f"vectors(path) {mode} equal af-features --{mode} ({ours.shape})",
          f"theirs {theirs.shape}")
names = afaudio.feature_names()
check(len(names) == 326 and names[0] == "mfcc01_mean" and names[-1] == "harmonic_share",
      "feature_names: 326, mfcc01_mean ... harmonic_share")
check(afaudio.row_names()[33] == "chroma01" and len(afaudio.row_names()) == 46,
      "row_names: the 46 frame rows")
windows, track = afaudio.vectors(afaudio.load(path)[0], window=1.5, hop=1.5)
check(windows.shape == (8, 326), "vectors of y with 1.5 s windows: 8 of a 12 s signal",
      f"got {windows.shape}")

# ---- errors ------------------------------------------------------------------------
try:
    afaudio.features(os.path.join(tmp, "missing.mp3"))
    check(False, "a missing file raises afaudio.Error")
except afaudio.Error as e:
    check(e.reason == "unreadable" and "missing.mp3" in str(e),
          "a missing file raises afaudio.Error naming it, reason 'unreadable'", str(e))
text = os.path.join(tmp, "notes.mp3")
with open(text, "w") as f:
    f.write("not audio at all\n" * 50)
try:
    afaudio.load(text)
    check(False, "a text file raises afaudio.Error")
except afaudio.Error as e:
    check(e.reason == "unreadable", "a text file named .mp3 is refused as unreadable", e.reason)
for bad, what in [(np.zeros(100, dtype=np.float32), "100 samples (less than a frame)"),
                  (np.full(4096, np.nan, dtype=np.float32), "NaN samples")]:
    try:
        afaudio.mfcc(bad)
        check(False, f"{what} raise afaudio.Error")
    except afaudio.Error as e:
        check(str(e) != "", f"{what} raise afaudio.Error with a message", str(e))
for call, what in [(lambda: afaudio.mfcc(y, sr=44100), "sr=44100"),
                   (lambda: afaudio.features(y, excerpt=3.0), "an excerpt of an array"),
                   (lambda: afaudio.mfcc(np.zeros((2, 4096))), "a 2-D (stereo) array")]:
    try:
        call()
        check(False, f"{what} raises ValueError")
    except ValueError:
        check(True, f"{what} raises ValueError")

# ---- the real clips, where ../shared is present --------------------------------------
if os.path.isdir(clips) and os.path.isdir(clip_audio):
    for clip, reference in [("blues", "blues"), ("classical", "classical"), ("country", "country"),
                            ("disco", "disco"), ("hiphop", "hiphop"), ("jazz", "jazz"),
                            ("metal", "metal"), ("pop", "pop"), ("reggae", "reggae"),
                            ("rock", "rock"), ("song", "song_soxr")]:
        clip_meta = json.load(open(os.path.join(clips, reference, "meta.json")))
        ours = afaudio.features(os.path.join(clip_audio, clip + ".mp3"))
        check(ours["mfcc"].shape[1] == clip_meta["n_frames"],
              f"clip {clip}: {clip_meta['n_frames']} frames, as librosa.load's samples give")
        compare("clip " + clip, ours, os.path.join(clips, reference), clip_meta["tuning_stft"])
else:
    print("# ../shared/reference not present: the real clips are not compared here")

sys.exit(1 if failures else 0)
