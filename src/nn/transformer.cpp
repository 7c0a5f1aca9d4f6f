// transformer.cpp — one post-LN Transformer encoder layer with PyTorch's layout and initialisation.
#include "transformer.h"

#include <cmath>

namespace vsd {

// nn.MultiheadAttention's init: in_proj xavier_uniform, in_proj_bias 0, out_proj.bias 0
// (out_proj.weight keeps nn.Linear's default)
MultiheadAttention::MultiheadAttention(int64_t E, Rng& rng) : out_proj(E, E, true, rng) {
    in_proj_weight = Tensor::empty({3 * E, E});
    xavier_uniform_(in_proj_weight, rng);
    in_proj_bias = Tensor::zeros({3 * E});
    fill(out_proj.bias, 0.0f);
    register_parameter("in_proj_weight", in_proj_weight);
    register_parameter("in_proj_bias", in_proj_bias);
    register_module("out_proj", out_proj);
}

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerConfig& c, Rng& rng)
    : cfg(c), self_attn(c.d_model, rng), linear1(c.d_model, c.ffn, true, rng), linear2(c.ffn, c.d_model, true, rng),
      norm1(c.d_model, c.ln_eps), norm2(c.d_model, c.ln_eps) {
    ENSURE(c.d_model % c.heads == 0, "transformer: d_model %lld is not a multiple of the %lld heads", (long long)c.d_model,
           (long long)c.heads);
    register_module("self_attn", self_attn);
    register_module("linear1", linear1);
    register_module("linear2", linear2);
    register_module("norm1", norm1);
    register_module("norm2", norm2);
}

Tensor TransformerEncoderLayer::forward(const Tensor& x, const Tensor& key_lengths, const Tensor& keep, const Tensor& bias,
                                        Rng* drop) {
    ENSURE(x.ndim() == 3 && x.size(2) == cfg.d_model, "transformer: expects (B, N, %lld), got %s", (long long)cfg.d_model,
           x.shape_str().c_str());
    const int64_t B = x.size(0), N = x.size(1), E = cfg.d_model, A = cfg.heads;
    if (key_lengths.defined())
        ENSURE(key_lengths.numel() == B, "transformer: %lld key lengths for a batch of %lld", (long long)key_lengths.numel(),
               (long long)B);
    if (keep.defined()) ENSURE(keep.shape() == Shape({N, N}), "transformer: keep mask %s, expected (%lld, %lld)",
                               keep.shape_str().c_str(), (long long)N, (long long)N);
    if (bias.defined()) ENSURE(bias.shape() == Shape({N, N}), "transformer: attention bias %s, expected (%lld, %lld)",
                               bias.shape_str().c_str(), (long long)N, (long long)N);
    // 1. the visible keys, spread over heads and queries where x lives          (B, A, N, N)
    //    (only the lengths, B numbers, and keep cross from the host)
    Tensor visible;  // (B, 1, 1, N) keys, times (1, 1, N, N) pairs
    if (key_lengths.defined()) visible = reshape(length_mask(key_lengths, N).to(x.device()), {B, 1, 1, N});
    if (keep.defined()) {
        const Tensor pairs = reshape(to_float(keep).to(x.device()), {1, 1, N, N});
        visible = visible.defined() ? visible * pairs : pairs;
    }
    const Tensor mask = visible.defined() ? attention_mask(visible, B, A, N) : Tensor();
    // 2. one projection gives queries, keys and values; attention over the visible keys
    Tensor qkv = linear(x, self_attn.in_proj_weight, self_attn.in_proj_bias);  // (B, N, 3E)
    Tensor q = narrow(qkv, 2, 0, E);
    Tensor k = narrow(qkv, 2, E, E);
    Tensor v = narrow(qkv, 2, 2 * E, E);
    Tensor ctx = multi_head_attention(q, k, v, A, mask, bias, cfg.dropout, drop);
    // 3. project; residual + norm1                                              (B, N, E)
    Tensor h = norm1.forward(x + maybe_dropout(self_attn.out_proj.forward(ctx), cfg.dropout, drop));
    // 4. feed-forward with ReLU; residual + norm2
    Tensor f = linear2.forward(maybe_dropout(relu(linear1.forward(h)), cfg.dropout, drop));
    return norm2.forward(h + maybe_dropout(f, cfg.dropout, drop));
}

}  // namespace vsd
