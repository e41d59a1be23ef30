#!/usr/bin/env bash
# ./test.sh: install what is missing, configure, build and run every test (ctest).
# Exit status is the tests'. Environment: PRESET (default|asan), JOBS, SMIME_CORPUS_DIR,
# SMIME_DEB_TEST=ON (default preset only: also build, install, run and purge the .deb;
# root on a throw-away machine, as CI is).
set -euo pipefail
cd "$(dirname "$0")"

PRESET=${PRESET:-default}
JOBS=${JOBS:-$(nproc)}

./scripts/deps.sh
if [ "$PRESET" = default ]; then
  cmake --preset default -DSMIME_DEB_TEST="${SMIME_DEB_TEST:-OFF}" >/dev/null
else
  cmake --preset "$PRESET" >/dev/null
fi
cmake --build --preset "$PRESET" -j "$JOBS"
ctest --preset "$PRESET" -j "$JOBS" "$@"
