#!/usr/bin/python3
"""HREM's cross-modal relevance statistics the way the PyTorch reference computes them (paper-notes §2.5
step 3: per caption, the (B_img, W, R) LeakyReLU'd cosine tensor, both normalisations, max, mean
and top-10), timed on the CPU for `make bench` beside tools/bench_relation.cpp. Same shapes.
Prints "B L R E ms" (median of reps, after a warm-up)."""
import os
import sys
import torch
import torch.nn.functional as F

from bench_timing import median_seconds

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
B, L, R, E, K = 128, 20, 36, 1024, 10
torch.manual_seed(0)
psi = F.normalize(torch.randn(B, L, E), dim=-1)
phi = F.normalize(torch.randn(B, R, E), dim=-1)
lens = [8 + b % 13 for b in range(B)]


def stats():
    mean_t2i, topk_t2i = torch.zeros(B, B), torch.zeros(B, B, K)
    mean_i2t, topk_i2t = torch.zeros(B, B), torch.zeros(B, B, K)
    with torch.no_grad():
        for t in range(B):
            lt = lens[t]
            W = min(max(lt, K), L)
            A = F.leaky_relu(torch.einsum("we,ire->iwr", psi[t, :W], phi), 0.1)
            row = (A / (A.norm(dim=1, keepdim=True) + 1e-8)).max(dim=2)[0]
            mean_t2i[t] = row[:, :lt].mean(1)
            topk_t2i[t] = row.topk(K, dim=1)[0]
            col = (A / (A.norm(dim=2, keepdim=True) + 1e-8))[:, :lt, :].max(dim=1)[0]
            mean_i2t[:, t] = col.mean(1)
            topk_i2t[:, t] = col.topk(K, dim=1)[0]
    return mean_t2i


print(B, L, R, E, "%.1f" % (1e3 * median_seconds(stats, reps)))
