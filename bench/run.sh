#!/usr/bin/env bash
# bench/run.sh: the whole benchmark of issue 9 in one command (as root, Debian 12).
#
#   bench/run.sh [--smoke] [--build-dir DIR] [--out DIR] [--micro-filter REGEX]
#                [--micro-min-time S] [--messages N] [--baseline-messages N]
#                [--configs LIST] [--skip-micro] [--sweep-only]
#
# 1. installs what is missing (scripts/deps.sh --bench) and builds a release tree in build-bench
#    (ccache when present); --build-dir DIR skips both and uses DIR (the ctest smoke test),
# 2. micro: build-bench/bench/micro_smime (Google Benchmark; ours vs raw OpenSSL CMS);
#    by default every operation, key, size, recipient count and cipher the issue lists,
#    but not their whole cross product (--micro-filter . runs all 150 pairs),
# 3. end to end: smtp-source -> private Postfix (tests/harness/postfix-instance.sh) ->
#    smtp-sink, one run per configuration x socket kind (unix, tcp) x sessions (5, 20):
#    none, null (tests/harness/null_milter.cpp), opendkim (Debian's, signing), sign,
#    enc1, enc3 (smime-milter sign+encrypt to 1 / 3 recipients), verify (inbound,
#    pre-signed mail) and cli (a Postfix content_filter calling `openssl cms -sign`),
#    plus a message-size sweep of sign (milter CPU per message against size);
#    --messages N per run (default 2500; the wait-bound baselines, cli and null/opendkim
#    on TCP, get --baseline-messages, default the same), so every configuration totals
#    at least 5000 messages (none and cli: 2 runs; the milters: 4) and the whole run,
#    build included, fits in 20 minutes on a 2-core machine,
# 4. memory: smime-milter peak RSS with 100 idle milter connections and with one 50 MB
#    message,
# 5. writes OUT (default bench/results/<UTC date-time>/): results.md, results.json,
#    throughput.svg, cpu_vs_size.svg and the raw files (micro.json, e2e.jsonl, ...).
# --smoke: a few hundred messages, configs none,null,sign on a unix socket, 5 sessions,
# a short micro filter. Exit status 0 when every run was valid and the outputs exist.
# Each phase's wall clock (setup, micro, e2e, sweep, memory, report) is printed, kept in
# OUT/phases.tsv and reported in results.md/results.json ("phase_seconds"); the full run
# is meant to finish within 20 minutes on an idle 2-core machine.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")

SMOKE=0
BUILD=
OUT=
MICRO_FILTER=
MESSAGES=
BASELINE_MESSAGES=
MICRO_MIN_TIME=
CONFIGS=
SKIP_MICRO=0
SWEEP_ONLY=0
while (($# > 0)); do
  case $1 in
    --smoke) SMOKE=1; shift ;;
    --build-dir) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --micro-filter) MICRO_FILTER=$2; shift 2 ;;
    --micro-min-time) MICRO_MIN_TIME=$2; shift 2 ;;  # Google Benchmark seconds per case
    --messages) MESSAGES=$2; shift 2 ;;
    --baseline-messages) BASELINE_MESSAGES=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    --skip-micro) SKIP_MICRO=1; shift ;;    # keep OUT/micro.json of an earlier run
    --sweep-only) SWEEP_ONLY=1; shift ;;    # append the size sweep + memory to OUT/e2e.jsonl
    *) sed -n '2,32p' "$0" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "bench/run.sh must run as root (Postfix, opendkim)" >&2; exit 1; }

# The default micro set (106 of the 150 pairs): sign, verify and decrypt (1 recipient,
# CBC and GCM) at every size and key; encrypt to 1, 3 and 10 recipients with CBC and GCM
# for every key at 10 KB; encrypt to 1 recipient (CBC, GCM) at every size and key; and
# the enc3 operation (RSA-2048, 3 recipients, CBC) at every size. Left out by default:
# 3 and 10 recipients at the other sizes (the per-recipient cost is the key transport,
# independent of the size; the bulk cipher is shared).
DEFAULT_MICRO_FILTER='^((sign|verify|decrypt)/|encrypt/[^/]+/10240/|encrypt/[^/]+/[0-9]+/r1/|encrypt/rsa2048/[0-9]+/r3/cbc/)'
if ((SMOKE)); then
  : "${MESSAGES:=300}" "${CONFIGS:=none,null,sign}"
  : "${BASELINE_MESSAGES:=$MESSAGES}"
  : "${MICRO_FILTER:=^(sign|verify)/rsa2048/10240/}"
  : "${MICRO_MIN_TIME:=0.05}"
  SOCKETS=(unix)
  SESSIONS=(5)
  SIZES=()
