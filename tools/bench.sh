#!/usr/bin/env bash
# make bench: our GEMM beside torch's, same shapes, same thread count, in the same run.
# Usage: tools/bench.sh build/<cfg>/bench_gemm
set -eu
ours_bin=$1
threads=${OMP_NUM_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
ours=$("$ours_bin" 7)
torch_out=""
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pin OpenBLAS to older kernels on some machines; the
    # reference should run at its best, so they are unset for the torch side only.
    torch_out=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/bench_torch.py" 7)
    if echo "$torch_out" | grep -q '^# .*BLAS: libblas.so.3$'; then
        echo "note: torch is using the reference (netlib) BLAS; 'apt-get install libopenblas0-pthread' gives it an optimised one"
    fi
else
    echo "note: Debian's python3-torch is not importable by /usr/bin/python3 (apt-get install python3-torch); torch column skipped"
fi
echo "$ours" | grep '^#' || true
echo "$torch_out" | grep '^#' || true
printf '%-32s %14s %14s %8s\n' "GEMM (M x N x K)" "ours GFLOP/s" "torch GFLOP/s" "ratio"
echo "$ours" | grep -v '^#' | while read -r M N K g name; do
    t=$(echo "$torch_out" | awk -v M="$M" -v N="$N" -v K="$K" '$1==M && $2==N && $3==K {print $4}')
    if [ -n "$t" ]; then r=$(awk -v a="$g" -v b="$t" 'BEGIN{printf "%.2f", a/b}'); else t="-"; r="-"; fi
    printf '%-32s %14s %14s %8s\n' "${M}x${N}x${K}" "$g" "$t" "$r"
done
