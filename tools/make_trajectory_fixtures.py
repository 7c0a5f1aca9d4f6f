#!/usr/bin/python3
"""Training-trajectory fixtures: the official training step itself, run for whole epochs on a small
planted dataset, with every batch and every logged quantity recorded, so that tests/test_trajectory.cpp
can replay the same batches through our trainer from the same initial weights and compare step by step.

    /usr/bin/python3 tools/make_trajectory_fixtures.py --official DIR [--only gpo_bigru,...]

DIR holds checkouts of the official repositories, kept outside this repository:
    DIR/vse_infty_bigru   woodfrog/vse_infty, branch bigru   (GPO + BiGRU, VSE++)
    DIR/VSD               Image-Text-Matching/VSD            (GPO + VSD: triplet + prototype loss)
Debian's python3-torch and python3-numpy, plus transformers (VSD's encoders import it). The official
code runs on the CPU: its .cuda() calls are made no-ops; nltk's word_tokenize is replaced by a split on
spaces (the shared captions are already tokenised that way); imageio and cv2, imported for raw images
only, are stubbed.

What runs is the official code: its dataset class and collate_fn (augmentation, shuffling, sorting),
its VSEModel (encoders, loss, AdamW, clipping: train_emb), and the epoch loop of its train.py (the lr
decay, the switch to max-violation). What is recorded, per model, in tests/fixtures/trajectory/<model>/:
    init.pth             the initial weights, saved as the official train.py saves a checkpoint
    batches.safetensors  every batch: b<step>.kept (the regions kept, -1 padded), .img_lengths, .tokens, .lengths, .cap_ids,
                         .img_ids (+ .desc_emb, .cap_emb with VSD; .neg<k> the triplet sampler's
                         negatives of call k, in the official order of positive pairs)
    trace.json           our train flags for this recipe; per step: the lr, each loss term, the
                         gradient norm before clipping, sum and sum of squares of every parameter after
                         the step, and BatchNorm's running statistics; the augmentation statistics
    sims.npy             the test split's similarity matrix after the run (eval mode)
and the dataset itself (shared by the models), tests/fixtures/trajectory/data/: the release layout
f30k/precomp/{train,test}_{ims.npy,caps.txt,ids.txt}, VSD's description/caption embeddings, the
vocabulary and the prototype centroids, made from ../shared/data's real Flickr30K captions.
"""
import argparse
import importlib
import json
import os
import random
import sys
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "trajectory")
SHARED = os.path.join(HERE, "..", "..", "shared", "data")

# sizes: small, so that the committed fixture stays small; a whole recipe still happens inside
N_TRAIN, N_TEST, R, F = 32, 16, 8, 64   # images (5 captions each), regions per image, feature width
B, EPOCHS, DECAY = 16, 6, 4             # 10 steps an epoch: max-violation from step 10, lr x0.1 from step 40
E, WORD, D_BGE, K_PROTO = 32, 16, 24, 12

ap = argparse.ArgumentParser()
ap.add_argument("--official", required=True, help="folder with vse_infty_bigru/ and VSD/")
ap.add_argument("--only", default="", help="comma-separated subset of: gpo_bigru, gpo_vsd")
ap.add_argument("--seed", type=int, default=7)
args = ap.parse_args()

# ---- the official code on the CPU -------------------------------------------------------------
torch.Tensor.cuda = lambda self, *a, **k: self
torch.nn.Module.cuda = lambda self, *a, **k: self
nltk = types.ModuleType("nltk")
nltk.tokenize = types.SimpleNamespace(word_tokenize=lambda s: s.split())
sys.modules["nltk"] = nltk
for stub in ("imageio", "cv2", "tensorboard_logger"):
    m = types.ModuleType(stub)
    m.imread = None
    sys.modules.setdefault(stub, m)


def official(root, *modules):
    """Import the official modules of one checkout (each repository has its own `lib` package)."""
    for m in list(sys.modules):
        if m == "lib" or m.startswith("lib.") or m == "arguments":
            del sys.modules[m]
    sys.path.insert(0, os.path.abspath(root))
    try:
        return [importlib.import_module(m) for m in modules]
    finally:
        sys.path.pop(0)


