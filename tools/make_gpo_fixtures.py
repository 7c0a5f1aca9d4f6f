#!/usr/bin/python3
"""Reference states for GPO, the GPO image encoder and the BiGRU text encoder (paper-notes §2.1-2.3).

Written from SPEC with PyTorch modules (Debian's python3-torch), at toy sizes, and run once:
    /usr/bin/python3 tools/make_gpo_fixtures.py
It writes tests/fixtures/gpo/<model>/{<param>.npy, in_*.npy, out.npy, seed_grad.npy,
grad_<param>.npy, grad_in_*.npy, bn_*.npy}. The C++ test loads the weights by their PyTorch names,
runs forward and backward with seed_grad as the output gradient, and compares everything.
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "gpo")


def l2norm(x):  # SPEC notation l2n: x / (sqrt(sum x^2) + 1e-8)
    return x / (x.pow(2).sum(dim=-1, keepdim=True).sqrt() + 1e-8)


class GPO(nn.Module):  # paper-notes §2.1
    def __init__(self, d_pe=32, d_hidden=32):
        super().__init__()
        self.d_pe = d_pe
        self.gru = nn.GRU(d_pe, d_hidden, 1, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(d_hidden, 1, bias=False)

    def pe(self, n):
        pe = torch.zeros(n, self.d_pe)
        k = torch.arange(0, n, dtype=torch.float).unsqueeze(1)
        w = torch.exp(torch.arange(0, self.d_pe, 2).float() * -(math.log(10000.0) / self.d_pe))
        pe[:, 0::2] = torch.sin(k * w)
        pe[:, 1::2] = torch.cos(k * w)
        return pe

    def forward(self, feats, lengths):
        B, N, D = feats.shape
        mask = (torch.arange(N).expand(B, N) < lengths.unsqueeze(1)).unsqueeze(-1)  # (B, N, 1)
        pes = self.pe(N).unsqueeze(0).repeat(B, 1, 1).masked_fill(~mask, 0)
        packed = pack_padded_sequence(pes, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=N)
        h = (out[:, :, : out.size(2) // 2] + out[:, :, out.size(2) // 2:]) / 2
        scores = self.linear(h).masked_fill(~mask, -10000)
        w = torch.softmax(scores / 0.1, 1)  # (B, N, 1)
        s = feats.masked_fill(~mask, -10000).sort(dim=1, descending=True)[0].masked_fill(~mask, 0)
        return (s * w).sum(1)


class MLP(nn.Module):  # vse_infty MLP with num_layers = 2
    def __init__(self, i, h, o):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(i, h), nn.Linear(h, o)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(h), nn.BatchNorm1d(o)])

    def forward(self, x):
        B, N, D = x.shape
        x = x.reshape(B * N, D)
        x = torch.relu(self.bns[0](self.layers[0](x)))
        return self.layers[1](x).view(B, N, -1)


class ImageEnc(nn.Module):  # paper-notes §2.2
    def __init__(self, img_dim, embed):
        super().__init__()
        self.fc = nn.Linear(img_dim, embed)
        self.mlp = MLP(img_dim, embed // 2, embed)
        self.gpool = GPO()

    def forward(self, x, lengths):
        return l2norm(self.gpool(self.fc(x) + self.mlp(x), lengths))


class TextEnc(nn.Module):  # paper-notes §2.3, BiGRU
    def __init__(self, vocab, word_dim, embed):
        super().__init__()
        self.embed = nn.Embedding(vocab, word_dim)
        self.rnn = nn.GRU(word_dim, embed, 1, batch_first=True, bidirectional=True)
        self.gpool = GPO()

    def forward(self, ids, lengths):
        x = self.embed(ids)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True)  # sorted by length, as the collate does
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.size(1))
        h = (out[:, :, : out.size(2) // 2] + out[:, :, out.size(2) // 2:]) / 2
        return l2norm(self.gpool(h, lengths))


def save(model_dir, name, t):
    os.makedirs(model_dir, exist_ok=True)
    np.save(os.path.join(model_dir, name + ".npy"), t.detach().cpu().numpy())


def dump(tag, model, inputs, float_inputs):
    d = os.path.join(OUT, tag)
    # weights: randomise everything (biases too) so no term can hide
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    for n, p in model.named_parameters():
        save(d, n, p)
    for k, v in inputs.items():
        save(d, "in_" + k, v)
    for k in float_inputs:
        inputs[k].requires_grad_(True)
    model.train()
    out = model(*inputs.values())
    g = torch.randn_like(out)
    out.backward(g)
    save(d, "out", out)
    save(d, "seed_grad", g)
    for n, p in model.named_parameters():
        save(d, "grad_" + n, p.grad if p.grad is not None else torch.zeros_like(p))  # unused (bns.1): no gradient
    for k in float_inputs:
        save(d, "grad_in_" + k, inputs[k].grad)
    for n, b in model.named_buffers():
        if b.dtype.is_floating_point:
            save(d, "buffer_" + n, b)  # BatchNorm running statistics after the training-mode forward
    print(tag, tuple(out.shape))


def main():
    torch.manual_seed(0)
    # GPO alone: B=4 sets of N=7 features of D=5, lengths with 1 (a single item) and N
    g = GPO()
    dump("gpo", g, {"feats": torch.randn(4, 7, 5), "lengths": torch.tensor([7, 1, 4, 6])}, ["feats"])
    # image encoder: B=3, R=5 regions (zero-padded past each length), F=12, E=8
    x = torch.rand(3, 5, 12)
    lens = torch.tensor([5, 3, 4])
    x[1, 3:] = 0
    x[2, 4:] = 0
    dump("image", ImageEnc(12, 8), {"images": x, "lengths": lens}, ["images"])
    # BiGRU text encoder: vocab 11, word dim 6, E=8; B=3 captions sorted by length, padded with 0
    ids = torch.tensor([[1, 4, 5, 9, 2], [1, 7, 3, 2, 0], [1, 10, 2, 0, 0]])
    dump("text", TextEnc(11, 6, 8), {"tokens": ids, "lengths": torch.tensor([5, 4, 3])}, [])


if __name__ == "__main__":
    main()
