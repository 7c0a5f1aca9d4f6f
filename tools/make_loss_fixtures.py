#!/usr/bin/python3
"""Fixtures for the losses and the retrieval metrics (paper-notes §3.1, 3.2, 5), written from SPEC with
torch and numpy (Debian's python3-torch), run once:  /usr/bin/python3 tools/make_loss_fixtures.py

- vse_{sum,max}: VSE++ hinge value and gradients on fixed embeddings with a repeated image.
- trip_weights: the distance-weighted sampling weights of both directions (the deterministic part).
- metrics_*: sims matrices with deliberate ties, metrics computed with the reference's loops
  (np.argsort(d)[::-1]) using a *stable* argsort, which fixes the order of ties (paper-notes §5; see
  src/train/metrics.h); plus COCO's 5-fold average.
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "loss")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1)


def l2n(x):
    return x / (x.pow(2).sum(-1, keepdim=True).sqrt() + 1e-8)


B, E = 6, 5
V0 = l2n(torch.randn(B, E)).double()
T0 = l2n(torch.randn(B, E)).double()
img_ids = torch.tensor([0, 1, 1, 2, 3, 4])  # rows 1 and 2 show the same image
np.save(os.path.join(OUT, "V.npy"), V0.float().numpy())
np.save(os.path.join(OUT, "T.npy"), T0.float().numpy())
np.save(os.path.join(OUT, "img_ids.npy"), img_ids.numpy())
for mode in ["sum", "max"]:
    V = V0.clone().requires_grad_(True)
    T = T0.clone().requires_grad_(True)
    S = V @ T.t()
    d = S.diag().view(B, 1)
    cost_s = (0.2 + S - d).clamp(min=0)          # d1: S[i,i] along rows
    cost_im = (0.2 + S - d.t()).clamp(min=0)     # d2: S[j,j] along columns
    mask = img_ids.unsqueeze(1) == img_ids.unsqueeze(0)
    cost_s = cost_s.masked_fill(mask, 0)
    cost_im = cost_im.masked_fill(mask, 0)
    if mode == "max":
        loss = cost_s.max(1)[0].sum() + cost_im.max(0)[0].sum()
    else:
        loss = cost_s.sum() + cost_im.sum()
    loss.backward()
    np.save(os.path.join(OUT, f"vse_{mode}_loss.npy"), np.array(loss.item(), dtype=np.float32))
    np.save(os.path.join(OUT, f"vse_{mode}_gV.npy"), V.grad.float().numpy())
    np.save(os.path.join(OUT, f"vse_{mode}_gT.npy"), T.grad.float().numpy())


def trip_weights(S, pos, cutoff=1.7, n=512.0):  # HREM TripletLoss.loss_forward, the weights part
    neg = ~pos
    dist = (2 - 2 * S).sqrt().clamp(min=0.5)
    logw = (2.0 - n) * dist.log() - ((n - 3.0) / 2.0) * (1.0 - 0.25 * dist * dist).log()
    bad = torch.isinf(logw) | torch.isnan(logw)
    logw = logw * neg
    logw[bad] = 0.0
    w = (logw - logw.max(dim=1, keepdim=True)[0]).exp()
    w = w * (neg & (dist < cutoff)).double()
    return w / (w.sum(dim=1, keepdim=True) + 1e-20)


# embeddings close enough that several pairs fall under the cutoff
Vt = l2n(torch.randn(8, 4).double() + 1.5)
Tt = l2n(Vt + 0.4 * torch.randn(8, 4).double())
ids_t = torch.tensor([0, 0, 1, 2, 3, 3, 4, 5])
S = Vt @ Tt.t()
pos = ids_t.unsqueeze(1) == ids_t.unsqueeze(0)
np.save(os.path.join(OUT, "trip_S.npy"), S.float().numpy())
np.save(os.path.join(OUT, "trip_ids.npy"), ids_t.numpy())
# weights are computed from the float32 S the C++ side sees
Sf = torch.from_numpy(S.float().numpy()).double()
np.save(os.path.join(OUT, "trip_w_im.npy"), trip_weights(Sf, pos).numpy())
np.save(os.path.join(OUT, "trip_w_s.npy"), np.ascontiguousarray(trip_weights(Sf.t(), pos.t()).numpy()))


def i2t(sims, per=5):
    npts = sims.shape[0]
    ranks = np.zeros(npts)
    for i in range(npts):
        inds = np.argsort(sims[i], kind="stable")[::-1]
        ranks[i] = min(np.where(inds == c)[0][0] for c in range(per * i, per * i + per))
    return ranks


def t2i(sims, per=5):
    npts = sims.shape[0]
    ranks = np.zeros(per * npts)
    for i in range(npts):
        for k in range(per):
            inds = np.argsort(sims.T[per * i + k], kind="stable")[::-1]
            ranks[per * i + k] = np.where(inds == i)[0][0]
    return ranks


def metrics(sims):
    out = {}
    for name, r in [("i2t", i2t(sims)), ("t2i", t2i(sims))]:
        out[name] = {"r1": 100.0 * np.mean(r < 1), "r5": 100.0 * np.mean(r < 5), "r10": 100.0 * np.mean(r < 10),
                     "medr": float(np.floor(np.median(r)) + 1), "meanr": float(r.mean() + 1)}
    out["rsum"] = sum(out[d][k] for d in ["i2t", "t2i"] for k in ["r1", "r5", "r10"])
    return out


rng = np.random.default_rng(3)
# 30 images x 150 captions; values on a coarse grid -> many ties; a signal on the true pairs
n = 30
sims = np.round(rng.normal(size=(n, 5 * n)) * 2) / 2
for i in range(n):
    sims[i, 5 * i:5 * i + 5] += rng.integers(0, 3, size=5)
np.save(os.path.join(OUT, "metrics_sims.npy"), sims)
res = {"single": metrics(sims)}
# 5-fold (COCO 1K protocol) on a 20 x 100 matrix
sims5 = np.round(rng.normal(size=(20, 100)) * 2) / 2
for i in range(20):
    sims5[i, 5 * i:5 * i + 5] += rng.integers(0, 3, size=5)
np.save(os.path.join(OUT, "metrics_sims5.npy"), sims5)
folds = [metrics(sims5[4 * f:4 * f + 4, 20 * f:20 * f + 20]) for f in range(5)]
res["fold5"] = {d: {k: float(np.mean([f[d][k] for f in folds])) for k in ["r1", "r5", "r10", "medr", "meanr"]}
                for d in ["i2t", "t2i"]}
res["fold5"]["rsum"] = float(np.mean([f["rsum"] for f in folds]))
json.dump(res, open(os.path.join(OUT, "metrics.json"), "w"), indent=1)
print("written", sorted(os.listdir(OUT)))
