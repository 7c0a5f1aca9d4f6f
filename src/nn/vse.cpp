#include "vse.h"

namespace vsd {

Tensor vsd_fuse(const Tensor& x, const Tensor& e) {
    ENSURE(x.shape() == e.shape(), "VSD fusion: embeddings %s and VSD vectors %s differ. HINT: --embed_size must equal "
           "the BGE dimension of the *_bge.npy files", x.shape_str().c_str(), e.shape_str().c_str());
    return l2norm(x + e);
}

VSEModel::VSEModel(const ModelConfig& c, Rng& rng) : cfg(c) {
    ENSURE(c.model == "gpo", "model '%s' is not available yet (gpo is; hrem lands with its issue)", c.model.c_str());
    ENSURE(c.text_encoder == "bigru" || c.text_encoder == "bert", "--text_encoder must be bigru or bert, got '%s'",
           c.text_encoder.c_str());
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

std::pair<Tensor, Tensor> VSEModel::forward(const Batch& b) {
    Tensor v = img_enc->forward(b.images, b.img_lengths);  // l2n(v_base)
    Tensor t = txt_enc ? txt_enc->forward(b.tokens, b.lengths)                     // l2n(t_base)
                       : txt_enc_bert->forward(b.tokens, b.lengths, dropout_rng);
    // VSD instance-level alignment (SPEC 2.6): add the frozen description / caption embeddings to
    // the normalised embeddings and renormalise. No parameters; present whenever the batch has them.
    if (b.desc_emb.defined()) v = vsd_fuse(v, b.desc_emb);
    if (b.cap_emb.defined()) t = vsd_fuse(t, b.cap_emb);
    return {v, t};
}

std::vector<Tensor> VSEModel::bert_parameters() const {
    return txt_enc_bert ? txt_enc_bert->bert.parameters() : std::vector<Tensor>{};
}

std::vector<Tensor> VSEModel::other_text_parameters() const {
    if (txt_enc) return txt_enc->parameters();
    std::vector<Tensor> p = txt_enc_bert->linear.parameters(), g = txt_enc_bert->gpool.parameters();
    p.insert(p.end(), g.begin(), g.end());
    return p;
}

}  // namespace vsd
