#!/usr/bin/env bash
# Renders an HTML report of `smimectl report` in headless Chromium (Debian package
# `chromium`, installed by scripts/deps.sh) and writes an A4-sized PNG screenshot.
# Fails on any console message: the report has no scripts and no external resources,
# so any message (a CSP refusal, a failed load, a script error) is a defect.
# The page is laid out at A4 width (794 x 1123 CSS px = 210 x 297 mm at 96 dpi) and
# captured at 150 dpi (device scale 1240/794): a 1240 x 1754 pixel PNG.
# Used by tests/audit/year/generated_year_test.cpp; by hand:
#   tests/audit/render_report.sh laporan-2025.html docs/report-sample.png
set -euo pipefail
html=$(realpath "${1:?usage: render_report.sh REPORT.html OUT.png}")
png=$(realpath -m "${2:?usage: render_report.sh REPORT.html OUT.png}")
browser=${CHROMIUM:-/usr/bin/chromium}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$png"
# A fresh profile each run; no network, no background services.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --disable-extensions --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=794,1123 --force-device-scale-factor=1.5617 \
  --enable-logging=stderr --v=0 --screenshot="$png" "file://$html" \
  >"$work/out.log" 2>"$work/err.log" || {
  cat "$work/out.log" "$work/err.log" >&2
  echo "render_report.sh: chromium failed" >&2
  exit 1
}
# Console messages are logged as `:INFO:CONSOLE:LINE] "message", source: URL (LINE)`
# (older builds: `CONSOLE(LINE)`), whatever their level; failed loads as net::ERR_.
if grep -E ':CONSOLE[:(]|Uncaught|Refused to|net::ERR_|Failed to load' "$work/err.log" >&2; then
  echo "render_report.sh: console messages while rendering $html" >&2
  exit 1
fi
[ -s "$png" ] || {
  cat "$work/err.log" >&2
  echo "render_report.sh: no screenshot written" >&2
  exit 1
}
echo "rendered $html -> $png"
