#!/usr/bin/env bash
# bench/profile.sh: where smime-milter spends its time and memory, for bench/README.md.
#   bench/profile.sh --build-dir DIR [--out DIR] [--messages N]
# 1. callgrind (instruction counts: robust on a busy machine) over N sign+encrypt (enc1)
#    messages through Postfix, then callgrind_annotate's inclusive top list,
# 2. massif over one 20 MB signed message: the peak heap and who allocated it.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=
OUT=$BENCH/results/profile-$(date -u +%Y-%m-%dT%H%M%SZ)
N=200
while (($# > 0)); do
  case $1 in
    --build-dir) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --messages) N=$2; shift 2 ;;
    *) sed -n '2,6p' "$0" >&2; exit 2 ;;
  esac
done
[[ -n $BUILD ]] || { echo "--build-dir is required" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/smime-bench-XXXXXX)
chmod 0711 "$WORK"
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"
trap bench_cleanup EXIT
bench_setup

for cfg in enc1 verify; do
  BENCH_MILTER_WRAP="valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.$cfg" \
    e2e_run "$cfg" unix 5 "$N" 10240 >"$OUT/callgrind-run.$cfg.json"
  callgrind_annotate --inclusive=yes "$OUT/callgrind.$cfg" 2>/dev/null | sed -n 1,120p >"$OUT/callgrind.$cfg.txt"
done

make_message 20000000 "$WORK/msg/big.eml"
BENCH_MILTER_WRAP="valgrind --tool=massif --massif-out-file=$OUT/massif.big" start_filter sign unix
PF_DIR=$WORK/pf-heap
"$HARNESS" start "$PF_DIR" -o message_size_limit=0 --milter "$MILTER_SPEC" >/dev/null
# shellcheck disable=SC1091
source "$PF_DIR/instance.env"
smtp-source -m 1 -F "$WORK/msg/big.eml" -f alice@example.gov -t someone@elsewhere.example \
  "127.0.0.1:$SMTP_PORT"
for _ in $(seq 1 1200); do
  (($(find "$SINK_DIR" -type f | wc -l) >= 1)) && break
  sleep 0.1
done
sleep 1
stop_filter
"$HARNESS" stop "$PF_DIR"
PF_DIR=
ms_print "$OUT/massif.big" | sed -n 1,200p >"$OUT/massif.big.txt"
echo "profiles in $OUT" >&2
