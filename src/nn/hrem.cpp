// hrem.cpp — HREM's encoders and its instance-level relation module, step by step as paper-notes §2.4-2.5.
#include "hrem.h"

#include <algorithm>
#include <cmath>


namespace vsd {

// ---- pooling ------------------------------------------------------------------------------------

Tensor maxk_pool(const Tensor& x, const Tensor& lengths, int64_t k, bool reference_quirk) {
    ENSURE(x.ndim() == 3 && lengths.numel() == x.size(0), "maxk_pool: expects x (B, N, D) and lengths (B,), got %s and %s",
           x.shape_str().c_str(), lengths.shape_str().c_str());
    const int64_t B = x.size(0), N = x.size(1);
    const int64_t kk = std::min(k, N);
    // 1. hide the padded items behind a huge negative value (finite, so 0 * it stays 0 below)
    Tensor pad = reshape(1.0f - length_mask(lengths, N), {B, N, 1});
    Tensor top = topk(masked_fill(x, pad, -1e30f), kk, 1).first;  // (B, kk, D), descending
    // 2. each sample averages its first k_b = min(k, len_b) of them (the reference's quirk: k_b is
    //    also the smallest of the batch so far)
    Tensor w = reshape(length_weights(lengths.to(x.device()), kk, kk, reference_quirk), {B, kk, 1});
    return sum(top * w, 1);
}

Tensor masked_mean(const Tensor& x, const Tensor& lengths) {
    const int64_t B = x.size(0), N = x.size(1);
    return sum(x * reshape(length_weights(lengths.to(x.device()), N, N), {B, N, 1}), 1);
}

HremPool::HremPool(const HremConfig& c, Rng& rng)
    : cfg(c), layer(TransformerConfig{c.embed, c.heads, c.ffn, c.dropout, 1e-5f}, rng) {
    register_module("layers.0", layer);
}

Tensor HremPool::forward(const Tensor& frag, const Tensor& lengths, Rng* drop) {
    // 1. the residual path: mean of the top-2 per dimension                 (B, E)
    Tensor e_res = maxk_pool(frag, lengths, cfg.maxk, cfg.maxk_reference);
    // 2. the relation path: one Transformer layer over the real items, averaged
    Tensor h = layer.forward(frag, lengths, Tensor(), Tensor(), is_training() ? drop : nullptr);
    Tensor e_att = masked_mean(h, lengths);
    // 3. mix and normalise
    return l2norm(e_res * cfg.residual_weight + e_att * (1.0f - cfg.residual_weight));
}

// ---- encoders -----------------------------------------------------------------------------------

ImageEncoderHREM::ImageEncoderHREM(int64_t img_dim, const HremConfig& c, Rng& rng)
    : fc(img_dim, c.embed, true, rng), mlp(img_dim, c.embed / 2, c.embed, rng), aggr(c, rng) {
    // HREM's `self.fc.apply(init_weights)`: xavier_uniform with bias 0 on the Linear layers of its
    // FC_MLP only (fc, mlp.layers.0, mlp.layers.1); the Transformer layer keeps PyTorch's default
    for (Linear* l : {&fc, &mlp.l0, &mlp.l1}) {
        xavier_uniform_(l->weight, rng);
        fill(l->bias, 0.0f);
    }
    register_module("fc", fc);
    register_module("mlp", mlp);
    register_module("aggr", aggr);
}

Tensor ImageEncoderHREM::forward(const Tensor& images, const Tensor& lengths, Rng* drop, Tensor* fragments) {
    Tensor phi = fc.forward(images) + mlp.forward(images);  // (B, R, E)
    if (fragments) *fragments = phi;
    return aggr.forward(phi, lengths, drop);
}

TextEncoderHREM::TextEncoderHREM(const std::string& text_encoder, const BertConfig& bc, int64_t vocab, int64_t word_dim,
                                 const HremConfig& c, Rng& rng)
    : aggr(c, rng) {
    if (text_encoder == "bert") {
        bert = std::make_unique<Bert>(bc, rng);
        linear = std::make_unique<Linear>(bc.hidden, c.embed, true, rng);
        register_module("bert", *bert);
        register_module("linear", *linear);
    } else {
        ENSURE(vocab > 0, "the BiGRU text encoder needs the vocabulary size");
        embed = std::make_unique<Embedding>(vocab, word_dim);
        uniform_(embed->weight, 0.1f, rng);
        rnn = std::make_unique<GRU>(word_dim, c.embed, true, rng);
        register_module("embed", *embed);
        register_module("rnn", *rnn);
    }
    register_module("aggr", aggr);
}

Tensor TextEncoderHREM::forward(const Tensor& tokens, const Tensor& lengths, Rng* drop, Tensor* fragments) {
    Tensor psi = bert ? linear->forward(bert->forward(tokens, lengths, is_training() ? drop : nullptr))  // (B, L, E)
                      : rnn->forward_mean(embed->forward(tokens), lengths);
    if (fragments) *fragments = psi;
    return aggr.forward(psi, lengths, drop);
}

// ---- the relation module ------------------------------------------------------------------------

Tensor kl_batchmean(const Tensor& a, const Tensor& b) {
    Tensor lb = log_softmax(b);
    return sum(exp(lb) * (lb - log_softmax(a))) * (1.0f / (float)a.size(0));
}

RelationModule::RelationModule(const HremConfig& c, const RelationOptions& o, Rng& rng)
    : opt(o), gnn(TransformerConfig{c.embed, c.heads, c.ffn, c.dropout, 1e-5f}, rng), t2i_0(o.topk, o.topk, true, rng),
      t2i_3(o.topk, 1, true, rng), i2t_0(o.topk, o.topk, true, rng), i2t_3(o.topk, 1, true, rng) {
    // the i2t MLP is a deepcopy of the t2i one in the reference: identical initial weights
    for (auto [dst, src] : {std::make_pair(&i2t_0.weight, &t2i_0.weight), std::make_pair(&i2t_0.bias, &t2i_0.bias),
                            std::make_pair(&i2t_3.weight, &t2i_3.weight), std::make_pair(&i2t_3.bias, &t2i_3.bias)})
        copy_values(*dst, *src);
    register_module("gnn.layers.0", gnn);
    register_module("adj_t2i.0", t2i_0);
    register_module("adj_t2i.3", t2i_3);
    register_module("adj_i2t.0", i2t_0);
    register_module("adj_i2t.3", i2t_3);
}

RelationOut RelationModule::forward(const Tensor& V, const Tensor& T, const Tensor& phi, const Tensor& psi,
                                    const Tensor& img_len, const Tensor& cap_len, Rng* drop) {
    ENSURE(V.ndim() == 2 && V.shape() == T.shape(), "relation module: V %s and T %s must both be (B, E)",
           V.shape_str().c_str(), T.shape_str().c_str());
    const int64_t B = V.size(0), E = V.size(1), K = opt.topk;
    ENSURE(phi.size(0) == B && psi.size(0) == B && phi.size(2) == E && psi.size(2) == E,
           "relation module: fragments %s and %s do not match embeddings %s", phi.shape_str().c_str(),
           psi.shape_str().c_str(), V.shape_str().c_str());
    const int64_t k = std::max<int64_t>(1, (int64_t)(opt.threshold * (float)B));
    RelationOut o;
    // 1. connection masks: the top k neighbours of each row (no grad). The official code (HREM since
    //    commit fb854a9, and VSD_HREM) ranks within each modality, V V^T and T T^T; HREM's first
    //    release (8fa6ddb) ranked across, V T^T and T V^T (opt.cross_connections)
    Tensor Cii, Ctt;
    {
        NoGrad ng;
        Cii = topk_mask(matmul(V, opt.cross_connections ? T : V, false, true), k);
        Ctt = topk_mask(matmul(T, opt.cross_connections ? V : T, false, true), k);
    }
    // 2. intra-modal relevance exp(-||.||/sigma), with gradient
    Tensor Rii = exp(cdist(V, V) * (-1.0f / opt.sigma));
    Tensor Rtt = exp(cdist(T, T) * (-1.0f / opt.sigma));
    // 3. cross-modal relevance from the detached fragments (AdjacencyLearning): unit rows. Padded
    //    region rows are not zero: phi is the image encoder's output on the zero-padded inputs (biases
    //    and BatchNorm's shift), and the reference normalises and uses them like real regions (the
    //    t2i max, both normalisations, the i2t mean and top-k over all R slots); words likewise
    Tensor phi_hat, psi_hat;
    {
        NoGrad ng;
        phi_hat = l2norm(phi.detach());
        psi_hat = l2norm(psi.detach());
    }
    RegionWordStats st = region_word_stats(psi_hat, phi_hat, cap_len, K, opt.leaky_slope);
    o.mean_t2i = st.mean_t2i;
    o.topk_t2i = st.topk_t2i;
    o.mean_i2t = st.mean_i2t;
    o.topk_i2t = st.topk_i2t;
    auto mlp = [&](Linear& l0, Linear& l3, const Tensor& x) { return reshape(l3.forward(relu(l0.forward(x))), {B, B}); };
    o.rel_t2i = mlp(t2i_0, t2i_3, o.topk_t2i) + o.mean_t2i;  // (B_txt, B_img)
    o.rel_i2t = mlp(i2t_0, i2t_3, o.topk_i2t) + o.mean_i2t;  // (B_img, B_txt)
    Tensor Ct2i = topk_mask(o.mean_t2i, k), Ci2t = topk_mask(o.mean_i2t, k);
    // 4. the regulariser: the learned relevance should rank like the (detached) embedding distances
    Tensor S;
    {
        NoGrad ng;
        S = exp(cdist(V, T) * -1.0f).detach();
    }
    o.reg = kl_batchmean(S, o.rel_i2t) + kl_batchmean(transpose(S, 0, 1), o.rel_t2i);
    // 5. one attention layer over the 2B nodes [V; T]: node j is visible to node i iff C[i, j], and
    //    mask_weight * Rel[i, j] is added to that score
    o.C = concat({concat({Cii, Ci2t}, 1), concat({Ct2i, Ctt}, 1)}, 0);
    o.Rel = concat({concat({Rii, o.rel_i2t}, 1), concat({o.rel_t2i, Rtt}, 1)}, 0);
    // norm_input = 1: the nodes are the encoders' (unit-norm) outputs as they are, not normalised again
    // (equal values, but a second l2n would also project the radial part out of their gradients)
    Tensor nodes = reshape(concat({V, T}, 0), {1, 2 * B, E});
    Tensor g = reshape(gnn.forward(nodes, Tensor(), o.C, o.Rel * opt.mask_weight, drop), {2 * B, E});
    o.Vg = l2norm(narrow(g, 0, 0, B));
    o.Tg = l2norm(narrow(g, 0, B, B));
    return o;
}

}  // namespace vsd
