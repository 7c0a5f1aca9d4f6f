#!/usr/bin/python3
"""Test pictures, and their pixels as independent decoders see them, for tests/test_image.cpp.

Run once from the repository root:
    /usr/bin/python3 tools/make_image_fixtures.py [--open_clip DIR]
Needs Debian's python3-pil (Pillow on libjpeg-turbo), python3-numpy, python3-torchvision and
libjpeg-turbo-progs (cjpeg, for restart markers and the samplings PIL cannot ask for).
--open_clip DIR: a folder where `import open_clip` works (e.g. pip install --no-deps --target DIR
open_clip_torch ftfy wcwidth); the preprocessing fixtures then come from OpenCLIP's own
image_transform, and the script checks that torchvision's pipeline below gives the same tensors.

Writes tests/fixtures/image/:
  jpeg/<case>.jpg + <case>.npy      the file, and PIL's decoded pixels (H, W, 3) or (H, W) uint8
                                    (orientation cases: after ImageOps.exif_transpose)
  png/<case>.png + <case>.npy       likewise; adam7_*.png are written here by hand (Pillow writes
                                    no interlaced PNG), their .npy is the picture they were made from
  pre/<case>.png + <case>_<S>.npy   OpenCLIP's preprocessing at size S = 64: float32 (3, S, S); at
                                    S = 224 (<case>_224_u8.npy) the uint8 crop (224, 224, 3) before
                                    ToTensor (checked against the tensor here)
The pictures are synthetic (gradients, discs, bars, noise), made here from a fixed seed.
"""
import argparse
import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image, ImageOps

ap = argparse.ArgumentParser()
ap.add_argument("--open_clip", default=None)
args = ap.parse_args()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "image")
for sub in ("jpeg", "png", "pre"):
    os.makedirs(os.path.join(root, sub), exist_ok=True)
rng = np.random.RandomState(2026)


