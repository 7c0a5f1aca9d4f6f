#!/usr/bin/python3
"""make bench, pictures: write test JPEGs with PIL, or time PIL's decoding and OpenCLIP's preprocessing.

    bench_images.py make DIR N      N JPEGs of 500 x 375 (Flickr30K's usual size), quality 90, 4:2:0
    bench_images.py time DIR REPS   decode (Image.open + convert('RGB')), then decode + torchvision's
                                    Resize(224, bicubic) + CenterCrop + ToTensor + Normalize, one thread;
                                    prints "decode <images/s>" and "preprocess <images/s>"
                                    (and "vit_b_32 <images/s>": torchvision's ViT-B/32, when importable)
"""
import io
import os
import sys
import time

import numpy as np
from PIL import Image

cmd, folder = sys.argv[1], sys.argv[2]
if cmd == "make":
    rng = np.random.RandomState(0)
    os.makedirs(folder, exist_ok=True)
    y, x = np.mgrid[0:375, 0:500].astype(np.float64)
    for i in range(int(sys.argv[3])):
        img = np.stack([x / 2 + 40 * np.sin(y / (9 + i)), y / 1.5, 128 + 100 * np.sin((x + y) / (7 + i % 5))], -1)
        img += rng.normal(0, 12, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(folder, f"img_{i:04d}.jpg"), quality=90)
    sys.exit(0)

reps = int(sys.argv[3])
files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))
blobs = [open(f, "rb").read() for f in files]


def median(run):
    run()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


t = median(lambda: [Image.open(io.BytesIO(b)).convert("RGB").load() for b in blobs])
print("decode %.1f" % (len(blobs) / t))
try:
    import torch
    from torchvision import transforms as T
    torch.set_num_threads(1)
    pre = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224), T.ToTensor(),
                     T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
    t = median(lambda: [pre(Image.open(io.BytesIO(b)).convert("RGB")) for b in blobs])
    print("preprocess %.1f" % (len(blobs) / t))
    from torchvision.models import vit_b_32
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    m = vit_b_32().eval()
    x = torch.randn(16, 3, 224, 224)
    with torch.no_grad():
        t0 = time.perf_counter()
        m(x[:1])
        if time.perf_counter() - t0 > 1.0:  # a reference (netlib) BLAS: minutes per batch; no row
            print("# torch's ViT-B/32 skipped: one image took %.1f s (netlib BLAS?)" % (time.perf_counter() - t0))
            sys.exit(0)
        t = median(lambda: m(x))
    print("vit_b_32 %.1f" % (16 / t))
except ImportError:
    pass
