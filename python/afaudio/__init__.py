"""afaudio — librosa-equal audio features from Python, over libafaudio.so.

A thin ctypes layer over AudioFiler's analysis library (analysis/include/afaudio.h.in
says what each value is and which librosa 0.10.1 function it equals, with the
tolerances): no compiled extension, only the shared library and numpy.

    import afaudio
    f = afaudio.features("song.mp3")          # dict of librosa-named arrays
    f["mfcc"].shape                           # (20, n_frames), float32, like librosa
    y, sr = afaudio.load("song.mp3")          # = librosa.load(path, sr=22050)
    afaudio.mfcc(y=y, sr=sr)                  # = librosa.feature.mfcc(y=y, sr=sr)
    windows, track = afaudio.vectors("song.mp3")   # AudioFiler's feature set v1

Every function takes y (mono samples at 22050 Hz; computed in float32 as librosa
does for librosa.load's float32 output) or a path (decoded whole).  Arrays are
returned as librosa returns them: frame features (rows, n_frames), onset_strength
(n_frames,), tempo (1,) float64; float32 but for spectral_centroid,
spectral_bandwidth, spectral_rolloff, spectral_contrast and zero_crossing_rate, which
librosa gives as float64 (the values are computed in float32 all the same).

The library is found through $AFAUDIO_LIBRARY (a path), else as libafaudio.so.0
(installed by AudioFiler's `make install`; LD_LIBRARY_PATH or ldconfig must know
its directory).
"""
import ctypes
import os

import numpy as np

__all__ = [
    "Error", "SAMPLE_RATE", "N_FFT", "HOP_LENGTH", "version", "load", "features",
    "mfcc", "spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
    "spectral_flatness", "spectral_contrast", "zero_crossing_rate", "rms",
    "chroma_stft", "onset_strength", "tempo", "estimate_tuning", "hpss_energy",
    "vectors", "feature_names", "row_names",
]

SAMPLE_RATE = 22050
N_FFT = 2048
HOP_LENGTH = 512
_SONAME = "libafaudio.so.0"
_N_ROWS = 46
_N_FEATURES = 326

# (first row, rows) of each frame feature in afaudio_frames.data: afaudio.h's order.
_ROWS = {
    "mfcc": (0, 20),
    "spectral_centroid": (20, 1),
    "spectral_bandwidth": (21, 1),
    "spectral_rolloff": (22, 1),
    "spectral_flatness": (23, 1),
    "spectral_contrast": (24, 7),
    "zero_crossing_rate": (31, 1),
    "rms": (32, 1),
    "chroma_stft": (33, 12),
    "onset_strength": (45, 1),
}
# librosa 0.10.1 returns these as float64 (it computes them against float64 bin
# frequencies, or counts crossings in float64) and the others as float32; the values
# are the library's float32 ones, widened, so that shapes and dtypes are librosa's.
_FLOAT64 = {"spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
            "spectral_contrast", "zero_crossing_rate"}


class Error(Exception):
    """The library refused an input or failed; .reason is the decode failure's
    stable name ("unreadable", "corrupt", "too_short", ...) or ""."""

    def __init__(self, message, reason=""):
        super().__init__(message)
        self.reason = reason


class _Error(ctypes.Structure):
    _fields_ = [("message", ctypes.c_char * 1024), ("reason", ctypes.c_char * 16)]


class _Frames(ctypes.Structure):
    _fields_ = [
        ("n_frames", ctypes.c_size_t),
        ("data", ctypes.POINTER(ctypes.c_float)),
        ("harmonic_energy", ctypes.POINTER(ctypes.c_float)),
        ("percussive_energy", ctypes.POINTER(ctypes.c_float)),
        ("tempo", ctypes.c_double),
        ("tuning", ctypes.c_double),
    ]


