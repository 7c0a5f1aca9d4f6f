#!/usr/bin/python3
"""Goldens for the CLIP tokenizer (tests/test_clip.cpp) from OpenCLIP's own tokenizer.

    pip install --no-deps --target DIR open_clip_torch ftfy wcwidth     # then, from the repository root:
    PYTHONPATH=DIR /usr/bin/python3 tools/make_clip_tokenizer_fixtures.py ../shared/data

Needs Debian's python3-regex and python3-torch (open_clip imports them).
1. clip_cases.json: open_clip.tokenize (context 77) of crafted strings: contractions, numbers,
   punctuation runs, HTML entities, curly quotes, accents, non-Latin scripts, a caption longer
   than 77 tokens, the special tokens' own text.
2. clip_real_<dataset>_<split>.npy: for every caption of ../shared/data's caption files, the CRC-32
   (zlib's) of its ids before padding ([SOT] ... [EOT], as little-endian int32), and its id count:
   int64 (N, 2). The C++ test names the first caption whose ids differ.
"""
import json
import os
import sys
import zlib

import numpy as np
import open_clip

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "tokenize")
os.makedirs(out, exist_ok=True)
print("open_clip", open_clip.__version__)
tok = open_clip.get_tokenizer("ViT-B-32")


def ids(text):
    t = tok([text])[0].tolist()
    while t and t[-1] == 0:
        t.pop()
    return t


cases = [
    "A man in a blue shirt is standing on a ladder cleaning windows.",
    "The dog's owner isn't here; they're sure we've gone, I'm told, we'll see, he'd say.",
    "IT'S LOUD!!! ... (maybe) -- 3 dogs, 42 cats & 1000000 birds; 3.14% at 10:30pm #1 @home",
    "Caf\u00e9 NA\u00cfVE r\u00e9sum\u00e9 \u00c5ngstr\u00f6m \u0141\u00f3d\u017a Cr\u00e8me br\u00fbl\u00e9e",
    "\u201cQuoted\u201d and \u2018single\u2019 quotes, the \ufb01sh and \uff21\uff22\uff23 wide",
    "Tom &amp; Jerry &lt;3 &quot;cheese&quot; &#39;yes&#39; &#x263A; &amp;amp; &nbsp;space",
    "\u4e00\u4e2a\u7537\u4eba\u5728\u9a91\u81ea\u884c\u8f66 \u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u041f\u0440\u0438\u0432\u0435\u0442 \u0645\u0631\u062d\u0628\u0627",
    "emoji \U0001F600\U0001F436 and \u00bd \u00b2 \u0663 digits",
    "   lots\tof \n white   space\u00a0here   ",
    "<start_of_text> inside <end_of_text> text",
    " ".join(["word%d" % i for i in range(60)]),
    "",
    "x",
]
with open(os.path.join(out, "clip_cases.json"), "w") as f:
    json.dump([{"text": c, "ids": ids(c)} for c in cases], f, ensure_ascii=False, indent=0)

for ds in ("f30k", "coco"):
    for split in ("test", "dev"):
        path = os.path.join(shared, ds, "precomp", f"{split}_caps.txt")
        if not os.path.exists(path):
            print("absent:", path)
            continue
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        rows = []
        for line in lines:
            t = ids(line)
            rows.append((zlib.crc32(np.asarray(t, dtype="<i4").tobytes()), len(t)))
        np.save(os.path.join(out, f"clip_real_{ds}_{split}.npy"), np.asarray(rows, dtype=np.int64))
        print(path, len(rows))
