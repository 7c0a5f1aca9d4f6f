#!/usr/bin/env bash
# Make sure clang++ with libFuzzer and OpenMP is there for `make fuzz` (Debian: clang,
# libfuzzer-14-dev, libomp-14-dev); install them when we can.
set -u
have() {
    command -v clang++ >/dev/null 2>&1 || return 1
    printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
        clang++ -x c++ -fsanitize=fuzzer -fopenmp - -o /tmp/vsd_fuzz_probe.$$ >/dev/null 2>&1
    local rc=$?
    rm -f /tmp/vsd_fuzz_probe.$$
    return $rc
}
have && exit 0
echo "clang++ with libFuzzer not found: installing Debian's clang, libfuzzer-14-dev and libomp-14-dev"
sudo_cmd=""
[ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd="sudo -n"
pkgs="clang libfuzzer-14-dev libomp-14-dev"
if command -v apt-get >/dev/null 2>&1; then
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 ||
        { $sudo_cmd apt-get update -qq >/dev/null 2>&1 &&
          $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1; }
fi
have || { echo "error: no clang++ with libFuzzer. HINT: sudo apt-get install $pkgs" >&2; exit 1; }
