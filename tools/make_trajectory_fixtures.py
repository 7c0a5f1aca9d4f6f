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
import json
import os
import random
import sys
import types

import numpy as np
import torch

from official_code import official, on_cpu

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "trajectory")
SHARED = os.path.join(HERE, "..", "..", "shared", "data")

# sizes: small, so that the committed fixture stays small; a whole recipe still happens inside
N_TRAIN, N_TEST, R, F = 32, 16, 8, 64   # images (5 captions each), regions per image, feature width
B, EPOCHS, DECAY = 16, 6, 4             # 10 steps an epoch: max-violation from step 10, lr x0.1 from step 40
E, WORD, K_PROTO = 32, 16, 896       # VSD's f30k centroids: K = 896 (the file name the official code opens)
BERT_HIDDEN = 8                      # a 2-layer BERT of width 8 (dropout 0) stands in for bert-base
WARMUP, NHEAD, TOPK = 20, 4, 4       # HREM: the relation module joins at step 20; 4 heads; top-4 pairs

ap = argparse.ArgumentParser()
ap.add_argument("--official", required=True, help="folder with vse_infty_bigru/ and VSD/")
ap.add_argument("--only", default="", help="comma-separated subset of: gpo_bigru, gpo_vsd")
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--size", default="small", choices=["small", "real"],
                help="real: F30K's sizes (36 regions of 2048, batch 128, embeddings 1024, words 300) for 3 epochs "
                     "of 10 steps; too big to commit: written to --out, replayed when VSD_TRAJECTORY_REAL=--out")
ap.add_argument("--out", default=OUT)
ap.add_argument("--curves", default="", metavar="TRAIN",
                help="instead of fixtures: the whole-curve comparison. Train GPO+BiGRU with the official code and with "
                     "our TRAIN program (e.g. build/release-cpu/train), --seeds each, on a planted dataset of the "
                     "shared captions (1000 training images), and print both per-epoch test rsum curves")
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--curve_model", default="gpo_bigru", choices=["gpo_bigru", "gpo_vsd"],
                help="with --curves: the recipe (gpo_vsd: VSD's code with the small BERT, dropout 0)")
ap.add_argument("--ours_extra", default="", help="with --curves: extra flags for our train (e.g. '--mask_repeat 1', "
                                                 "the default before the release-recipes change)")
ap.add_argument("--ours_only", action="store_true", help="with --curves: reuse the official curves of curves.json")
ap.add_argument("--epochs", type=int, default=6)
args = ap.parse_args()
OUT = args.out
if args.size == "real":
    N_TRAIN, N_TEST, R, F, B, EPOCHS, DECAY, E, WORD = 256, 32, 36, 2048, 128, 3, 2, 1024, 300
if args.curves:  # the recipe of the held-back benchmark, at sizes a CPU trains in minutes
    N_TRAIN, N_TEST, R, F, B, EPOCHS, DECAY, E, WORD = 1000, 200, 16, 128, 128, args.epochs, 4, 256, 300

# ---- the official code on the CPU -------------------------------------------------------------
on_cpu()
import transformers  # noqa: E402,F401  (before the stubs below: it probes for cv2 itself)

