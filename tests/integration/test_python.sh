#!/usr/bin/env bash
# The Python module python/afaudio (ctypes over build/libafaudio.so) against
# librosa's reference arrays: see test_python.py.  Uses the optimised build's
# shared library, so it runs once, with build/bin (the sanitizer build runs
# tests/unit/test_afaudio.c, the same C interface).  Needs numpy (python3-numpy).
source "$AF_PROJECT/tests/lib.sh"

case "$AF_BIN" in
*build-asan/bin) echo "# the Python module loads build/'s library: checked in the build/bin run"; exit 0 ;;
esac

# The first Python that has numpy: $PYTHON, python3 on PATH, Debian's.
python=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$candidate" -c 'import numpy' 2>/dev/null; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
    fail "a python3 with numpy is installed (scripts/debian-packages: python3-numpy)"
    exit 1
fi
version=$(cat "$AF_PROJECT/VERSION")
AFAUDIO_LIBRARY="$AF_PROJECT/build/libafaudio.so.${version%%.*}" \
    "$python" "$AF_PROJECT/tests/integration/test_python.py" "$AF_PROJECT" "$AF_BIN/af-features" "$test_tmp"
