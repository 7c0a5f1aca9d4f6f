#include "vse.h"

namespace vsd {

Tensor vsd_fuse(const Tensor& x, const Tensor& e) {
    ENSURE(x.shape() == e.shape(), "VSD fusion: embeddings %s and VSD vectors %s differ. HINT: --embed_size must equal "
           "the BGE dimension of the *_bge.npy files", x.shape_str().c_str(), e.shape_str().c_str());
    return l2norm(x + e);
}

VSEModel::VSEModel(const ModelConfig& c, Rng& rng) : cfg(c) {
    ENSURE(c.model == "gpo" || c.model == "hrem", "--model must be gpo or hrem, got '%s'", c.model.c_str());
    ENSURE(c.text_encoder == "bigru" || c.text_encoder == "bert", "--text_encoder must be bigru or bert, got '%s'",
           c.text_encoder.c_str());
    if (c.model == "hrem") {
        cfg.hrem.embed = c.embed_size;
        ENSURE(c.text_encoder == "bert" || c.vocab_size > 0, "the BiGRU text encoder needs the vocabulary size");
        img_hrem = std::make_unique<ImageEncoderHREM>(c.img_dim, cfg.hrem, rng);
        txt_hrem = std::make_unique<TextEncoderHREM>(c.text_encoder, c.bert, c.vocab_size, c.word_dim, cfg.hrem, rng);
        criterion = std::make_unique<RelationModule>(cfg.hrem, c.relation, rng);
        register_module("img_enc", *img_hrem);
        register_module("txt_enc", *txt_hrem);
        register_module("criterion", *criterion);
        return;
    }
    img_enc = std::make_unique<ImageEncoderGPO>(c.img_dim, c.embed_size, rng);
    register_module("img_enc", *img_enc);
    if (c.text_encoder == "bert") {
        txt_enc_bert = std::make_unique<TextEncoderBERT>(c.bert, c.embed_size, rng);
        register_module("txt_enc", *txt_enc_bert);
    } else {
        ENSURE(c.vocab_size > 0, "the BiGRU text encoder needs the vocabulary size");
        txt_enc = std::make_unique<TextEncoderBiGRU>(c.vocab_size, c.word_dim, c.embed_size, rng);
        register_module("txt_enc", *txt_enc);
    }
}

std::pair<Tensor, Tensor> VSEModel::forward(const ModelInput& b) {
    Encoded e = encode(b, false);
    return {e.V, e.T};
}

Encoded VSEModel::encode(const ModelInput& b, bool fragments) {
    Encoded e;
    if (img_hrem) {  // HREM: l2n(0.8 maxk + 0.2 transformer mean) on both sides
        e.V = img_hrem->forward(b.images, b.img_lengths, dropout_rng, fragments ? &e.phi : nullptr);
        e.T = txt_hrem->forward(b.tokens, b.lengths, dropout_rng, fragments ? &e.psi : nullptr);
    } else {          // GPO: l2n(GPO(...))
        e.V = img_enc->forward(b.images, b.img_lengths);
        e.T = txt_enc ? txt_enc->forward(b.tokens, b.lengths) : txt_enc_bert->forward(b.tokens, b.lengths, dropout_rng);
    }
    // VSD instance-level alignment (paper-notes §2.6): add the frozen description / caption embeddings to
    // the normalised embeddings and renormalise. No parameters; present whenever the batch has them.
    if (b.desc_emb.defined()) e.V = vsd_fuse(e.V, b.desc_emb);
    if (b.cap_emb.defined()) e.T = vsd_fuse(e.T, b.cap_emb);
    return e;
}

Tensor VSEModel::encode_text(const ModelInput& b) {
    Tensor T = txt_hrem  ? txt_hrem->forward(b.tokens, b.lengths, dropout_rng, nullptr)
               : txt_enc ? txt_enc->forward(b.tokens, b.lengths)
                         : txt_enc_bert->forward(b.tokens, b.lengths, dropout_rng);
    return b.cap_emb.defined() ? vsd_fuse(T, b.cap_emb) : T;
}

std::vector<Tensor> VSEModel::bert_parameters() const {
    if (txt_hrem) return txt_hrem->bert ? txt_hrem->bert->parameters() : std::vector<Tensor>{};
    return txt_enc_bert ? txt_enc_bert->bert.parameters() : std::vector<Tensor>{};
}

Bert* VSEModel::bert() const {
    if (txt_hrem) return txt_hrem->bert.get();
    return txt_enc_bert ? &txt_enc_bert->bert : nullptr;
}

std::vector<Tensor> VSEModel::image_parameters() const { return img_hrem ? img_hrem->parameters() : img_enc->parameters(); }

std::vector<Tensor> VSEModel::other_text_parameters() const {
    if (txt_hrem) {
        std::vector<Tensor> p;
        for (auto& [name, t] : txt_hrem->named_parameters())
            if (name.rfind("bert.", 0) != 0) p.push_back(t);
        return p;
    }
    if (txt_enc) return txt_enc->parameters();
    std::vector<Tensor> p = txt_enc_bert->linear.parameters(), g = txt_enc_bert->gpool.parameters();
    p.insert(p.end(), g.begin(), g.end());
    return p;
}

}  // namespace vsd