nltk = types.ModuleType("nltk")
nltk.tokenize = types.SimpleNamespace(word_tokenize=lambda s: s.split())
sys.modules["nltk"] = nltk
for stub in ("imageio", "cv2", "tensorboard_logger"):
    m = types.ModuleType(stub)
    m.imread = None
    sys.modules.setdefault(stub, m)


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
    caps += [l.strip() for l in open(os.path.join(SHARED, "f30k", "precomp", "test_caps.txt"))]
    train_caps, test_caps = caps[:5 * N_TRAIN], caps[5 * N_TRAIN:5 * (N_TRAIN + N_TEST)]
    rng = np.random.RandomState(1234)
    words = sorted({w for c in train_caps + test_caps for w in c.lower().split()})
    vec = {w: rng.randn(F).astype(np.float32) for w in words}
    desc_vec = rng.randn(F, E).astype(np.float32) / np.sqrt(F)  # VSD adds the BGE embedding to the E-wide one

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
        d = unit(np.repeat(ims.mean(1), 5, 0) @ desc_vec + 0.3 * rng.randn(len(cs), E))
        c = unit(np.stack([np.mean([vec[w] for w in s.lower().split()], 0) for s in cs]) @ desc_vec
                 + 0.3 * rng.randn(len(cs), E))
        # the release's names (seed/VSD-README.txt): train_aux_cap_bge_cpm_full.npy, test_aux_cap_bge_cpm_full_1.npy
        np.save(os.path.join(pre, split + ("_aux_cap_bge_cpm_full.npy" if split == "train" else "_aux_cap_bge_cpm_full_1.npy")), d)
        np.save(os.path.join(pre, split + "_cap_bge.npy"), c)
        np.save(os.path.join(pre, split + "_cap_bge_cpm.npy"), unit(c + 0.2 * rng.randn(len(cs), E)))  # VSD_HREM's
    vocab = ["<pad>", "<start>", "<end>", "<unk>"] + words
    # a WordPiece vocabulary of whole words for the small BERT (basic_tokenizer splits punctuation)
    with open(os.path.join(root, "bert_vocab.txt"), "w") as f:
        f.write("".join(w + "\n" for w in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words))
    with open(os.path.join(root, "vocab", "f30k_precomp_vocab.json"), "w") as f:
        json.dump({"word2idx": {w: i for i, w in enumerate(vocab)}, "idx2word": {str(i): w for i, w in enumerate(vocab)},
                   "idx": len(vocab)}, f)
    np.save(os.path.join(root, "f30k", "proto", "f30k_minicpm_kmeans_centroids_%d.npy" % K_PROTO),
            rng.randn(K_PROTO, E).astype(np.float32))  # the official code L2-normalises them itself
    return os.path.join(root, "f30k")


# ---- recording ----------------------------------------------------------------------------------
def param_stats(named):
    """Sum and sum of squares of every parameter; a multi-head attention's packed in_proj_bias also by
    thirds (#q, #k, #v), since its key third moves by rounding noise alone (see the test)."""
    out = {}
    for n, p in named:
        parts = [("", p)]
        if n.endswith("in_proj_bias"):
            parts += list(zip(("#q", "#k", "#v"), p.chunk(3)))
        for suffix, t in parts:
            out[n + suffix] = [float(t.double().sum()), float((t.double() ** 2).sum())]
    return out


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


def bigru_recipe(vocab_mod, data):
    """The vse_infty bigru recipe of the held-back benchmark: its vocabulary (with <mask>, as train.py adds
    it) and its options (AdamW at PyTorch's default weight decay, max-violation after 1 epoch)."""
    vocab = vocab_mod.deserialize_vocab(os.path.join(os.path.dirname(data), "vocab", "f30k_precomp_vocab.json"))
    vocab.add_word("<mask>")
    opt = argparse.Namespace(precomp_enc_type="basic", img_dim=F, embed_size=E, word_dim=WORD, num_layers=1,
                             vocab_size=len(vocab), no_imgnorm=False, no_txtnorm=False, backbone_source=None,
                             backbone_path=None, grad_clip=2.0, margin=0.2, max_violation=False, optim="adam",
                             learning_rate=5e-4, lr_update=DECAY, vse_mean_warmup_epochs=1, batch_size=B, workers=0,
                             data_path=data)
    return vocab, opt