def _open_library():
    lib = ctypes.CDLL(os.environ.get("AFAUDIO_LIBRARY") or _SONAME)
    c_float_p = ctypes.POINTER(ctypes.c_float)
    err_p = ctypes.POINTER(_Error)
    signatures = {
        "afaudio_version": (ctypes.c_char_p, []),
        "afaudio_load": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_double,
                                        ctypes.POINTER(c_float_p),
                                        ctypes.POINTER(ctypes.c_size_t), err_p]),
        "afaudio_free": (None, [ctypes.c_void_p]),
        "afaudio_new": (ctypes.c_void_p, [err_p]),
        "afaudio_destroy": (None, [ctypes.c_void_p]),
        "afaudio_compute": (ctypes.c_int, [ctypes.c_void_p, c_float_p, ctypes.c_size_t,
                                           ctypes.POINTER(_Frames), err_p]),
        "afaudio_frames_free": (None, [ctypes.POINTER(_Frames)]),
        "afaudio_vectors": (ctypes.c_int, [ctypes.POINTER(_Frames), ctypes.c_double,
                                           ctypes.c_double, ctypes.POINTER(c_float_p),
                                           ctypes.POINTER(ctypes.c_size_t), c_float_p,
                                           err_p]),
        "afaudio_feature_name": (ctypes.c_char_p, [ctypes.c_int]),
        "afaudio_row_name": (ctypes.c_char_p, [ctypes.c_int]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    major = lib.afaudio_version().decode().split(".")[0]
    if major != _SONAME.rsplit(".", 1)[1]:
        raise ImportError(f"afaudio: the library is version {lib.afaudio_version().decode()}, "
                          f"this module needs {_SONAME}")
    return lib


_lib = _open_library()


def _raise(err):
    raise Error(err.message.decode(errors="replace"), err.reason.decode())


def version():
    """The shared library's version (AudioFiler's VERSION)."""
    return _lib.afaudio_version().decode()


def load(path, sr=SAMPLE_RATE, excerpt=None):
    """(y, 22050) like librosa.load(path, sr=22050): mono float32, channels averaged,
    soxr HQ resampling.  excerpt: seconds of the central part to keep (None: all).
    Raises Error (with .reason) for inputs that are not usable audio."""
    _check_rate(sr)
    samples = ctypes.POINTER(ctypes.c_float)()
    n = ctypes.c_size_t()
    err = _Error()
    if _lib.afaudio_load(os.fsencode(path), float(excerpt or 0), ctypes.byref(samples),
                         ctypes.byref(n), ctypes.byref(err)) != 0:
        _raise(err)
    try:
        y = np.ctypeslib.as_array(samples, shape=(n.value,)).copy()
    finally:
        _lib.afaudio_free(samples)
    return y, SAMPLE_RATE


def _check_rate(sr):
    if sr != SAMPLE_RATE:
        raise ValueError(f"afaudio works at sr={SAMPLE_RATE} only (got sr={sr}); "
                         f"load the audio with afaudio.load or resample it first")


def _samples(y, sr):
    _check_rate(sr)
    if isinstance(y, (str, bytes, os.PathLike)):
        return load(y)[0]
    y = np.ascontiguousarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"afaudio needs mono audio, a 1-D array (got shape {y.shape})")
    return y


class _Computed:
    """One afaudio_compute: every frame feature of y, as numpy arrays."""

    def __init__(self, y):
        err = _Error()
        handle = _lib.afaudio_new(ctypes.byref(err))
        if not handle:
            _raise(err)
        frames = _Frames()
        try:
            rc = _lib.afaudio_compute(handle, y.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                      y.size, ctypes.byref(frames), ctypes.byref(err))
        finally:
            _lib.afaudio_destroy(handle)
        if rc != 0:
            _raise(err)
        try:
            n = frames.n_frames
            self.n_frames = n
            self.data = np.ctypeslib.as_array(frames.data, shape=(_N_ROWS, n)).copy()
            self.harmonic = np.ctypeslib.as_array(frames.harmonic_energy, shape=(n,)).copy()
            self.percussive = np.ctypeslib.as_array(frames.percussive_energy, shape=(n,)).copy()
            self.tempo = np.array([frames.tempo], dtype=np.float64)
            self.tuning = np.float64(frames.tuning)
            self._frames = frames
        except BaseException:
            _lib.afaudio_frames_free(ctypes.byref(frames))
            raise

    def __del__(self):
        frames = getattr(self, "_frames", None)
        if frames is not None:
            _lib.afaudio_frames_free(ctypes.byref(frames))

    def rows(self, name):
        first, count = _ROWS[name]
        dtype = np.float64 if name in _FLOAT64 else np.float32
        if name == "onset_strength":
            return self.data[first].copy()  # librosa: shape (n_frames,)
        return self.data[first:first + count].astype(dtype)  # a copy either way

    def vectors(self, window, hop):
        windows = ctypes.POINTER(ctypes.c_float)()
        n_windows = ctypes.c_size_t()
        track = np.zeros(_N_FEATURES, dtype=np.float32)
        err = _Error()
        if _lib.afaudio_vectors(ctypes.byref(self._frames), float(window), float(hop),
                                ctypes.byref(windows), ctypes.byref(n_windows),
                                track.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                ctypes.byref(err)) != 0:
            _raise(err)
        try:
            out = np.ctypeslib.as_array(windows, shape=(n_windows.value, _N_FEATURES)).copy()
        finally:
            _lib.afaudio_free(windows)
        return out, track


