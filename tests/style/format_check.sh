#!/usr/bin/env bash
# Every C++ source of the project is clang-format clean (.clang-format, clang-format 14).
# Usage: format_check.sh SOURCE_DIR CLANG_FORMAT. Lists the files that need
# `clang-format -i` and exits non-zero when there is any.
set -euo pipefail
cd "$1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z -- '*.cpp' '*.h')
else
  mapfile -d '' files < <(find . -path ./build\* -prune -o \( -name '*.cpp' -o -name '*.h' \) -print0)
fi
((${#files[@]} > 0)) || { echo "format_check: no sources found in $1" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  "$2" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]} > 0)); then
  printf 'needs clang-format -i: %s\n' "${bad[@]}"
  exit 1
fi
echo "format_check: ${#files[@]} files clean"