def run_gpo_bigru(data, out):
    """woodfrog/vse_infty (bigru): VSEModel.train_emb with train.py's epoch loop."""
    vse, ic, vocab_mod, evaluation = official(os.path.join(args.official, "vse_infty_bigru"), "lib.vse",
                                              "lib.datasets.image_caption", "lib.vocab", "lib.evaluation")
    vocab, opt = bigru_recipe(vocab_mod, data)
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
    test_loader = ic.get_test_loader("test", "f30k_precomp", vocab, 40, 0, opt)
    img_embs, cap_embs = evaluation.encode_data(model, ListIds(test_loader), logging=lambda *a: None)
    np.save(os.path.join(out, "sims.npy"), (img_embs[::5] @ cap_embs.T).astype(np.float32))
    dset = ic.PrecompRegionDataset(data, "f30k_precomp", "train", vocab, opt, True)
    config = {"model": "gpo", "text_encoder": "bigru", "vsd": "none", "loss_type": "vse", "batch_size": B,
              "num_epochs": EPOCHS, "learning_rate": 5e-4, "lr_update": DECAY, "weight_decay": 0.01, "grad_clip": 2.0,
              "margin": 0.2, "vse_mean_warmup_epochs": 1, "mask_repeat": 0, "embed_size": E, "word_dim": WORD,
              "img_dim": F}
    return steps, config, dset, vocab


def small_bert(root, out, max_positions=64):
    """The BERT folder our trainer reads (config.json, vocab.txt); the official code gets the same model."""
    from transformers import BertConfig
    bert_dir = os.path.join(out, "bert")
    os.makedirs(bert_dir, exist_ok=True)
    vocab = open(os.path.join(root, "bert_vocab.txt")).read()
    open(os.path.join(bert_dir, "vocab.txt"), "w").write(vocab)
    cfg = BertConfig(vocab_size=len(vocab.split()), hidden_size=BERT_HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=16, max_position_embeddings=max_positions, hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0)
    cfg.to_json_file(os.path.join(bert_dir, "config.json"))
    return bert_dir, cfg


def record_negatives(loss_mod):
    """The triplet sampler's draws (torch.multinomial), one list per direction (loss_forward call);
    None where the official code found a row without any valid negative and zeroed the direction."""
    calls = []
    multinomial = torch.multinomial

    def draw(w, n, *a, **k):
        r = multinomial(w, n, *a, **k)
        calls[-1] = r.squeeze(1).clone()
        return r

    forward = loss_mod.TripletLoss.loss_forward

    def loss_forward(self, *a, **k):
        calls.append(None)
        return forward(self, *a, **k)

    torch.multinomial = draw
    loss_mod.TripletLoss.loss_forward = loss_forward
    return calls


def vsd_recipe(repo, data, out, modules, max_positions=64):
    """VSD's (or VSD_HREM's) modules on the small BERT, its options, and its tokenizer. The official code
    loads './bert-base-uncased' and a Linear(768, E): both are pointed at the small BERT of `out`."""
    from transformers import BertModel, BertTokenizer
    root = os.path.dirname(data)
    bert_dir, bert_cfg = small_bert(root, out, max_positions)
    BertModel.from_pretrained = classmethod(lambda cls, *a, **k: BertModel(bert_cfg))
    BertTokenizer.from_pretrained = classmethod(lambda cls, *a, **k: BertTokenizer(os.path.join(bert_dir, "vocab.txt")))
    mods = official(repo, *modules)
    enc = mods[modules.index("lib.encoders")]
    init_text = enc.EncoderText_BERT.__init__

    def text_init(self, opt, embed_size=1024, no_txtnorm=False):  # bert-base's 768 -> the small BERT's width
        init_text(self, opt, embed_size, no_txtnorm)
        self.linear = torch.nn.Linear(BERT_HIDDEN, embed_size)

    enc.EncoderText_BERT.__init__ = text_init
    # VSD's arguments.py, plus VSD_HREM's extra_parameters (which VSD's code never reads); dropout 0
    opt = argparse.Namespace(dataset="f30k", data_path=root, img_dim=F, embed_size=E, no_imgnorm=False,
                             no_txtnorm=False, grad_clip=2.0, margin=0.2, max_violation=False, loss_type="trip",
                             learning_rate=5e-4, lr_schedules=[DECAY], decay_rate=0.1, vse_mean_warmup_epochs=0,
                             batch_size=B, workers=0, size_augment=1, mask_repeat=1,
                             proto_path=os.path.join(data, "proto"), sk_epsilon=0.05, sinkhorn_iterations=3,
                             proto_temperature=0.1, base_loss="trip", gnn_loss="trip", warmup=WARMUP, num_layers_enc=1,
                             nhead=NHEAD, dropout=0.0, graph_lr_factor=1.0, mask_weight=1.0, threshold=0.5, topk=TOPK,
                             reg_loss_weight=10.0, norm_input=1, cross_loss=1, residual_weight=0.8)
    return mods, opt, BertTokenizer.from_pretrained("./bert-base-uncased")


