#!/usr/bin/env bash
# ./test.sh: install what is missing, configure, build and run every test (ctest).
# Exit status is the tests'. Environment: PRESET (default|asan), JOBS, SMIME_CORPUS_DIR.
set -euo pipefail
cd "$(dirname "$0")"

PRESET=${PRESET:-default}
JOBS=${JOBS:-$(nproc)}

./scripts/deps.sh
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" -j "$JOBS"
ctest --preset "$PRESET" -j "$JOBS" "$@"
