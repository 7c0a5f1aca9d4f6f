#!/usr/bin/python3
"""Reference states for HREM (SPEC 2.4, 2.5): the encoders and every relation-module quantity.

Written from SPEC with PyTorch's own modules (nn.TransformerEncoderLayer, nn.BatchNorm1d,
torch.cdist, F.kl_div) and a direct 4-D implementation of the cross-modal statistics, at toy
sizes, and run once with Debian's python3-torch:
    /usr/bin/python3 tools/make_hrem_fixtures.py
It writes tests/fixtures/hrem/{image,text,relation}/*.npy: weights by name (ours = the names the
C++ modules register), inputs (in_*), outputs, a seed gradient and the resulting gradients.
Dropout is off (the layers run in eval mode); the image MLP's BatchNorm uses batch statistics.
"""
import copy
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from make_gpo_fixtures import MLP  # the image MLP (vse_infty, 2 layers with BatchNorm), as GPO's

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "hrem")
E, HEADS, FEAT, HID = 32, 4, 24, 20  # embedding, heads, region feature size, "BERT" hidden size
B, R, L, K = 6, 12, 14, 10


def l2n(x, dim=-1):  # SPEC's l2n: x / (sqrt(sum x^2) + 1e-8)
    return x / (x.pow(2).sum(dim=dim, keepdim=True).sqrt() + 1e-8)


def save(d, name, t):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), t.detach().cpu().numpy() if torch.is_tensor(t) else t)


def maxk(x, lengths, k=2):  # per-dimension mean of the top-k over the valid items, k per sample
    return torch.stack([x[b, :l].topk(min(k, int(l)), dim=0)[0].mean(0) for b, l in enumerate(lengths)])


def valid_mean(x, lengths):
    return torch.stack([x[b, :l].mean(0) for b, l in enumerate(lengths)])


class Pool(nn.Module):  # SPEC 2.4 steps 2-5
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(E, HEADS, E, dropout=0.1, activation="relu",
                                                                batch_first=True)])

    def forward(self, frag, lengths):
        pad = torch.arange(frag.size(1)).expand(len(lengths), -1) >= lengths.unsqueeze(1)  # True = ignore
        h = self.layers[0](frag, src_key_padding_mask=pad)
        return l2n(0.8 * maxk(frag, lengths) + 0.2 * valid_mean(h, lengths))


