#!/usr/bin/env bash
# The analysis library installed on its own: `make install` with PREFIX and with
# DESTDIR puts libafaudio.so (with its soname), afaudio.h and afaudio.pc in place;
# a small C program (library/use_afaudio.c) builds against the installed copy
# through pkg-config and analyses a generated sine and a generated WAV file; the
# .so exports only the afaudio_* API and needs no database, HTTP or config library.
# The library is the optimised build's (make install installs build/), so this runs
# once, with build/bin; the sanitizer build runs tests/unit/test_afaudio.c instead.
source "$AF_PROJECT/tests/lib.sh"

# af-features is the library's command-line face: its help says what the values are.
run af-features --help
expect_status 0 "af-features --help exits 0"
expect_out 'libafaudio' "af-features --help names the library it prints"
expect_out 'librosa 0\.10\.1' "af-features --help says which librosa the features equal"
for name in librosa.feature.mfcc spectral_centroid spectral_bandwidth spectral_rolloff \
    spectral_flatness spectral_contrast zero_crossing_rate librosa.feature.rms chroma_stft \
    onset_strength librosa.feature.tempo harmonic_share librosa.decompose.hpss; do
    expect_out "$name" "af-features --help describes $name"
done

case "$AF_BIN" in
*build-asan/bin) echo "# the installed library is build/'s: checked in the build/bin run"; exit 0 ;;
esac

version=$(cat "$AF_PROJECT/VERSION")
major=${version%%.*}
prefix="$test_tmp/prefix"

# make install also puts the configuration in the build's SYSCONFDIR (the host's
# /etc/audiofiler by default) where none is there, and keeps one that is. What this
# install adds there is removed again: a configuration left behind on the host by a test
# stops the next test_deb at dpkg's conffile prompt.
sysconfdir=$(sed -n 's/^#define AF_SYSCONFDIR "\(.*\)"$/\1/p' "$AF_PROJECT/build-gen/paths_build.h")
added_config=() kept_config=() added_sysconfdir=
[ -d "$sysconfdir" ] || added_sysconfdir=$sysconfdir
for f in audiofiler.conf genres.conf; do
    if [ -e "$sysconfdir/$f" ]; then kept_config+=("$sysconfdir/$f $(sha256sum <"$sysconfdir/$f")")
    else added_config+=("$sysconfdir/$f"); fi
