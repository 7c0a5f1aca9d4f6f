#!/usr/bin/python3
"""Reference states for HREM (paper-notes §2.4, 2.5), computed by the official modules themselves.

    git clone <CrossmodalGroup/HREM> /tmp/hrem          (outside this repository; never committed)
    /usr/bin/python3 tools/make_hrem_fixtures.py --official /tmp/hrem

Debian's python3-torch, plus transformers (the official lib/encoders.py imports it). The official
classes run unchanged on the CPU: EncoderImageAggr (FC_MLP + one TransformerEncoder layer + MaxK and
mean pooling), EncoderText_BERT after its BERT (a stand-in module returns given hidden states),
and GraphLoss with its AdjacencyModel (connection and relevance relations, the regulariser, the
graph layer). Their `.cuda()` calls are made no-ops. Hooks read the intermediate quantities the
official code computes: the relevance MLPs' top-k inputs, the relations, the graph layer's additive
mask, and the graph-refined embeddings as GraphLoss hands them to its losses.

Writes tests/fixtures/hrem/{image,text,relation}/*.npy: weights under OUR names (the official
fc.fc.* / fc.mlp.* become fc.* / mlp.*), inputs (in_*), outputs, a seed gradient and the resulting
gradients. Dropout is off (eval mode for the Transformer layers); BatchNorm uses batch statistics.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--official", required=True, help="a checkout of CrossmodalGroup/HREM (or VSD's VSD_HREM folder)")
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.official))
torch.Tensor.cuda = lambda self, *a, **k: self  # the official code moves tensors with .cuda(); stay on the CPU
torch.nn.Module.cuda = lambda self, *a, **k: self

import lib.encoders as official_encoders  # noqa: E402  (the official modules)
from graph_lib import GraphLoss  # noqa: E402

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "hrem")
E, HEADS, FEAT, HID = 32, 4, 24, 20  # embedding, heads, region feature size, "BERT" hidden size
B, R, L, K = 6, 12, 14, 10
MASK_WEIGHT = 1.5  # the COCO value, so the scaling is tested
opt = argparse.Namespace(nhead=HEADS, dropout=0.1, residual_weight=0.8, embed_size=E, base_loss="trip", gnn_loss="trip",
                         warmup=0, num_layers_enc=1, graph_lr_factor=1.0, mask_weight=MASK_WEIGHT, threshold=0.5, topk=K,
                         reg_loss_weight=10, norm_input=1, cross_loss=1, dataset="coco", margin=0.2, max_violation=False,
                         mask_repeat=1)


def ours(name):  # official state-dict name -> ours
    for a, b in (("fc.fc.", "fc."), ("fc.mlp.", "mlp.")):
        if name.startswith(a):
            return b + name[len(a):]
    return name


def save(d, name, t):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t))


def randomise(m):  # away from any initialisation, so the test checks the computation alone
    with torch.no_grad():
        for _, p in m.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3)


def dropout_off(m):
    for mod in m.modules():
        if isinstance(mod, (nn.TransformerEncoder, nn.TransformerEncoderLayer, nn.Dropout)):
            mod.eval()


class HiddenStates(nn.Module):  # stands in for BERT: returns the given last hidden states
    def __init__(self):
        super().__init__()
        self.h = None

    def forward(self, input_ids=None, attention_mask=None):
        return (self.h,)


def run_encoder(tag, enc, inputs, lengths, call):
    d = os.path.join(OUT, tag)
    randomise(enc)
    enc.train()
    dropout_off(enc)
    for n, p in enc.named_parameters():
        save(d, ours(n), p)
    x = inputs.clone().requires_grad_(True)
    out = call(enc, x, lengths)  # (inputs, lengths, emb, emb_notnorm, pre_pool): graph=True
    emb, pre_pool = out[2], out[4]
    g = torch.randn_like(emb)
    emb.backward(g, retain_graph=True)
    save(d, "in_x", x)
    save(d, "in_lengths", lengths)
    save(d, "out", emb)
    save(d, "seed_grad", g)
    save(d, "grad_in_x", x.grad)
    for n, p in enc.named_parameters():
        save(d, "grad_" + ours(n), p.grad if p.grad is not None else torch.zeros_like(p))
    return emb.detach(), pre_pool.detach()


# ---- the encoders ----------------------------------------------------------------------------------
img_len = torch.tensor([12, 9, 5, 12, 11, 1])  # the single-region image last: the official MaxK's shared-k quirk
cap_len = torch.tensor([14, 7, 11, 3, 14, 9])  # (k = min(k, len) kept across the loop) then changes nothing
x = torch.rand(B, R, FEAT)
for b, n in enumerate(img_len):
    x[b, n:] = 0  # zero-padded regions, as the official collate_fn
img = official_encoders.EncoderImageAggr(opt, img_dim=FEAT, embed_size=E)
V, phi = run_encoder("image", img, x, img_len, lambda m, x, n: m(x, n, graph=True))

official_encoders.BertModel.from_pretrained = staticmethod(lambda *a, **k: HiddenStates())
txt = official_encoders.EncoderText_BERT(opt, embed_size=E)
txt.linear = nn.Linear(HID, E)  # the stand-in's hidden size


def text_call(m, h, n):
    m.bert.h = h
    return m(torch.ones(B, L, dtype=torch.long), n, graph=True)


T, psi = run_encoder("text", txt, torch.randn(B, L, HID), cap_len, text_call)

# ---- the relation module (GraphLoss, after its warmup) ---------------------------------------------
d = os.path.join(OUT, "relation")
crit = GraphLoss(opt)
randomise(crit)
with torch.no_grad():  # make the two relevance MLPs differ a little, so a swapped pair would fail the test
    crit.adj_model.adj_learning.mlp_i2t[0].bias.add_(0.05)
crit.train()
dropout_off(crit)
seen = {}
al = crit.adj_model.adj_learning
al.mlp_t2i.register_forward_hook(lambda m, i, o: seen.__setitem__("topk_t2i", i[0].detach()))
al.mlp_i2t.register_forward_hook(lambda m, i, o: seen.__setitem__("topk_i2t", i[0].detach()))
al.register_forward_hook(lambda m, i, o: seen.__setitem__("adj_learning", o))
crit.adj_model.register_forward_hook(lambda m, i, o: seen.__setitem__("adj", o))
crit.gnn.register_forward_pre_hook(lambda m, i: seen.__setitem__("gnn_mask", i[1].detach().clone()))
gnn_inputs = []
crit.gnn_loss.register_forward_pre_hook(lambda m, i: gnn_inputs.append(i))
Vl, Tl = V.clone().requires_grad_(True), T.clone().requires_grad_(True)
img_ids = torch.arange(B)
crit((x, img_len, Vl, Vl, phi), (None, cap_len, Tl, Tl, psi), img_ids=img_ids)
batch_c, batch_r, reg = seen["adj"]
rel_t2i, rel_i2t, mean_t2i, mean_i2t = seen["adj_learning"]
Vg, Tg = gnn_inputs[2][0], gnn_inputs[2][1]  # GraphLoss's third loss: gnn_loss(img_emb_gnn, cap_emb_gnn)
assert torch.equal(gnn_inputs[0][1], Tg) and torch.equal(gnn_inputs[1][0], Vg)
C = torch.cat((torch.cat((batch_c["i2i"], batch_c["i2t"]), 1), torch.cat((batch_c["t2i"], batch_c["t2t"]), 1)), 0)
Rel = torch.cat((torch.cat((batch_r["i2i"], batch_r["i2t"]), 1), torch.cat((batch_r["t2i"], batch_r["t2t"]), 1)), 0)
mask = seen["gnn_mask"]  # what the graph layer received: mask_weight * Rel where connected, -inf elsewhere
assert torch.equal(torch.isfinite(mask), C)
assert torch.allclose(mask[C], MASK_WEIGHT * Rel.detach()[C])
G1, G2 = torch.randn_like(Vg), torch.randn_like(Tg)
objective = 10 * reg + (Vg * G1).sum() + (Tg * G2).sum()
crit.zero_grad()
objective.backward()

names = {"gnn.layers.0.": "gnn.layers.0.", "adj_model.adj_learning.mlp_t2i.": "adj_t2i.",
         "adj_model.adj_learning.mlp_i2t.": "adj_i2t."}
for n, p in crit.named_parameters():
    prefix = next(k for k in names if n.startswith(k))
    save(d, names[prefix] + n[len(prefix):], p)
    save(d, "grad_" + names[prefix] + n[len(prefix):], p.grad)
for n, t in [("in_V", V), ("in_T", T), ("in_phi", phi), ("in_psi", psi), ("in_img_len", img_len),
             ("in_cap_len", cap_len), ("mean_t2i", mean_t2i), ("topk_t2i", seen["topk_t2i"]), ("mean_i2t", mean_i2t),
             ("topk_i2t", seen["topk_i2t"]), ("rel_t2i", rel_t2i), ("rel_i2t", rel_i2t), ("C", C.float()), ("Rel", Rel),
             ("reg", reg), ("Vg", Vg), ("Tg", Tg), ("seed_Vg", G1), ("seed_Tg", G2), ("grad_V", Vl.grad),
             ("grad_T", Tl.grad)]:
    save(d, n, t)
save(d, "mask_weight", np.array([MASK_WEIGHT], dtype=np.float32))
print("hrem fixtures from %s: image %s, text %s, reg %.6f, connections %d" %
      (args.official, tuple(V.shape), tuple(T.shape), reg.item(), int(C.sum())))
