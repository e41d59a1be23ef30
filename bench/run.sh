#!/usr/bin/env bash
# bench/run.sh: the whole benchmark of issue 9 in one command (as root, Debian 12).
#
#   bench/run.sh [--smoke] [--build-dir DIR] [--out DIR] [--micro-filter REGEX]
#                [--messages N] [--configs LIST] [--skip-micro] [--sweep-only]
#
# 1. installs what is missing (scripts/deps.sh) and builds a release tree in build-bench
#    (ccache when present); --build-dir DIR skips both and uses DIR (the ctest smoke test),
# 2. micro: build-bench/bench/micro_smime (Google Benchmark; ours vs raw OpenSSL CMS),
# 3. end to end: smtp-source -> private Postfix (tests/harness/postfix-instance.sh) ->
#    smtp-sink, one run per configuration x socket kind (unix, tcp) x sessions (5, 20):
#    none, null (tests/harness/null_milter.cpp), opendkim (Debian's, signing), sign,
#    enc1, enc3 (smime-milter sign+encrypt to 1 / 3 recipients), verify (inbound,
#    pre-signed mail) and cli (a Postfix content_filter calling `openssl cms -sign`),
#    plus a message-size sweep of sign (milter CPU per message against size),
# 4. memory: smime-milter peak RSS with 100 idle milter connections and with one 50 MB
#    message,
# 5. writes OUT (default bench/results/<UTC date-time>/): results.md, results.json,
#    throughput.svg, cpu_vs_size.svg and the raw files (micro.json, e2e.jsonl, ...).
# --smoke: a few hundred messages, configs none,null,sign on a unix socket, 5 sessions,
# a short micro filter. Exit status 0 when every run was valid and the outputs exist.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")

SMOKE=0
BUILD=
OUT=
MICRO_FILTER=
MESSAGES=
CONFIGS=
SKIP_MICRO=0
SWEEP_ONLY=0
while (($# > 0)); do
  case $1 in
    --smoke) SMOKE=1; shift ;;
    --build-dir) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --micro-filter) MICRO_FILTER=$2; shift 2 ;;
    --messages) MESSAGES=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    --skip-micro) SKIP_MICRO=1; shift ;;    # keep OUT/micro.json of an earlier run
    --sweep-only) SWEEP_ONLY=1; shift ;;    # append the size sweep + memory to OUT/e2e.jsonl
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh must run as root (Postfix, opendkim)" >&2; exit 1; }

if ((SMOKE)); then
  : "${MESSAGES:=300}" "${CONFIGS:=none,null,sign}"
  : "${MICRO_FILTER:=^(sign|verify)/rsa2048/10240/}"
  SOCKETS=(unix)
  SESSIONS=(5)
  SIZES=()
  MICRO_MIN_TIME=0.05
else
  : "${MESSAGES:=5000}" "${CONFIGS:=none,null,opendkim,sign,enc1,enc3,verify,cli}"
  : "${MICRO_FILTER:=.}"
  SOCKETS=(unix tcp)
  SESSIONS=(5 20)
  SIZES=(2048 102400 1048576)  # the sweep adds these to the 10 KB runs
  MICRO_MIN_TIME=0.1
fi
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
: "${OUT:=$BENCH/results/$STAMP}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
say() { printf '\n== %s\n' "$*" >&2; }

if [[ -z $BUILD ]]; then
  say "Installing missing Debian packages"
  "$ROOT/scripts/deps.sh"
  say "Building the release tree build-bench"
  BUILD=$ROOT/build-bench
  launcher=()
  if command -v ccache >/dev/null; then
    export CCACHE_BASEDIR=$ROOT
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMIME_WERROR=ON "${launcher[@]}" >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target smime-milter smimectl null-milter micro_smime
fi
for b in milter/smime-milter cli/smimectl tests/harness/null-milter bench/micro_smime; do
  [[ -x $BUILD/$b ]] || { echo "missing $BUILD/$b (build it first)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/smime-bench-XXXXXX)
chmod 0711 "$WORK"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"
trap bench_cleanup EXIT

say "Test PKI and keystore"
bench_setup

if ((SKIP_MICRO)); then
  [[ -s $OUT/micro.json ]] || { echo "--skip-micro needs $OUT/micro.json" >&2; exit 1; }
else
say "Micro benchmarks (filter '$MICRO_FILTER')"
BENCH_PKI=$PKI "$BUILD/bench/micro_smime" --benchmark_filter="$MICRO_FILTER" \
  --benchmark_min_time="$MICRO_MIN_TIME" --benchmark_out="$OUT/micro.json" \
  --benchmark_out_format=json --benchmark_format=console >"$OUT/micro.txt" 2>&1 ||
  { cat "$OUT/micro.txt" >&2; exit 1; }
tail -n 5 "$OUT/micro.txt" >&2
fi

say "End to end: $MESSAGES messages per run, configs $CONFIGS"
IFS=, read -r -a CONFIG_LIST <<<"$CONFIGS"
if ((SWEEP_ONLY)); then
  CONFIG_LIST=()
else
  : >"$OUT/e2e.jsonl"
fi
for cfg in "${CONFIG_LIST[@]}"; do
  for sessions in "${SESSIONS[@]}"; do
    if [[ $cfg == none || $cfg == cli ]]; then
      e2e_run "$cfg" - "$sessions" "$MESSAGES" 10240 >>"$OUT/e2e.jsonl"
    else
      for sock in "${SOCKETS[@]}"; do
        e2e_run "$cfg" "$sock" "$sessions" "$MESSAGES" 10240 >>"$OUT/e2e.jsonl"
      done
    fi
  done
done
if [[ ,$CONFIGS, == *,sign,* ]]; then
  for size in "${SIZES[@]}"; do
    n=$((size >= 1048576 ? 300 : 1000))
    ((n <= MESSAGES)) || n=$MESSAGES
    e2e_run sign unix 5 "$n" "$size" >>"$OUT/e2e.jsonl"
  done
fi

say "Memory: 100 idle connections, one 50 MB message"
memory_runs "$( ((SMOKE)) && echo 5000000 || echo 50000000)" >"$OUT/memory.json"

say "Report"
python3 "$BENCH/report.py" --out "$OUT" --machine "$(machine_line)"
cat "$OUT/results.md"
echo "results in $OUT" >&2
python3 "$BENCH/report.py" --out "$OUT" --check
