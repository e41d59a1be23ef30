#!/usr/bin/env bash
# tests/keystore/lookup_cost.sh: the keystore's instructions per lookup in steady state,
# as quoted in keystore/README.md ("Per-message cost"). Measuring only, not a test.
#   tests/keystore/lookup_cost.sh BUILD_DIR [OUT_DIR]
# Runs KeystoreTest.RepeatedLookupsGiveTheSameAnswers under callgrind with 1 and with
# 101 rounds (KEYSTORE_LOOKUP_ROUNDS); each round is one signing_credential and one
# encryption_certs call. (Ir(101) - Ir(1)) / 100 is the cost of a call once the caches
# are warm, free of the first call's parsing and key unwrapping.
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR [OUT_DIR]}
OUT=${2:-$(mktemp -d /tmp/lookup-cost-XXXXXX)}
mkdir -p "$OUT"
BIN=$BUILD/tests/keystore/keystore_tests
FUNCS=(
  'keystore::Keystore::signing_credential('
  'keystore::Keystore::encryption_certs('
  'keystore::Keystore::verified_chain_locked('
  'X509_verify_cert'
  'sqlite3_prepare_v2'
)
for n in 1 101; do
  KEYSTORE_LOOKUP_ROUNDS=$n valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$n" \
    "$BIN" --gtest_filter=KeystoreTest.RepeatedLookupsGiveTheSameAnswers >"$OUT/run.$n.log" 2>&1
  callgrind_annotate --inclusive=yes --threshold=100 "$OUT/cg.$n" >"$OUT/cg.$n.txt" 2>/dev/null
done
# Inclusive Ir of the first line naming the function (callgrind_annotate prints "1,234 (5%)").
ir() {
  grep -F -m1 -- "$1" "$2" | awk '{ gsub(",", "", $1); print $1 + 0 }'
}
printf '%-45s %14s\n' 'per call, steady state' 'instructions'
for f in "${FUNCS[@]}"; do
  a=$(ir "$f" "$OUT/cg.1.txt" || true)
  b=$(ir "$f" "$OUT/cg.101.txt" || true)
  printf '%-45s %14s\n' "$f" "$(((${b:-0} - ${a:-0}) / 100))"
done
echo "callgrind files in $OUT" >&2
