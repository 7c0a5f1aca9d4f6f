#!/usr/bin/python3
"""The reference side of `make bench` for BERT: bert-base forward tokens/s with Hugging Face
transformers on Debian's torch (random weights, the same batch as tools/bench_bert.cpp)."""
import os
import sys
import torch
from transformers import BertConfig, BertModel

from bench_timing import median_seconds

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
B, L = 32, 24
model = BertModel(BertConfig()).eval()
ids = torch.randint(1000, 21000, (B, L))
with torch.no_grad():
    secs = median_seconds(lambda: model(input_ids=ids), reps)
print(f"{B} {L} {B * L / secs:.0f}")
