// gpo.cpp — GPO forward, step by step as paper-notes §2.1 (and vse_infty's gpo.py) compute it.
#include "gpo.h"

namespace vsd {

GPO::GPO(Rng& rng, GPOConfig c) : cfg(c), gru(c.d_pe, c.d_hidden, true, rng), linear(c.d_hidden, 1, false, rng) {
    register_module("gru", gru);
    register_module("linear", linear);
}

Tensor GPO::forward(const Tensor& features, const Tensor& lengths) {
    ENSURE(features.ndim() == 3, "GPO expects features (B, N, D), got %s", features.shape_str().c_str());
    const int64_t B = features.size(0), N = features.size(1);
    ENSURE(lengths.numel() == B, "GPO: %lld lengths for a batch of %lld", (long long)lengths.numel(), (long long)B);
    const std::string bad = describe_outside(lengths, 1, N);
    ENSURE(bad.empty(), "GPO: the lengths must be in [1, %lld]: %s", (long long)N, bad.c_str());
    Tensor keep = length_mask(lengths, N);  // (B, N) 1 = real position
    Tensor pad = 1.0f - keep;                // 1 = padding (no grad: a constant)
    // 1. rank positions k = 0..N-1 -> sinusoidal encoding                 pe: (B, N, P)
    Tensor pe = positional_encoding(lengths.to(features.device()), N, cfg.d_pe);  // made where the model lives
    // 2. BiGRU over the ranks; average the two directions                 h: (B, N, H)
    Tensor h = gru.forward_mean(pe, lengths);
    // 3. score each rank, mask padding with -10000, softmax at T = 0.1   w: (B, N)
    Tensor s = reshape(linear.forward(h), {B, N});
    s = masked_fill(s, pad, -10000.0f);
    Tensor w = softmax(s * (1.0f / cfg.temperature));
    last_weights = w.detach();
    // 4. sort every feature dimension over k, largest first, padding last s: (B, N, D)
    Tensor pad3 = reshape(pad, {B, N, 1});
    Tensor sorted = sort(masked_fill(features, pad3, -10000.0f), 1, true).first;
    sorted = masked_fill(sorted, pad3, 0.0f);
    // 5. weighted sum over ranks                                           out: (B, D)
    return sum(sorted * reshape(w, {B, N, 1}), 1);
}

}  // namespace vsd
