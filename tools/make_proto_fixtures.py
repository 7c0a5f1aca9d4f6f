#!/usr/bin/python3
"""Fixtures for the VSD prototype loss (paper-notes §2.7), written from SPEC in torch (float64), run once:
    /usr/bin/python3 tools/make_proto_fixtures.py ../shared/data
small/: random V, T, centroids (B=6, K=5, E=4), the codes, the loss and dL/dV, dL/dT.
real/:  a fixed batch V, T (8 x 1024, unit rows) and the loss against the real Flickr30K centroid
        file from shared/data (the file itself is not copied; the test reads it from there).
"""
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "proto")
torch.manual_seed(5)


def sinkhorn(S, eps=0.05, iters=3):
    Q = torch.exp(S / eps).t()  # K x B
    K, B = Q.shape
    Q = Q / Q.sum()
    for _ in range(iters):
        Q = Q / Q.sum(dim=1, keepdim=True) / K
        Q = Q / Q.sum(dim=0, keepdim=True) / B
    return (Q * B).t()


def proto_loss(V, T, C, tau=0.1):
    P = torch.nn.functional.normalize(C, dim=1)
    sv, st = V @ P.t(), T @ P.t()
    with torch.no_grad():
        qv, qt = sinkhorn(sv), sinkhorn(st)
    loss = -(qt * torch.log_softmax(sv / tau, dim=1)).sum(1).mean() - (qv * torch.log_softmax(st / tau, dim=1)).sum(1).mean()
    return loss, qv, qt


def unit(x):
    return x / x.norm(dim=1, keepdim=True)


def save(d, name, t):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), t.detach().numpy().astype(np.float32))


d = os.path.join(OUT, "small")
V = unit(torch.randn(6, 4, dtype=torch.float64)).requires_grad_(True)
T = unit(torch.randn(6, 4, dtype=torch.float64)).requires_grad_(True)
C = torch.randn(5, 4, dtype=torch.float64) * 0.8
loss, qv, qt = proto_loss(V, T, C)
loss.backward()
for n, t in [("V", V), ("T", T), ("C", C), ("qv", qv), ("qt", qt), ("loss", loss), ("gV", V.grad), ("gT", T.grad)]:
    save(d, n, t)

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
cpath = os.path.join(shared, "proto", "f30k_minicpm_kmeans_centroids_896.npy")
if os.path.exists(cpath):
    d = os.path.join(OUT, "real")
    Cr = torch.from_numpy(np.load(cpath).astype(np.float64))
    # a batch that lives where BGE vectors live: near the centroids, so the codes are not uniform
    idx = torch.randperm(896)[:8]
    Vr = unit(Cr[idx] + 0.02 * torch.randn(8, 1024, dtype=torch.float64))
    Tr = unit(Cr[idx.roll(1)] + 0.02 * torch.randn(8, 1024, dtype=torch.float64))
    save(d, "V", Vr)
    save(d, "T", Tr)
    # recompute from the float32 values the C++ side will read
    Vf = torch.from_numpy(np.load(os.path.join(d, "V.npy")).astype(np.float64))
    Tf = torch.from_numpy(np.load(os.path.join(d, "T.npy")).astype(np.float64))
    lr, _, _ = proto_loss(Vf, Tf, Cr)
    save(d, "loss", lr)
    print("real loss", lr.item())
print("small loss", loss.item())

# the instance-level fusion (paper-notes §2.6): v_final = l2n(l2n(v_base) + e_d), l2n(x) = x / (||x|| + 1e-8)
def l2n(x):
    return x / (x.norm(dim=1, keepdim=True) + 1e-8)


d = os.path.join(OUT, "fusion")
vb = torch.randn(5, 16, dtype=torch.float64) * 3.0          # GPO outputs, not normalised
ed = unit(torch.randn(5, 16, dtype=torch.float64) + 0.5)     # unit BGE vectors, anisotropic
save(d, "v_base", vb)
save(d, "e", ed)
save(d, "fused", l2n(l2n(torch.from_numpy(np.load(os.path.join(d, "v_base.npy")).astype(np.float64))) +
                     torch.from_numpy(np.load(os.path.join(d, "e.npy")).astype(np.float64))))
