#!/usr/bin/env bash
# Make sure doctest's header is installed (Debian package doctest-dev); install it when we can.
set -u
hdr=/usr/include/doctest/doctest.h
[ -f "$hdr" ] && exit 0
# a header brought along (make DOCTEST_INC=dir, as tools/gpu_check.sh does on a machine with no network)
[ -n "${DOCTEST_INC:-}" ] && [ -f "$DOCTEST_INC/doctest/doctest.h" ] && exit 0
echo "doctest not found ($hdr): installing Debian's doctest-dev"
sudo_cmd=""
[ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo -n"
if command -v apt-get >/dev/null 2>&1; then
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq doctest-dev >/dev/null 2>&1 ||
        { $sudo_cmd apt-get update -qq >/dev/null 2>&1 &&
          $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq doctest-dev >/dev/null 2>&1; }
fi
if [ ! -f "$hdr" ]; then
    echo "error: could not install doctest. HINT: run 'sudo apt-get install doctest-dev' (or put doctest.h in $hdr), then 'make test' again" >&2
    exit 1
fi
