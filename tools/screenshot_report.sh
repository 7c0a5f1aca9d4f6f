#!/usr/bin/env bash
# screenshot_report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
# Renders an evaluation report (or any HTML page) in headless Chromium and checks the screenshot:
# it must exist and not be blank (a page that failed to render is one flat colour, which PNG
# squeezes to a few kilobytes). The manual check of `make eval`'s report: Chromium is too heavy
# for CI (Debian: apt-get install chromium).
set -euo pipefail
html=${1:?usage: tools/screenshot_report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]}
out=${2:-${html%.html}.png}
size=${3:-1300x2600}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no Chromium found. HINT: apt-get install chromium" >&2; exit 1; }
[ -f "$html" ] || { echo "$html: no such report. HINT: make eval writes runs/<run>/eval_<split>.html" >&2; exit 1; }
rm -f "$out"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${size/x/,}" \
    --screenshot="$out" "file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")" > /dev/null 2>&1 || true
[ -s "$out" ] || { echo "$html: Chromium wrote no screenshot" >&2; exit 1; }
bytes=$(stat -c %s "$out")
[ "$bytes" -gt 20000 ] || { echo "$out: only $bytes bytes: the page looks blank" >&2; exit 1; }
echo "$out: $size, $bytes bytes"
