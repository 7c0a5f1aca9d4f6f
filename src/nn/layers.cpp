#include "layers.h"

#include <cmath>


namespace vsd {

Linear::Linear(int64_t in, int64_t out, bool has_bias, Rng& rng) {
    weight = Tensor::empty({out, in});
    uniform_(weight, default_bound(in), rng);
    register_parameter("weight", weight);
    if (has_bias) {
        bias = Tensor::empty({out});
        uniform_(bias, default_bound(in), rng);
        register_parameter("bias", bias);
    }
}

BatchNorm1d::BatchNorm1d(int64_t C, float m, float e) : momentum(m), eps(e) {
    weight = Tensor::ones({C});
    bias = Tensor::zeros({C});
    running_mean = Tensor::zeros({C});
    running_var = Tensor::ones({C});
    num_batches_tracked = Tensor::zeros({}, DType::I64);
    register_parameter("weight", weight);
    register_parameter("bias", bias);
    register_buffer("running_mean", running_mean);
    register_buffer("running_var", running_var);
    register_buffer("num_batches_tracked", num_batches_tracked);
}

Tensor BatchNorm1d::forward(const Tensor& x) {
    if (training_) num_batches_tracked.i64()[0]++;
    return batchnorm1d(x, weight, bias, running_mean, running_var, training_, momentum, eps);
}

GRU::GRU(int64_t input, int64_t h, bool bi, Rng& rng) : hidden(h), bidirectional(bi) {
    const float bound = default_bound(h);
    auto make = [&](Tensor& t, Shape s, const char* name) {
        t = Tensor::empty(s);
        uniform_(t, bound, rng);
        register_parameter(name, t);
    };
    make(w_ih, {3 * h, input}, "weight_ih_l0");
    make(w_hh, {3 * h, h}, "weight_hh_l0");
    make(b_ih, {3 * h}, "bias_ih_l0");
    make(b_hh, {3 * h}, "bias_hh_l0");
    if (bi) {
        make(w_ih_r, {3 * h, input}, "weight_ih_l0_reverse");
        make(w_hh_r, {3 * h, h}, "weight_hh_l0_reverse");
        make(b_ih_r, {3 * h}, "bias_ih_l0_reverse");
        make(b_hh_r, {3 * h}, "bias_hh_l0_reverse");
    }
}

Tensor GRU::forward_mean(const Tensor& x, const Tensor& lengths) const {
    // --cudnn 1: both directions in one cuDNN call, which takes sequence lengths >= 1 (a batch
    // holding an empty sequence stays with our kernels)
    if (cudnn_enabled() && x.is_cuda() && first_outside(lengths, 1, INT64_MAX) < 0) {
        std::vector<Tensor> w = {w_ih, w_hh, b_ih, b_hh};
        if (bidirectional) w.insert(w.end(), {w_ih_r, w_hh_r, b_ih_r, b_hh_r});
        Tensor y = gru_cudnn(x, lengths, w);
        if (!bidirectional) return y;
        return (narrow(y, 2, 0, hidden) + narrow(y, 2, hidden, hidden)) * 0.5f;
    }
    if (!bidirectional) return gru(x, lengths, w_ih, w_hh, b_ih, b_hh, false);
    const Tensor y = bigru(x, lengths, {w_ih, w_hh, b_ih, b_hh, w_ih_r, w_hh_r, b_ih_r, b_hh_r});  // (2, B, T, H)
    const Shape one = {x.size(0), x.size(1), hidden};
    return (reshape(narrow(y, 0, 0, 1), one) + reshape(narrow(y, 0, 1, 1), one)) * 0.5f;
}

LayerNorm::LayerNorm(int64_t n, float e) : eps(e) {
    weight = Tensor::ones({n});
    bias = Tensor::zeros({n});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
}

Tensor maybe_dropout(const Tensor& x, float p, Rng* drop) { return drop && p > 0 ? dropout(x, p, true, *drop) : x; }

Tensor attention_mask(const Tensor& visible, int64_t B, int64_t heads, int64_t L) {
    return Tensor::zeros({B, heads, L, L}, DType::F32, visible.device()) + visible;
}

Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, const Tensor& mask,
                            const Tensor& bias, float p, Rng* drop) {
    const int64_t B = q.size(0), L = q.size(1), E = q.size(2), d = E / heads;
    // 1. split into heads                                            (B, A, L, d)
    auto split = [&](const Tensor& t) { return permute(reshape(t, {B, L, heads, d}), {0, 2, 1, 3}); };
    // (one statement each: the tape records them in this order, and the gradients that meet in
    // a shared input are added in the reverse one, so the order is part of the result's bits)
    Tensor qh = split(q);
    Tensor kh = split(k);
    Tensor vh = split(v);
    // 2. scores, plus the bias, softmax over the visible keys        (B, A, L, L)
    Tensor scores = matmul(qh, kh, false, true) * (1.0f / std::sqrt((float)d));
    if (bias.defined()) scores = scores + bias;  // broadcast over batch and heads
    Tensor probs = maybe_dropout(softmax(scores, mask), p, drop);
    // 3. mix the values, merge the heads                             (B, L, E)
    return reshape(permute(matmul(probs, vh), {0, 2, 1, 3}), {B, L, E});
}

Embedding::Embedding(int64_t V, int64_t D) {
    weight = Tensor::empty({V, D});
    register_parameter("weight", weight);
}

}  // namespace vsd
