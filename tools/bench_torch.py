#!/usr/bin/python3
"""The reference side of `make bench`: torch.matmul GFLOP/s on the same shapes as bench_gemm.

Run by tools/bench.sh with Debian's python3-torch (/usr/bin/python3). Same protocol as ours: one
warm-up, `reps` timed runs, the median; the same number of threads as our OpenMP build uses.
Prints "M N K GFLOP/s" lines, plus a '#' line naming the BLAS that torch is using.
"""
import os
import sys
import torch

from bench_timing import median_seconds

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
torch.set_num_threads(threads)
blas = "?"
try:
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower()}
    blas = ", ".join(sorted(os.path.basename(p) + (" (openblas)" if "openblas" in p else "") for p in libs)) or "?"
except OSError:
    pass
print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {blas}")
for M, N, K in [(1024, 1024, 1024), (128 * 36, 1024, 2048)]:
    torch.manual_seed(0)
    a, b = torch.rand(M, K) * 2 - 1, torch.rand(K, N) * 2 - 1
    secs = median_seconds(lambda: a @ b, reps)
    print(f"{M} {N} {K} {2 * M * N * K / secs / 1e9:.1f}")