else
  : "${MESSAGES:=2500}" "${CONFIGS:=none,null,opendkim,sign,enc1,enc3,verify,cli}"
  : "${BASELINE_MESSAGES:=$MESSAGES}"
  : "${MICRO_FILTER:=$DEFAULT_MICRO_FILTER}"
  : "${MICRO_MIN_TIME:=0.05}"
  SOCKETS=(unix tcp)
  SESSIONS=(5 20)
  SIZES=(2048 102400 1048576)  # the sweep adds these to the 10 KB runs
fi
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
: "${OUT:=$BENCH/results/$STAMP}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
say() { printf '\n== %s\n' "$*" >&2; }

# Wall clock per phase: phase_done NAME appends "NAME SECONDS" (since the previous
# phase_done) to OUT/phases.tsv and prints it. An invocation that redoes only some
# phases into an existing OUT (--skip-micro, --sweep-only) keeps the others' lines;
# report.py takes the last line of each phase.
((SKIP_MICRO || SWEEP_ONLY)) || : >"$OUT/phases.tsv"
PHASE_T0=$(date +%s.%N)
phase_done() {
  local now
  now=$(date +%s.%N)
  awk -v p="$1" -v a="$PHASE_T0" -v b="$now" 'BEGIN { printf "%s %.1f\n", p, b - a }' >>"$OUT/phases.tsv"
  printf '== phase %s: %s s\n' "$1" "$(tail -n 1 "$OUT/phases.tsv" | cut -d' ' -f2)" >&2
  PHASE_T0=$now
}

if [[ -z $BUILD ]]; then
  say "Installing missing Debian packages"
  "$ROOT/scripts/deps.sh" --bench
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
phase_done setup

if ((SKIP_MICRO)); then
  [[ -s $OUT/micro.json ]] || { echo "--skip-micro needs $OUT/micro.json" >&2; exit 1; }
else
say "Micro benchmarks (filter '$MICRO_FILTER')"
BENCH_PKI=$PKI "$BUILD/bench/micro_smime" --benchmark_filter="$MICRO_FILTER" \
  --benchmark_min_time="$MICRO_MIN_TIME" --benchmark_out="$OUT/micro.json" \
  --benchmark_out_format=json --benchmark_format=console >"$OUT/micro.txt" 2>&1 ||
  { cat "$OUT/micro.txt" >&2; exit 1; }
tail -n 5 "$OUT/micro.txt" >&2
phase_done micro
fi

say "End to end: $MESSAGES messages per run ($BASELINE_MESSAGES for the wait-bound baselines), configs $CONFIGS"
IFS=, read -r -a CONFIG_LIST <<<"$CONFIGS"
if ((SWEEP_ONLY)); then
  CONFIG_LIST=()
else
  : >"$OUT/e2e.jsonl"
fi
for cfg in "${CONFIG_LIST[@]}"; do
  for sessions in "${SESSIONS[@]}"; do
    if [[ $cfg == none ]]; then
      e2e_run "$cfg" - "$sessions" "$MESSAGES" 10240 >>"$OUT/e2e.jsonl"
    elif [[ $cfg == cli ]]; then
      e2e_run "$cfg" - "$sessions" "$BASELINE_MESSAGES" 10240 >>"$OUT/e2e.jsonl"
    else
      for sock in "${SOCKETS[@]}"; do
        n=$MESSAGES
        [[ $sock == tcp && ($cfg == null || $cfg == opendkim) ]] && n=$BASELINE_MESSAGES
        e2e_run "$cfg" "$sock" "$sessions" "$n" 10240 >>"$OUT/e2e.jsonl"
      done
    fi
  done
done
((SWEEP_ONLY)) || phase_done e2e
if [[ ,$CONFIGS, == *,sign,* ]]; then
  for size in "${SIZES[@]}"; do
    n=$((size >= 1048576 ? 300 : 1000))
    ((n <= MESSAGES)) || n=$MESSAGES
    e2e_run sign unix 5 "$n" "$size" >>"$OUT/e2e.jsonl"
  done
fi
phase_done sweep

say "Memory: 100 idle connections, one 50 MB message"
memory_runs "$( ((SMOKE)) && echo 5000000 || echo 50000000)" >"$OUT/memory.json"
phase_done memory

say "Report"
python3 "$BENCH/report.py" --out "$OUT" --machine "$(machine_line)"
cat "$OUT/results.md"
echo "results in $OUT" >&2
python3 "$BENCH/report.py" --out "$OUT" --check
