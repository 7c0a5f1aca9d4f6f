#!/usr/bin/python3
"""PyTorch checkpoints written by torch itself, for tests/test_torch_load.cpp. Run once:
    /usr/bin/python3 tools/make_torch_fixtures.py      (Debian's python3-torch + transformers)

tiny_bert/        a random BertModel (vocab 50, hidden 8, 2 layers) saved by transformers as
                  pytorch_model.bin + config.json, and its last hidden states on fixed ids
                  (tiny_bert/vocab.txt, 50 tokens, is written by hand for the end-to-end eval test)
model_best.pth    the reference's checkpoint layout: {'model': [img_enc state, txt_enc state],
                  'opt': argparse.Namespace, 'epoch', 'Eiters', 'best_rsum': numpy float64}, with a
                  GPO image encoder (img_dim 16, embed 8) and a GPO BERT text encoder (tiny_bert)
model_best.json   name -> [shape, sum] of every tensor, to check the round trip
misc.pth          a float16 tensor, a transposed (non-contiguous) view, int64, two views of one storage
evil.pth          a pickle that asks for os.system: it must be refused, never executed
"""
import argparse
import json
import os
import pickle

import numpy as np
import torch
from transformers import BertConfig, BertModel

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)

cfg = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
                 max_position_embeddings=64)
bert = BertModel(cfg).eval()
bert.save_pretrained(os.path.join(OUT, "tiny_bert"), safe_serialization=False)
ids = torch.tensor([[2, 7, 9, 11, 3, 0], [2, 5, 3, 0, 0, 0]])
with torch.no_grad():
    h = bert(input_ids=ids, attention_mask=(ids != 0).long()).last_hidden_state
np.save(os.path.join(OUT, "tiny_bert_ids.npy"), ids.numpy())
np.save(os.path.join(OUT, "tiny_bert_hidden.npy"), h.numpy())

# the reference's model_best.pth layout (vse_infty / VSD train.py save_checkpoint)
img = {"fc.weight": torch.randn(8, 16), "fc.bias": torch.zeros(8),
       "mlp.layers.0.weight": torch.randn(4, 16), "mlp.layers.0.bias": torch.randn(4),
       "mlp.layers.1.weight": torch.randn(8, 4), "mlp.layers.1.bias": torch.randn(8),
       "mlp.bns.0.weight": torch.randn(4), "mlp.bns.0.bias": torch.randn(4), "mlp.bns.0.running_mean": torch.randn(4),
       "mlp.bns.0.running_var": torch.rand(4) + 0.5, "mlp.bns.0.num_batches_tracked": torch.tensor(7),
       "mlp.bns.1.weight": torch.ones(8), "mlp.bns.1.bias": torch.zeros(8), "mlp.bns.1.running_mean": torch.zeros(8),
       "mlp.bns.1.running_var": torch.ones(8), "mlp.bns.1.num_batches_tracked": torch.tensor(0)}
gru = torch.nn.GRU(32, 32, 1, batch_first=True, bidirectional=True)
gpool = {("gru." + k): v.detach().clone() for k, v in gru.state_dict().items()}
gpool["linear.weight"] = torch.randn(1, 32)
img.update({"gpool." + k: v for k, v in gpool.items()})
txt = {"bert." + k: v.detach().clone() for k, v in bert.state_dict().items()}
txt["linear.weight"] = torch.randn(8, 8)
txt["linear.bias"] = torch.randn(8)
txt.update({"gpool." + k: v.clone() + 0.5 for k, v in gpool.items()})
opt = argparse.Namespace(data_name="f30k", embed_size=8, precomp_enc_type="basic", learning_rate=0.0005)
ckpt = {"model": [img, txt], "epoch": 3, "opt": opt, "Eiters": 100, "best_rsum": np.float64(512.25)}
torch.save(ckpt, os.path.join(OUT, "model_best.pth"))
summary = {}
for prefix, sd in [("img_enc.", img), ("txt_enc.", txt)]:
    for k, v in sd.items():
        summary[prefix + k] = [list(v.shape), float(v.double().sum())]
json.dump(summary, open(os.path.join(OUT, "model_best.json"), "w"), indent=0)

base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
misc = {"h": torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16), "t": base.t(), "i": torch.tensor([2**40, -3]),
        "a": base[1], "b": base[2, 1:3]}
torch.save(misc, os.path.join(OUT, "misc.pth"))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


torch.save({"w": torch.ones(2), "x": Evil()}, os.path.join(OUT, "evil.pth"))
print(sorted(os.listdir(OUT)))
