#include "encoders.h"

#include <cmath>

namespace vsd {

MLP2::MLP2(int64_t in, int64_t hidden, int64_t out, Rng& rng)
    : l0(in, hidden, true, rng), l1(hidden, out, true, rng), bn0(hidden), bn1_unused(out), out_dim(out) {
    register_module("layers.0", l0);
    register_module("layers.1", l1);
    register_module("bns.0", bn0);
    register_module("bns.1", bn1_unused);
}

Tensor MLP2::forward(const Tensor& x) {
    const int64_t B = x.size(0), R = x.size(1), F = x.size(2);
    Tensor h = reshape(x, {B * R, F});
    h = relu(bn0.forward(l0.forward(h)));  // BN statistics over all B*R rows, zero padding included (paper-notes §8.5)
    h = l1.forward(h);                      // no BN or activation after the last layer
    return reshape(h, {B, R, out_dim});
}

ImageEncoderGPO::ImageEncoderGPO(int64_t img_dim, int64_t embed, Rng& rng)
    : fc(img_dim, embed, true, rng), mlp(img_dim, embed / 2, embed, rng), gpool(rng) {
    // fc: U(+-r), r = sqrt(6) / sqrt(in + out); bias 0 (vse_infty init_weights)
    uniform_(fc.weight, std::sqrt(6.0f) / std::sqrt((float)(img_dim + embed)), rng);
    fill(fc.bias, 0.0f);
    register_module("fc", fc);
    register_module("mlp", mlp);
    register_module("gpool", gpool);
}

Tensor ImageEncoderGPO::forward(const Tensor& images, const Tensor& lengths) {
    // 1. two projections of every region, summed                    phi: (B, R, E)
    Tensor phi = fc.forward(images) + mlp.forward(images);
    // 2. GPO over the regions, 3. L2 normalisation                   v: (B, E)
    return l2norm(gpool.forward(phi, lengths));
}

TextEncoderBiGRU::TextEncoderBiGRU(int64_t vocab, int64_t word_dim, int64_t embed_size, Rng& rng)
    : embed(vocab, word_dim), rnn(word_dim, embed_size, true, rng), gpool(rng) {
    uniform_(embed.weight, 0.1f, rng);
    register_module("embed", embed);
    register_module("rnn", rnn);
    register_module("gpool", gpool);
}

Tensor TextEncoderBiGRU::forward(const Tensor& tokens, const Tensor& lengths) {
    // 1. word vectors                                                 x: (B, L, 300)
    Tensor x = embed.forward(tokens);
    // 2. bidirectional GRU, directions averaged                       h: (B, L, E)
    Tensor h = rnn.forward_mean(x, lengths);
    // 3. GPO over the tokens, 4. L2 normalisation                     u: (B, E)
    return l2norm(gpool.forward(h, lengths));
}

TextEncoderBERT::TextEncoderBERT(const BertConfig& bc, int64_t embed_size, Rng& rng)
    : bert(bc, rng), linear(bc.hidden, embed_size, true, rng), gpool(rng) {
    register_module("bert", bert);
    register_module("linear", linear);
    register_module("gpool", gpool);
}

Tensor TextEncoderBERT::forward(const Tensor& tokens, const Tensor& lengths, Rng* dropout_rng) {
    // 1. contextual token features                                    H: (B, L, hidden)
    Tensor h = bert.forward(tokens, lengths, is_training() ? dropout_rng : nullptr);
    // 2. project into the joint space, 3. GPO over all tokens, 4. l2n  u: (B, E)
    return l2norm(gpool.forward(linear.forward(h), lengths));
}

}  // namespace vsd
