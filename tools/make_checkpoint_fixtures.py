#!/usr/bin/python3
"""Released-checkpoint fixtures: model_best.pth files with exactly the official key names, shapes and
file structure, written from the official module definitions, and the official forward on a fixed
batch. Run once, from checkouts of the official repositories kept outside this repository:

    /usr/bin/python3 tools/make_checkpoint_fixtures.py --vse_infty DIR --vse_infty_bigru DIR \\
        --vsd DIR --hrem DIR

(Debian's python3-torch plus transformers, which the official encoders import.) For each family it
builds the official encoders at toy sizes (regions of 16 features, embeddings of 8, the 2-layer BERT
of tests/fixtures/torch/tiny_bert, whose 8-wide states replace bert-base's 768 at the text Linear's
input), randomises every weight and BatchNorm statistic, saves the checkpoint the way that family's
train.py does, and runs the official eval-mode forward on a fixed batch:

  vse_infty/        master (BERT): encoders wrapped in nn.DataParallel, so every key starts with
                    "module."; bert.embeddings.position_ids stored, as older transformers did
  vse_infty_bigru/  the bigru branch: Embedding + bidirectional GRU text encoder
  vsd/              VSD's GPO+VSD: "gpo.*" pooling, "gated_fusion.*" present but unused, the BGE fusion
  hrem/             HREM: FC_MLP ("fc.fc.*", "fc.mlp.*"), Transformer "aggr.*" (the relation module is
                    not part of the saved state)
  vsd_hrem/         VSD_HREM: HREM's encoders with "gated_fusion.*" and the BGE fusion

Each folder: model_best.pth, in_*.npy (the batch), out_img.npy / out_cap.npy (official embeddings).
"""
import argparse
import os
import sys

import numpy as np
import torch

from official_code import official, on_cpu
import torch.nn as nn

ap = argparse.ArgumentParser()
for name in ("vse_infty", "vse_infty_bigru", "vsd", "hrem"):
    ap.add_argument("--" + name, required=True)
args = ap.parse_args()
on_cpu()  # the official code calls .cuda(); run on the CPU

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "ckpt")
TINY_BERT = os.path.join(HERE, "..", "tests", "fixtures", "torch", "tiny_bert")
F, E, R, B, L, VOCAB, WORD = 16, 8, 6, 4, 7, 30, 6

from transformers import BertModel  # noqa: E402

_from_pretrained = BertModel.from_pretrained
BertModel.from_pretrained = classmethod(lambda cls, *a, **k: _from_pretrained(TINY_BERT))  # './bert-base-uncased' -> tiny


def randomise(m):
    torch.manual_seed(sum(map(ord, type(m).__name__)))
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm1d):
                mod.running_mean.copy_(torch.randn_like(mod.running_mean) * 0.2)
                mod.running_var.copy_(torch.rand_like(mod.running_var) + 0.5)
                mod.num_batches_tracked.fill_(7)


def save(d, name, t):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(t.detach().numpy() if torch.is_tensor(t) else t))


torch.manual_seed(1)
images = torch.rand(B, R, F)
img_lengths = torch.tensor([6, 4, 5, 2])
for b, n in enumerate(img_lengths):
    images[b, n:] = 0
lengths = torch.tensor([7, 6, 4, 3])  # sorted, as the collate function leaves them (packed GRUs need it)
tokens = torch.zeros(B, L, dtype=torch.long)
for b, n in enumerate(lengths):
    tokens[b, :n] = torch.randint(5, VOCAB, (int(n),))
    tokens[b, 0], tokens[b, n - 1] = 2, 3  # [CLS] / <start> ... [SEP] / <end> stand-ins
desc = nn.functional.normalize(torch.randn(B, E), dim=1)
cap = nn.functional.normalize(torch.randn(B, E), dim=1)


def write(tag, img_enc, txt_enc, ckpt_extra, img_out, cap_out, with_vsd):
    d = os.path.join(OUT, tag)
    save(d, "in_images", images)
    save(d, "in_img_lengths", img_lengths)
    save(d, "in_tokens", tokens)
    save(d, "in_lengths", lengths)
    if with_vsd:
        save(d, "in_desc", desc)
        save(d, "in_cap", cap)
    save(d, "out_img", img_out)
    save(d, "out_cap", cap_out)
    state = {"model": [img_enc.state_dict(), txt_enc.state_dict()]}
    state.update(ckpt_extra)
    torch.save(state, os.path.join(d, "model_best.pth"))
    n = sum(len(s) for s in state["model"])
    print("%-16s %3d tensors: %s ..." % (tag, n, ", ".join(list(state["model"][0])[:3])))