def run_gpo_vsd(data, out):
    """Image-Text-Matching/VSD (GPO+VSD: BERT, triplet + prototype loss): VSEModel.train_emb with
    train.py's epoch loop, on the small BERT."""
    return run_vsd_family(data, out, hrem=False)


def run_hrem_vsd(data, out):
    """Image-Text-Matching/VSD's VSD_HREM (HREM+VSD: HREM's encoders and relation module, triplet losses
    on the initial and the relation-enhanced embeddings, the relation regulariser, the prototype loss).
    The relation module joins at step WARMUP, inside the recorded window; dropout 0 everywhere."""
    return run_vsd_family(data, out, hrem=True)



def run_vsd_family(data, out, hrem):
    root = os.path.dirname(data)
    repo = os.path.join(args.official, "VSD", "VSD_HREM") if hrem else os.path.join(args.official, "VSD")
    (vse, ic, enc, loss_mod), opt, tokenizer = vsd_recipe(repo, data, out, ("lib.vse", "lib.image_caption",
                                                                            "lib.encoders", "lib.loss"))
    graph_lib = sys.modules.get("graph_lib")
    model = vse.VSEModel(opt)
    model.logger = Logger()
    state = model.state_dict() + ([model.criterion.state_dict()] if hrem else [])  # HREM: the relation module too
    torch.save({"model": state, "epoch": 0}, os.path.join(out, "init.pth"))
    norms, terms = [], {}
    clip = vse.clip_grad_norm_
    vse.clip_grad_norm_ = lambda params, c: norms.append(float(clip(params, c))) or norms[-1]
    proto_forward = loss_mod.ProtoContrastiveLoss.forward
    trip_forward = loss_mod.TripletLoss.forward

    def proto(self, *a, **k):
        v = proto_forward(self, *a, **k)
        terms["prototype"] = float(v)
        return v

    trip_names = ["matching", "graph(V,Tg)", "graph(Vg,T)", "graph(Vg,Tg)"]  # GraphLoss's call order

    def trip(self, *a, **k):
        v = trip_forward(self, *a, **k)
        terms[trip_names[sum(1 for n in trip_names if n in terms)]] = float(v)
        return v

    if hrem:
        adj_forward = graph_lib.AdjacencyModel.forward

        def adj(self, *a, **k):
            c, r, reg = adj_forward(self, *a, **k)
            terms["relation regulariser"] = opt.reg_loss_weight * float(reg)
            return c, r, reg

        graph_lib.AdjacencyModel.forward = adj

    loss_mod.ProtoContrastiveLoss.forward = proto
    loss_mod.TripletLoss.forward = trip
    negs = record_negatives(loss_mod)
    loader = ic.get_train_loader(root, tokenizer, B, 0, opt)
    train_ims = np.load(os.path.join(data, "precomp", "train_ims.npy"))
    tensors, steps = {}, []
    named = [("img_enc." + n, p) for n, p in model.img_enc.named_parameters()] + \
            [("txt_enc." + n, p) for n, p in model.txt_enc.named_parameters()]
    if hrem:
        named += [("criterion." + n, p) for n, p in model.criterion.named_parameters()]
    for epoch in range(EPOCHS):
        if epoch in opt.lr_schedules:  # adjust_learning_rate
            for g in model.optimizer.param_groups:
                g["lr"] *= opt.decay_rate
        model.train_start()
        for images, img_lengths, captions, aux, caps, lengths, ids, img_ids, repeat in loader:
            k = "b%d." % len(steps)
            tensors[k + "kept"] = kept_regions(train_ims, img_ids.numpy(), images, img_lengths)
            tensors[k + "img_lengths"] = img_lengths.numpy().astype(np.int64)
            tensors[k + "tokens"] = captions.numpy().astype(np.int64)
            tensors[k + "lengths"] = lengths.numpy().astype(np.int64)
            tensors[k + "cap_ids"] = ids.numpy().astype(np.int64)
            tensors[k + "img_ids"] = img_ids.numpy().astype(np.int64)
            lr = model.optimizer.param_groups[0]["lr"]
            del negs[:]
            terms.clear()
            model.train_emb(images, captions, aux, caps, opt, lengths, image_lengths=img_lengths, img_ids=img_ids)
            for j, n in enumerate(negs):
                tensors[k + "neg%d" % j] = np.zeros(0, np.int64) if n is None else n.numpy().astype(np.int64)
            steps.append({"epoch": epoch, "lr": lr, "loss": dict(terms), "grad_norm": norms[-1],
                          "params": param_stats(named), "buffers": buffer_stats([("img_enc.", model.img_enc)])})
    save_safetensors(os.path.join(out, "batches.safetensors"), tensors, {"steps_per_epoch": str(len(steps) // EPOCHS)})
    model.val_start()
    test_loader = ic.get_test_loader(root, "test", tokenizer, 40, 0, opt)
    img_embs = np.zeros((len(test_loader.dataset), E))
    cap_embs = np.zeros((len(test_loader.dataset), E))
    with torch.no_grad():
        for images, img_lengths, captions, aux, caps, lengths, ids, img_ids, repeat in test_loader:
            im, cp = model.forward_emb(images, captions, aux, caps, img_ids, lengths, image_lengths=img_lengths)
            if hrem:  # VSD_HREM's forward_emb returns the encoders' tuples; the embedding is the third
                im, cp = im[2] if isinstance(im, tuple) else im, cp[2] if isinstance(cp, tuple) else cp
            img_embs[ids.numpy()] = im.numpy()
            cap_embs[ids.numpy()] = cp.numpy()
    np.save(os.path.join(out, "sims.npy"), (img_embs[::5] @ cap_embs.T).astype(np.float32))
    config = {"model": "hrem" if hrem else "gpo", "text_encoder": "bert", "vsd": "cpm",
              "cap_emb": "cap_bge_cpm" if hrem else "cap_bge", "loss_type": "trip",
              "batch_size": B, "num_epochs": EPOCHS, "learning_rate": 5e-4, "lr_schedules": str(DECAY),
              "weight_decay": 1e-4, "grad_clip": 2.0, "margin": 0.2, "bert_lr_factor": 0.05, "trip_reference_skip": 1,
              "trip_cutoff": 1.7, "proto": 1, "proto_weight": 1.0, "sk_epsilon": 0.05, "sinkhorn_iterations": 3,
              "proto_temperature": 0.1, "embed_size": E, "img_dim": F}
    if hrem:
        config.update({"nhead": NHEAD, "dropout": 0.0, "warmup": WARMUP, "topk": TOPK, "threshold": 0.5, "mask_weight": 1.0,
                       "reg_loss_weight": 10.0, "graph_lr_factor": 1.0, "residual_weight": 0.8, "maxk_reference": 1,
                       "relation": 1, "connections": "intra"})
    return steps, config, None, None


MODELS = {"gpo_bigru": run_gpo_bigru, "gpo_vsd": run_gpo_vsd, "hrem_vsd": run_hrem_vsd}


def official_curve(data, seed):
    """The official GPO+BiGRU recipe (vse_infty bigru: VSEModel, its loader, train.py's epoch loop), the
    test split's rsum after every epoch (its evaluation.i2t / t2i on its encode_data)."""
    vse, ic, vocab_mod, evaluation = official(os.path.join(args.official, "vse_infty_bigru"), "lib.vse",
                                              "lib.datasets.image_caption", "lib.vocab", "lib.evaluation")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    vocab, opt = bigru_recipe(vocab_mod, data)
    model = vse.VSEModel(opt)
    model.logger = Logger()
    loader = ic.get_loader(data, "f30k_precomp", "train", vocab, opt, batch_size=B, shuffle=True, num_workers=0, train=True)
    test_loader = ic.get_test_loader("test", "f30k_precomp", vocab, B, 0, opt)
    curve = []
    for epoch in range(EPOCHS):
        if epoch == DECAY:
            for g in model.optimizer.param_groups:
                g["lr"] *= 0.1
        if epoch >= opt.vse_mean_warmup_epochs:
            model.set_max_violation(True)
        for images, img_lengths, captions, lengths, ids in loader:
            model.train_start()
            model.train_emb(images, captions, lengths, image_lengths=img_lengths)
        img_embs, cap_embs = evaluation.encode_data(model, ListIds(test_loader), logging=lambda *a: None)
        img_embs = img_embs[::5]
        sims = img_embs @ cap_embs.T
        r = evaluation.i2t(len(img_embs), sims)
        ri = evaluation.t2i(len(img_embs), sims)
        curve.append(round(float(sum(r[:3]) + sum(ri[:3])), 1))
        print("  official seed %d epoch %d: rsum %.1f" % (seed, epoch + 1, curve[-1]), flush=True)
    return curve


def official_vsd_curve(data, seed):
    """The official GPO+VSD recipe (VSD's VSEModel, loader and epoch loop) on the small BERT."""
    import contextlib
    root = os.path.dirname(data)
    (vse, ic, enc, evaluation), opt, tokenizer = vsd_recipe(
        os.path.join(args.official, "VSD"), data, os.path.join(OUT, "gpo_vsd"),
        ("lib.vse", "lib.image_caption", "lib.encoders", "lib.evaluation"), max_positions=128)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = vse.VSEModel(opt)
    model.logger = Logger()
    loader = ic.get_train_loader(root, tokenizer, B, 0, opt)
    test_loader = ic.get_test_loader(root, "test", tokenizer, B, 0, opt)
    curve = []
    for epoch in range(EPOCHS):
        if epoch in opt.lr_schedules:
            for g in model.optimizer.param_groups:
                g["lr"] *= opt.decay_rate
        model.train_start()
        with contextlib.redirect_stdout(open(os.devnull, "w")):  # train_emb prints two lines a step
            for images, img_lengths, captions, aux, caps, lengths, ids, img_ids, repeat in loader:
                model.train_emb(images, captions, aux, caps, opt, lengths, image_lengths=img_lengths, img_ids=img_ids)
        model.val_start()
        img_embs = np.zeros((len(test_loader.dataset), E))
        cap_embs = np.zeros((len(test_loader.dataset), E))
        with torch.no_grad():
            for images, img_lengths, captions, aux, caps, lengths, ids, img_ids, repeat in test_loader:
                im, cp = model.forward_emb(images, captions, aux, caps, img_ids, lengths, image_lengths=img_lengths)
                img_embs[ids.numpy()] = im.numpy()
                cap_embs[ids.numpy()] = cp.numpy()
        img_embs = img_embs[::5]
        sims = img_embs @ cap_embs.T
        r, ri = evaluation.i2t(len(img_embs), sims), evaluation.t2i(len(img_embs), sims)
        curve.append(round(float(sum(r[:3]) + sum(ri[:3])), 1))
        print("  official seed %d epoch %d: rsum %.1f" % (seed, epoch + 1, curve[-1]), flush=True)
    return curve


def our_curve(data, seed):
    """Our train program with the same recipe (flags), validating on the test split after every epoch."""
    import re
    import subprocess
    run = os.path.join(os.path.dirname(data), "runs", "%s_seed%d" % (args.curve_model, seed))
    cmd = [args.curves, "--data_path", os.path.dirname(data), "--dataset", "f30k", "--batch_size", str(B), "--num_epochs",
           str(EPOCHS), "--learning_rate", "5e-4", "--grad_clip", "2", "--margin", "0.2", "--embed_size", str(E),
           "--img_dim", str(F), "--seed", str(seed), "--val_split", "test", "--selection", "best", "--logger_name", run,
           "--progress", "0"]
    if args.curve_model == "gpo_bigru":
        cmd += ["--model", "gpo", "--text_encoder", "bigru", "--lr_update", str(DECAY), "--weight_decay", "0.01",
                "--vse_mean_warmup_epochs", "1", "--mask_repeat", "0", "--word_dim", str(WORD)]
    else:
        cmd += ["--model", "gpo", "--vsd", "cpm", "--text_encoder", "bert", "--bert_path", os.path.join(OUT, "gpo_vsd", "bert"),
                "--loss_type", "trip", "--lr_schedules", str(DECAY), "--weight_decay", "1e-4", "--bert_lr_factor", "0.05",
                "--trip_reference_skip", "1"]
    cmd += args.ours_extra.split()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    curve = [float(x) for x in re.findall(r"epoch \d+ test[^|]*\|.*\|.*\|\s+([0-9.]+)", out)]
    print("  ours seed %d: %s" % (seed, curve), flush=True)
    return curve


def curves():
    data = make_dataset(os.path.join(OUT, "data"))
    saved = os.path.join(OUT, "curves.json" if args.curve_model == "gpo_bigru" else "curves_%s.json" % args.curve_model)
    run_official = official_curve if args.curve_model == "gpo_bigru" else official_vsd_curve
    theirs = json.load(open(saved))["official"] if args.ours_only else [run_official(data, s) for s in range(args.seeds)]
    ours = [our_curve(data, s) for s in range(args.seeds)]
    print("\nper-epoch test rsum (%d training images, %d test images, batch %d, %d epochs, lr decay at epoch %d)"
          % (N_TRAIN, N_TEST, B, EPOCHS, DECAY + 1))
    for name, cs in (("official", theirs), ("ours", ours)):
        mean = np.mean(cs, 0)
        spread = np.max(cs, 0) - np.min(cs, 0)
        print("%-9s " % name + " ".join("%6.1f±%-4.1f" % (m, sp / 2) for m, sp in zip(mean, spread)))
    json.dump({"official": theirs, "ours": ours, "ours_extra": args.ours_extra},
              open(saved if not args.ours_only else saved.replace(".json", "_ours_extra.json"), "w"))


def main():
    if args.curves:
        return curves()
    only = [m for m in args.only.split(",") if m] or list(MODELS)
    data = make_dataset(os.path.join(OUT, "data"))
    needs = {"gpo_bigru": "vse_infty_bigru", "gpo_vsd": "VSD", "hrem_vsd": os.path.join("VSD", "VSD_HREM")}
    for name in only:
        checkout = os.path.join(args.official, needs[name])
        if not os.path.isdir(os.path.join(checkout, "lib")):
            print("skipping %s: the official checkout %s is absent (its committed fixture stays as it is)" % (name, checkout))
            continue
        out = os.path.join(OUT, name)
        os.makedirs(out, exist_ok=True)
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        steps, config, dset, vocab = MODELS[name](data, out)
        aug = {}
        if dset is not None:  # measured once, on the BiGRU recipe's loader (SCAN vocabulary, <start>/<end>)
            random.seed(args.seed + 1)
            aug = augmentation_stats(dset, vocab, 20000)
            aug["same_image_pairs_per_batch"] = batch_composition(200, len(dset), B)
        with open(os.path.join(out, "trace.json"), "w") as f:
            json.dump({"model": name, "official": os.path.basename(os.path.normpath(args.official)),
                       "steps_per_epoch": len(steps) // EPOCHS, "config": config, "augmentation": aug,
                       "steps": steps}, f, indent=0)
        print("%s: %d steps, first loss %s, last loss %s" % (name, len(steps), steps[0]["loss"], steps[-1]["loss"]))


main()
