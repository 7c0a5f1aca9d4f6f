// layers.h — the building blocks, with PyTorch's parameter names and default initialisation.
#pragma once
#include "../ops/ops.h"
#include "module.h"

namespace vsd {

// LayerNorm over the last dim: weight 1, bias 0 (PyTorch's names and init).
class LayerNorm : public Module {
public:
    LayerNorm(int64_t n, float eps);
    Tensor forward(const Tensor& x) const { return layernorm(x, weight, bias, eps); }
    Tensor weight, bias;
    float eps;
};

// Dropout in training (drop: the step's mask generator) and the identity otherwise (drop null,
// or p = 0). Every layer that drops goes through this one helper.
Tensor maybe_dropout(const Tensor& x, float p, Rng* drop);

// The (B, heads, L, L) mask multi_head_attention takes, spread from `visible` (any shape that
// broadcasts to it: (B, 1, 1, L) key masks, (1, 1, L, L) pair masks, their product), nonzero =
// visible. Made on visible's device; callers build it once and share it across layers.
Tensor attention_mask(const Tensor& visible, int64_t B, int64_t heads, int64_t L);

// Multi-head scaled dot-product attention, the one that BERT's and HREM's Transformer layers
// share (Vaswani et al. 2017, eq. 1): q, k, v (B, L, E) are split into `heads` heads of
// d = E / heads; per head softmax(q k^T / sqrt(d) + bias) over the keys that `mask` keeps
// (B, heads, L, L), nonzero = visible; undefined: all), with dropout p on the probabilities; the
// values are mixed and the heads merged back -> (B, L, E). bias (L, L) is added to every head's
// scores (HREM's graph attention); undefined: none.
Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, const Tensor& mask,
                            const Tensor& bias, float p, Rng* drop);

// y = x W^T + b.   weight (out, in), bias (out,).   Init: U(+-1/sqrt(in)) for both (PyTorch).
class Linear : public Module {
public:
    Linear(int64_t in, int64_t out, bool bias, Rng& rng);
    Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
    Tensor weight, bias;
};

// BatchNorm1d over (N, C): weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked.
class BatchNorm1d : public Module {
public:
    explicit BatchNorm1d(int64_t C, float momentum = 0.1f, float eps = 1e-5f);
    Tensor forward(const Tensor& x);  // uses is_training()
    Tensor weight, bias, running_mean, running_var, num_batches_tracked;
    float momentum, eps;
};

// A one-layer GRU, optionally bidirectional, over padded batches (names weight_ih_l0, ...,
// weight_ih_l0_reverse). Init: U(+-1/sqrt(H)) for every weight and bias (PyTorch).
class GRU : public Module {
public:
    GRU(int64_t input, int64_t hidden, bool bidirectional, Rng& rng);
    // (B, T, I), lengths (B,) -> (B, T, H); bidirectional: the mean of both directions, which is
    // what GPO and the BiGRU text encoder use ((h_fwd + h_bwd) / 2).
    Tensor forward_mean(const Tensor& x, const Tensor& lengths) const;
    int64_t hidden;
    bool bidirectional;
    Tensor w_ih, w_hh, b_ih, b_hh, w_ih_r, w_hh_r, b_ih_r, b_hh_r;
};

// Embedding table (V, D).
class Embedding : public Module {
public:
    Embedding(int64_t V, int64_t D);
    Tensor forward(const Tensor& ids) const { return embedding(ids, weight); }
    Tensor weight;
};

}  // namespace vsd
