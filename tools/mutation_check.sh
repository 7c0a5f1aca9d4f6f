#!/usr/bin/env bash
# mutation_check.sh — do the tests catch the bugs a kernel author makes? For every kernels/*.cu it
# makes one mutant per site and runs the tests on it in the CUDA emulator:
#   thread   one `threadIdx.x` becomes `(threadIdx.x + 1)`        (an off-by-one thread index)
#   stride   one VSD_GRID_STRIDE loop starts one element late     (the same, in a grid-stride loop)
#   sync     one `__syncthreads();` is deleted                     (a missing barrier)
# A mutant is "caught" when the test run fails. The table lists every mutant; the last line counts.
#
#   tools/mutation_check.sh [TEST_FILTER] [FILE...]
#     TEST_FILTER  doctest -tc filter (default: "op *,kernel parity*,memory pool*,k-means*")
#     FILE         kernels/*.cu to mutate (default: all but memory_pool.cu)
# Works on a copy of the tree in a temporary folder (the checkout is never touched), with a
# CPU-only build; about 10-20 s per mutant on 2 cores.
# (the body is one function, read whole before it runs: editing this file mid-run is safe)
main() {
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
filter=${1:-"op *,kernel parity*,memory pool*,k-means*"}
shift || true
work=$(mktemp -d /tmp/vsd_mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work/") 2>/dev/null
cd "$work"
make_tests() { NO_CUDA=1 make -s build/release-cpu/run_tests > build.log 2>&1; }
echo "building the unmutated tree..." >&2
make_tests || { echo "the unmutated tree does not build: see $work/build.log" >&2; exit 1; }
if ! build/release-cpu/run_tests -tc="$filter" > run.log 2>&1; then
    echo "the unmutated tree fails its tests; fix that first (run.log)" >&2
    tail -20 run.log >&2
    exit 1
fi
files=("$@")
[ ${#files[@]} -eq 0 ] && files=($(ls kernels/*.cu | grep -v memory_pool.cu))
caught=0 total=0
printf '%-24s %-7s %-5s %s\n' file kind site verdict
for f in "${files[@]}"; do
    cp "$f" "$f.orig"
    for kind in thread stride sync; do
        case $kind in
            thread) pat='threadIdx\.x' ;;
            stride) pat='VSD_GRID_STRIDE(' ;;
            sync) pat='__syncthreads();' ;;
        esac
        n=$( (grep -o "$pat" "$f.orig" || true) | wc -l)
        for ((k = 1; k <= n; k++)); do
            # replace the k-th occurrence only
            python3 - "$f.orig" "$f" "$kind" "$k" <<'EOF'
import sys
src, dst, kind, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = open(src).read()
pat, rep = {'thread': ('threadIdx.x', '(threadIdx.x + 1)'),
            'stride': ('VSD_GRID_STRIDE(', 'VSD_GRID_STRIDE_LATE('),
            'sync': ('__syncthreads();', ';')}[kind]
i = -1
for _ in range(k):
    i = s.index(pat, i + 1)
s = s[:i] + rep + s[i + len(pat):]
if kind == 'stride':  # the same loop, one element later
    s = s.replace('namespace vsd {', '#define VSD_GRID_STRIDE_LATE(i, n) \\\n    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x + 1; i < (n); i += (int64_t)gridDim.x * blockDim.x)\nnamespace vsd {', 1)
open(dst, 'w').write(s)
EOF
            total=$((total + 1))
            if ! make_tests; then
                verdict="caught (does not compile)"
                caught=$((caught + 1))
            elif timeout 600 build/release-cpu/run_tests -tc="$filter" > run.log 2>&1; then
                verdict="MISSED"
            else
                # the first failing test names the catch (none: a crash or a timeout)
                rc=$?
                by=$(grep -m1 '^TEST CASE:' run.log | sed 's/^TEST CASE: *//' | cut -c1-70)
                verdict="caught by: ${by:-exit $rc, $(tail -1 run.log | cut -c1-60)}"
                caught=$((caught + 1))
            fi
            printf '%-24s %-7s %-5s %s\n' "$f" "$kind" "$k" "$verdict"
        done
    done
    mv "$f.orig" "$f"
    touch "$f"  # newer than the last mutant's object, so the next build restores the original
done
make_tests
echo "mutants caught: $caught of $total"
[ "$caught" -eq "$total" ]
}
main "$@"
exit
