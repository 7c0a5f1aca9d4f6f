// vse.h — the whole matching model: an image encoder and a text encoder that map into one space,
// under the reference's state-dict prefixes "img_enc." and "txt_enc.".
#pragma once
#include <memory>

#include "../data/batch.h"
#include "encoders.h"

namespace vsd {

struct ModelConfig {
    std::string model = "gpo";          // gpo (hrem comes with its issue)
    std::string text_encoder = "bigru"; // bigru or bert
    int64_t img_dim = 2048, embed_size = 1024, word_dim = 300, vocab_size = 0;
    BertConfig bert;                    // text_encoder == bert
};

// VSD's instance-level alignment (SPEC 2.6): l2n(x + e), where x is an encoder's output (already
// l2n(base)) and e the frozen description (image side) or caption (text side) embedding.
// No parameters, no projection: it works because the embedding size equals BGE's (1024).
Tensor vsd_fuse(const Tensor& x, const Tensor& e);

class VSEModel : public Module {
public:
    VSEModel(const ModelConfig& cfg, Rng& rng);
    // (V, T): image and caption embeddings (B, E), unit norm, one row per batch sample
    std::pair<Tensor, Tensor> forward(const Batch& b);
    // the text encoder's parameters, split into BERT's own and the rest (BERT trains at a lower lr)
    std::vector<Tensor> bert_parameters() const;
    std::vector<Tensor> other_text_parameters() const;
    ModelConfig cfg;
    std::unique_ptr<ImageEncoderGPO> img_enc;
    std::unique_ptr<TextEncoderBiGRU> txt_enc;       // bigru
    std::unique_ptr<TextEncoderBERT> txt_enc_bert;   // bert
    Rng* dropout_rng = nullptr;  // set by the trainer for each step (BERT's dropout); null: none
};

}  // namespace vsd
