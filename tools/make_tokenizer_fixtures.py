#!/usr/bin/env python3
"""Goldens for tests/test_tokenizer.cpp from the reference libraries themselves.

    pip install nltk transformers==4.36.0      # then, from the repository root:
    python3 tools/make_tokenizer_fixtures.py ../shared/data

1. nltk_cases.json: NLTK's NLTKWordTokenizer (the word part of nltk.word_tokenize) on crafted
   strings that exercise each Treebank rule.
2. nltk_real.json: for the real captions in shared/data, only the captions whose NLTK tokens differ
   from a plain whitespace split of the lower-cased caption (file, line, tokens). The C++ test
   checks every caption: these exceptions, and the whitespace split for all the others.
   Sentences are split first with the same simple rule as src/data/tokenizer.cpp (punkt's model
   is not installable here); NLTK tokenizes each sentence.
3. bert_cases.json: transformers' BertTokenizer (the pure-Python one) with bert-base-uncased's
   vocab.txt: the full WordPiece ids of crafted strings (accents, CJK, punctuation, long words).
"""
import json
import os
import re
import sys

from nltk.tokenize.destructive import NLTKWordTokenizer

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tokenize")
os.makedirs(out, exist_ok=True)
tok = NLTKWordTokenizer()
ABBREV = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "no", "mt", "ft", "prof"}


def split_sentences(text):  # mirror of split_sentences() in src/data/tokenizer.cpp
    out, start, i = [], 0, 0
    while i + 1 < len(text):
        c = text[i]
        if c in ".?!" and text[i + 1].isspace() and text[i + 1] in " \t\n\r\f\v":
            ok = True
            if c == ".":
                w = i
                while w > start and text[w - 1] not in " \t\n\r\f\v":
                    w -= 1
                word = text[w:i]
                bare = word.replace(".", "")
                if len(bare) <= 1 or "." in word or bare in ABBREV:
                    ok = False
            if ok:
                k = i + 1
                while k < len(text) and text[k] in " \t\n\r\f\v":
                    k += 1
                if k >= len(text):
                    break
                out.append(text[start:i + 1])
                start = k
        i += 1
    out.append(text[start:])
    return out


def word_tokenize(text):
    return [t for s in split_sentences(text) for t in tok.tokenize(s)]


cases = [
    "a man's dog.", "he can't go, can he?", '"hello" she said...', "the dog's ball (red) -- big!",
    "they\u2019re here.", "it costs $3.88, ok:", "cannot gonna wanna go", "'tis the season", "x.)",
    "i'm here", "rock'n'roll", "a--b", "two dogs; one cat & a bird @ 5% off #1", "what?! no!!",
    "the 'quoted' word", "a b c . d e f .", "a dog runs. it is brown .", "3,000 people: wow",
    "mr. smith's car", "u.s. flag", "an \u201cold\u201d sign", "\u00abbonjour\u00bb", "em\u2014dash and en\u2013dash",
    "stars * here", "{curly} [square] <angle>", "you'll we're they've i'd she's", "don't won't",
    "``backticks'' here", "a ' b ' c", "end with comma,", "dots..in the middle", "gimme lemme gotta more'n",
    "   spaces   everywhere   ", "", "caf\u00e9 na\u00efve r\u00e9sum\u00e9", "'em are 'ere",
]
json.dump([{"text": c, "tokens": word_tokenize(c)} for c in cases],
          open(os.path.join(out, "nltk_cases.json"), "w"), indent=0, ensure_ascii=False)

files = ["f30k/precomp/test_caps.txt", "f30k/precomp/dev_caps.txt", "coco/precomp/test_caps.txt",
         "coco/precomp/dev_caps.txt"]
real = {"files": files, "lines": {}, "exceptions": []}
for f in files:
    lines = open(os.path.join(shared, f), encoding="utf-8").read().split("\n")
    real["lines"][f] = len(lines)
    for n, line in enumerate(lines):
        low = line.lower()
        toks = word_tokenize(low)
        if toks != low.split():
            real["exceptions"].append({"file": f, "line": n, "tokens": toks})
json.dump(real, open(os.path.join(out, "nltk_real.json"), "w"), indent=0, ensure_ascii=False)
print(len(real["exceptions"]), "real captions differ from a whitespace split")

try:
    from transformers import BertTokenizer
    bt = BertTokenizer(os.path.join(shared, "bert-base-uncased", "vocab.txt"), do_lower_case=True)
    bert_cases = [
        "The man with pierced ears is wearing glasses and an orange hat .",
        "Caf\u00e9 NA\u00cfVE r\u00e9sum\u00e9 \u00c5ngstr\u00f6m \u0141\u00f3d\u017a Cr\u00e8me br\u00fbl\u00e9e",
        "they\u2019re here... (really!) -- \"quoted\" & 50% off #1",
        "\u4e2d\u6587\u5b57 mixed with english",
        "supercalifragilisticexpialidocious unaffable " + "x" * 101,
        "tab\there\nnewline\u00a0nbsp\u200bzero-width \u00adsoft-hyphen",
        "\u0391\u0398\u0397\u039d\u0391 \u041c\u043e\u0441\u043a\u0432\u0430 \u0439\u043e\u0433\u0430",
        "emoji \U0001F600 and symbols \u00a9 \u00ae \u2122 \u00b0 \u00b1",
        "Two Rubbish men standing on they\u2019re truck loading trash .",
        "",
    ]
    json.dump([{"text": c, "ids": bt.encode(c)} for c in bert_cases],
              open(os.path.join(out, "bert_cases.json"), "w"), indent=0, ensure_ascii=False)
    print("bert cases written")
except ImportError:
    print("transformers not installed: bert_cases.json not written")