def save_safetensors(path, tensors, metadata=None):
    """The safetensors format: 8-byte header length, JSON header, raw little-endian data."""
    header, blobs, off = ({"__metadata__": metadata} if metadata else {}), [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        dt = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


# ---- the planted dataset ------------------------------------------------------------------------
def make_dataset(root):
    """Real captions, planted region features: region r of image i is the mean of the word vectors
    of a few of its captions' words, plus noise, so that matching can be learnt."""
    caps = [l.strip() for l in open(os.path.join(SHARED, "f30k", "precomp", "dev_caps.txt"))]
    train_caps, test_caps = caps[:5 * N_TRAIN], caps[5 * N_TRAIN:5 * (N_TRAIN + N_TEST)]
    rng = np.random.RandomState(1234)
    words = sorted({w for c in train_caps + test_caps for w in c.lower().split()})
    vec = {w: rng.randn(F).astype(np.float32) for w in words}
    desc_vec = rng.randn(F, D_BGE).astype(np.float32) / np.sqrt(F)

    def images(cs):
        n = len(cs) // 5
        ims = np.zeros((n, R, F), np.float32)
        for i in range(n):
            ws = [w for c in cs[5 * i:5 * i + 5] for w in c.lower().split()]
            for r in range(R):
                pick = rng.choice(len(ws), 3)
                ims[i, r] = np.mean([vec[ws[p]] for p in pick], 0) + 0.5 * rng.randn(F)
        return ims

    def unit(x):
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    pre = os.path.join(root, "f30k", "precomp")
    os.makedirs(pre, exist_ok=True)
    os.makedirs(os.path.join(root, "vocab"), exist_ok=True)
    os.makedirs(os.path.join(root, "f30k", "proto"), exist_ok=True)
    for split, cs in (("train", train_caps), ("test", test_caps)):
        ims = images(cs)
        np.save(os.path.join(pre, split + "_ims.npy"), ims)
        with open(os.path.join(pre, split + "_caps.txt"), "w") as f:
            f.write("".join(c + "\n" for c in cs))
        with open(os.path.join(pre, split + "_ids.txt"), "w") as f:
            f.write("".join("%d\n" % (1000 * (split == "test") + i) for i in range(len(ims)) for _ in range(5)))
        # VSD: a description per caption row (5 per image) and each caption's own embedding, unit rows
        d = unit(np.repeat(ims.mean(1), 5, 0) @ desc_vec + 0.3 * rng.randn(len(cs), D_BGE))
        c = unit(np.stack([np.mean([vec[w] for w in s.lower().split()], 0) for s in cs]) @ desc_vec
                 + 0.3 * rng.randn(len(cs), D_BGE))
        np.save(os.path.join(pre, split + "_aux_cap_bge_minicpm.npy"), d)
        np.save(os.path.join(pre, split + "_cap_bge.npy"), c)
    vocab = ["<pad>", "<start>", "<end>", "<unk>"] + words
    with open(os.path.join(root, "vocab", "f30k_precomp_vocab.json"), "w") as f:
        json.dump({"word2idx": {w: i for i, w in enumerate(vocab)}, "idx2word": {str(i): w for i, w in enumerate(vocab)},
                   "idx": len(vocab)}, f)
    np.save(os.path.join(root, "f30k", "proto", "f30k_minicpm_kmeans_centroids_%d.npy" % K_PROTO),
            rng.randn(K_PROTO, E).astype(np.float32))
    return os.path.join(root, "f30k")


# ---- recording ----------------------------------------------------------------------------------
def param_stats(named):
    return {n: [float(p.double().sum()), float((p.double() ** 2).sum())] for n, p in named}


def buffer_stats(mods):
    out = {}
    for prefix, m in mods:
        for n, b in m.named_buffers():
            if n.endswith("running_mean") or n.endswith("running_var"):
                out[prefix + n] = [float(v) for v in b.double()]
    return out


def augmentation_stats(dset, vocab, n_samples):
    """Region dropping and token masking, measured on the official dataset's __getitem__: shares
    per caption position (0 = <start>, last = <end>, words in between) of kept, masked, replaced and
    deleted tokens. Captions of distinct words only, so that the output aligns with the input."""
    mask_id = vocab.word2idx["<mask>"]
    regions_kept, regions_total = 0, 0
    pos = {"start": [0, 0, 0, 0], "word": [0, 0, 0, 0], "end": [0, 0, 0, 0]}  # kept, masked, replaced, deleted
    done = 0
    while done < n_samples:
        idx = random.randrange(len(dset))
        words = dset.captions[idx].lower().split()
        if len(set(words)) != len(words):
            continue
        image, target, _, _ = dset[idx]
        regions_kept += image.shape[0]
        regions_total += R
        orig = [vocab("<start>")] + [vocab(w) for w in words] + [vocab("<end>")]
        out = [int(t) for t in target]
        j = 0
        for i, o in enumerate(orig):
            kind = "start" if i == 0 else ("end" if i == len(orig) - 1 else "word")
            if j < len(out) and out[j] == o:
                pos[kind][0] += 1
                j += 1
            elif j < len(out) and out[j] == mask_id:
                pos[kind][1] += 1
                j += 1
            elif j < len(out) and out[j] not in orig[i:]:
                pos[kind][2] += 1
                j += 1
            else:
                pos[kind][3] += 1
        done += 1
    return {"samples": n_samples, "region_keep": regions_kept / regions_total,
            "tokens": {k: [c / max(1, sum(v)) for c in v] + [sum(v)] for k, v in pos.items()}}


def batch_composition(n_epochs, n_caps, batch):
    """Mean number of same-image caption pairs per batch under the official loader's shuffling
    (torch's RandomSampler, drop_last)."""
    pairs, batches = 0, 0
    for _ in range(n_epochs):
        order = torch.randperm(n_caps).tolist()
        for s in range(0, n_caps - batch + 1, batch):
            ims = [c // 5 for c in order[s:s + batch]]
            pairs += sum(ims[a] == ims[b] for a in range(batch) for b in range(a + 1, batch))
            batches += 1
    return pairs / batches


def kept_regions(ims, img_ids, images, img_lengths):
    """The regions that the official size augmentation kept, found by matching the batch's rows
    against the image's regions (planted features are distinct); -1 pads. The replay rebuilds the
    padded batch from these and the dataset, so the committed fixture holds no features."""
    kept = -np.ones((len(img_ids), R), np.int64)
    for b, i in enumerate(img_ids):
        for r in range(int(img_lengths[b])):
            row = images[b, r].numpy()
            hit = [q for q in range(R) if np.array_equal(ims[i, q], row)]
            assert len(hit) == 1, "planted regions must be distinct"
            kept[b, r] = hit[0]
        assert np.all(images[b, int(img_lengths[b]):].numpy() == 0)  # zero padding
    return kept


class ListIds:
    """The official encode_data indexes numpy arrays with the batch's tuple of ids, which numpy >= 1.23
    reads as a multi-dimensional index; hand it a list, as older numpy did."""
    def __init__(self, loader):
        self.loader, self.dataset, self.batch_size = loader, loader.dataset, loader.batch_size

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for b in self.loader:
            yield tuple(b[:-1]) + (list(b[-1]),)


class Logger:
    def __init__(self):
        self.v = {}

    def update(self, k, v, n=0):
        self.v[k] = v


def run_gpo_bigru(data, out):
    """woodfrog/vse_infty (bigru): VSEModel.train_emb with train.py's epoch loop."""
    vse, ic, vocab_mod, evaluation = official(os.path.join(args.official, "vse_infty_bigru"), "lib.vse",
                                              "lib.datasets.image_caption", "lib.vocab", "lib.evaluation")
    vocab = vocab_mod.deserialize_vocab(os.path.join(os.path.dirname(data), "vocab", "f30k_precomp_vocab.json"))
    vocab.add_word("<mask>")
    opt = argparse.Namespace(precomp_enc_type="basic", img_dim=F, embed_size=E, word_dim=WORD, num_layers=1,
                             vocab_size=len(vocab), no_imgnorm=False, no_txtnorm=False, backbone_source=None,
                             backbone_path=None, grad_clip=2.0, margin=0.2, max_violation=False, optim="adam",
                             learning_rate=5e-4, lr_update=DECAY, vse_mean_warmup_epochs=1, batch_size=B, workers=0)
    model = vse.VSEModel(opt)
    model.logger = Logger()
    torch.save({"model": model.state_dict(), "epoch": 0}, os.path.join(out, "init.pth"))
    norms = []
    clip = vse.clip_grad_norm_
    vse.clip_grad_norm_ = lambda params, c: norms.append(float(clip(params, c))) or norms[-1]
    loader = ic.get_loader(data, "f30k_precomp", "train", vocab, opt, batch_size=B, shuffle=True, num_workers=0,
                           train=True)
    tensors, steps = {}, []
    train_ims = np.load(os.path.join(data, "precomp", "train_ims.npy"))
    named = [("img_enc." + n, p) for n, p in model.img_enc.named_parameters()] + \
            [("txt_enc." + n, p) for n, p in model.txt_enc.named_parameters()]
    for epoch in range(EPOCHS):
        if epoch == DECAY:  # adjust_learning_rate
            for g in model.optimizer.param_groups:
                g["lr"] *= 0.1
        if epoch >= opt.vse_mean_warmup_epochs:
            model.set_max_violation(True)
        for images, img_lengths, captions, lengths, ids in loader:
            k = "b%d." % len(steps)
            tensors[k + "kept"] = kept_regions(train_ims, np.array(ids) // 5, images, img_lengths)
            tensors[k + "img_lengths"] = img_lengths.numpy().astype(np.int64)
            tensors[k + "tokens"] = captions.numpy().astype(np.int64)
            tensors[k + "lengths"] = np.array(lengths, np.int64)
            tensors[k + "cap_ids"] = np.array(ids, np.int64)
            tensors[k + "img_ids"] = np.array(ids, np.int64) // 5
            model.train_start()
            lr = model.optimizer.param_groups[0]["lr"]
            model.train_emb(images, captions, lengths, image_lengths=img_lengths)
            steps.append({"epoch": epoch, "lr": lr, "loss": {"matching": float(model.logger.v["Le"])},
                          "grad_norm": norms[-1], "params": param_stats(named),
                          "buffers": buffer_stats([("img_enc.", model.img_enc)])})
    save_safetensors(os.path.join(out, "batches.safetensors"), tensors, {"steps_per_epoch": str(len(steps) // EPOCHS)})
    test_loader = ic.get_test_loader("test", "f30k_precomp", vocab, 40, 0, argparse.Namespace(**vars(opt), data_path=data))
    img_embs, cap_embs = evaluation.encode_data(model, ListIds(test_loader), logging=lambda *a: None)
    np.save(os.path.join(out, "sims.npy"), (img_embs[::5] @ cap_embs.T).astype(np.float32))
    dset = ic.PrecompRegionDataset(data, "f30k_precomp", "train", vocab, opt, True)
    config = {"model": "gpo", "text_encoder": "bigru", "vsd": "none", "loss_type": "vse", "batch_size": B,
              "num_epochs": EPOCHS, "learning_rate": 5e-4, "lr_update": DECAY, "weight_decay": 0.01, "grad_clip": 2.0,
              "margin": 0.2, "vse_mean_warmup_epochs": 1, "mask_repeat": 0, "embed_size": E, "word_dim": WORD,
              "img_dim": F}
    return steps, config, dset, vocab


MODELS = {"gpo_bigru": run_gpo_bigru}


def main():
    only = [m for m in args.only.split(",") if m] or list(MODELS)
    data = make_dataset(os.path.join(OUT, "data"))
    for name in only:
        out = os.path.join(OUT, name)
        os.makedirs(out, exist_ok=True)
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        steps, config, dset, vocab = MODELS[name](data, out)
        random.seed(args.seed + 1)
        aug = augmentation_stats(dset, vocab, 4000)
        aug["same_image_pairs_per_batch"] = batch_composition(200, len(dset), B)
        with open(os.path.join(out, "trace.json"), "w") as f:
            json.dump({"model": name, "official": os.path.basename(os.path.normpath(args.official)),
                       "steps_per_epoch": len(steps) // EPOCHS, "config": config, "augmentation": aug,
                       "steps": steps}, f, indent=0)
        print("%s: %d steps, first loss %.4f, last loss %.4f, region keep %.3f" % (
            name, len(steps), steps[0]["loss"]["matching"], steps[-1]["loss"]["matching"], aug["region_keep"]))


main()