done
remove_added_config() {
    [ ${#added_config[@]} -eq 0 ] || rm -f "${added_config[@]}"
    [ -z "$added_sysconfdir" ] || rmdir "$added_sysconfdir" 2>/dev/null
}
trap 'remove_added_config; cleanup_lib' EXIT

run make -s --no-print-directory -C "$AF_PROJECT" install PREFIX="$prefix"
expect_status 0 "make install PREFIX=... succeeds"
for f in "${added_config[@]}"; do
    [ -f "$f" ] && pass "make install put $f in place (absent before)" || fail "make install put $f in place"
done
for entry in "${kept_config[@]}"; do
    f=${entry%% *}
    expect_eq "${entry#* }" "$(sha256sum <"$f")" "make install kept the existing $f"
done
remove_added_config
for f in lib/libafaudio.so.$version lib/libafaudio.so.$major lib/libafaudio.so include/afaudio.h \
    lib/pkgconfig/afaudio.pc bin/af-features; do
    if [ -e "$prefix/$f" ]; then pass "installed: $f"; else fail "installed: $f" "missing $prefix/$f"; fi
done
expect_eq "libafaudio.so.$major" "$(readelf -d "$prefix/lib/libafaudio.so.$version" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')" \
    "the library's soname is libafaudio.so.$major"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
expect_eq "$version" "$(pkg-config --modversion afaudio)" "pkg-config --modversion afaudio is VERSION"
run pkg-config --cflags --libs afaudio
expect_out "^-I$prefix/include .*-L$prefix/lib -lafaudio *\$" "pkg-config gives the installed paths"
if grep -q "^#define AFAUDIO_VERSION \"$version\"\$" "$prefix/include/afaudio.h"; then
    pass "the installed header states the version"
else
    fail "the installed header states the version"
fi

# Only the public API leaves the library; nothing of the pipeline's infrastructure.
exported=$(nm -D --defined-only "$prefix/lib/libafaudio.so.$version" | awk '$2 == "T" {print $3}')
expect_no '^[^a]|^a[^f]|^af_' "$exported" "only afaudio_* functions are exported"
run nm -D --defined-only "$prefix/lib/libafaudio.so.$version"
expect_out 'afaudio_compute@@AFAUDIO_0' "the API's symbols carry the version node AFAUDIO_0"
needed=$(readelf -d "$prefix/lib/libafaudio.so.$version" | grep NEEDED)
expect_no 'libpq|libcurl|libinih|openblas' "$needed" "no database, HTTP, config or BLAS library is needed"

# A program outside the project, built through pkg-config against the installed copy.
make_tone "$test_tmp/a440.wav" 4 440
run sh -c "cc -std=c17 -Wall -Wextra -Werror -o '$test_tmp/use_afaudio' \
    '$AF_PROJECT/tests/integration/library/use_afaudio.c' \$(pkg-config --cflags --libs afaudio) -lm"
expect_status 0 "a C program builds against the installed library with pkg-config"
run sh -c "readelf -d '$test_tmp/use_afaudio' | grep NEEDED"
expect_out "libafaudio.so.$major" "the program is linked to the shared library's soname"
LD_LIBRARY_PATH="$prefix/lib" run "$test_tmp/use_afaudio" "$test_tmp/a440.wav"
expect_status 0 "the program runs against the installed library"
expect_out "^version $version $version\$" "header and library agree on the version"
value() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k {print $2}'; }
expect_eq "130" "$(value sine_frames)" "3 s at 22050 Hz: 1 + 66150 / 512 = 130 frames"
expect_eq "3" "$(value sine_windows)" "three 1 s windows"
expect_eq "chroma10" "$(value sine_chroma_peak)" "a 440 Hz sine's chroma peaks at A (chroma10)"
expect_eq "chroma10" "$(value file_chroma_peak)" "so does the decoded 440 Hz WAV file's"
expect_near() { # VALUE WANTED TOLERANCE NAME
    if awk -v v="$1" -v w="$2" -v t="$3" 'BEGIN { d = v - w; exit !(v != "" && d <= t && -d <= t) }'; then
        pass "$4"
    else
        fail "$4" "got '$1', wanted $2 +- $3"
    fi
}
# (a 2048-sample frame holds 40.9 periods: within 0.1 % of the whole-period value)
expect_near "$(value sine_rms)" 0.35355 0.0004 "rms of a 0.5 sine is 0.5 / sqrt(2)"
expect_near "$(value sine_centroid)" 440 20 "spectral centroid of a pure 440 Hz sine is near 440 Hz"
expect_eq "88200" "$(value file_samples)" "the 4 s WAV decodes to 88200 samples"

# The installed Python module finds the installed library by its soname.
python=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$candidate" -c 'import numpy' 2>/dev/null; then python=$candidate; break; fi
done
PYTHONPATH="$prefix/lib/python3/dist-packages" LD_LIBRARY_PATH="$prefix/lib" AFAUDIO_LIBRARY= \
    run "${python:-python3}" -c 'import afaudio; print(afaudio.__file__, afaudio.version(), afaudio.mfcc(afaudio.load("'"$test_tmp/a440.wav"'")[0]).shape)'
expect_status 0 "the installed Python module imports and runs"
expect_out "^$prefix/lib/python3/dist-packages/afaudio/__init__.py $version \(20, 173\)\$" \
    "it is the installed copy, on the installed library (4 s: 173 frames)"

# DESTDIR: files land under it, and the .pc names the final PREFIX, not DESTDIR.
run make -s --no-print-directory -C "$AF_PROJECT" install DESTDIR="$test_tmp/dest" PREFIX=/usr
expect_status 0 "make install DESTDIR=... PREFIX=/usr succeeds"
if [ -f "$test_tmp/dest/usr/lib/libafaudio.so.$version" ] && [ -f "$test_tmp/dest/usr/include/afaudio.h" ]; then
    pass "DESTDIR install puts the library and header under DESTDIR/usr"
else
    fail "DESTDIR install puts the library and header under DESTDIR/usr"
fi
expect_eq "prefix=/usr" "$(grep '^prefix=' "$test_tmp/dest/usr/lib/pkgconfig/afaudio.pc")" \
    "the DESTDIR install's afaudio.pc names PREFIX"