def _compute(y, sr):
    return _Computed(_samples(y, sr))


def features(y, sr=SAMPLE_RATE, excerpt=None):
    """Every feature of a path (decoded whole unless excerpt is given) or of y, keyed
    by the librosa function it equals: mfcc, spectral_centroid, spectral_bandwidth,
    spectral_rolloff, spectral_flatness, spectral_contrast, zero_crossing_rate, rms,
    chroma_stft, onset_strength, tempo; plus tuning (librosa.estimate_tuning) and
    harmonic_energy, percussive_energy (hpss_energy)."""
    if isinstance(y, (str, bytes, os.PathLike)):
        y = load(y, sr, excerpt)[0]
    elif excerpt is not None:
        raise ValueError("excerpt applies to a path; cut the array y yourself")
    c = _compute(y, sr)
    out = {name: c.rows(name) for name in _ROWS}
    out["tempo"] = c.tempo
    out["tuning"] = c.tuning
    out["harmonic_energy"] = c.harmonic
    out["percussive_energy"] = c.percussive
    return out


def _feature(name, doc):
    def function(y, sr=SAMPLE_RATE):
        return _compute(y, sr).rows(name)
    function.__name__ = name
    function.__doc__ = doc
    return function


mfcc = _feature("mfcc", "librosa.feature.mfcc(y=y, sr=22050): (20, n_frames) float32.")
spectral_centroid = _feature("spectral_centroid", "librosa.feature.spectral_centroid: (1, n_frames).")
spectral_bandwidth = _feature("spectral_bandwidth", "librosa.feature.spectral_bandwidth: (1, n_frames).")
spectral_rolloff = _feature("spectral_rolloff", "librosa.feature.spectral_rolloff: (1, n_frames).")
spectral_flatness = _feature("spectral_flatness", "librosa.feature.spectral_flatness: (1, n_frames).")
spectral_contrast = _feature("spectral_contrast", "librosa.feature.spectral_contrast: (7, n_frames).")
zero_crossing_rate = _feature("zero_crossing_rate", "librosa.feature.zero_crossing_rate: (1, n_frames).")
rms = _feature("rms", "librosa.feature.rms: (1, n_frames).")
chroma_stft = _feature("chroma_stft", "librosa.feature.chroma_stft (tuning estimated): (12, n_frames).")
onset_strength = _feature("onset_strength", "librosa.onset.onset_strength: (n_frames,).")


def tempo(y, sr=SAMPLE_RATE):
    """librosa.feature.tempo(y=y, sr=22050): BPM, shape (1,), float64."""
    return _compute(y, sr).tempo


def estimate_tuning(y, sr=SAMPLE_RATE):
    """librosa.estimate_tuning(y=y, sr=22050): semitones, a float64 in 0.01 steps."""
    return _compute(y, sr).tuning


def hpss_energy(y, sr=SAMPLE_RATE):
    """(harmonic, percussive): per frame, sum over bins of |H|^2 and |P|^2 for
    H, P = librosa.decompose.hpss(librosa.stft(y)); each (n_frames,) float32."""
    c = _compute(y, sr)
    return c.harmonic, c.percussive


def vectors(y, sr=SAMPLE_RATE, window=3.0, hop=3.0, excerpt=30.0):
    """AudioFiler's feature set v1, as af-features prints it: (windows, track), windows
    (n_windows, 326) float32 and track (326,) float32, in feature_names() order.  A
    path is cut to its central `excerpt` seconds first (None: all), as the pipeline
    does; y is used whole."""
    if isinstance(y, (str, bytes, os.PathLike)):
        y = load(y, sr, excerpt)[0]
    return _compute(y, sr).vectors(window, hop)


def feature_names():
    """The 326 names of a feature vector: "mfcc01_mean" ... "harmonic_share"."""
    return [_lib.afaudio_feature_name(i).decode() for i in range(_N_FEATURES)]


def row_names():
    """The 46 frame rows' names: "mfcc01" ... "chroma12", "onset"."""
    return [_lib.afaudio_row_name(i).decode() for i in range(_N_ROWS)]
