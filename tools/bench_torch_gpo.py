#!/usr/bin/python3
"""One GPO training step with PyTorch, for `make bench` (tools/bench_step.cpp is ours) and, on a
GPU, tools/gpu_check.sh.

    /usr/bin/python3 tools/bench_torch_gpo.py [reps] [cpu|cuda] [fp32|tf32|bf16]
    prints "B R L ms" (median step time; on the GPU each step ends with a synchronisation)

The model is the reference's GPO with the BiGRU text encoder at F30K's size, built from the
module definitions that tools/make_gpo_fixtures.py wrote from paper-notes §2.1-2.3: 2048-d regions -> 1024,
a 300-d word embedding over an 8,500-word vocabulary, a 1024-d BiGRU. The step is the reference's:
VSE++ max-violation hinge (paper-notes §3.1), backward, gradient clipping at 2, AdamW. Batch: 128 images
of 36 regions, captions of 8..20 tokens sorted by length (as the reference's collate sorts them).
"""
import sys

import torch

from bench_timing import median_seconds
from make_gpo_fixtures import ImageEnc, TextEnc

B, R, F, E, WORD, VOCAB = 128, 36, 2048, 1024, 300, 8500


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    dev = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    precision = sys.argv[3] if len(sys.argv) > 3 else "fp32"
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.manual_seed(0)
    img_enc, txt_enc = ImageEnc(F, E).to(dev), TextEnc(VOCAB, WORD, E).to(dev)
    params = list(img_enc.parameters()) + list(txt_enc.parameters())
    opt = torch.optim.AdamW(params, lr=5e-4)
    images = torch.rand(B, R, F, device=dev)
    img_len = torch.full((B,), R, dtype=torch.long)
    cap_len = torch.tensor(sorted((8 + b % 13 for b in range(B)), reverse=True))
    L = int(cap_len.max())
    ids = torch.randint(1, VOCAB, (B, L))
    for b in range(B):
        ids[b, cap_len[b]:] = 0
    ids = ids.to(dev)
    eye = torch.eye(B, dtype=torch.bool, device=dev)

    def step():
        opt.zero_grad()
        with torch.autocast(device_type=dev, dtype=torch.bfloat16, enabled=precision == "bf16"):
            v, t = img_enc(images, img_len), txt_enc(ids, cap_len)
        v, t = v.float(), t.float()
        s = v @ t.t()
        d = s.diag().view(B, 1)
        cost_s = (0.2 + s - d).clamp(min=0).masked_fill(eye, 0)        # caption negatives per image
        cost_im = (0.2 + s - d.t()).clamp(min=0).masked_fill(eye, 0)   # image negatives per caption
        loss = cost_s.max(1)[0].sum() + cost_im.max(0)[0].sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()
        if dev == "cuda":
            torch.cuda.synchronize()

    ms = 1e3 * median_seconds(step, reps)
    print("# torch %s, %s %s, %d threads" % (torch.__version__, dev, precision, torch.get_num_threads()))
    print("%d %d %d %.1f" % (B, R, L, ms))


if __name__ == "__main__":
    main()
