#!/usr/bin/env bash
# Builds the libFuzzer targets with clang++ straight from the sources (so the normal
# GCC build needs no clang configuration) and runs each for a short time, seeded from
# the third-party corpus. Any crash, leak, sanitizer report or timeout fails the test.
# Usage: run_fuzz.sh SOURCE_DIR WORK_DIR CORPUS_DIR [SECONDS]
set -euo pipefail
src=${1:?source dir}
work=${2:?work dir}
corpus=${SMIME_CORPUS_DIR:-${3:?corpus dir}}
secs=${4:-20}
mkdir -p "$work"
cxx=${FUZZ_CXX:-clang++}
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$src"
  $(pkg-config --cflags gmime-3.0))
libs=(-lcrypto $(pkg-config --libs gmime-3.0))
common=(smime/parse_mime.cpp smime/parse_cms.cpp smime/chain.cpp smime/verify.cpp smime/decrypt.cpp
  smime/detect.cpp smime/x509.cpp smime/ossl.cpp smime/capabilities.cpp policy/result.cpp)

# Compiles each source once (two at a time) into $work/obj, then links both targets;
# objects are rebuilt only when their source or any header is newer.
compile_all() {
  mkdir -p "$work/obj"
  local newest_header f obj todo=()
  newest_header=$(ls -t "$src"/smime/*.h "$src"/policy/*.h "$src"/tests/fuzz/*.h | head -n 1)
  for f in "${common[@]}" tests/fuzz/fuzz_verify.cpp tests/fuzz/fuzz_decrypt.cpp; do
    obj="$work/obj/$(echo "$f" | tr / _).o"
    if [ ! -f "$obj" ] || [ "$src/$f" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
      todo+=("$f")
    fi
  done
  if [ "${#todo[@]}" -gt 0 ]; then
    echo "compiling ${#todo[@]} sources with $cxx"
    printf '%s\n' "${todo[@]}" | (cd "$src" && xargs -P 2 -I{} sh -c \
      'o="$0/obj/$(echo "$1" | tr / _).o"; exec "$2" $3 -c "$1" -o "$o"' "$work" {} "$cxx" "${flags[*]}")
  fi
}

link() {  # link TARGET
  local objs=() f
  for f in "${common[@]}" "tests/fuzz/$1.cpp"; do
    objs+=("$work/obj/$(echo "$f" | tr / _).o")
  done
  "$cxx" "${flags[@]}" "${objs[@]}" -o "$work/$1" "${libs[@]}"
}

seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
i=0
while IFS= read -r -d '' f; do
  cp "$f" "$seeds/seed-$i"
  i=$((i + 1))
done < <(find "$corpus" -type f \( -name '*.eml' -o -name '*.mbox' -o -name '*.env' -o -name '*.bin' \
  -o -name '*.p7m' -o -name '*.txt' -o -name '*.multipart' -o -name '*.opaque' -o -name '*.mismatch-econtent' \) \
  -size -300k -print0)
[ "$i" -gt 50 ] || { echo "too few seeds ($i) in $corpus" >&2; exit 1; }

tb="$corpus/thunderbird-comm-central"
export SMIME_FUZZ_ANCHORS="$tb/smime/TestCA.pem:$corpus/kde-mimetreeparser/derived-pem/unittest-cert.crt"
export SMIME_FUZZ_KEYS="$tb/derived-pem/Bob.crt,$tb/derived-pem/Bob.key:$tb/derived-pem/Fran-ec.crt,$tb/derived-pem/Fran-ec.key:$corpus/kde-mimetreeparser/derived-pem/unittest-cert.crt,$corpus/kde-mimetreeparser/derived-pem/unittest-cert.key"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

compile_all
for target in fuzz_verify fuzz_decrypt; do
  link "$target"
  new="$work/$target-corpus"
  mkdir -p "$new"
  echo "running $target for ${secs}s on $i seeds"
  "$work/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=300000 \
    -artifact_prefix="$work/$target-" -print_final_stats=1 "$new" "$seeds" 2>&1 | tail -n 25
  status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ]; then
    echo "$target failed (exit $status); reproducer in $work/$target-*" >&2
    exit 1
  fi
done
echo "fuzzing finished cleanly"
