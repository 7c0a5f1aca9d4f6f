// transformer.h — PyTorch's nn.TransformerEncoderLayer (post-LN), as HREM uses it three times:
// over regions, over words, and over the 2B-node graph of a batch (paper-notes §2.4, 2.5).
//
// Parameter names are PyTorch's: self_attn.in_proj_weight (3E, E), self_attn.in_proj_bias (3E,),
// self_attn.out_proj.{weight,bias}, linear1, linear2, norm1, norm2. With x (B, N, E), A heads,
// d = E / A:
//   q, k, v = split(x W_in^T + b_in)                        (B, A, N, d) each
//   P = softmax(q k^T / sqrt(d) + bias, over the kept keys) (B, A, N, N), then dropout
//   x = norm1(x + dropout(out_proj(P v)))
//   x = norm2(x + dropout(linear2(dropout(relu(linear1(x))))))
// The keys a query may see come from key lengths (HREM's key-padding mask) and/or a (N, N) 0/1
// mask; `bias` is an optional (N, N) additive term with gradient (the graph's relevance).
// PyTorch writes masked keys as -inf in a float mask; a 0/1 keep mask gives the same softmax and
// gradients without infinities.
#pragma once
#include "bert.h"

namespace vsd {

struct TransformerConfig {
    int64_t d_model = 1024, heads = 16, ffn = 1024;
    float dropout = 0.1f, ln_eps = 1e-5f;
};

// nn.MultiheadAttention's parameters (the computation is in TransformerEncoderLayer::forward)
class MultiheadAttention : public Module {
public:
    MultiheadAttention(int64_t E, Rng& rng);
    Tensor in_proj_weight, in_proj_bias;
    Linear out_proj;
};

class TransformerEncoderLayer : public Module {
public:
    TransformerEncoderLayer(const TransformerConfig& c, Rng& rng);
    // x (B, N, E). key_lengths (B,) int or undefined: keys t >= key_lengths[b] are hidden.
    // keep (N, N) 0/1 or undefined; bias (N, N) or undefined. drop: dropout masks (null: none).
    Tensor forward(const Tensor& x, const Tensor& key_lengths, const Tensor& keep, const Tensor& bias, Rng* drop);
    TransformerConfig cfg;
    MultiheadAttention self_attn;
    Linear linear1, linear2;
    LayerNorm norm1, norm2;
};

}  // namespace vsd