def run(img_enc, txt_enc, img_call, txt_call):
    img_enc.eval()
    txt_enc.eval()
    with torch.no_grad():
        return img_call(img_enc), txt_call(txt_enc)


# ---- vse_infty master (BERT), trained with DataParallel -------------------------------------------------
(enc,) = official(args.vse_infty, "lib.encoders")
img = enc.EncoderImageAggr(F, E, precomp_enc_type="basic")
txt = enc.EncoderText(E)
txt.linear = nn.Linear(8, E)
randomise(img), randomise(txt)
vi, vt = run(img, txt, lambda m: m(images, img_lengths), lambda m: m(tokens, lengths))
img_dp, txt_dp = nn.DataParallel(img), nn.DataParallel(txt)
sd_txt = txt_dp.state_dict()
sd_txt["module.bert.embeddings.position_ids"] = torch.arange(64).unsqueeze(0)  # older transformers saved it
write("vse_infty", img_dp, type("S", (), {"state_dict": lambda self: sd_txt})(),
      {"epoch": 25, "best_rsum": 512.5, "opt": argparse.Namespace(data_name="f30k", embed_size=E, img_dim=F,
                                                                     precomp_enc_type="basic"), "Eiters": 100},
      vi, vt, False)

# ---- vse_infty bigru ---------------------------------------------------------------------------------
(enc,) = official(args.vse_infty_bigru, "lib.encoders")
img = enc.EncoderImageAggr(F, E, precomp_enc_type="basic")
txt = enc.EncoderText(VOCAB, E, WORD, 1, use_bi_gru=True)
randomise(img), randomise(txt)
vi, vt = run(img, txt, lambda m: m(images, img_lengths), lambda m: m(tokens, lengths))
write("vse_infty_bigru", img, txt,
      {"epoch": 25, "best_rsum": 498.0, "opt": argparse.Namespace(data_name="f30k", embed_size=E, word_dim=WORD,
                                                                     vocab_size=VOCAB), "Eiters": 100}, vi, vt, False)

# ---- VSD: GPO+VSD ------------------------------------------------------------------------------------
opt = argparse.Namespace(dataset="f30k", embed_size=E, img_dim=F, no_imgnorm=False, no_txtnorm=False)
(enc,) = official(args.vsd, "lib.encoders")
img = enc.EncoderImageAggr(opt, F, E)
txt = enc.EncoderText_BERT(opt, E)
txt.linear = nn.Linear(8, E)
randomise(img), randomise(txt)
vi, vt = run(img, txt, lambda m: m(images, desc, img_lengths), lambda m: m(tokens, cap, lengths))
write("vsd", img, txt, {"opt": opt, "epoch": 25, "rsum": 540.8, "Eiters": 100}, vi, vt, True)

# ---- HREM and VSD_HREM ---------------------------------------------------------------------------------
opt = argparse.Namespace(dataset="f30k", embed_size=E, img_dim=F, nhead=2, dropout=0.1, residual_weight=0.8,
                         no_imgnorm=False, no_txtnorm=False)
for tag, root, with_vsd, extra in (("hrem", args.hrem, False, {"best_rsum": 520.4}),
                                   ("vsd_hrem", os.path.join(args.vsd, "VSD_HREM"), True, {"rsum": 542.1})):
    (enc,) = official(root, "lib.encoders")
    img = enc.EncoderImageAggr(opt, F, E)
    txt = enc.EncoderText_BERT(opt, E)
    txt.linear = nn.Linear(8, E)
    randomise(img), randomise(txt)
    if with_vsd:  # VSD_HREM's encoders take the BGE embeddings
        vi, vt = run(img, txt, lambda m: m(images, desc, img_lengths), lambda m: m(tokens, cap, lengths))
    else:
        vi, vt = run(img, txt, lambda m: m(images, img_lengths), lambda m: m(tokens, lengths))
    write(tag, img, txt, dict({"opt": opt, "epoch": 30 if tag == "hrem" else 25, "Eiters": 100}, **extra), vi, vt, with_vsd)
