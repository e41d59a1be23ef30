#!/usr/bin/env bash
# DRAFT, not yet registered with ctest: chromium is not installed in the build image
# (add the Debian package `chromium` to scripts/deps.sh, then register this script as a
# test after `smimectl report ... -o report.html`). Renders the yearly report in
# headless Chromium, fails on any console message (the report has no scripts and no
# external resources, so any message is a defect) and writes an A4-sized screenshot.
# Usage: render_report.sh REPORT.html OUT.png
set -euo pipefail
html=$(realpath "${1:?usage: render_report.sh REPORT.html OUT.png}")
png=$(realpath -m "${2:?usage: render_report.sh REPORT.html OUT.png}")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rm -f "$png"
# 794x1123 CSS px = A4 at 96 dpi.
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=794,1123 \
  --enable-logging=stderr --v=0 --screenshot="$png" "file://$html" 2>"$log" || {
  cat "$log" >&2
  exit 1
}
if grep -E ':CONSOLE\(|Uncaught|Refused to load' "$log" >&2; then
  echo "render_report.sh: console messages while rendering $html" >&2
  exit 1
fi
[ -s "$png" ] || { echo "render_report.sh: no screenshot written" >&2; exit 1; }
echo "rendered $html -> $png"