def picture(w, h, grey=False):
    """Smooth colour gradients, a few discs and bars with hard edges, and a little noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / max(w - 1, 1), 255 * y / max(h - 1, 1), 128 + 100 * np.sin(x / 5.0 + y / 7.0)], -1)
    for _ in range(4):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, max(3, min(w, h) / 3))
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    x0 = rng.randint(0, max(1, w - 2))
    img[:, x0:x0 + 2] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if grey:
        return Image.fromarray(img).convert("L")
    return Image.fromarray(img)


def save_pair(sub, name, data, pixels):
    with open(os.path.join(root, sub, name + "." + sub.replace("jpeg", "jpg")), "wb") as f:
        f.write(data)
    np.save(os.path.join(root, sub, name + ".npy"), np.ascontiguousarray(pixels))


def pil_pixels(data):
    im = Image.open(io.BytesIO(data))
    return np.asarray(im if im.mode == "L" else im.convert("RGB"))


def jpeg(name, im, **kw):
    b = io.BytesIO()
    im.save(b, "JPEG", **kw)
    data = b.getvalue()
    save_pair("jpeg", name, data, pil_pixels(data))


# ---- JPEG through PIL: qualities, subsamplings (0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0), progressive --------
src = picture(61, 43)
for q, ss in [(95, 0), (75, 1), (50, 2), (20, 2), (100, 0)]:
    jpeg(f"q{q}_{['444', '422', '420'][ss]}", src, quality=q, subsampling=ss)
for q, ss in [(90, 2), (75, 0), (60, 1)]:
    jpeg(f"q{q}_{['444', '422', '420'][ss]}_progressive", src, quality=q, subsampling=ss, progressive=True)
jpeg("q85_420_optimized", src, quality=85, subsampling=2, optimize=True)
jpeg("grey_q85", picture(37, 29, grey=True), quality=85)
jpeg("grey_q70_progressive", picture(37, 29, grey=True), quality=70, progressive=True)
jpeg("tiny_1x1", picture(1, 1), quality=90, subsampling=2)
jpeg("tiny_2x3", picture(2, 3), quality=90, subsampling=2)
jpeg("small_5x3_420", picture(5, 3), quality=90, subsampling=2)
jpeg("wide_130x9_420_progressive", picture(130, 9), quality=80, subsampling=2, progressive=True)

# ---- EXIF orientation 2..8: PIL's ImageOps.exif_transpose gives the expected pixels -----------------
for o in range(2, 9):
    exif = Image.Exif()
    exif[0x0112] = o
    b = io.BytesIO()
    picture(23, 17).save(b, "JPEG", quality=90, subsampling=2, exif=exif.tobytes())
    data = b.getvalue()
    save_pair("jpeg", f"orientation_{o}", data, np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")))

# ---- JPEG through cjpeg: restart markers, 4:4:0 and 4:1:1, Adobe RGB ----------------------------------
with tempfile.TemporaryDirectory() as tmp:
    ppm = os.path.join(tmp, "src.ppm")
    picture(75, 53).save(ppm)
    for name, flags in [("restart1_420", ["-restart", "1", "-sample", "2x2"]),
                        ("restart3b_444", ["-restart", "3B", "-sample", "1x1"]),
                        ("restart2_420_progressive", ["-restart", "2", "-sample", "2x2", "-progressive"]),
                        ("sample_440", ["-sample", "1x2"]),
                        ("sample_411", ["-sample", "4x1"]),
                        ("rgb_adobe", ["-rgb"])]:
        data = subprocess.run(["cjpeg", "-quality", "80"] + flags + [ppm], check=True, capture_output=True).stdout
        save_pair("jpeg", name, data, pil_pixels(data))


# ---- PNG through PIL: every mode it writes; compress_level 0 gives stored deflate blocks ------------
def png(name, im, **kw):
    b = io.BytesIO()
    im.save(b, "PNG", **kw)
    data = b.getvalue()
    out = Image.open(io.BytesIO(data))
    save_pair("png", name, data, np.asarray(out.convert("L" if out.mode in ("L", "LA", "1") else "RGB")))


p = picture(45, 31)
png("rgb", p)
png("rgb_stored", p, compress_level=0)
png("rgb_fast", p, compress_level=1)
png("rgba", p.convert("RGBA"))
png("grey", p.convert("L"))
png("grey_alpha", p.convert("LA"))
png("palette", p.convert("P", palette=Image.ADAPTIVE, colors=200))
png("palette_16", p.convert("P", palette=Image.ADAPTIVE, colors=16), bits=4)
png("bilevel", p.convert("1"))


# ---- PNG by hand: Adam7 interlacing and 16-bit RGB (Pillow writes neither) ---------------------------
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def handmade_png(name, pixels, depth, colour, interlace):
    """pixels: (H, W, C) array of the sample values; rows filtered with filter type (row % 5)."""
    h, w = pixels.shape[:2]
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] \
        if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    bpp = pixels.shape[2] * depth // 8
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prev = bytes(sub.shape[1] * bpp)
        for r, row in enumerate(sub):
            line = row.astype(">u2" if depth == 16 else np.uint8).tobytes()
            ft = r % 5
            out = bytearray()
            for i, v in enumerate(line):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if ft == 4:
                    q = a + b - c
                    pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                else:
                    pred = [0, a, b, (a + b) // 2][ft]
                out.append((v - pred) & 255)
            raw += bytes([ft]) + out
            prev = line
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)) \
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    expect = (pixels >> 8).astype(np.uint8) if depth == 16 else pixels.astype(np.uint8)
    save_pair("png", name, data, expect[..., 0] if colour == 0 else expect)


handmade_png("adam7_rgb", np.asarray(picture(19, 13)), 8, 2, 1)
handmade_png("adam7_grey", np.asarray(picture(9, 11, grey=True))[..., None], 8, 0, 1)
handmade_png("rgb16", rng.randint(0, 65536, (7, 6, 3)), 16, 2, 0)

# ---- OpenCLIP's preprocessing ------------------------------------------------------------------------
import torch  # noqa: E402
from torchvision import transforms as T  # noqa: E402

mean, std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def ours_torchvision(size):
    return T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size),
                      lambda im: im.convert("RGB"), T.ToTensor(), T.Normalize(mean, std)])


oc = None
if args.open_clip:
    sys.path.insert(0, args.open_clip)
    import open_clip  # noqa: E402
    print("open_clip", open_clip.__version__)
    oc = open_clip.transform.image_transform

for name, (w, h), grey in [("landscape", (97, 61), False), ("portrait", (61, 97), False),
                           ("odd_crop", (300, 201), False), ("grey", (80, 120), True), ("square", (50, 50), False)]:
    im = picture(w, h, grey)
    b = io.BytesIO()
    im.save(b, "PNG")
    with open(os.path.join(root, "pre", name + ".png"), "wb") as f:
        f.write(b.getvalue())
    im = Image.open(io.BytesIO(b.getvalue()))
    for size in (64, 224) if name == "odd_crop" else (64,):
        t = ours_torchvision(size)(im)
        if oc is not None:
            t2 = oc(size, is_train=False)(im)
            assert torch.equal(t, t2), f"open_clip's preprocessing differs from torchvision's on {name}"
            t = t2
        if size != 224:  # (3, 224, 224) floats are 600 kB: the 224 case keeps the 8-bit crop only
            np.save(os.path.join(root, "pre", f"{name}_{size}.npy"), t.numpy().astype(np.float32))
        else:
            crop = T.CenterCrop(size)(T.Resize(size, interpolation=T.InterpolationMode.BICUBIC)(im)).convert("RGB")
            u8 = np.asarray(crop)
            assert torch.allclose((torch.from_numpy(u8.copy()).permute(2, 0, 1) / 255.0 - torch.tensor(mean)[:, None, None])
                                  / torch.tensor(std)[:, None, None], t, atol=1e-6)
            np.save(os.path.join(root, "pre", f"{name}_{size}_u8.npy"), u8)
print("wrote", root)