class Image(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(FEAT, E)
        self.mlp = MLP(FEAT, E // 2, E)
        self.aggr = Pool()

    def forward(self, x, lengths):
        self.phi = self.fc(x) + self.mlp(x)
        return self.aggr(self.phi, lengths)


class Text(nn.Module):  # the text tail on (stand-in) BERT hidden states
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(HID, E)
        self.aggr = Pool()

    def forward(self, h, lengths):
        self.psi = self.linear(h)
        return self.aggr(self.psi, lengths)


def randomise(m):
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3)


def run_encoder(tag, m, x, lengths):
    d = os.path.join(OUT, tag)
    randomise(m)
    m.train()
    for mod in m.modules():  # dropout off everywhere; BatchNorm keeps its batch statistics
        if isinstance(mod, (nn.TransformerEncoderLayer, nn.Dropout)):
            mod.eval()
    for n, p in m.named_parameters():
        save(d, n, p)
    x = x.clone().requires_grad_(True)
    out = m(x, lengths)
    g = torch.randn_like(out)
    out.backward(g)
    save(d, "in_x", x)
    save(d, "in_lengths", lengths)
    save(d, "out", out)
    save(d, "seed_grad", g)
    save(d, "grad_in_x", x.grad)
    for n, p in m.named_parameters():
        save(d, "grad_" + n, p.grad if p.grad is not None else torch.zeros_like(p))
    return out.detach(), (m.phi if tag == "image" else m.psi).detach()


img_len = torch.tensor([12, 9, 1, 12, 5, 11])  # a single region (maxk must use k = 1 there only)
cap_len = torch.tensor([14, 7, 11, 3, 14, 9])  # shorter than K = 10: padding words enter the statistics
x = torch.rand(B, R, FEAT)
for b, l in enumerate(img_len):
    x[b, l:] = 0
V, phi = run_encoder("image", Image(), x, img_len)
T, psi = run_encoder("text", Text(), torch.randn(B, L, HID), cap_len)

# ---- the relation module (SPEC 2.5) ----------------------------------------------------------
d = os.path.join(OUT, "relation")
k = int(0.5 * B)
mask_weight = 1.5


def connections(s):
    return s >= s.topk(k, dim=1)[0][:, -1:]


# cross-modal statistics, the 4-D way
img_mask = (torch.arange(R).expand(B, R) < img_len.unsqueeze(1)).float().unsqueeze(-1)
phi_hat = l2n(phi) * img_mask
mean_t2i, topk_t2i = torch.zeros(B, B), torch.zeros(B, B, K)
mean_i2t, topk_i2t = torch.zeros(B, B), torch.zeros(B, B, K)
for t in range(B):
    lt = int(cap_len[t])
    W = min(max(lt, K), L)
    w = l2n(psi[t, :W])
    A = F.leaky_relu(torch.einsum("we,ire->iwr", w, phi_hat), 0.1)  # (B_img, W, R)
    A1 = A / (A.norm(dim=1, keepdim=True) + 1e-8)
    row = A1.max(dim=2)[0]
    mean_t2i[t] = row[:, :lt].mean(1)
    topk_t2i[t] = row.topk(K, dim=1)[0]
    A2 = A / (A.norm(dim=2, keepdim=True) + 1e-8)
    col = A2[:, :lt, :].max(dim=1)[0]
    mean_i2t[:, t] = col.mean(1)
    topk_i2t[:, t] = col.topk(K, dim=1)[0]

mlp_t2i = nn.Sequential(nn.Linear(K, K), nn.ReLU(), nn.Dropout(0.0), nn.Linear(K, 1))
randomise(mlp_t2i)
mlp_i2t = copy.deepcopy(mlp_t2i)
with torch.no_grad():  # make the two differ a little, so a swapped pair of MLPs would fail the test
    mlp_i2t[0].bias.add_(0.05)
gnn = nn.TransformerEncoderLayer(E, HEADS, E, dropout=0.1, activation="relu", batch_first=True)
randomise(gnn)
gnn.eval()
Vl, Tl = V.clone().requires_grad_(True), T.clone().requires_grad_(True)
Cii, Ctt = connections(Vl @ Vl.t()), connections(Tl @ Tl.t())
Rii, Rtt = torch.exp(-torch.cdist(Vl, Vl) / 1.0), torch.exp(-torch.cdist(Tl, Tl) / 1.0)
rel_t2i = mlp_t2i(topk_t2i).squeeze(-1) + mean_t2i
rel_i2t = mlp_i2t(topk_i2t).squeeze(-1) + mean_i2t
Ct2i, Ci2t = connections(mean_t2i), connections(mean_i2t)
S = torch.exp(-torch.cdist(Vl, Tl) / 1.0).detach()
reg = F.kl_div(F.log_softmax(S, 1), F.softmax(rel_i2t, 1), reduction="batchmean") + \
    F.kl_div(F.log_softmax(S.t(), 1), F.softmax(rel_t2i, 1), reduction="batchmean")
C = torch.cat([torch.cat([Cii, Ci2t], 1), torch.cat([Ct2i, Ctt], 1)], 0)
Rel = torch.cat([torch.cat([Rii, rel_i2t], 1), torch.cat([rel_t2i, Rtt], 1)], 0)
M = mask_weight * Rel.masked_fill(~C, float("-inf"))
nodes = torch.cat([l2n(Vl), l2n(Tl)], 0).unsqueeze(0)
g = gnn(nodes, src_mask=M)[0]
Vg, Tg = l2n(g[:B]), l2n(g[B:])
G1, G2 = torch.randn_like(Vg), torch.randn_like(Tg)
loss = 10 * reg + (Vg * G1).sum() + (Tg * G2).sum()
loss.backward()

named = [("gnn.layers.0." + n, p) for n, p in gnn.named_parameters()]
named += [("adj_t2i." + n, p) for n, p in mlp_t2i.named_parameters()]
named += [("adj_i2t." + n, p) for n, p in mlp_i2t.named_parameters()]
for n, p in named:
    save(d, n, p)
    save(d, "grad_" + n, p.grad)
for n, t in [("in_V", V), ("in_T", T), ("in_phi", phi), ("in_psi", psi), ("in_img_len", img_len),
             ("in_cap_len", cap_len), ("mean_t2i", mean_t2i), ("topk_t2i", topk_t2i), ("mean_i2t", mean_i2t),
             ("topk_i2t", topk_i2t), ("rel_t2i", rel_t2i), ("rel_i2t", rel_i2t), ("C", C.float()), ("Rel", Rel),
             ("reg", reg), ("Vg", Vg), ("Tg", Tg), ("seed_Vg", G1), ("seed_Tg", G2), ("grad_V", Vl.grad),
             ("grad_T", Tl.grad)]:
    save(d, n, t)
save(d, "mask_weight", np.array([mask_weight], dtype=np.float32))
print("hrem fixtures: image", tuple(V.shape), "text", tuple(T.shape), "reg %.6f" % reg.item(),
      "connections", int(C.sum()))
