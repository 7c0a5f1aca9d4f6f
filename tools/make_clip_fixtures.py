#!/usr/bin/python3
"""Parity goldens for our CLIP (tests/test_clip.cpp) from OpenCLIP's own model, randomly initialised.

    pip install --no-deps --target DIR open_clip_torch ftfy wcwidth     # then, from the repository root:
    /usr/bin/python3 tools/make_clip_fixtures.py --official DIR

Needs Debian's python3-torch (and python3-regex, python3-torchvision, which open_clip imports).
For each of two tiny configurations (GELU, and QuickGELU) writes tests/fixtures/clip/<variant>/:
  open_clip_config.json         {"model_cfg": ...}, as an OpenCLIP folder holds it
  open_clip_pytorch_model.bin   torch.save(model.state_dict()) of open_clip.model.CLIP(seed 0)
  images.npy (2, 3, 32, 32), ids.npy (3, 12) int64   the inputs
  image_features.npy, text_features.npy              encode_image / encode_text (not normalised)
  grads.bin                     torch.save of d loss / d parameter for every parameter, where
                                loss = sum(image_features * r_img) + sum(text_features * r_txt),
                                r_img, r_txt = r_img.npy, r_txt.npy (seeded normals)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--official", required=True, help="a folder where `import open_clip` works")
args = ap.parse_args()
sys.path.insert(0, args.official)
import open_clip  # noqa: E402
from open_clip.model import CLIP  # noqa: E402

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "clip")
print("open_clip", open_clip.__version__, "torch", torch.__version__)

for variant, quick in (("gelu", False), ("quick_gelu", True)):
    out = os.path.join(root, variant)
    os.makedirs(out, exist_ok=True)
    cfg = {"embed_dim": 8, "quick_gelu": quick,
           "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 16, "head_width": 8, "layers": 2},
           "text_cfg": {"context_length": 12, "vocab_size": 100, "width": 16, "heads": 2, "layers": 2}}
    torch.manual_seed(0)
    model = CLIP(cfg["embed_dim"], cfg["vision_cfg"], cfg["text_cfg"], quick_gelu=quick).float()
    # perturb every parameter a little, so that zero-initialised biases and LayerNorms (1, 0) are
    # exercised with general values too
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.eval()
    with open(os.path.join(out, "open_clip_config.json"), "w") as f:
        json.dump({"model_cfg": cfg}, f, indent=1)
    torch.save(model.state_dict(), os.path.join(out, "open_clip_pytorch_model.bin"))
    g = torch.Generator().manual_seed(1)
    images = torch.randn(2, 3, 32, 32, generator=g)
    # [SOT]=98 ... [EOT]=99 (the largest id: OpenCLIP pools there), zero padding after it
    ids = torch.tensor([[98, 5, 17, 42, 99, 0, 0, 0, 0, 0, 0, 0],
                        [98, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 99],
                        [98, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.int64)
    img = model.encode_image(images, normalize=False)
    txt = model.encode_text(ids, normalize=False)
    r_img, r_txt = torch.randn(img.shape, generator=g), torch.randn(txt.shape, generator=g)
    loss = (img * r_img).sum() + (txt * r_txt).sum()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    for n, p in model.named_parameters():  # logit_scale takes no part: its gradient is None
        if p.grad is None:
            grads[n] = torch.zeros_like(p)
    torch.save(grads, os.path.join(out, "grads.bin"))
    for name, t in (("images", images), ("ids", ids), ("image_features", img), ("text_features", txt),
                    ("r_img", r_img), ("r_txt", r_txt)):
        np.save(os.path.join(out, name + ".npy"), t.detach().numpy())
    print(variant, sum(p.numel() for p in model.parameters()), "parameters")
